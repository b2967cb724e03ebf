//! Analytical agents over the tenant's canonical records: FinOps (cloud and
//! LLM spend, anomalies, idle resources, budgets), RevOps (pipeline coverage,
//! win rate, deals at risk, forecast) and Ops (SLA breaches, ticket backlog,
//! fulfilment and vendor delivery).
//!
//! A run is a row in `agent_runs` and a job on the worker stream: the
//! `run_agent` tool queues it, a worker ([`crate::jobs::run_worker`]) executes
//! it with [`execute_run`], which computes everything in SQL, reports progress
//! step by step and stores a [`Report`]. Every figure is as of the latest date
//! in the data, not the wall clock, so a report on last quarter's export still
//! reads "this quarter" the way the export meant it.

mod finops;
mod ops;
mod report;
mod revops;
mod store;
mod tools;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::audit::Actor;
use crate::events::PlatformEvent;
use crate::jobs::{self, Job};
use crate::platform::Platform;
use crate::registry::Registry;

pub use report::Report;
pub use store::AgentRun;
pub use tools::{AgentResult, AgentStatus, RunAgent};

pub(crate) fn register(registry: &mut Registry) {
    registry.add_read(RunAgent);
    registry.add_read(AgentStatus);
    registry.add_read(AgentResult);
}

/// The three agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Agent {
    /// Cloud and LLM spend, anomalies, idle resources, budget against actual.
    #[serde(rename = "finops")]
    FinOps,
    /// Pipeline coverage, win rate by segment, deals at risk, forecast.
    #[serde(rename = "revops")]
    RevOps,
    /// SLA breaches, ticket backlog, fulfilment times, vendor on-time delivery.
    #[serde(rename = "ops")]
    Ops,
}

impl Agent {
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::FinOps => "finops",
            Agent::RevOps => "revops",
            Agent::Ops => "ops",
        }
    }

    /// The name people use: `FinOps`, `RevOps`, `Ops`.
    pub fn label(self) -> &'static str {
        match self {
            Agent::FinOps => "FinOps",
            Agent::RevOps => "RevOps",
            Agent::Ops => "Ops",
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent name that is not one of the three.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown agent `{0}` (expected finops, revops or ops)")]
pub struct UnknownAgent(pub String);

impl FromStr for Agent {
    type Err = UnknownAgent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "finops" => Ok(Agent::FinOps),
            "revops" => Ok(Agent::RevOps),
            "ops" => Ok(Agent::Ops),
            other => Err(UnknownAgent(other.to_owned())),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl RunStatus {
    fn parse(raw: &str) -> RunStatus {
        match raw {
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Queued,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed)
    }
}

/// What a run was asked for (`agent_runs.parameters`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunParameters {
    /// What the asker cares about most; findings about it come first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    /// RevOps: the quarter's quota (default [`DEFAULT_QUOTA_USD`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_usd: Option<f64>,
}

/// The quarterly quota RevOps measures against when a run names none.
pub const DEFAULT_QUOTA_USD: f64 = 6_000_000.0;

/// Why a run could not be queued or executed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// There is no such run for this tenant.
    #[error("agent run {0} not found")]
    NotFound(Uuid),
    /// Another worker started the run since: this one must stop and leave it.
    #[error("agent run {0} was taken over by another worker")]
    Superseded(Uuid),
    #[error("the platform database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot queue the run: {0}")]
    Queue(#[from] redis::RedisError),
}

/// Records a queued run and puts it on the worker stream.
pub async fn queue_run(
    platform: &Platform,
    tenant: Uuid,
    requested_by: Actor,
    agent: Agent,
    parameters: &RunParameters,
) -> Result<AgentRun, AgentError> {
    let parameters = serde_json::to_value(parameters).unwrap_or(Value::Null);
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let run = store::insert(&mut tx, agent, &parameters, requested_by).await?;
    tx.commit().await?;
    let job = Job::Agent {
        tenant,
        run_id: run.id,
    };
    if let Err(err) = jobs::enqueue(platform, job).await {
        // Without its job nobody would ever pick the run up: say so on the row.
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        store::fail(&mut tx, run.id, "the run could not be queued; try again").await?;
        tx.commit().await?;
        return Err(AgentError::Queue(err));
    }
    Ok(run)
}

/// Executes a queued run in this process and stores its outcome. A run that
/// already finished is left as it is, so a job delivered twice runs once.
pub async fn execute_run(
    platform: &Platform,
    tenant: Uuid,
    run_id: Uuid,
) -> Result<(), AgentError> {
    execute_run_as(platform, tenant, run_id, "in-process").await
}

/// [`execute_run`], recording `worker` as the one that ran it.
pub(crate) async fn execute_run_as(
    platform: &Platform,
    tenant: Uuid,
    run_id: Uuid,
    worker: &str,
) -> Result<(), AgentError> {
    let started = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        let start = store::start(&mut tx, run_id, worker).await?;
        tx.commit().await?;
        match start {
            store::Start::Started(started) => started,
            store::Start::Finished => return Ok(()),
            store::Start::NotFound => return Err(AgentError::NotFound(run_id)),
        }
    };
    let progress = Progress {
        platform,
        tenant,
        run_id,
        attempt: started.attempt,
    };
    progress
        .publish(RunStatus::Running, 0, Some("starting"))
        .await;
    let parameters: RunParameters = serde_json::from_value(started.parameters).unwrap_or_default();

    let outcome = analyse(platform, tenant, started.agent, &parameters, &progress).await;
    let (stored, status, note) = match outcome {
        Ok(report) => {
            let value = serde_json::to_value(&report).unwrap_or(Value::Null);
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            let stored = store::finish(&mut tx, run_id, started.attempt, Ok(&value)).await?;
            tx.commit().await?;
            (stored, RunStatus::Succeeded, report.headline)
        }
        Err(AgentError::Database(err)) => {
            // A query failed (bad data, a broken connection): the run says so
            // rather than being retried into the same failure.
            tracing::error!(error = %err, %run_id, "agent run failed");
            let message = "the analysis query failed; see the server log";
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            let stored = store::finish(&mut tx, run_id, started.attempt, Err(message)).await?;
            tx.commit().await?;
            (stored, RunStatus::Failed, message.to_owned())
        }
        Err(other) => return Err(other),
    };
    if !stored {
        return Err(AgentError::Superseded(run_id));
    }
    let progress_now = if status == RunStatus::Succeeded {
        100
    } else {
        0
    };
    progress.publish(status, progress_now, Some(&note)).await;
    Ok(())
}

