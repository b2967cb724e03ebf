//! The resume buffer: every event of a message is appended to a Redis list
//! that lives a while after the message ends, so a client that reconnects,
//! to this replica or another, gets what it missed with `resume`. The turn
//! does not wait for Redis: each message has a writer task that appends, in
//! order, whatever events are waiting in one round trip.

use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::events::MessageEvent;
use crate::state::AppState;

/// How long a message's events stay available for `resume`.
const KEEP: Duration = Duration::from_secs(15 * 60);
/// How often a follower of a message still being written looks for more.
const POLL: Duration = Duration::from_millis(150);

/// Events waiting for their message's writer; a turn that outruns Redis
/// this far waits for it.
const WAITING: usize = 1024;

pub struct EventBuffer {
    events: mpsc::Sender<String>,
}

/// Who may read a message's events: the tenant and the user (or API key)
/// whose conversation it is. Both are part of the key, so anyone else's
/// `resume` of that message id finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub tenant: Uuid,
    pub subject: Uuid,
}

impl Owner {
    pub fn of(principal: &crate::auth::Principal) -> Owner {
        let subject = principal.subject_id();
        Owner {
            tenant: principal.tenant.0,
            subject,
        }
    }
}

fn key(state: &AppState, owner: Owner, message_id: Uuid) -> String {
    format!(
        "{}turn:{}:{}:{message_id}",
        state.settings.redis_prefix, owner.tenant, owner.subject
    )
}

impl EventBuffer {
    /// Starts the message's writer; it stops once the buffer is dropped and
    /// everything appended was written.
    pub fn new(state: &AppState, owner: Owner, message_id: Uuid) -> EventBuffer {
        let (events, waiting) = mpsc::channel(WAITING);
        tokio::spawn(write(
            state.redis.clone(),
            key(state, owner, message_id),
            waiting,
        ));
        EventBuffer { events }
    }

    pub async fn append(&self, event: &MessageEvent) {
        let Ok(json) = serde_json::to_string(event) else {
            return;
        };
        if self.events.send(json).await.is_err() {
            tracing::warn!("the resume buffer's writer stopped; an event is not buffered");
        }
    }
}

/// Appends the events as they come, all that are waiting in one round trip.
async fn write(
    mut redis: redis::aio::ConnectionManager,
    key: String,
    mut waiting: mpsc::Receiver<String>,
) {
    let mut batch = Vec::new();
    while waiting.recv_many(&mut batch, WAITING).await > 0 {
        let written: Result<(), redis::RedisError> = redis::pipe()
            .rpush(&key, &batch)
            .ignore()
            .expire(&key, KEEP.as_secs() as i64)
            .ignore()
            .query_async(&mut redis)
            .await;
        if let Err(err) = written {
            tracing::warn!(error = %err, events = batch.len(), "cannot buffer chat events for resume");
        }
        batch.clear();
    }
}

/// Whether anything is buffered for this owner's message.
pub async fn exists(state: &AppState, owner: Owner, message_id: Uuid) -> bool {
    let mut redis = state.redis.clone();
    redis
        .exists(key(state, owner, message_id))
        .await
        .unwrap_or(false)
}

/// Sends the events of `message_id` after `after_seq` to `out`, following the
/// message until it ends (or `wait` passes without news). False when nothing
/// is known about the message.
pub async fn replay(
    state: &AppState,
    owner: Owner,
    message_id: Uuid,
    after_seq: i64,
    out: &mpsc::Sender<MessageEvent>,
    wait: Duration,
) -> bool {
    let key = key(state, owner, message_id);
    let mut redis = state.redis.clone();
    let mut next = after_seq + 1;
    let mut quiet_since = tokio::time::Instant::now();
    let mut seen_any = false;
    loop {
        let start = isize::try_from(next.max(0)).unwrap_or(isize::MAX);
        let raw: Vec<String> = match redis.lrange(&key, start, -1).await {
            Ok(raw) => raw,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the resume buffer");
                return seen_any;
            }
        };
        let mut ended = false;
        for item in &raw {
            let Ok(event) = serde_json::from_str::<MessageEvent>(item) else {
                continue;
            };
            seen_any = true;
            next = event.seq as i64 + 1;
            ended |= event.is_end();
            if out.send(event).await.is_err() {
                return true;
            }
        }
        if ended {
            return true;
        }
        if raw.is_empty() {
            if !seen_any && next == after_seq + 1 {
                let exists: bool = redis.exists(&key).await.unwrap_or(false);
                if !exists && quiet_since.elapsed() > Duration::from_secs(2) {
                    return false;
                }
            }
            if quiet_since.elapsed() > wait {
                return seen_any;
            }
        } else {
            quiet_since = tokio::time::Instant::now();
        }
        tokio::time::sleep(POLL).await;
    }
}
