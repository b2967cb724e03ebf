//! The OpenAI-compatible front door: `POST /v1/chat/completions` (streamed or
//! not) and `GET /v1/models`, so any OpenAI client can talk to the gateway.
//! `model` names a persona (`aos-auto`, `aos-cto`, `aos-cro`, `aos-coo`,
//! `aos-cfo`). Each request is one turn of a new conversation, answered from
//! its last user message; what the pipeline did (classification, citations,
//! tool calls, approvals) rides in the `aos` extension field. A request may
//! carry an `aos` field too, for pass-through use where the caller sends its
//! own context: `{"aos": {"retrieval": false, "routing": false}}` skips the
//! search of the tenant's documents and the tool a confident intent would run
//! before the answer (the LLM keeps the persona's tools). With the persona
//! pinned by `model` and an LLM configured, such a turn is not classified.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use personas::Persona;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::events::{ChatSend, EventBody, MessageEvent};
use super::turn;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(completions))
}

const MODELS: [(&str, Option<Persona>); 5] = [
    ("aos-auto", None),
    ("aos-cto", Some(Persona::Cto)),
    ("aos-cro", Some(Persona::Cro)),
    ("aos-coo", Some(Persona::Coo)),
    ("aos-cfo", Some(Persona::Cfo)),
];

async fn models(_principal: Principal) -> Json<Value> {
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, _)| json!({"id": id, "object": "model", "created": 0, "owned_by": "aos"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

#[derive(Deserialize)]
pub struct CompletionRequest {
    pub model: String,
    pub messages: Vec<IncomingMessage>,
    #[serde(default)]
    pub stream: bool,
    /// Accepted for compatibility; the gateway sets its own limits.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub stream_options: Option<Value>,
    #[serde(default)]
    pub user: Option<String>,
    /// Gateway options beyond OpenAI's fields.
    #[serde(default)]
    pub aos: Option<RequestExtension>,
}

/// The request's `aos` field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestExtension {
    /// `false`: answer without searching the tenant's documents (default `true`).
    #[serde(default = "enabled")]
    pub retrieval: bool,
    /// `false`: no tool runs before the answer on the strength of the
    /// question's intent; the LLM decides which tools to call (default `true`).
    #[serde(default = "enabled")]
    pub routing: bool,
}

fn enabled() -> bool {
    true
}

#[derive(Deserialize)]
pub struct IncomingMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
}

/// The text of a message: a string, or the text parts of a content array.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

async fn completions(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    let persona = MODELS
        .iter()
        .find(|(id, _)| *id == request.model)
        .map(|(_, p)| *p)
        .ok_or_else(|| {
            ApiError::Validation(format!(
                "unknown model `{}`: use aos-auto, aos-cto, aos-cro, aos-coo or aos-cfo",
                request.model
            ))
        })?;
    let last_user = request
        .messages
        .iter()
        .rposition(|m| m.role == "user")
        .ok_or_else(|| ApiError::Validation("`messages` has no user message with text".into()))?;
    let text = request.messages[last_user]
        .content
        .as_ref()
        .map(text_of)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::Validation("`messages` has no user message with text".into()))?;
    let conversation_id =
        keep_history(&state, &principal, &request.messages[..last_user], &text).await?;
    let client_msg_id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let options = turn::TurnOptions {
        retrieval: request.aos.as_ref().is_none_or(|aos| aos.retrieval),
        routing: request.aos.as_ref().is_none_or(|aos| aos.routing),
    };
    let (tx, mut rx) = mpsc::channel::<MessageEvent>(256);
    let admitted = turn::start_with(
        &state,
        &principal,
        ChatSend {
            conversation_id,
            client_msg_id,
            text,
            persona,
        },
        options,
        tx.clone(),
    )
    .await?;
    if admitted.repeated {
        let state = state.clone();
        let owner = super::buffer::Owner::of(&principal);
        tokio::spawn(async move {
            super::buffer::replay(
                &state,
                owner,
                admitted.message_id,
                -1,
                &tx,
                std::time::Duration::from_secs(120),
            )
            .await;
        });
    }
    let id = format!("chatcmpl-{}", admitted.message_id.simple());
    let model = request.model.clone();
    let created = chrono::Utc::now().timestamp();
    if request.stream {
        let stream = futures::stream::unfold(
            (rx, false, id, model),
            move |(mut rx, done, id, model)| async move {
                if done {
                    return None;
                }
                let Some(event) = rx.recv().await else {
                    let last = Event::default().data("[DONE]");
                    return Some((
                        Ok::<_, std::convert::Infallible>(last),
                        (rx, true, id, model),
                    ));
                };
                let chunk = chunk_for(&event, &id, &model, created);
                let sse = Event::default().data(chunk.to_string());
                if event.is_end() {
                    rx.close();
                }
                Some((Ok(sse), (rx, false, id, model)))
            },
        );
        return Ok(Sse::new(stream)
            .keep_alive(KeepAlive::default())
            .into_response());
    }
    let mut answer = String::new();
    let mut extension = Extension::default();
    let mut usage = json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0});
    let mut finish = "stop".to_owned();
    while let Some(event) = rx.recv().await {
        extension.absorb(&event);
        match &event.body {
            EventBody::TextDelta { text } => answer.push_str(text),
            EventBody::MessageEnd {
                finish_reason,
                usage: u,
                ..
            } => {
                usage = json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                    "total_tokens": u.prompt_tokens + u.completion_tokens});
                finish = finish_name(*finish_reason);
                break;
            }
            _ => {}
        }
    }
    Ok(Json(json!({
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}],
        "usage": usage,
        "aos": extension.into_value(admitted.conversation_id, admitted.message_id),
    }))
    .into_response())
}

