//! The job worker: reads jobs from the stream's consumer group, runs a few at
//! a time, keeps each claimed while it runs, takes over jobs of workers that
//! died, and gives up on a job delivered too many times.
//!
//! Liveness is a heartbeat: while a job runs, its worker re-claims it every
//! third of `claim_idle`, so only a job whose worker stopped goes idle long
//! enough for [`stream::reclaim`] to hand it to someone else, however long the
//! job itself takes.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::dispatch::{self, Outcome};
use super::stream::{self, Delivery};
use crate::platform::Platform;

/// How a worker runs.
#[derive(Clone)]
pub struct WorkerOptions {
    /// This worker's name in the consumer group; unique per live worker
    /// (for example `hostname-pid`).
    pub consumer: String,
    /// The Redis server of the job stream. The worker opens its own
    /// connection on it for the blocking reads, which would otherwise hold up
    /// every other command on the platform's shared connection.
    pub redis: redis::Client,
    /// How long a claimed job may go without a heartbeat before another
    /// worker takes it over.
    pub claim_idle: Duration,
    /// How long one read waits for new jobs.
    pub block: Duration,
    /// Jobs run at once.
    pub concurrency: usize,
    /// A job delivered more often than this is marked failed and dropped.
    pub max_deliveries: usize,
    /// On shutdown, how long running jobs may take to finish; any still
    /// running then are left for another worker to take over.
    pub shutdown_grace: Duration,
}

impl WorkerOptions {
    /// Defaults: claim after 30 s without a heartbeat, block 5 s, 2 jobs at
    /// once, give up after 3 deliveries, 30 s shutdown grace.
    pub fn new(consumer: impl Into<String>, redis: redis::Client) -> WorkerOptions {
        WorkerOptions {
            consumer: consumer.into(),
            redis,
            claim_idle: Duration::from_secs(30),
            block: Duration::from_secs(5),
            concurrency: 2,
            max_deliveries: 3,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for WorkerOptions {
    // The client holds the Redis URL, password included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerOptions")
            .field("consumer", &self.consumer)
            .field("claim_idle", &self.claim_idle)
            .field("block", &self.block)
            .field("concurrency", &self.concurrency)
            .field("max_deliveries", &self.max_deliveries)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish_non_exhaustive()
    }
}

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot set up the job stream in Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// What every job task of one worker shares.
struct Shared {
    platform: Arc<Platform>,
    stream: String,
    consumer: String,
    heartbeat_every: Duration,
}

/// Runs jobs until `shutdown` completes, then lets running jobs finish
/// (within `shutdown_grace`) and returns. Fails only if the stream cannot be
/// set up at start; later Redis errors are logged and retried.
pub async fn run_worker(
    platform: Arc<Platform>,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkerError> {
    let stream_key = platform.jobs_stream();
    let mut redis = platform.redis.clone();
    stream::ensure_group(&mut redis, &stream_key).await?;
    let reader_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(options.block + Duration::from_secs(5)));
    let mut reader = options
        .redis
        .get_connection_manager_with_config(reader_config)
        .await?;
    let concurrency = options.concurrency.max(1);
    let shared = Arc::new(Shared {
        platform,
        stream: stream_key,
        consumer: options.consumer.clone(),
        heartbeat_every: (options.claim_idle / 3).max(Duration::from_millis(10)),
    });
    let reclaim_every = (options.claim_idle / 2).max(Duration::from_millis(50));
    tracing::info!(consumer = %shared.consumer, stream = %shared.stream, "job worker started");

    let mut shutdown = pin!(shutdown);
    let mut running: JoinSet<String> = JoinSet::new();
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut next_reclaim = Instant::now();
    let mut read_failures: u32 = 0;
    loop {
        while let Some(done) = running.try_join_next() {
            finished(&mut in_flight, done);
        }
        let free = concurrency.saturating_sub(running.len());
        if free == 0 {
            tokio::select! {
                () = &mut shutdown => break,
                Some(done) = running.join_next() => finished(&mut in_flight, done),
            }
            continue;
        }

        let mut batch = Vec::new();
        if Instant::now() >= next_reclaim {
            next_reclaim = Instant::now() + reclaim_every;
            match stream::reclaim(
                &mut redis,
                &shared.stream,
                &shared.consumer,
                options.claim_idle,
                free,
            )
            .await
            {
                // A job of ours whose heartbeat was late is still ours.
                Ok(claimed) => {
                    batch.extend(claimed.into_iter().filter(|d| !in_flight.contains(&d.id)))
                }
                Err(err) => tracing::warn!(error = %err, "cannot take over stalled jobs"),
            }
        }
        if batch.is_empty() {
            let block = options
                .block
                .min(next_reclaim.saturating_duration_since(Instant::now()));
            let read = tokio::select! {
                () = &mut shutdown => break,
                read = stream::read_new(&mut reader, &shared.stream, &shared.consumer, free, block) => read,
            };
            match read {
                Ok(new) => {
                    read_failures = 0;
                    batch = new;
                }
                Err(err) => {
                    read_failures = read_failures.saturating_add(1);
                    tracing::warn!(error = %err, failures = read_failures, "cannot read the job stream");
                    if stream::is_missing_group(&err)
                        && let Err(err) = stream::ensure_group(&mut redis, &shared.stream).await
                    {
                        tracing::warn!(error = %err, "cannot recreate the worker group");
                    }
                    // Redis is away: wait longer each time, up to 30 s.
                    let pause = Duration::from_millis(500 * 2u64.pow(read_failures.min(6)));
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause.min(Duration::from_secs(30))) => {}
                    }
                }
            }
        }
        for delivery in batch {
            if let Some(id) = admit(
                &shared,
                &mut redis,
                delivery,
                options.max_deliveries,
                &mut running,
            )
            .await
            {
                in_flight.insert(id);
            }
        }
    }

