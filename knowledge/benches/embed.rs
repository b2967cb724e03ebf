//! Benchmark of the local embedder: model load time, throughput at batch sizes 1
//! and 32 and with every sentence a caller of its own (all at once, as a busy
//! server sees them), latency of a single short query, and peak resident memory.
//!
//!     bash scripts/fetch-model.sh
//!     cargo bench -p knowledge --bench embed
//!
//! The model is found through `AOS_MODEL_DIR` (default
//! /var/cache/aos/models/all-MiniLM-L6-v2).

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use knowledge::embed::{Embedder, LocalEmbedder};

const SENTENCES: usize = 256;
const QUERY_RUNS: usize = 200;

fn main() -> Result<(), Box<dyn Error>> {
    let model_dir = std::env::var_os("AOS_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/aos/models/all-MiniLM-L6-v2"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let started = Instant::now();
    let embedder = LocalEmbedder::load(&model_dir)?;
    let load = started.elapsed();
    println!("model load:            {:>8.3} s", load.as_secs_f64());

    let sentences = corpus(SENTENCES);
    let counter = embedder.token_counter();
    let tokens: usize = sentences.iter().map(|s| counter.count(s)).sum();
    println!(
        "corpus:                {SENTENCES} sentences, {:.1} tokens on average",
        tokens as f64 / SENTENCES as f64
    );

    runtime.block_on(async {
        // Warm-up: first calls pay for thread-pool start and allocations.
        embedder.embed(&sentences[..32]).await?;

        let started = Instant::now();
        for sentence in &sentences {
            embedder.embed(std::slice::from_ref(sentence)).await?;
        }
        report_rate("batch 1", started.elapsed(), tokens);

        let started = Instant::now();
        for batch in sentences.chunks(32) {
            embedder.embed(batch).await?;
        }
        report_rate("batch 32", started.elapsed(), tokens);

        // Every sentence its own caller, all at once: the embedder shares
        // forward passes among them.
        let started = Instant::now();
        let callers: Vec<_> = sentences
            .iter()
            .map(|sentence| {
                let embedder = embedder.clone();
                let text = vec![sentence.clone()];
                tokio::spawn(async move { embedder.embed(&text).await })
            })
            .collect();
        for caller in callers {
            caller.await??;
        }
        report_rate("concurrent callers", started.elapsed(), tokens);

        let query = vec!["how do I reset my password?".to_owned()];
        let mut latencies = Vec::with_capacity(QUERY_RUNS);
        for _ in 0..QUERY_RUNS {
            let started = Instant::now();
            embedder.embed(&query).await?;
            latencies.push(started.elapsed());
        }
        latencies.sort();
        let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        println!(
            "short query latency:   p50 {:.2} ms, p99 {:.2} ms ({QUERY_RUNS} runs)",
            percentile(50).as_secs_f64() * 1e3,
            percentile(99).as_secs_f64() * 1e3
        );
        Ok::<_, Box<dyn Error>>(())
    })?;

    match peak_rss_kib() {
        Some(kib) => println!("peak RSS (VmHWM):      {:>8.1} MiB", kib as f64 / 1024.0),
        None => println!("peak RSS (VmHWM):      unavailable"),
    }
    Ok(())
}

/// Throughput in sentences and in text tokens (without `[CLS]`/`[SEP]` or
/// padding), since cost grows with sentence length.
fn report_rate(label: &str, elapsed: Duration, tokens: usize) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{:<22} {:>8.1} sentences/s, {:.0} tokens/s ({seconds:.2} s for {SENTENCES})",
        format!("{label}:"),
        SENTENCES as f64 / seconds,
        tokens as f64 / seconds,
    );
}

/// Peak resident set size of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Sentences like those in a product knowledge base, from a few words to a long
/// paragraph sentence, built deterministically.
fn corpus(n: usize) -> Vec<String> {
    const OPENINGS: [&str; 16] = [
        "To reset your password, open the sign-in page and choose Forgot password",
        "Invoices are issued on the first day of each month",
        "The API returns 429 when a workspace exceeds its rate limit",
        "Administrators can invite new members from the Team settings page",
        "Exports include every document uploaded before the export started",
        "Single sign-on is available on the Business and Enterprise plans",
        "Deleted documents stay in the trash for thirty days",
        "Search results are ranked by a mix of keyword and semantic similarity",
        "Webhooks are retried with exponential backoff for up to a day",
        "A workspace owner can transfer ownership to another administrator",
        "Uploaded PDFs are split into chunks of a few hundred tokens",
        "Two-factor authentication can be enforced for the whole organisation",
        "The mobile app syncs changes whenever the device is back online",
        "Usage reports show how many queries each team ran last month",
        "Refunds are processed within five to ten business days",
        "Custom roles let you limit who can edit shared collections",
    ];
    const CONTINUATIONS: [&str; 8] = [
        "",
        ", and the change takes effect immediately",
        ", unless your administrator has turned this option off for the workspace",
        "; see the billing section of the help centre for the full list of plans, \
         prices and the currencies we accept",
        ", which keeps the results consistent across devices",
        " after the previous job has finished and the queue has drained, so large \
         workspaces may wait a few minutes before anything changes",
        ", as described in the security overview",
        " for accounts created after March",
    ];
    (0..n)
        .map(|i| {
            let opening = OPENINGS[i % OPENINGS.len()];
            let continuation = CONTINUATIONS[(i / OPENINGS.len() + i) % CONTINUATIONS.len()];
            format!("{opening}{continuation}.")
        })
        .collect()
}
