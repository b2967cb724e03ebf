//! Platform events from every replica (Redis pub/sub), fanned out inside this
//! process to the open connections, which keep their own tenant's; and
//! cancellations of turns, passed to the gateway that may be running them.

use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// A tenant's platform event.
pub type TenantEvent = (Uuid, tools::PlatformEvent);

/// Subscribes to `{prefix}events:*`, republishing on a broadcast channel,
/// and to `{prefix}cancel`, handing each request to `gateway`; reconnects
/// with a pause when Redis goes away.
pub fn start(
    redis_url: String,
    prefix: String,
    gateway: Arc<super::Gateway>,
) -> broadcast::Sender<TenantEvent> {
    let (tx, _) = broadcast::channel(1024);
    let sender = tx.clone();
    tokio::spawn(async move {
        loop {
            if let Err(err) = follow(&redis_url, &prefix, &sender, &gateway).await {
                tracing::warn!(error = %err, "platform event subscription lost; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    tx
}

/// Applies the kept cancel requests of the turns running here: those
/// published while this replica's subscription was down.
pub async fn apply_missed_cancels(
    redis: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    gateway: &super::Gateway,
) -> Result<usize, redis::RedisError> {
    let running = gateway.running_here();
    if running.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = running
        .iter()
        .map(|id| super::cancelled_key(prefix, *id))
        .collect();
    let kept: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(redis).await?;
    let applied = kept
        .iter()
        .flatten()
        .filter_map(|payload| serde_json::from_str(payload).ok())
        .filter(|request| gateway.cancel_here(request) == Some(true))
        .count();
    Ok(applied)
}

async fn follow(
    redis_url: &str,
    prefix: &str,
    sender: &broadcast::Sender<TenantEvent>,
    gateway: &super::Gateway,
) -> Result<(), redis::RedisError> {
    let client = redis::Client::open(redis_url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    let channel_prefix = format!("{prefix}events:");
    let cancel_channel = super::cancel_channel(prefix);
    pubsub.psubscribe(format!("{channel_prefix}*")).await?;
    pubsub.subscribe(&cancel_channel).await?;
    // Cancels published while this replica was not subscribed.
    let mut redis = client.get_multiplexed_async_connection().await?;
    apply_missed_cancels(&mut redis, prefix, gateway).await?;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let channel = message.get_channel_name();
        if channel == cancel_channel {
            if let Ok(payload) = message.get_payload::<String>()
                && let Ok(request) = serde_json::from_str(&payload)
            {
                gateway.cancel_here(&request);
            }
            continue;
        }
        let Some(tenant) = channel
            .strip_prefix(&channel_prefix)
            .and_then(|t| t.parse::<Uuid>().ok())
        else {
            continue;
        };
        let Ok(payload) = message.get_payload::<String>() else {
            continue;
        };
        if let Ok(event) = serde_json::from_str(&payload) {
            // No receivers is fine: nobody of any tenant is connected.
            let _ = sender.send((tenant, event));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::buffer::Owner;
    use crate::gateway::{CancelRequest, Gateway, cancelled_key, limits::Limits};

    #[tokio::test]
    async fn a_cancel_kept_while_unsubscribed_stops_the_owners_turn_only() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let client = redis::Client::open(url).unwrap();
        let mut redis = client.get_multiplexed_async_connection().await.unwrap();
        let prefix = format!("aos-test-{}:", Uuid::new_v4());
        let limits = Limits {
            per_user_per_minute: 1,
            per_tenant_per_minute: 1,
            max_text_chars: 1,
        };
        let gateway = Gateway::new(personas::PersonaSet::builtin().unwrap(), limits, None);
        let owner = Owner {
            tenant: Uuid::new_v4(),
            subject: Uuid::new_v4(),
        };
        let stranger = Owner {
            subject: Uuid::new_v4(),
            ..owner
        };
        let (mine, foreign, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mine_token = gateway.register(owner, mine);
        let foreign_token = gateway.register(owner, foreign);
        let other_token = gateway.register(owner, other);
        for (id, by) in [(mine, owner), (foreign, stranger)] {
            let request = serde_json::to_string(&CancelRequest {
                message_id: id,
                owner: by,
            })
            .unwrap();
            let _: () = redis::cmd("SET")
                .arg(cancelled_key(&prefix, id))
                .arg(request)
                .arg("EX")
                .arg(60)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
        let applied = apply_missed_cancels(&mut redis, &prefix, &gateway)
            .await
            .unwrap();
        assert_eq!(applied, 1);
        assert!(mine_token.is_cancelled());
        assert!(!foreign_token.is_cancelled(), "another user's cancel");
        assert!(!other_token.is_cancelled(), "no cancel was kept for it");
    }
}
