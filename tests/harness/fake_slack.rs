//! A local stand-in for Slack, for end-to-end tests of the bot: the Web API
//! methods it calls (`chat.postMessage`, `chat.update`) with Slack's JSON
//! shapes and errors (`invalid_auth`, `channel_not_found`,
//! `message_not_found`, `no_text`), slash-command and interaction
//! `response_url`s, and an incoming webhook. A 429 with `Retry-After` can be
//! scripted for the next call of a method, and every call is recorded with
//! the time it arrived, so a test can check the bot waited.
//!
//! Also the Slack side of requests to the bot: [`sign`] makes the v0
//! signature Slack sends.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The bot token the fake accepts.
pub const BOT_TOKEN: &str = "xoxb-e2e-fake-token";

/// The `X-Slack-Signature` of a body, as Slack computes it.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Now, as Slack's `X-Slack-Request-Timestamp`.
pub fn now() -> String {
    chrono::Utc::now().timestamp().to_string()
}

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `chat.postMessage`, `chat.update`, `response_url` or `webhook`.
    pub method: String,
    /// The path's id for `response_url` and `webhook`.
    pub target: String,
    pub body: Value,
    pub at: Instant,
    /// Answered with the scripted 429.
    pub rate_limited: bool,
}

/// A message as the fake channel holds it.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Value,
    /// How many times `chat.update` changed it.
    pub updates: usize,
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    messages: Mutex<Vec<Posted>>,
    /// method → Retry-After seconds of the next call's 429.
    rate_limits: Mutex<HashMap<String, u64>>,
    next_ts: Mutex<u64>,
}

/// A running fake; stops when dropped.
pub struct FakeSlack {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/api/{method}", post(web_api))
            .route("/response/{id}", post(response_url))
            .route("/webhook/{id}", post(webhook))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack server");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack server");
        });
        FakeSlack {
            base: format!("http://{addr}"),
            shared,
            task,
        }
    }

    /// The Web API base URL for the workspace (`--api-base`).
    pub fn api_base(&self) -> String {
        format!("{}/api", self.base)
    }

    /// A `response_url` Slack would hand out.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}/response/{id}", self.base)
    }

    /// The tenant's incoming webhook.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhook/notifications", self.base)
    }

    /// The next call of `method` gets a 429 asking to wait `seconds`.
    pub fn rate_limit_next(&self, method: &str, seconds: u64) {
        self.shared
            .rate_limits
            .lock()
            .unwrap()
            .insert(method.to_owned(), seconds);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    pub fn messages(&self) -> Vec<Posted> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the recorded calls; panics after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Call]) -> bool,
    ) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "fake Slack: timed out waiting for {what}; calls: {:#?}",
                calls
                    .iter()
                    .map(|c| (&c.method, &c.body))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn slack_error(error: &str) -> Response {
    Json(json!({"ok": false, "error": error})).into_response()
}

impl Shared {
    fn record(&self, method: &str, target: &str, body: &Value, rate_limited: bool) {
        self.calls.lock().unwrap().push(Call {
            method: method.to_owned(),
            target: target.to_owned(),
            body: body.clone(),
            at: Instant::now(),
            rate_limited,
        });
    }

    /// A scripted 429 for this call, if one is due.
    fn rate_limited(&self, method: &str, body: &Value, target: &str) -> Option<Response> {
        let seconds = self.rate_limits.lock().unwrap().remove(method)?;
        self.record(method, target, body, true);
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.to_string().parse().unwrap());
        Some(response)
    }
}

/// Reads a JSON or form-encoded Web API body (Slack takes both).
fn read_body(headers: &HeaderMap, body: &Bytes) -> Option<Value> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json_type {
        serde_json::from_slice(body).ok()
    } else {
        let pairs: HashMap<String, String> = serde_urlencoded_pairs(body);
        Some(json!(pairs))
    }
}

fn serde_urlencoded_pairs(body: &Bytes) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn web_api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(body) = read_body(&headers, &body) else {
        return slack_error("invalid_json");
    };
    if let Some(limited) = shared.rate_limited(&method, &body, "") {
        return limited;
    }
    shared.record(&method, "", &body, false);
    if token != Some(BOT_TOKEN) {
        return slack_error(if token.is_none() {
            "not_authed"
        } else {
            "invalid_auth"
        });
    }
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    if channel.is_empty() {
        return slack_error("channel_not_found");
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let blocks = body.get("blocks").cloned().unwrap_or(json!([]));
    match method.as_str() {
        "chat.postMessage" => {
            if text.is_empty() && blocks.as_array().is_none_or(|b| b.is_empty()) {
                return slack_error("no_text");
            }
            let ts = {
                let mut next = shared.next_ts.lock().unwrap();
                *next += 1;
                format!("1700000000.{:06}", *next)
            };
            let thread_ts = body["thread_ts"].as_str().map(str::to_owned);
            shared.messages.lock().unwrap().push(Posted {
                channel: channel.clone(),
                ts: ts.clone(),
                thread_ts: thread_ts.clone(),
                text: text.clone(),
                blocks: blocks.clone(),
                updates: 0,
            });
            let mut message = json!({"type": "message", "subtype": "bot_message", "text": text,
                "ts": ts, "username": "aos", "bot_id": "B0FAKEBOT", "blocks": blocks});
            if let Some(thread_ts) = thread_ts {
                message["thread_ts"] = json!(thread_ts);
            }
            Json(json!({"ok": true, "channel": channel, "ts": ts, "message": message}))
                .into_response()
        }
        "chat.update" => {
            let ts = body["ts"].as_str().unwrap_or_default().to_owned();
            let mut messages = shared.messages.lock().unwrap();
            let Some(posted) = messages
                .iter_mut()
                .find(|m| m.ts == ts && m.channel == channel)
            else {
                return slack_error("message_not_found");
            };
            posted.text = text.clone();
            posted.blocks = blocks;
            posted.updates += 1;
            Json(
                json!({"ok": true, "channel": channel, "ts": ts, "text": text,
                "message": {"text": text, "user": "U0FAKEBOT", "bot_id": "B0FAKEBOT"}}),
            )
            .into_response()
        }
        _ => slack_error("unknown_method"),
    }
}

async fn response_url(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    if let Some(limited) = shared.rate_limited("response_url", &body, &id) {
        return limited;
    }
    shared.record("response_url", &id, &body, false);
    Json(json!({"ok": true})).into_response()
}

async fn webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    if body["text"].as_str().is_none_or(str::is_empty) && body.get("blocks").is_none() {
        return (StatusCode::BAD_REQUEST, "no_text").into_response();
    }
    if let Some(limited) = shared.rate_limited("webhook", &body, &id) {
        return limited;
    }
    shared.record("webhook", &id, &body, false);
    (StatusCode::OK, "ok").into_response()
}
