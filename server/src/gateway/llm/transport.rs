//! The HTTP layer under async-openai: a plain reqwest call with no retries of
//! its own (the client retries, with the breaker's say), which keeps an
//! error answer's status and `Retry-After` — async-openai's default path
//! drops the headers — and sorts every failure into an [`LlmError`].

use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use chrono::Utc;

use super::LlmError;
use super::backoff::parse_retry_after;
use super::error::{classify_status, truncate};

/// An error answer from the model server, whole.
#[derive(Debug)]
pub(crate) struct UpstreamStatus {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

impl std::fmt::Display for UpstreamStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, truncate(&self.body))
    }
}

impl std::error::Error for UpstreamStatus {}

/// The tower service async-openai sends its requests through.
pub(crate) fn http_service(
    http: reqwest::Client,
) -> impl tower::Service<
    HttpRequestFactory,
    Response = reqwest::Response,
    Error = OpenAIError,
    Future = impl Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |factory: HttpRequestFactory| {
        let http = http.clone();
        async move {
            let request = factory.build().await?;
            let response = http.execute(request).await?;
            if response.status().is_success() {
                return Ok(response);
            }
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let retry_after = parse_retry_after(
                header("retry-after-ms").as_deref(),
                header("retry-after").as_deref(),
                Utc::now(),
            );
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            Err(OpenAIError::Boxed(Box::new(UpstreamStatus {
                status,
                retry_after,
                body,
            })))
        }
    })
}

/// A failed attempt: what it means, and how long the server asked us to wait.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: LlmError,
    pub retry_after: Option<Duration>,
}

impl From<LlmError> for Failure {
    fn from(error: LlmError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

impl From<OpenAIError> for Failure {
    fn from(error: OpenAIError) -> Self {
        match error {
            OpenAIError::Boxed(boxed) => match boxed.downcast::<UpstreamStatus>() {
                Ok(status) => Self {
                    error: classify_status(status.status, &status.body),
                    retry_after: status.retry_after,
                },
                Err(other) => LlmError::Transient(truncate(&other.to_string())).into(),
            },
            OpenAIError::ApiError(api) => {
                let body = serde_json::json!({ "error": api.api_error }).to_string();
                classify_status(api.status_code.as_u16(), &body).into()
            }
            OpenAIError::Reqwest(e) => classify_reqwest(&e).into(),
            OpenAIError::StreamError(e) => {
                LlmError::Transient(truncate(&format!("the stream broke off: {e}"))).into()
            }
            OpenAIError::JSONDeserialize(e, content) => LlmError::Permanent(truncate(&format!(
                "the model server sent something that is not a chat completion chunk ({e}): {content}"
            )))
            .into(),
            other => LlmError::Permanent(truncate(&other.to_string())).into(),
        }
    }
}

fn classify_reqwest(error: &reqwest::Error) -> LlmError {
    if error.is_builder() {
        return LlmError::Permanent(truncate(&format!("invalid request: {error}")));
    }
    if error.is_timeout() {
        return LlmError::Timeout;
    }
    // Refused or reset connections, DNS failures, a body cut short: all worth
    // another try. `{:#}` would be nicer but reqwest hides the cause chain.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    LlmError::Transient(truncate(&text))
}
