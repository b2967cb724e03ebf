//! How the fake renders a [`Reply`]: `chat.completion.chunk` events or one
//! `chat.completion` object, with the fields OpenAI sends.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use super::{FAKE_MODEL, Reply, Shared};

/// What every chunk or completion of one answer shares.
pub(super) struct Answer {
    id: String,
    created: u64,
    model: Value,
    include_usage: bool,
    prompt_tokens: usize,
}

impl Answer {
    pub(super) fn new(request: &Value) -> Self {
        let prompt_tokens = request["messages"]
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        m["content"]
                            .as_str()
                            .unwrap_or("")
                            .split_whitespace()
                            .count()
                            + 4
                    })
                    .sum()
            })
            .unwrap_or(0);
        Self {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: chrono::Utc::now().timestamp().max(0) as u64,
            model: request
                .get("model")
                .cloned()
                .unwrap_or_else(|| json!(FAKE_MODEL)),
            include_usage: request["stream_options"]["include_usage"] == json!(true),
            prompt_tokens,
        }
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        let mut chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "system_fingerprint": "fp_fake", "service_tier": "default",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
        });
        // With usage asked for, OpenAI sends `"usage": null` until the last chunk.
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn usage(&self, completion_tokens: usize) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens
        })
    }

    fn events(&self, reply: Reply) -> (Vec<Value>, Duration, bool, &'static str) {
        match reply {
            Reply::Text {
                chunks,
                delay,
                stall,
            } => {
                let role = json!({"role": "assistant", "content": "", "refusal": null});
                let mut events = vec![self.chunk(role, None)];
                events.extend(
                    chunks
                        .iter()
                        .map(|c| self.chunk(json!({"content": c}), None)),
                );
                (events, delay, stall, "stop")
            }
            Reply::ToolCalls { calls, fragments } => {
                let mut events = Vec::new();
                for (index, (name, arguments)) in calls.iter().enumerate() {
                    let mut first = json!({"tool_calls": [{
                        "index": index, "id": call_id(), "type": "function",
                        "function": {"name": name, "arguments": ""}
                    }]});
                    if index == 0 {
                        first["role"] = json!("assistant");
                        first["content"] = Value::Null;
                        first["refusal"] = Value::Null;
                    }
                    events.push(self.chunk(first, None));
                    for piece in split(arguments, fragments) {
                        let delta = json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
                        events.push(self.chunk(delta, None));
                    }
                }
                (events, Duration::ZERO, false, "tool_calls")
            }
            Reply::Error { .. } | Reply::Hang => (Vec::new(), Duration::ZERO, true, "stop"),
        }
    }

    /// A `text/event-stream` answer, chunk by chunk, as OpenAI streams it.
    pub(super) fn stream(self, reply: Reply, shared: Arc<Shared>) -> Response {
        let (mut events, delay, stall, finish) = self.events(reply);
        let completion_tokens = events.len().saturating_sub(1).max(1);
        if !stall {
            events.push(self.chunk(json!({}), Some(finish)));
            if self.include_usage {
                let mut usage = self.chunk(json!({}), None);
                usage["choices"] = json!([]);
                usage["usage"] = self.usage(completion_tokens);
                events.push(usage);
            }
        }
        let mut lines: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        if !stall {
            lines.push("data: [DONE]\n\n".to_owned());
        }
        let guard = CancelGuard {
            shared,
            done: false,
        };
        let body = futures::stream::unfold(
            (lines.into_iter().enumerate(), guard),
            move |(mut lines, mut guard)| async move {
                match lines.next() {
                    Some((i, line)) => {
                        if i > 0 && !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        Some((Ok::<_, std::io::Error>(line), (lines, guard)))
                    }
                    None if stall => std::future::pending().await,
                    None => {
                        guard.finished();
                        None
                    }
                }
            },
        )
        .boxed();
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from_stream(body))
            .expect("event stream response")
    }

    /// A whole `chat.completion` object.
    pub(super) fn complete(self, reply: Reply) -> Response {
        let (message, finish, completion_tokens) = match reply {
            Reply::Text { chunks, .. } => {
                let n = chunks.len().max(1);
                let message =
                    json!({"role": "assistant", "content": chunks.concat(), "refusal": null});
                (message, "stop", n)
            }
            Reply::ToolCalls { calls, .. } => {
                let calls: Vec<Value> = calls
                    .iter()
                    .map(|(name, arguments)| {
                        json!({"id": call_id(), "type": "function",
                               "function": {"name": name, "arguments": arguments}})
                    })
                    .collect();
                let message = json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": calls});
                (message, "tool_calls", 1)
            }
            Reply::Error { .. } | Reply::Hang => {
                (json!({"role": "assistant", "content": ""}), "stop", 0)
            }
        };
        Json(json!({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "system_fingerprint": "fp_fake", "service_tier": "default",
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": self.usage(completion_tokens)
        }))
        .into_response()
    }
}

fn call_id() -> String {
    format!("call_{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
}

/// `text` in `n` pieces of about equal length, cut on char boundaries.
fn split(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(n.max(1)).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Counts streamed bodies dropped before their end: the client hung up.
struct CancelGuard {
    shared: Arc<Shared>,
    done: bool,
}

impl CancelGuard {
    fn finished(&mut self) {
        self.done = true;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.done {
            self.shared.cancelled_streams.fetch_add(1, Ordering::SeqCst);
        }
    }
}
