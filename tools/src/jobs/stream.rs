//! The Redis Streams commands the worker uses on the job stream and its
//! `workers` consumer group.

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{RedisError, RedisResult};
use std::time::Duration;

use super::Job;

/// The consumer group every worker joins.
pub(crate) const GROUP: &str = "workers";

/// A job as delivered to this worker.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// The stream entry id.
    pub id: String,
    /// `None` when the entry does not hold a job this build understands.
    pub job: Option<Job>,
    /// How many times the group has delivered it, this time included.
    pub deliveries: usize,
}

impl Delivery {
    fn from_entry(entry: &StreamId, deliveries: usize) -> Delivery {
        let job = entry
            .get::<String>("job")
            .and_then(|payload| serde_json::from_str(&payload).ok());
        Delivery {
            id: entry.id.clone(),
            job,
            deliveries,
        }
    }
}

/// Creates the group if it does not exist. It starts at the beginning of the
/// stream (`0`, not `$`), so jobs queued before any worker ever ran are not
/// skipped.
pub(crate) async fn ensure_group(redis: &mut ConnectionManager, stream: &str) -> RedisResult<()> {
    let created: RedisResult<String> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(redis)
        .await;
    match created {
        Err(err) if err.code() != Some("BUSYGROUP") => Err(err),
        _ => Ok(()),
    }
}

/// Whether an error says the group (or the whole stream) has gone.
pub(crate) fn is_missing_group(err: &RedisError) -> bool {
    err.code() == Some("NOGROUP")
}

/// Reads up to `count` jobs never delivered to anyone, waiting up to `block`.
/// Runs on its own connection: a blocked command would hold up everything
/// else sent on a shared one.
pub(crate) async fn read_new(
    reader: &mut ConnectionManager,
    stream: &str,
    consumer: &str,
    count: usize,
    block: Duration,
) -> RedisResult<Vec<Delivery>> {
    // BLOCK 0 would wait forever.
    let block_ms = block.as_millis().max(1);
    let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg(consumer)
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(u64::try_from(block_ms).unwrap_or(u64::MAX))
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(reader)
        .await?;
    Ok(reply
        .into_iter()
        .flat_map(|r| r.keys)
        .flat_map(|k| k.ids)
        .map(|entry| Delivery::from_entry(&entry, 1))
        .collect())
}

/// Takes over up to `count` jobs another consumer claimed and has not
/// acknowledged nor kept alive for `idle`, with how often each was delivered.
pub(crate) async fn reclaim(
    redis: &mut ConnectionManager,
    stream: &str,
    consumer: &str,
    idle: Duration,
    count: usize,
) -> RedisResult<Vec<Delivery>> {
    let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(stream)
        .arg(GROUP)
        .arg(consumer)
        .arg(u64::try_from(idle.as_millis()).unwrap_or(u64::MAX))
        .arg("0-0")
        .arg("COUNT")
        .arg(count)
        .query_async(redis)
        .await?;
    if reply.claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for entry in &reply.claimed {
        pipe.cmd("XPENDING")
            .arg(stream)
            .arg(GROUP)
            .arg(&entry.id)
            .arg(&entry.id)
            .arg(1);
    }
    let pending: Vec<StreamPendingCountReply> = pipe.query_async(redis).await?;
    Ok(reply
        .claimed
        .iter()
        .zip(pending)
        .map(|(entry, pending)| {
            let deliveries = pending.ids.first().map_or(1, |p| p.times_delivered);
            Delivery::from_entry(entry, deliveries)
        })
        .collect())
}

/// Resets the job's idle time if this consumer still holds it, so no other
/// worker takes over a job that is alive. `JUSTID` leaves the delivery count
/// alone. False when another worker has taken it over (or it was acked).
pub(crate) async fn heartbeat(
    redis: &mut ConnectionManager,
    stream: &str,
    consumer: &str,
    id: &str,
) -> RedisResult<bool> {
    // Checking the owner and claiming in one script, so a takeover cannot
    // slip in between and be undone.
    let script = redis::Script::new(
        r"
        local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
        if #held == 0 then return 0 end
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
        return 1
        ",
    );
    let held: i64 = script
        .key(stream)
        .arg(GROUP)
        .arg(consumer)
        .arg(id)
        .invoke_async(redis)
        .await?;
    Ok(held == 1)
}

/// Acknowledges a job and removes it from the stream: its row holds the outcome.
pub(crate) async fn ack(redis: &mut ConnectionManager, stream: &str, id: &str) -> RedisResult<()> {
    let _: (i64, i64) = redis::pipe()
        .cmd("XACK")
        .arg(stream)
        .arg(GROUP)
        .arg(id)
        .cmd("XDEL")
        .arg(stream)
        .arg(id)
        .query_async(redis)
        .await?;
    Ok(())
}
