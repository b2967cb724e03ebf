//! The chat gateway: one pipeline ([`turn`]) behind every front door (the
//! WebSocket, SSE and, through the same events, Slack and the OpenAI-compatible
//! API).

pub mod answer;
pub mod buffer;
pub mod composer;
pub mod events;
pub mod hub;
pub mod limits;
pub mod llm;
pub mod openai_compat;
pub mod redact;
pub mod route;
pub mod routes;
pub mod store;
pub mod turn;
pub mod ws;

use personas::PersonaSet;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use buffer::Owner;
use limits::Limits;

/// Process-wide gateway state.
pub struct Gateway {
    pub personas: PersonaSet,
    pub limits: Limits,
    /// The LLM, when one is configured; without it the composer answers.
    pub llm: Option<llm::LlmClient>,
    /// Turns running in this process, by assistant message id.
    running: Mutex<HashMap<Uuid, Running>>,
}

/// A turn running in this process.
struct Running {
    owner: Owner,
    token: CancellationToken,
}

/// A cancellation sent to every replica (Redis pub/sub on
/// `{prefix}cancel`); the one running the turn stops it if the owner matches.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CancelRequest {
    pub message_id: Uuid,
    pub owner: Owner,
}

/// The pub/sub channel of [`CancelRequest`]s.
pub fn cancel_channel(prefix: &str) -> String {
    format!("{prefix}cancel")
}

/// Where a [`CancelRequest`] is also kept for [`CANCEL_KEPT_SECS`], for a
/// replica that was not subscribed when it was published.
pub fn cancelled_key(prefix: &str, message_id: Uuid) -> String {
    format!("{prefix}cancelled:{message_id}")
}

/// How long a cancel request outlives its publication: longer than a
/// subscription takes to come back.
const CANCEL_KEPT_SECS: u64 = 600;

/// How long a `client_msg_id` is remembered.
const IDEMPOTENCY_SECS: u64 = 24 * 3600;

impl Gateway {
    pub fn new(personas: PersonaSet, limits: Limits, llm: Option<llm::LlmClient>) -> Gateway {
        Gateway {
            personas,
            limits,
            llm,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn register(&self, owner: Owner, message_id: Uuid) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut running) = self.running.lock() {
            running.insert(
                message_id,
                Running {
                    owner,
                    token: token.clone(),
                },
            );
        }
        token
    }

    fn unregister(&self, message_id: Uuid) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&message_id);
        }
    }

    /// Stops the turn if it runs in this process and belongs to the
    /// requester: `Some(stopped)` when it runs here, `None` when it does not.
    pub fn cancel_here(&self, request: &CancelRequest) -> Option<bool> {
        let running = self.running.lock().ok()?;
        let turn = running.get(&request.message_id)?;
        if turn.owner != request.owner {
            return Some(false);
        }
        turn.token.cancel();
        Some(true)
    }

    /// Stops one of `owner`'s turns, on whichever replica runs it. A message
    /// that is not the owner's (or not known at all) is not found.
    pub async fn cancel(
        &self,
        state: &AppState,
        owner: Owner,
        message_id: Uuid,
    ) -> Result<(), ApiError> {
        let request = CancelRequest { message_id, owner };
        let not_found = || ApiError::NotFound(format!("no message {message_id} to cancel"));
        match self.cancel_here(&request) {
            Some(true) => return Ok(()),
            Some(false) => return Err(not_found()),
            None => {}
        }
        // Another replica's, if its events are buffered under this owner.
        if !buffer::exists(state, owner, message_id).await {
            return Err(not_found());
        }
        let payload = serde_json::to_string(&request).map_err(ApiError::internal)?;
        let prefix = &state.settings.redis_prefix;
        let mut redis = state.redis.clone();
        // Published for the replica running it, and kept for a while in case
        // that replica's subscription is reconnecting: it reads the key back
        // when it subscribes again.
        let _: () = redis::pipe()
            .set_ex(
                cancelled_key(prefix, message_id),
                &payload,
                CANCEL_KEPT_SECS,
            )
            .ignore()
            .publish(cancel_channel(prefix), &payload)
            .ignore()
            .query_async(&mut redis)
            .await
            .map_err(|e| ApiError::Unavailable(format!("Redis is unavailable: {e}")))?;
        Ok(())
    }

    /// The turns running in this process.
    pub fn running_here(&self) -> Vec<Uuid> {
        self.running
            .lock()
            .map(|running| running.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Marks a message as followed by a client again (after a reconnect), so
    /// the disconnect of the client that started it does not stop it.
    pub async fn mark_resumed(&self, state: &AppState, message_id: Uuid) {
        let mut redis = state.redis.clone();
        let key = format!("{}resumed:{message_id}", state.settings.redis_prefix);
        let _: Result<(), _> = redis.set_ex(key, 1, 3600).await;
    }

    /// After its client left: stops the turn unless a client resumed it.
    pub async fn cancel_unless_resumed(&self, state: &AppState, owner: Owner, message_id: Uuid) {
        let mut redis = state.redis.clone();
        let key = format!("{}resumed:{message_id}", state.settings.redis_prefix);
        if !redis.exists(&key).await.unwrap_or(false) {
            // Already ended is fine: there is nothing left to stop.
            let _ = self.cancel(state, owner, message_id).await;
        }
    }

    /// Remembers `client_msg_id` for this caller; if it was already used,
    /// the (conversation, message) it started.
    async fn claim_client_msg_id(
        &self,
        state: &AppState,
        principal: &Principal,
        client_msg_id: &str,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<Option<(Uuid, Uuid)>, ApiError> {
        let subject = principal.subject_id();
        let key = format!(
            "{}idem:{}:{subject}:{client_msg_id}",
            state.settings.redis_prefix, principal.tenant
        );
        let value = format!("{conversation_id}:{message_id}");
        let mut redis = state.redis.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .arg("NX")
            .arg("EX")
            .arg(IDEMPOTENCY_SECS)
            .query_async(&mut redis)
            .await
            .map_err(|e| ApiError::Unavailable(format!("Redis is unavailable: {e}")))?;
        if set.is_some() {
            return Ok(None);
        }
        let existing: Option<String> = redis
            .get(&key)
            .await
            .map_err(|e| ApiError::Unavailable(format!("Redis is unavailable: {e}")))?;
        Ok(existing.and_then(|v| {
            let (c, m) = v.split_once(':')?;
            Some((c.parse().ok()?, m.parse().ok()?))
        }))
    }
}
