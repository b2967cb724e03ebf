//! temporary compile check of server/src/classify_cli.rs
#[path = "../../server/src/classify_cli.rs"]
mod classify_cli;
use std::sync::Arc;
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(std::env::var("AOS_MODEL_DIR")?);
    let embedder = Arc::new(knowledge::embed::LocalEmbedder::load(&dir)?);
    let args: Vec<String> = std::env::args().collect();
    match args[1].as_str() {
        "stdin" => {
            let c = personas::Classifier::builtin(embedder).await?;
            classify_cli::classify_stdin(&c, None).await
        }
        "personas" => {
            let c = personas::Classifier::builtin(embedder).await?;
            classify_cli::eval_personas(&c, std::path::Path::new(&args[2])).await
        }
        _ => classify_cli::eval_intents(&*embedder, std::path::Path::new(&args[2]), 10).await,
    }
}
