//! The Slack Web API methods the bot calls (`chat.postMessage`,
//! `chat.update`) and the URLs Slack hands out (`response_url`, incoming
//! webhooks). A 429 is retried after its `Retry-After`; transient failures
//! (5xx, connection errors) a few times with backoff; Slack's
//! `{"ok": false, "error": …}` is an error that is not retried.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Attempts per call, rate-limit waits included.
const ATTEMPTS: u32 = 5;
/// The longest `Retry-After` honoured; a longer one gives up.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a call to Slack failed.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Slack answered `{"ok": false, "error": …}` (e.g. `channel_not_found`).
    #[error("Slack refused the call: {0}")]
    Api(String),
    /// Still rate-limited after waiting, or asked to wait too long.
    #[error("Slack kept rate-limiting the call")]
    RateLimited,
    #[error("Slack is unreachable: {0}")]
    Transport(String),
}

/// A workspace's bot: the Web API at `api_base` with its bot token.
pub struct Bot<'a> {
    pub http: &'a reqwest::Client,
    pub api_base: &'a str,
    pub token: &'a str,
}

/// A message the bot posts: fallback text and optional Block Kit blocks.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub text: String,
    pub blocks: Option<Value>,
}

impl Bot<'_> {
    /// `chat.postMessage`, in a thread when `thread_ts` is set; the new
    /// message's `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        message: &Message,
    ) -> Result<String, SlackError> {
        let mut body = json!({"channel": channel, "text": message.text, "unfurl_links": false});
        if let Some(thread_ts) = thread_ts {
            body["thread_ts"] = json!(thread_ts);
        }
        if let Some(blocks) = &message.blocks {
            body["blocks"] = blocks.clone();
        }
        let answer = self.call("chat.postMessage", &body).await?;
        answer["ts"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SlackError::Api("chat.postMessage answered without a `ts`".into()))
    }

    /// `chat.update` of a message the bot posted.
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "ts": ts, "text": message.text});
        // Without `blocks`, the message keeps its old ones: send an empty list.
        body["blocks"] = message.blocks.clone().unwrap_or_else(|| json!([]));
        self.call("chat.update", &body).await.map(|_| ())
    }

    async fn call(&self, method: &str, body: &Value) -> Result<Value, SlackError> {
        let url = format!("{}/{method}", self.api_base.trim_end_matches('/'));
        let answer = send_with_retries(self.http, &url, Some(self.token), body).await?;
        let value: Value = serde_json::from_str(&answer)
            .map_err(|_| SlackError::Api(format!("{method} answered with something not JSON")))?;
        if value["ok"] == json!(true) {
            Ok(value)
        } else {
            Err(SlackError::Api(
                value["error"]
                    .as_str()
                    .unwrap_or("unknown_error")
                    .to_owned(),
            ))
        }
    }
}

/// Posts JSON to a URL Slack gave out (a `response_url` or an incoming
/// webhook). These answer `ok` or `{"ok": true}` on success.
pub async fn post_to_url(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<(), SlackError> {
    let answer = send_with_retries(http, url, None, body).await?;
    let trimmed = answer.trim();
    if let Ok(value) = serde_json::from_str::<Value>(trimmed)
        && value["ok"] == json!(false)
    {
        return Err(SlackError::Api(
            value["error"]
                .as_str()
                .unwrap_or("unknown_error")
                .to_owned(),
        ));
    }
    Ok(())
}

/// Sends until a non-429, non-transient answer; the body of a 2xx. Slack
/// answers errors of incoming webhooks as plain-text 4xx (`invalid_payload`).
async fn send_with_retries(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<String, SlackError> {
    let mut backoff = Duration::from_millis(250);
    for attempt in 1..=ATTEMPTS {
        let mut request = http.post(url).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let last = attempt == ATTEMPTS;
        match request.send().await {
            Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(response.headers()).unwrap_or(Duration::from_secs(1));
                if last || wait > MAX_RETRY_AFTER {
                    return Err(SlackError::RateLimited);
                }
                tracing::info!(url = %redact(url), wait_secs = wait.as_secs_f32(), "Slack rate limit: waiting");
                tokio::time::sleep(wait).await;
            }
            Ok(response) if response.status().is_server_error() && !last => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Ok(response) => {
                let status = response.status();
                let text = response
                    .text()
                    .await
                    .map_err(|e| SlackError::Transport(e.to_string()))?;
                if status.is_success() {
                    return Ok(text);
                }
                let error = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| text.chars().take(200).collect());
                return Err(SlackError::Api(format!("HTTP {status}: {error}")));
            }
            Err(e) if !last && (e.is_connect() || e.is_timeout()) => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(e) => return Err(SlackError::Transport(e.without_url().to_string())),
        }
    }
    Err(SlackError::RateLimited)
}

/// `Retry-After` in seconds (Slack sends whole seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = raw.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A URL for logs: response URLs and webhooks carry their secret in the path.
fn redact(url: &str) -> String {
    match url
        .find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(cut) => format!("{}/…", &url[..cut]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "3".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "soon".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn urls_are_redacted_after_the_host() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T1/B2/secret"),
            "https://hooks.slack.com/…"
        );
    }
}
