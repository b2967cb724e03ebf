//! Runs the classifier evaluations with the local model, for measuring in
//! release builds (the `aos` CLI offers the same through `server::classify_cli`):
//!
//! ```text
//! AOS_MODEL_DIR=… cargo run --release -p personas --example evaluate -- clinc PATH [SHOTS] [--no-adapt]
//! AOS_MODEL_DIR=… cargo run --release -p personas --example evaluate -- labelled PATH
//! ```

use knowledge::embed::{AdaptOptions, Embedder, LocalEmbedder};
use personas::Classifier;
use personas::eval::{EvalError, Latency, clinc, labelled};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_dir = std::env::var_os("AOS_MODEL_DIR")
        .map(PathBuf::from)
        .ok_or("set AOS_MODEL_DIR to the all-MiniLM-L6-v2 directory")?;
    let embedder = LocalEmbedder::load(&model_dir).map_err(|e| e.to_string())?;
    let text = |e: EvalError| e.to_string();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["clinc", path, rest @ ..] => {
            let options = clinc::EvalOptions {
                shots: rest.first().and_then(|s| s.parse().ok()).unwrap_or(10),
                adapt: (!rest.contains(&"--no-adapt")).then(AdaptOptions::default),
                ..clinc::EvalOptions::default()
            };
            let data = clinc::ClincData::load(&PathBuf::from(path)).map_err(text)?;
            let report = clinc::evaluate(&embedder, &data, &options)
                .await
                .map_err(text)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            );
        }
        ["labelled", path] => {
            let embedder = Arc::new(embedder);
            let classifier = Classifier::builtin(embedder.clone())
                .await
                .map_err(|e| e.to_string())?;
            let requests = labelled::load(&PathBuf::from(path)).map_err(text)?;
            let report = labelled::evaluate(&classifier, &requests)
                .await
                .map_err(text)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            );
            // The same texts embedded alone: the share of latency that is the model's.
            let mut samples = Vec::new();
            for (_, request) in &requests {
                let started = Instant::now();
                let texts = std::slice::from_ref(&request.text);
                embedder.embed(texts).await.map_err(|e| e.to_string())?;
                samples.push(started.elapsed());
            }
            let alone = Latency::of(&samples);
            println!(
                "embedding alone: p50 {:.1} ms, p99 {:.1} ms",
                alone.p50_ms, alone.p99_ms
            );
        }
        _ => return Err("usage: evaluate clinc PATH [SHOTS] | evaluate labelled PATH".into()),
    }
    Ok(())
}