    if !running.is_empty() {
        tracing::info!(
            jobs = running.len(),
            "waiting for running jobs before stopping"
        );
        let drain = async {
            while let Some(done) = running.join_next().await {
                finished(&mut in_flight, done);
            }
        };
        if tokio::time::timeout(options.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                jobs = running.len(),
                "jobs still running at shutdown are left for another worker to take over"
            );
            running.abort_all();
        }
    }
    tracing::info!(consumer = %shared.consumer, "job worker stopped");
    Ok(())
}

fn finished(in_flight: &mut HashSet<String>, done: Result<String, tokio::task::JoinError>) {
    match done {
        Ok(id) => {
            in_flight.remove(&id);
        }
        // A panicking job leaves its entry pending: it is retried, then given up.
        Err(err) => tracing::error!(error = %err, "a job task failed"),
    }
}

/// Starts a delivered job, or drops it: one that cannot be read, or one
/// delivered more than `max_deliveries` times (its row is marked failed).
/// Returns the entry id if the job was started.
async fn admit(
    shared: &Arc<Shared>,
    redis: &mut ConnectionManager,
    delivery: Delivery,
    max_deliveries: usize,
    running: &mut JoinSet<String>,
) -> Option<String> {
    let Some(job) = delivery.job else {
        tracing::warn!(entry = %delivery.id, "dropping a job entry this worker cannot read");
        acknowledge(shared, redis, &delivery.id).await;
        return None;
    };
    if delivery.deliveries > max_deliveries {
        let reason = format!(
            "gave up after {} deliveries: the workers running it stopped before it finished",
            delivery.deliveries - 1
        );
        tracing::error!(entry = %delivery.id, ?job, "{reason}");
        match dispatch::give_up(&shared.platform, job, &reason).await {
            Ok(()) => acknowledge(shared, redis, &delivery.id).await,
            Err(err) => {
                tracing::warn!(error = %err, "cannot mark a poisoned job failed; will retry")
            }
        }
        return None;
    }
    let id = delivery.id.clone();
    let task_shared = Arc::clone(shared);
    running.spawn(async move {
        process(&task_shared, &delivery.id, job).await;
        delivery.id
    });
    Some(id)
}

/// Runs one job, heartbeating while it runs, and acknowledges it once its row
/// is final.
async fn process(shared: &Shared, id: &str, job: super::Job) {
    tracing::info!(entry = %id, ?job, "job started");
    let mut redis = shared.platform.redis.clone();
    let mut work = pin!(dispatch::run(&shared.platform, &shared.consumer, job));
    let mut beat = tokio::time::interval(shared.heartbeat_every);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    beat.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break Some(outcome),
            _ = beat.tick() => {
                match stream::heartbeat(&mut redis, &shared.stream, &shared.consumer, id).await {
                    Ok(true) => {}
                    Ok(false) => break None,
                    Err(err) => tracing::warn!(error = %err, entry = %id, "job heartbeat failed"),
                }
            }
        }
    };
    match outcome {
        Some(Outcome::Done) => {
            tracing::info!(entry = %id, ?job, "job done");
            acknowledge(shared, &mut redis, id).await;
        }
        Some(Outcome::Retry(reason)) => {
            tracing::warn!(entry = %id, ?job, %reason, "job failed; it will be retried");
        }
        Some(Outcome::TakenOver) | None => {
            tracing::warn!(entry = %id, ?job, "another worker took this job over; leaving it");
        }
    }
}

async fn acknowledge(shared: &Shared, redis: &mut ConnectionManager, id: &str) {
    // If this fails the job is delivered again, finds its row final, and is
    // acknowledged then.
    if let Err(err) = stream::ack(redis, &shared.stream, id).await {
        tracing::warn!(error = %err, entry = %id, "cannot acknowledge a job");
    }
}
