//! Embedders: turn text into L2-normalised vectors for vector search.
//!
//! [`Embedder`] is the seam the rest of the crate uses, held as `Arc<dyn Embedder>`.
//! Two adapters sit beside it: [`LocalEmbedder`] runs all-MiniLM-L6-v2 on the CPU
//! (weights fetched by `scripts/fetch-model.sh`) and [`OpenAiEmbedder`] calls an
//! OpenAI-compatible `/v1/embeddings` endpoint. [`TokenCounter`] measures and cuts
//! text in the local model's tokens, so the chunker can size chunks to fit it.

pub mod adapt;
mod local;
mod openai;
mod tokens;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

pub use adapt::{AdaptOptions, LabelledText};
pub use local::LocalEmbedder;
pub use openai::{OpenAiEmbedder, OpenAiOptions};
pub use tokens::TokenCounter;

/// The future returned by [`Embedder::embed`].
pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, EmbedError>> + Send + 'a>>;

/// The future returned by [`Embedder::adapt`].
pub type AdaptFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Arc<dyn Embedder>, EmbedError>> + Send + 'a>>;

/// Turns texts into vectors that can be compared with [`cosine`] (or a plain dot
/// product, since they are unit length).
pub trait Embedder: Send + Sync {
    /// Stable model identity recorded with every stored vector, e.g.
    /// "local/all-MiniLM-L6-v2" or "openai/text-embedding-3-small". Vectors from
    /// different model ids must never be compared.
    fn model_id(&self) -> &str;

    /// Length of every vector this embedder returns.
    fn dimension(&self) -> usize;

    /// L2-normalised embeddings, one per input, in input order. An empty slice
    /// gives an empty result without any work.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;

    /// A copy of this embedder fine-tuned so that texts of one label embed
    /// close together (see [`adapt`]), under a model id of its own. Only a
    /// model that runs here can be adapted; the default refuses.
    fn adapt<'a>(
        &'a self,
        examples: &'a [LabelledText],
        options: &'a AdaptOptions,
    ) -> AdaptFuture<'a> {
        let _ = (examples, options);
        let model = self.model_id().to_owned();
        Box::pin(async move {
            Err(EmbedError::Permanent(format!(
                "the embedding model {model} runs elsewhere and cannot be adapted here"
            )))
        })
    }
}

/// A vector and the model that made it. Vectors are comparable only with
/// vectors of the same model (an adapted encoder has a model id of its own),
/// so a vector handed from one component to another travels with its model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Embedded<'a> {
    /// [`Embedder::model_id`] of the model that made `vector`.
    pub model_id: &'a str,
    /// The unit-length vector.
    pub vector: &'a [f32],
}

impl<'a> Embedded<'a> {
    /// The vector, if `embedder` made it (same model id and dimension).
    pub fn usable_by(self, embedder: &dyn Embedder) -> Option<&'a [f32]> {
        (self.model_id == embedder.model_id() && self.vector.len() == embedder.dimension())
            .then_some(self.vector)
    }
}

/// Why embedding failed, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The local model files are missing or unreadable: fix the installation;
    /// retrying will not help.
    #[error(
        "cannot load the embedding model from {}: {reason}; run scripts/fetch-model.sh",
        path.display()
    )]
    Load { path: PathBuf, reason: String },
    /// The service is overloaded or unreachable (timeout, connection error, 429,
    /// 5xx): retry later, with backoff.
    #[error("embedding service temporarily unavailable: {0}")]
    Transient(String),
    /// The request cannot succeed as sent (rejected input, bad credentials,
    /// unexpected response such as the wrong dimension): do not retry.
    #[error("embedding failed: {0}")]
    Permanent(String),
}

/// Cosine similarity of two vectors of the same length, in [-1, 1]; 0 when
/// either vector is all zeros.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len(), "cosine of vectors of different lengths");
    let (mut dot, mut norm_a, mut norm_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    dot / (norm_a.sqrt() * norm_b.sqrt())
}

/// Scales `v` to unit length in place; an all-zero vector is left as it is.
fn l2_normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Where tests find the local model: `AOS_MODEL_DIR`, else the default cache dir
/// that `scripts/fetch-model.sh` fills when run as root.
#[cfg(test)]
pub(crate) fn test_model_dir() -> PathBuf {
    let dir = std::env::var_os("AOS_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/aos/models/all-MiniLM-L6-v2"));
    assert!(
        dir.join("model.safetensors").is_file() && dir.join("tokenizer.json").is_file(),
        "embedding model not found in {}: run scripts/fetch-model.sh (and set AOS_MODEL_DIR \
         if it put the model elsewhere)",
        dir.display()
    );
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-2.0, -2.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn l2_normalise_gives_unit_length_and_keeps_zeros() {
        let mut v = vec![3.0, 4.0];
        l2_normalise(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0, 0.0];
        l2_normalise(&mut zero);
        assert_eq!(zero, vec![0.0, 0.0]);
    }

    #[test]
    fn load_error_names_the_fix() {
        let err = EmbedError::Load {
            path: PathBuf::from("/nowhere"),
            reason: "not found".into(),
        };
        let msg = err.to_string();
        assert!(
            msg.contains("/nowhere") && msg.contains("scripts/fetch-model.sh"),
            "{msg}"
        );
    }
}
