//! What each kind of job runs, and what giving up on one means for its row.

use uuid::Uuid;

use super::Job;
use crate::agents::{self, AgentError};
use crate::connectors::{self, ConnectorError};
use crate::events::PlatformEvent;
use crate::platform::Platform;

/// How a job attempt ended, as the worker acts on it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The row is final (or there is no row to run): acknowledge the job.
    Done,
    /// Something transient failed: leave the job pending so it is delivered
    /// again after the claim timeout (until the delivery limit).
    Retry(String),
    /// Another worker holds the run now: leave the job to it.
    TakenOver,
}

/// Runs the job as `worker`.
pub(crate) async fn run(platform: &Platform, worker: &str, job: Job) -> Outcome {
    match job {
        Job::Agent { tenant, run_id } => {
            match agents::execute_run_as(platform, tenant, run_id, worker).await {
                Ok(()) => Outcome::Done,
                Err(AgentError::NotFound(_)) => {
                    tracing::warn!(%tenant, %run_id, "the agent run of a job does not exist; dropping the job");
                    Outcome::Done
                }
                Err(AgentError::Superseded(_)) => Outcome::TakenOver,
                Err(err) => Outcome::Retry(err.to_string()),
            }
        }
        Job::Sync { tenant, run_id } => run_sync(platform, tenant, run_id).await,
    }
}

/// Runs a connector sync: the one place the worker reaches into connectors.
/// A sync that fails on its source still ends `Ok` with its run recorded
/// `failed`; an `Err` means the run could not be recorded, so the job is
/// retried (a run that already finished is left alone when it comes back).
async fn run_sync(platform: &Platform, tenant: Uuid, run_id: Uuid) -> Outcome {
    match connectors::execute_sync_run(platform, tenant, run_id).await {
        Ok(()) => Outcome::Done,
        Err(ConnectorError::NotFound(_)) => {
            tracing::warn!(%tenant, %run_id, "the sync run of a job does not exist; dropping the job");
            Outcome::Done
        }
        Err(err) => Outcome::Retry(err.to_string()),
    }
}

/// Marks the job's row failed with `reason`, if it is not finished already.
pub(crate) async fn give_up(
    platform: &Platform,
    job: Job,
    reason: &str,
) -> Result<(), sqlx::Error> {
    match job {
        Job::Agent { tenant, run_id } => agents::give_up(platform, tenant, run_id, reason).await,
        Job::Sync { tenant, run_id } => {
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            let failed: Option<(Uuid, i64)> = sqlx::query_as(
                "update sync_runs
                 set status = 'failed', finished_at = now(),
                     errors = errors || jsonb_build_array(jsonb_build_object('error', $2::text))
                 where id = $1 and status in ('queued', 'running')
                 returning connector_id, rows_written",
            )
            .bind(run_id)
            .bind(reason)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            if let Some((connector_id, rows_written)) = failed {
                platform
                    .publish(
                        tenant,
                        &PlatformEvent::SyncFinished {
                            connector_id,
                            run_id,
                            status: "failed".into(),
                            rows_written,
                        },
                    )
                    .await;
            }
            Ok(())
        }
    }
}
