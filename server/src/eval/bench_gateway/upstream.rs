//! The mock upstream every column of `aos bench gateway` talks to: a tiny
//! OpenAI-compatible server, in the bench process, that streams a fixed answer
//! (`w0 w1 w2 …`) in a set number of chunks, so what the figures show is what
//! stands in front of it.

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The model name the mock answers to (it accepts any).
pub const MODEL: &str = "mock";

/// How the answers are shaped; changed between phases of the bench.
struct Shape {
    chunks: AtomicUsize,
    gap_ms: AtomicU64,
    requests: AtomicU64,
}

/// A running mock; stops when dropped.
pub struct MockUpstream {
    /// `http://127.0.0.1:<port>/v1`.
    pub base_url: String,
    shape: Arc<Shape>,
    task: JoinHandle<()>,
}

impl MockUpstream {
    /// Starts on a free loopback port, answering in `chunks` chunks at once.
    pub async fn start(chunks: usize) -> Result<MockUpstream> {
        let shape = Arc::new(Shape {
            chunks: AtomicUsize::new(chunks),
            gap_ms: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/models", get(models))
            .with_state(Arc::clone(&shape));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the mock upstream")?;
        let addr = listener.local_addr()?;
        // Every chunk leaves at once, as a real model server's would.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("the mock upstream stopped: {err}");
            }
        });
        Ok(MockUpstream {
            base_url: format!("http://{addr}/v1"),
            shape,
            task,
        })
    }

    /// Answers from now on in `chunks` chunks, `gap` apart.
    pub fn set_shape(&self, chunks: usize, gap: Duration) {
        self.shape.chunks.store(chunks, Ordering::SeqCst);
        let gap_ms = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX);
        self.shape.gap_ms.store(gap_ms, Ordering::SeqCst);
    }

    /// Chat completion requests received so far.
    pub fn requests(&self) -> u64 {
        self.shape.requests.load(Ordering::SeqCst)
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The answer text the mock streams in `chunks` chunks.
pub fn answer_text(chunks: usize) -> String {
    (0..chunks).map(|i| format!("w{i} ")).collect()
}

async fn models() -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}),
    )
}

async fn completions(State(shape): State<Arc<Shape>>, body: Bytes) -> Response {
    shape.requests.fetch_add(1, Ordering::Relaxed);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let chunks = shape.chunks.load(Ordering::Relaxed);
    let gap = Duration::from_millis(shape.gap_ms.load(Ordering::Relaxed));
    let model = request["model"].as_str().unwrap_or(MODEL).to_owned();
    if request["stream"] != json!(true) {
        return Json(json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(chunks)},
                "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": chunks, "total_tokens": 8 + chunks},
        }))
        .into_response();
    }
    let usage = request["stream_options"]["include_usage"] == json!(true);
    let frames = frames(&model, chunks, usage);
    let body = if gap.is_zero() {
        Body::from_stream(futures::stream::iter(
            frames.into_iter().map(Ok::<_, Infallible>),
        ))
    } else {
        // The role chunk at once, then each content chunk after a gap.
        let frames = frames.into_iter().enumerate();
        Body::from_stream(futures::stream::unfold(
            frames,
            move |mut frames| async move {
                let (i, frame) = frames.next()?;
                if i > 0 && i <= chunks {
                    tokio::time::sleep(gap).await;
                }
                Some((Ok::<_, Infallible>(frame), frames))
            },
        ))
    };
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The `data:` events of one streamed answer: a role chunk, the content
/// chunks, a finish chunk, a usage chunk when asked for, and `[DONE]`.
fn frames(model: &str, chunks: usize, usage: bool) -> Vec<Bytes> {
    let chunk = |delta: Value, finish: Value| {
        let value = json!({
            "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        Bytes::from(format!("data: {value}\n\n"))
    };
    let mut out = Vec::with_capacity(chunks + 4);
    out.push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    for i in 0..chunks {
        out.push(chunk(json!({"content": format!("w{i} ")}), Value::Null));
    }
    out.push(chunk(json!({}), json!("stop")));
    if usage {
        let value = json!({
            "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [],
            "usage": {"prompt_tokens": 8, "completion_tokens": chunks, "total_tokens": 8 + chunks},
        });
        out.push(Bytes::from(format!("data: {value}\n\n")));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_has_role_content_finish_usage_and_done() {
        let frames = frames("m", 3, true);
        assert_eq!(frames.len(), 1 + 3 + 1 + 1 + 1);
        let text: String = frames
            .iter()
            .filter_map(|f| {
                let line = std::str::from_utf8(f).ok()?.strip_prefix("data: ")?.trim();
                let v: Value = serde_json::from_str(line).ok()?;
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(text, answer_text(3));
        assert_eq!(
            frames.last().map(|f| &f[..]),
            Some(&b"data: [DONE]\n\n"[..])
        );
    }
}
