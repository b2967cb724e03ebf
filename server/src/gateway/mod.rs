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
use limits::Limits;

/// Process-wide gateway state.
pub struct Gateway {
    pub personas: PersonaSet,
    pub limits: Limits,
    /// The LLM, when one is configured; without it the composer answers.
    pub llm: Option<llm::LlmClient>,
    /// Turns running in this process, by assistant message id.
    running: Mutex<HashMap<Uuid, CancellationToken>>,
}

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

    fn register(&self, message_id: Uuid) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut running) = self.running.lock() {
            running.insert(message_id, token.clone());
        }
        token
    }

    fn unregister(&self, message_id: Uuid) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&message_id);
        }
    }

    /// Stops a turn running here; other replicas see the Redis flag.
    pub async fn cancel(&self, state: &AppState, message_id: Uuid) -> bool {
        let local = self
            .running
            .lock()
            .ok()
            .and_then(|running| running.get(&message_id).cloned());
        if let Some(token) = local {
            token.cancel();
            return true;
        }
        let mut redis = state.redis.clone();
        let key = format!("{}cancel:{message_id}", state.settings.redis_prefix);
        let _: Result<(), _> = redis.set_ex(key, 1, 600).await;
        false
    }

    /// Cancels `token` when another replica flags the message as cancelled.
    fn watch_remote_cancel(
        &self,
        state: &AppState,
        message_id: Uuid,
        token: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let mut redis = state.redis.clone();
        let key = format!("{}cancel:{message_id}", state.settings.redis_prefix);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                }
                if redis.exists(&key).await.unwrap_or(false) {
                    token.cancel();
                    return;
                }
            }
        })
    }

    /// Marks a message as followed by a client again (after a reconnect), so
    /// the disconnect of the client that started it does not stop it.
    pub async fn mark_resumed(&self, state: &AppState, message_id: Uuid) {
        let mut redis = state.redis.clone();
        let key = format!("{}resumed:{message_id}", state.settings.redis_prefix);
        let _: Result<(), _> = redis.set_ex(key, 1, 3600).await;
    }

    /// After its client left: stops the turn unless a client resumed it.
    pub async fn cancel_unless_resumed(&self, state: &AppState, message_id: Uuid) {
        let mut redis = state.redis.clone();
        let key = format!("{}resumed:{message_id}", state.settings.redis_prefix);
        if !redis.exists(&key).await.unwrap_or(false) {
            self.cancel(state, message_id).await;
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
