//! An embedder backed by an OpenAI-compatible `/embeddings` endpoint: OpenAI
//! itself, or any server that speaks the same protocol.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use tower::Layer;

use super::{EmbedError, EmbedFuture, Embedder, l2_normalise};

/// How [`OpenAiEmbedder`] talks to the service; the defaults suit api.openai.com.
#[derive(Debug, Clone)]
pub struct OpenAiOptions {
    /// Limit for one HTTP request, from connecting to the last byte.
    pub timeout: Duration,
    /// Retries of a request that failed with 429, 5xx or a connection error,
    /// with exponential backoff from 100 ms (or the server's `Retry-After`).
    /// After that the failure is returned as [`EmbedError::Transient`].
    pub max_retries: usize,
    /// Inputs sent per request.
    pub batch_size: usize,
}

impl Default for OpenAiOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_retries: 2,
            batch_size: 256,
        }
    }
}

/// Embeds through an OpenAI-compatible API, e.g. `text-embedding-3-small`.
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model: String,
    model_id: String,
    dimension: usize,
    batch_size: usize,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("model_id", &self.model_id)
            .field("dimension", &self.dimension)
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbedder {
    /// An embedder for `model` at `base_url` (including the version, e.g.
    /// `https://api.openai.com/v1`), expecting vectors of `dimension` numbers.
    /// `api_key` is sent as a bearer token; `None` sends an empty one, for local
    /// servers without authentication.
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<String>,
        model: impl Into<String>,
        dimension: usize,
    ) -> Result<Self, EmbedError> {
        Self::with_options(
            base_url,
            api_key,
            model,
            dimension,
            OpenAiOptions::default(),
        )
    }

    /// Like [`OpenAiEmbedder::new`], with explicit timeout, retries and batch size.
    pub fn with_options(
        base_url: impl Into<String>,
        api_key: Option<String>,
        model: impl Into<String>,
        dimension: usize,
        options: OpenAiOptions,
    ) -> Result<Self, EmbedError> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| EmbedError::Permanent(format!("cannot build the HTTP client: {e}")))?;
        let service =
            OpenAIRetryLayer::new(options.max_retries).layer(ReqwestService::new(http.clone()));
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        // An explicit base and key (even an empty one) stop async-openai falling
        // back to OPENAI_BASE_URL / OPENAI_API_KEY: settings come from our config.
        // (It still reads OPENAI_ORG_ID and OPENAI_PROJECT_ID into headers if set.)
        let config = OpenAIConfig::new()
            .with_api_base(base_url)
            .with_api_key(api_key.unwrap_or_default());
        let model = model.into();
        Ok(Self {
            client: Client::build(http, config).with_http_service(service),
            model_id: format!("openai/{model}"),
            model,
            dimension,
            batch_size: options.batch_size.max(1),
        })
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let request = CreateEmbeddingRequest {
            model: self.model.clone(),
            input: EmbeddingInput::StringArray(batch.to_vec()),
            encoding_format: None,
            user: None,
            // Not sent: older models and many compatible servers reject it. The
            // returned length is checked instead.
            dimensions: None,
        };
        let response = self
            .client
            .embeddings()
            .create(request)
            .await
            .map_err(classify)?;
        if response.data.len() != batch.len() {
            return Err(EmbedError::Permanent(format!(
                "{} returned {} embeddings for {} inputs",
                self.model_id,
                response.data.len(),
                batch.len()
            )));
        }
        // The protocol orders results by `index`, not by position in `data`.
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; batch.len()];
        for item in response.data {
            if item.embedding.len() != self.dimension {
                return Err(EmbedError::Permanent(format!(
                    "{} returned {}-dimensional vectors but is configured for {}",
                    self.model_id,
                    item.embedding.len(),
                    self.dimension
                )));
            }
            let index = item.index as usize;
            match vectors.get_mut(index) {
                Some(slot @ None) => {
                    let mut vector = item.embedding;
                    l2_normalise(&mut vector);
                    *slot = Some(vector);
                }
                _ => {
                    return Err(EmbedError::Permanent(format!(
                        "{} returned a bad or repeated index {index}",
                        self.model_id
                    )));
                }
            }
        }
        // Every slot is filled: as many items as inputs, indices in range, none repeated.
        Ok(vectors.into_iter().flatten().collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let mut vectors = Vec::with_capacity(texts.len());
            for batch in texts.chunks(self.batch_size) {
                vectors.extend(self.embed_batch(batch).await?);
            }
            Ok(vectors)
        })
    }
}

/// Sorts an API failure by what the caller should do next.
fn classify(error: OpenAIError) -> EmbedError {
    let transient = match &error {
        OpenAIError::ApiError(response) => {
            let status = response.status_code;
            // Out of credit also comes as 429, but waiting will not fix it.
            let out_of_quota = response.api_error.r#type.as_deref() == Some("insufficient_quota");
            status.is_server_error()
                || status.as_u16() == 408
                || (status.as_u16() == 429 && !out_of_quota)
        }
        // Timeouts, refused connections, bodies cut short; not a malformed URL.
        OpenAIError::Reqwest(e) => !e.is_builder(),
        _ => false,
    };
    let message = with_causes(&error);
    if transient {
        EmbedError::Transient(message)
    } else {
        EmbedError::Permanent(message)
    }
}

/// The error and its sources, e.g. "http error: error sending request: ... Connection
/// refused": reqwest's own message alone does not say what went wrong.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests;