/// Earlier messages kept from one request.
const MAX_HISTORY: usize = 50;

/// The client's earlier user and assistant messages become the history of a
/// new conversation, so follow-ups are understood; `None` when there are none.
async fn keep_history(
    state: &AppState,
    principal: &Principal,
    earlier: &[IncomingMessage],
    question: &str,
) -> Result<Option<Uuid>, ApiError> {
    let turns: Vec<(&str, String)> = earlier
        .iter()
        .filter(|m| m.role == "user" || m.role == "assistant")
        .filter_map(|m| Some((m.role.as_str(), m.content.as_ref().map(text_of)?)))
        .filter(|(_, text)| !text.trim().is_empty())
        .collect();
    if turns.is_empty() {
        return Ok(None);
    }
    let limit = state.gateway.limits.max_text_chars;
    let start = turns.len().saturating_sub(MAX_HISTORY);
    let mut tx = state.db.tenant(principal.tenant).await?;
    let id = Uuid::new_v4();
    let title: String = question.chars().take(80).collect();
    super::store::create(&mut tx, id, principal.actor(), &title).await?;
    for (role, text) in &turns[start..] {
        let text: String = text.chars().take(limit).collect();
        super::store::add_history_message(&mut tx, id, role, &text).await?;
    }
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Some(id))
}

fn finish_name(reason: super::events::FinishReason) -> String {
    use super::events::FinishReason as F;
    match reason {
        F::Stop | F::ApprovalPending => "stop",
        F::Length => "length",
        F::Cancelled | F::Error => "stop",
    }
    .into()
}

/// One streamed chunk: text as `delta.content`, everything else in `aos`.
fn chunk_for(event: &MessageEvent, id: &str, model: &str, created: i64) -> Value {
    let (delta, finish, usage) = match &event.body {
        EventBody::MessageStart { .. } => (
            json!({"role": "assistant", "content": ""}),
            Value::Null,
            None,
        ),
        EventBody::TextDelta { text } => (json!({"content": text}), Value::Null, None),
        EventBody::MessageEnd {
            finish_reason,
            usage,
            ..
        } => (
            json!({}),
            Value::String(finish_name(*finish_reason)),
            Some(
                json!({"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens}),
            ),
        ),
        _ => (json!({}), Value::Null, None),
    };
    let mut chunk = json!({
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "aos": event,
    });
    if let Some(usage) = usage {
        chunk["usage"] = usage;
    }
    chunk
}

/// What the pipeline did, gathered for a non-streamed reply.
#[derive(Default)]
struct Extension {
    classification: Value,
    citations: Value,
    tool_calls: Vec<Value>,
    approvals: Vec<Value>,
    errors: Vec<Value>,
}

impl Extension {
    fn absorb(&mut self, event: &MessageEvent) {
        let value = serde_json::to_value(&event.body).unwrap_or(Value::Null);
        match &event.body {
            EventBody::Classification { .. } => self.classification = value,
            EventBody::Retrieval { citations } => {
                self.citations = serde_json::to_value(citations).unwrap_or(Value::Null)
            }
            EventBody::ToolCall { .. } | EventBody::ToolResult { .. } => {
                self.tool_calls.push(value)
            }
            EventBody::ApprovalRequired { .. } | EventBody::ApprovalDecided { .. } => {
                self.approvals.push(value)
            }
            EventBody::Error { .. } => self.errors.push(value),
            _ => {}
        }
    }

    fn into_value(self, conversation_id: Uuid, message_id: Uuid) -> Value {
        json!({
            "conversation_id": conversation_id, "message_id": message_id,
            "classification": self.classification, "citations": self.citations,
            "tool_calls": self.tool_calls, "approvals": self.approvals, "errors": self.errors,
        })
    }
}
