//! Background jobs (agent runs, connector syncs) on a Redis Streams consumer
//! group: any number of `aos worker` processes share the stream, and a job a
//! dead worker claimed is claimed again by another after a timeout.
//!
//! [`enqueue`] adds a job; [`run_worker`] runs them. The job names a row
//! (`agent_runs`, `sync_runs`) that holds the state, so a job delivered twice
//! finds its row finished and does nothing.

mod dispatch;
mod stream;
mod worker;

pub use worker::{WorkerError, WorkerOptions, run_worker};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::Platform;

/// A unit of background work. The row it names (an `agent_runs` or
/// `sync_runs` row) holds the state; the job only says where to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    Agent { tenant: Uuid, run_id: Uuid },
    Sync { tenant: Uuid, run_id: Uuid },
}

impl Platform {
    /// The stream every worker reads.
    pub fn jobs_stream(&self) -> String {
        format!("{}jobs", self.redis_prefix)
    }
}

/// Queues a job for the workers.
pub async fn enqueue(platform: &Platform, job: Job) -> Result<(), redis::RedisError> {
    let payload = serde_json::to_string(&job).unwrap_or_default();
    let mut redis = platform.redis.clone();
    let _: String = redis::cmd("XADD")
        .arg(platform.jobs_stream())
        .arg("*")
        .arg("job")
        .arg(payload)
        .query_async(&mut redis)
        .await?;
    Ok(())
}
