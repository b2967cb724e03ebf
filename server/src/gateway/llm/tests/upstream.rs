//! A small in-process server speaking OpenAI's streamed Chat Completions
//! protocol, scripted per test. (The end-to-end tests have a fuller one in
//! `tests/harness/fake_openai.rs`; the server crate cannot depend on it.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};

/// One scripted answer.
pub enum Reply {
    /// Text streamed in these chunks.
    Text(Vec<&'static str>),
    /// One tool call, its arguments streamed in these fragments.
    ToolCall {
        name: &'static str,
        fragments: Vec<&'static str>,
    },
    /// An error answer with an OpenAI error body.
    Error {
        status: u16,
        retry_after: Option<&'static str>,
        kind: &'static str,
        code: &'static str,
        message: &'static str,
    },
    /// Accepts the request and never answers.
    Hang,
    /// Sends the role chunk only, then nothing.
    RoleThenStall,
    /// Streams these chunks, then stalls with the connection open.
    TextThenStall(Vec<&'static str>),
}

impl Reply {
    pub fn error(status: u16, message: &'static str) -> Self {
        Self::Error {
            status,
            retry_after: None,
            kind: "server_error",
            code: "",
            message,
        }
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<(Instant, Value)>>,
    closed_streams: AtomicUsize,
}

pub struct Upstream {
    pub base_url: String,
    shared: Arc<Shared>,
}

impl Upstream {
    pub async fn start(script: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            ..Shared::default()
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{addr}/v1"),
            shared,
        }
    }

    /// The request bodies received so far.
    pub fn requests(&self) -> Vec<Value> {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().map(|(_, body)| body.clone()).collect()
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        let requests = self.shared.requests.lock().unwrap();
        requests.iter().map(|(at, _)| *at).collect()
    }

    /// Streamed bodies the client hung up on before they ended.
    pub fn closed_streams(&self) -> usize {
        self.shared.closed_streams.load(Ordering::SeqCst)
    }
}

/// A base URL where nothing listens: the port was bound, then released.
pub async fn refusing_base_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

async fn completions(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    shared
        .requests
        .lock()
        .unwrap()
        .push((Instant::now(), body.clone()));
    let reply = shared.script.lock().unwrap().pop_front();
    let reply = reply.unwrap_or(Reply::Text(vec!["ok"]));
    let model = body["model"].as_str().unwrap_or("fake").to_owned();
    let usage = body["stream_options"]["include_usage"] == json!(true);
    let chunk = |delta: Value, finish: Option<&str>| {
        json!({
            "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1,
            "model": model, "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        })
    };
    let role = chunk(json!({"role": "assistant", "content": ""}), None);
    let (events, stall) = match reply {
        Reply::Error {
            status,
            retry_after,
            kind,
            code,
            message,
        } => {
            let mut response = (
                StatusCode::from_u16(status).unwrap(),
                Json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}})),
            )
                .into_response();
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, after.parse().unwrap());
            }
            return response;
        }
        Reply::Hang => std::future::pending().await,
        Reply::RoleThenStall => (vec![role], true),
        Reply::Text(chunks) => {
            let mut events = vec![role];
            events.extend(chunks.iter().map(|c| chunk(json!({"content": c}), None)));
            events.push(chunk(json!({}), Some("stop")));
            (events, false)
        }
        Reply::TextThenStall(chunks) => {
            let mut events = vec![role];
            events.extend(chunks.iter().map(|c| chunk(json!({"content": c}), None)));
            (events, true)
        }
        Reply::ToolCall { name, fragments } => {
            let mut events = vec![chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [
                    {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
                ]}),
                None,
            )];
            events.extend(fragments.iter().map(|f| {
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}),
                    None,
                )
            }));
            events.push(chunk(json!({}), Some("tool_calls")));
            (events, false)
        }
    };
    let mut lines: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    if !stall {
        if usage {
            let usage = json!({
                "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1,
                "model": body["model"], "choices": [],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
            });
            lines.push(format!("data: {usage}\n\n"));
        }
        lines.push("data: [DONE]\n\n".to_owned());
    }
    let guard = CloseGuard {
        shared: Arc::clone(&shared),
        finished: false,
    };
    let body = futures::stream::unfold(
        (lines.into_iter(), guard, stall),
        |(mut lines, mut guard, stall)| async move {
            match lines.next() {
                Some(line) => {
                    // Small pauses so chunks arrive as separate reads, like a model's.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Some((Ok::<_, std::io::Error>(line), (lines, guard, stall)))
                }
                None if stall => std::future::pending().await,
                None => {
                    guard.disarm();
                    None
                }
            }
        },
    )
    .boxed();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

/// Counts bodies dropped before their end: the client hung up.
struct CloseGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl CloseGuard {
    fn disarm(&mut self) {
        self.finished = true;
    }
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.closed_streams.fetch_add(1, Ordering::SeqCst);
        }
    }
}
