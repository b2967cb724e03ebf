//! Shared by the integration tests that run the real embedding model.

use knowledge::embed::LocalEmbedder;
use std::path::PathBuf;

/// all-MiniLM-L6-v2 from `AOS_MODEL_DIR`, else where `scripts/fetch-model.sh`
/// puts it when run as root.
pub fn local_embedder() -> LocalEmbedder {
    let dir = std::env::var_os("AOS_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/aos/models/all-MiniLM-L6-v2"));
    assert!(
        dir.join("model.safetensors").is_file(),
        "embedding model not found in {}: run scripts/fetch-model.sh and set AOS_MODEL_DIR",
        dir.display()
    );
    LocalEmbedder::load(&dir).expect("model loads")
}
