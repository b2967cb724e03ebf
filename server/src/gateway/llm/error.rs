//! [`LlmError`], sorted by what the caller does next, and how an upstream
//! error answer is sorted into it.

use serde_json::Value;

/// Why a completion failed, sorted by what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The model server is overloaded, restarting or unreachable: already
    /// retried where that was safe; fall back or try again later.
    #[error("the language model is temporarily unavailable: {0}")]
    Transient(String),
    /// The request itself was refused (bad key, unknown model, invalid
    /// request): retrying will not help; fall back and alert an operator.
    #[error("the language model refused the request: {0}")]
    Permanent(String),
    /// The prompt does not fit the model's context window: trim and retry.
    #[error("the prompt does not fit the model's context window: {0}")]
    ContextLength(String),
    /// Recent calls failed and the circuit breaker is open: fall back now,
    /// without waiting on the model server.
    #[error("the language model is unavailable (circuit breaker open)")]
    CircuitOpen,
    /// The model did not start or finish its answer in time.
    #[error("the language model did not answer in time")]
    Timeout,
}

impl LlmError {
    /// Whether the failure says the model server is unhealthy, which is what
    /// the circuit breaker counts. A refused request proves it is up.
    pub(crate) fn is_upstream_failure(&self) -> bool {
        matches!(self, Self::Transient(_) | Self::Timeout)
    }
}

/// Upstream error texts are kept short: they end up in logs and events.
const MAX_MESSAGE_CHARS: usize = 300;

/// Sorts an error answer: its HTTP status and its body, which compatible
/// servers shape as `{"error": {"message", "type", "code"}}` (with `code` a
/// string at OpenAI, a number at llama.cpp) or sometimes as plain text.
pub(crate) fn classify_status(status: u16, body: &str) -> LlmError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().map(|v| v.get("error").unwrap_or(v));
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let mut message = field("message");
    if message.is_empty() {
        message = match error {
            Some(Value::String(s)) => s.clone(),
            _ => body.trim().to_owned(),
        };
    }
    let kind = field("type");
    let code = field("code");
    let text = truncate(&format!("HTTP {status}: {message}"));

    if is_context_length(status, &kind, &code, &message) {
        return LlmError::ContextLength(text);
    }
    match status {
        429 if kind == "insufficient_quota" || code == "insufficient_quota" => {
            LlmError::Permanent(text)
        }
        408 | 409 | 429 | 500..=599 => LlmError::Transient(text),
        _ => LlmError::Permanent(text),
    }
}

fn is_context_length(status: u16, kind: &str, code: &str, message: &str) -> bool {
    if status == 413 || code == "context_length_exceeded" || kind == "exceed_context_size_error" {
        return true;
    }
    if !(400..500).contains(&status) {
        return false;
    }
    let message = message.to_lowercase();
    [
        "context length",
        "context_length",
        "context window",
        "context size",
        "maximum context",
        "prompt is too long",
        "too many tokens",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_openai_error_bodies() {
        let body = |kind: &str, code: &str, msg: &str| {
            format!(r#"{{"error":{{"message":"{msg}","type":"{kind}","code":"{code}"}}}}"#)
        };
        assert!(matches!(
            classify_status(429, &body("requests", "rate_limit_exceeded", "slow down")),
            LlmError::Transient(_)
        ));
        assert!(matches!(
            classify_status(
                429,
                &body("insufficient_quota", "insufficient_quota", "pay")
            ),
            LlmError::Permanent(_)
        ));
        assert!(matches!(
            classify_status(
                400,
                &body("invalid_request_error", "context_length_exceeded", "x")
            ),
            LlmError::ContextLength(_)
        ));
        assert!(matches!(
            classify_status(401, &body("invalid_request_error", "invalid_api_key", "bad key")),
            LlmError::Permanent(m) if m.contains("bad key")
        ));
        assert!(
            matches!(classify_status(503, "upstream down"), LlmError::Transient(m) if m.contains("upstream down"))
        );
    }

    #[test]
    fn recognises_compatible_servers_context_errors() {
        // llama.cpp: numeric code, its own type.
        let llama = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#;
        assert!(matches!(
            classify_status(400, llama),
            LlmError::ContextLength(_)
        ));
        // vLLM: a plain message.
        let vllm = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","code":400}"#;
        assert!(matches!(
            classify_status(400, vllm),
            LlmError::ContextLength(_)
        ));
    }

    #[test]
    fn truncates_long_messages_on_a_char_boundary() {
        let long = "é".repeat(1000);
        let short = truncate(&long);
        assert_eq!(short.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
