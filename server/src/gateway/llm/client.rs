//! [`LlmClient`]: opens a streamed chat completion, retrying transient
//! failures until the first token, under a time budget and the breaker.

use std::sync::Arc;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use tokio::time::Instant;

use super::backoff::retry_delay;
use super::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use super::stream::{Attempt, ChunkStream, LlmStream};
use super::transport::{Failure, http_service};
use super::wire::{Chunk, WireRequest};
use super::{ChatRequest, LlmError};

/// Where the model is and how patient to be with it.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API root including its version, e.g. `https://api.openai.com/v1`
    /// or `http://127.0.0.1:8080/v1` for llama.cpp.
    pub base_url: String,
    /// Sent as a bearer token; `None` for local servers without one.
    pub api_key: Option<String>,
    pub model: String,
    /// Limit for opening the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit from sending a request to the model's first token (text, a tool
    /// call or a finish). Also the longest silence allowed between two chunks
    /// later on, so a stream that stalls mid-answer fails fast: a healthy
    /// model never pauses longer between tokens than before its first one.
    pub first_token_timeout: Duration,
    /// Limit for the whole call: retries, waiting and the full answer.
    pub total_timeout: Duration,
    /// Retries after the first attempt, for transient failures before the
    /// first token only (once text has been shown it cannot be taken back).
    pub max_retries: u32,
    pub breaker: BreakerConfig,
}

impl LlmConfig {
    /// A configuration with the default limits: connect 5 s, first token 30 s,
    /// total 120 s, 2 retries, breaker opening after 5 failures for 30 s.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            connect_timeout: Duration::from_secs(5),
            first_token_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(120),
            max_retries: 2,
            breaker: BreakerConfig::default(),
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("connect_timeout", &self.connect_timeout)
            .field("first_token_timeout", &self.first_token_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_retries", &self.max_retries)
            .field("breaker", &self.breaker)
            .finish()
    }
}

/// A client for one model on one OpenAI-compatible server. Cheap to clone;
/// clones share the connection pool and the circuit breaker, so build one at
/// start-up and share it with every request of the process.
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<OpenAIConfig>,
    config: LlmConfig,
    breaker: Arc<CircuitBreaker>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("config", &self.inner.config)
            .field("breaker", &self.inner.breaker.state())
            .finish()
    }
}

impl LlmClient {
    /// Fails only on a configuration that cannot work (an API key that is not
    /// a valid header value, a TLS backend that does not start).
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let api_key = config.api_key.clone().unwrap_or_default();
        // async-openai would panic on it later.
        reqwest::header::HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|_| {
            LlmError::Permanent("the LLM API key contains invalid characters".into())
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| LlmError::Permanent(format!("cannot build the HTTP client: {e}")))?;
        // Explicit values so nothing comes from OPENAI_* environment variables:
        // settings are parsed once, in `main`.
        let openai = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(api_key)
            .with_org_id("")
            .with_project_id("");
        let client = Client::build(http.clone(), openai).with_http_service(http_service(http));
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                breaker: Arc::new(CircuitBreaker::new(config.breaker)),
                config,
            }),
        })
    }

    pub fn model(&self) -> &str {
        &self.inner.config.model
    }

    /// The breaker's state, e.g. to skip the model at once or for health checks.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Streams a completion. Resolves once the model has begun answering;
    /// everything that fails before that (refused or reset connections,
    /// 429 — after its `Retry-After` —, 5xx, a missed first-token deadline) is
    /// retried with jittered exponential backoff within `max_retries` and the
    /// total budget. Fails at once with [`LlmError::CircuitOpen`] while the
    /// breaker is open. Dropping the future or the stream aborts the request.
    pub async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.total_timeout;
        let wire = WireRequest::new(&config.model, request);
        let mut retry = 0;
        loop {
            let permit = self.inner.breaker.try_acquire()?;
            let first_token_by = deadline.min(Instant::now() + config.first_token_timeout);
            let failure = match tokio::time::timeout_at(first_token_by, self.open(&wire)).await {
                Ok(Ok(attempt)) => {
                    permit.succeed();
                    return Ok(attempt.into_stream(
                        config.first_token_timeout,
                        deadline,
                        Arc::clone(&self.inner.breaker),
                    ));
                }
                Ok(Err(failure)) => failure,
                Err(_elapsed) => Failure::from(LlmError::Timeout),
            };
            let retryable = failure.error.is_upstream_failure();
            if retryable {
                permit.fail();
            } else {
                // The server answered, if only to refuse: it is up.
                permit.succeed();
            }
            if !retryable || retry >= config.max_retries {
                return Err(failure.error);
            }
            let delay = retry_delay(retry, failure.retry_after, rand::random());
            if Instant::now() + delay >= deadline {
                return Err(failure.error);
            }
            tracing::warn!(
                error = %failure.error,
                retry = retry + 1,
                delay_ms = delay.as_millis() as u64,
                model = %config.model,
                "retrying the LLM request"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    async fn open(&self, wire: &WireRequest<'_>) -> Result<Attempt, Failure> {
        let upstream: ChunkStream = self
            .inner
            .client
            .chat()
            .create_stream_byot::<_, Chunk>(wire)
            .await?;
        let mut attempt = Attempt::new(upstream);
        attempt.wait_for_first_token().await?;
        Ok(attempt)
    }
}
