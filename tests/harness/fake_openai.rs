//! A local stand-in for an OpenAI-compatible LLM server, speaking the real
//! Chat Completions wire protocol, for end-to-end tests of the gateway.
//!
//! Each request to `POST /v1/chat/completions` takes the next scripted
//! [`Reply`]; with the script empty it echoes the last user message (adding the
//! citation marker `[1]` when the prompt contains one). Streamed answers are
//! `text/event-stream` `data: {chat.completion.chunk}` lines ending with
//! `data: [DONE]`, with a final usage chunk when the request asks for it
//! through `stream_options.include_usage`; others get a `chat.completion`.
//! Every request body is recorded, so tests can check what left the gateway
//! (e.g. that no PII did).

mod answer;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use answer::Answer;

/// The model `GET /v1/models` lists (any model name is accepted).
pub const FAKE_MODEL: &str = "fake-gpt";

/// One scripted answer to a chat completion request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Text in these chunks, `delay` apart; with `stall`, the stream then
    /// stays open without another byte (no finish, no `[DONE]`).
    Text {
        chunks: Vec<String>,
        delay: Duration,
        stall: bool,
    },
    /// Tool calls `(name, JSON arguments)`, each streamed as a first chunk
    /// with its id and name, then its arguments in `fragments` pieces.
    ToolCalls {
        calls: Vec<(String, String)>,
        fragments: usize,
    },
    /// An error answer: `{"error": {"message", "type", "param", "code"}}`.
    Error {
        status: u16,
        retry_after: Option<String>,
        message: String,
        kind: String,
        code: Option<String>,
    },
    /// Reads the request and never answers.
    Hang,
}

impl Reply {
    /// Text streamed in these chunks.
    pub fn text(chunks: &[&str]) -> Self {
        Self::text_with_delay(chunks, Duration::ZERO)
    }

    /// Text streamed in these chunks, `delay` apart.
    pub fn text_with_delay(chunks: &[&str], delay: Duration) -> Self {
        Self::Text {
            chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
            delay,
            stall: false,
        }
    }

    /// These chunks, then silence with the connection open: a stalled model.
    pub fn stall_after(chunks: &[&str]) -> Self {
        Self::Text {
            chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
            delay: Duration::ZERO,
            stall: true,
        }
    }

    /// One tool call, its arguments streamed in three fragments.
    pub fn tool_call(name: &str, arguments: Value) -> Self {
        Self::ToolCalls {
            calls: vec![(name.to_owned(), arguments.to_string())],
            fragments: 3,
        }
    }

    /// An error with OpenAI's type for the status.
    pub fn error(status: u16, message: &str) -> Self {
        let kind = match status {
            400 | 404 | 413 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            429 => "rate_limit_error",
            _ => "server_error",
        };
        Self::Error {
            status,
            retry_after: None,
            message: message.to_owned(),
            kind: kind.to_owned(),
            code: None,
        }
    }

    /// A 429 asking to come back after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self::Error {
            status: 429,
            retry_after: Some(seconds.to_string()),
            message: "Rate limit reached for requests".into(),
            kind: "requests".into(),
            code: Some("rate_limit_exceeded".into()),
        }
    }

    /// OpenAI's answer to a prompt longer than the context window.
    pub fn context_length_exceeded() -> Self {
        Self::Error {
            status: 400,
            retry_after: None,
            message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.".into(),
            kind: "invalid_request_error".into(),
            code: Some("context_length_exceeded".into()),
        }
    }

    pub fn hang() -> Self {
        Self::Hang
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Value>>,
    cancelled_streams: AtomicUsize,
}

/// A running fake; stops when dropped.
pub struct FakeOpenAi {
    /// `http://127.0.0.1:<port>/v1`, the value for an OpenAI base URL.
    pub base_url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeOpenAi {
    /// Starts on a free port with this script of replies.
    pub async fn start(script: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/models", get(models))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake OpenAI server");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake OpenAI server");
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            shared,
            task,
        }
    }

    /// Appends a reply to the script.
    pub fn push(&self, reply: Reply) {
        self.shared.script.lock().expect("script").push_back(reply);
    }

    /// The JSON bodies of the chat completion requests received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().expect("requests").clone()
    }

    /// Waits until `n` requests have arrived; panics after `timeout`.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if requests.len() >= n {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "the fake OpenAI server got {} requests, expected {n}",
                requests.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Streamed answers whose client hung up before their end: how a test
    /// sees that cancelling a chat stopped the upstream work.
    pub fn cancelled_streams(&self) -> usize {
        self.shared.cancelled_streams.load(Ordering::SeqCst)
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A base URL where connections are refused: a port that was bound, then
/// released.
pub async fn refusing_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}/v1")
}

async fn models() -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": [{"id": FAKE_MODEL, "object": "model", "created": 1_700_000_000, "owned_by": "aos-tests"}]
    }))
}

async fn completions(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(
            400,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            None,
            None,
        );
    };
    if !request["messages"].is_array() {
        return openai_error(
            400,
            "Missing required parameter: 'messages'.",
            "invalid_request_error",
            Some("missing_required_parameter"),
            None,
        );
    }
    shared
        .requests
        .lock()
        .expect("requests")
        .push(request.clone());
    let reply = shared.script.lock().expect("script").pop_front();
    let reply = reply.unwrap_or_else(|| echo(&request));
    let answer = Answer::new(&request);
    match reply {
        Reply::Error {
            status,
            retry_after,
            message,
            kind,
            code,
        } => openai_error(
            status,
            &message,
            &kind,
            code.as_deref(),
            retry_after.as_deref(),
        ),
        Reply::Hang => std::future::pending().await,
        reply if request["stream"] == json!(true) => answer.stream(reply, shared),
        reply => answer.complete(reply),
    }
}

/// The default reply: the last user message echoed back.
fn echo(request: &Value) -> Reply {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let text_of = |m: &Value| match &m["content"] {
        Value::String(s) => s.clone(),
        // Content parts: [{"type": "text", "text": …}].
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(text_of)
        .unwrap_or_default();
    let cites = messages.iter().any(|m| text_of(m).contains("[1]"));
    let mut answer = format!("Echo: {last_user}");
    if cites {
        answer.push_str(" [1]");
    }
    let words: Vec<String> = answer.split_inclusive(' ').map(str::to_owned).collect();
    Reply::Text {
        chunks: words,
        delay: Duration::ZERO,
        stall: false,
    }
}

fn openai_error(
    status: u16,
    message: &str,
    kind: &str,
    code: Option<&str>,
    retry_after: Option<&str>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = retry_after.and_then(|v| v.parse().ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