/// Runs the agent's analysis in one read-only snapshot of the tenant's data.
async fn analyse(
    platform: &Platform,
    tenant: Uuid,
    agent: Agent,
    parameters: &RunParameters,
    progress: &Progress<'_>,
) -> Result<Report, AgentError> {
    // One snapshot for every step, so a sync landing mid-run cannot make the
    // sections disagree; the tenant is set as `begin_tenant` does.
    let mut tx = platform
        .pool
        .begin_with("begin isolation level repeatable read, read only")
        .await?;
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    let report = match agent {
        Agent::FinOps => finops::run(&mut tx, parameters, progress).await?,
        Agent::RevOps => revops::run(&mut tx, parameters, progress).await?,
        Agent::Ops => ops::run(&mut tx, parameters, progress).await?,
    };
    tx.commit().await?;
    Ok(report)
}

/// Reports a running attempt's progress: stored on the row and announced.
pub(crate) struct Progress<'a> {
    platform: &'a Platform,
    tenant: Uuid,
    run_id: Uuid,
    attempt: i32,
}

impl Progress<'_> {
    /// Records that the run is `percent` done, now at `note`. Fails with
    /// [`AgentError::Superseded`] when another worker has taken the run over.
    pub async fn step(&self, percent: i32, note: &str) -> Result<(), AgentError> {
        let mut tx = crate::tenant::begin_tenant(&self.platform.pool, self.tenant).await?;
        let current =
            store::set_progress(&mut tx, self.run_id, self.attempt, percent, note).await?;
        tx.commit().await?;
        if !current {
            return Err(AgentError::Superseded(self.run_id));
        }
        self.publish(RunStatus::Running, percent, Some(note)).await;
        Ok(())
    }

    async fn publish(&self, status: RunStatus, progress: i32, note: Option<&str>) {
        self.platform
            .publish(
                self.tenant,
                &PlatformEvent::AgentProgress {
                    run_id: self.run_id,
                    status: status.as_str().to_owned(),
                    progress,
                    note: note.map(str::to_owned),
                },
            )
            .await;
    }
}

/// Marks a run failed because its job cannot be run (the worker gave up).
pub(crate) async fn give_up(
    platform: &Platform,
    tenant: Uuid,
    run_id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let failed = store::fail(&mut tx, run_id, reason).await?;
    tx.commit().await?;
    if let Some(run) = failed {
        platform
            .publish(
                tenant,
                &PlatformEvent::AgentProgress {
                    run_id,
                    status: RunStatus::Failed.as_str().to_owned(),
                    progress: run.progress,
                    note: Some(reason.to_owned()),
                },
            )
            .await;
    }
    Ok(())
}
