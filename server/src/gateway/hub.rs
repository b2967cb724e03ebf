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
