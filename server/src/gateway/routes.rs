//! HTTP routes of the gateway: the WebSocket, the same events as SSE on
//! `POST /api/v1/chat`, conversations, and token usage.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::events::{ChatSend, MessageEvent};
use super::store::{self, ConversationSummary, StoredMessage, UsageDay};
use super::{buffer, turn, ws};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/chat", get(ws::chat_ws))
        .route("/api/v1/chat", post(chat_sse))
        .route("/api/v1/conversations", get(list))
        .route("/api/v1/conversations/{id}", get(show))
        .route("/api/v1/usage", get(usage))
        .merge(super::openai_compat::router())
}

/// One turn streamed as server-sent events; each `data:` is one event of the
/// wire protocol. A repeated `client_msg_id` replays the first turn.
async fn chat_sse(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(send): ApiJson<ChatSend>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (tx, rx) = mpsc::channel::<MessageEvent>(256);
    let admitted = turn::start(&state, &principal, send, tx.clone()).await?;
    if admitted.repeated {
        let state = state.clone();
        let owner = super::buffer::Owner::of(&principal);
        tokio::spawn(async move {
            buffer::replay(
                &state,
                owner,
                admitted.message_id,
                -1,
                &tx,
                Duration::from_secs(120),
            )
            .await;
        });
    }
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let end = event.is_end();
        let sse = Event::default().data(serde_json::to_string(&event).unwrap_or_default());
        // Stop after the end event, whatever else is still queued.
        if end {
            rx.close();
        }
        Some((Ok(sse), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Serialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ConversationList>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    let conversations = store::list_owned(&mut tx, principal.actor(), 100).await?;
    Ok(Json(ConversationList { conversations }))
}

#[derive(Serialize)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: ConversationSummary,
    pub messages: Vec<StoredMessage>,
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    let conversation = store::find_owned(&mut tx, id, principal.actor())
        .await?
        .ok_or_else(|| ApiError::NotFound("conversation not found".into()))?;
    let messages = store::messages(&mut tx, id).await?;
    Ok(Json(ConversationDetail {
        conversation,
        messages,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    pub days: Option<i32>,
}

#[derive(Serialize)]
pub struct UsageReport {
    pub days: Vec<UsageDay>,
}

async fn usage(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::Validation("`days` must be 1 to 366".into()));
    }
    let mut tx = state.db.tenant(principal.tenant).await?;
    Ok(Json(UsageReport {
        days: store::usage(&mut tx, days).await?,
    }))
}
