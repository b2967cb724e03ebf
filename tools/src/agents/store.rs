//! The `agent_runs` table: one row per run, which is the run's whole state.
//!
//! A worker that starts a run bumps `attempts` and keeps the new value as its
//! fencing token: every later write names it, so a worker that lost the run to
//! another (it stalled and its job was claimed again) can no longer change it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Agent, RunStatus};
use crate::audit::Actor;

/// A run as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentRun {
    pub id: Uuid,
    pub agent: Agent,
    pub parameters: Value,
    pub status: RunStatus,
    /// 0–100.
    pub progress: i32,
    pub progress_note: Option<String>,
    /// The [`super::Report`], once succeeded.
    pub result: Option<Value>,
    pub error: Option<String>,
    /// How many times a worker started it.
    pub attempts: i32,
    /// The worker that started it last.
    pub worker: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    agent: String,
    parameters: Value,
    status: String,
    progress: i32,
    progress_note: Option<String>,
    result: Option<Value>,
    error: Option<String>,
    attempts: i32,
    worker: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<RunRow> for AgentRun {
    fn from(row: RunRow) -> Self {
        AgentRun {
            id: row.id,
            // The table's check constraint allows only the three agents.
            agent: row.agent.parse().unwrap_or(Agent::FinOps),
            parameters: row.parameters,
            status: RunStatus::parse(&row.status),
            progress: row.progress,
            progress_note: row.progress_note,
            result: row.result,
            error: row.error,
            attempts: row.attempts,
            worker: row.worker,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, agent, parameters, status, progress, progress_note, result, error, attempts, worker,
         created_at, started_at, finished_at"
    };
}

/// Records a new run, `queued`.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    agent: Agent,
    parameters: &Value,
    requested_by: Actor,
) -> Result<AgentRun, sqlx::Error> {
    let (user, key) = requested_by.columns();
    let row: RunRow = sqlx::query_as(concat!(
        "insert into agent_runs (id, tenant_id, agent, parameters, requested_by_user, requested_by_key)
         values ($1, app_current_tenant(), $2, $3, $4, $5)
         returning ",
        columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(agent.as_str())
    .bind(parameters)
    .bind(user)
    .bind(key)
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

pub(crate) async fn get(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AgentRun>, sqlx::Error> {
    let row: Option<RunRow> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from agent_runs where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(AgentRun::from))
}

/// The newest runs, optionally of one agent and only finished ones.
pub(crate) async fn recent(
    conn: &mut PgConnection,
    agent: Option<Agent>,
    finished_only: bool,
    limit: i64,
) -> Result<Vec<AgentRun>, sqlx::Error> {
    let rows: Vec<RunRow> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from agent_runs
         where ($1::text is null or agent = $1)
           and (not $2 or status in ('succeeded', 'failed'))
         order by created_at desc, id
         limit $3"
    ))
    .bind(agent.map(Agent::as_str))
    .bind(finished_only)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(AgentRun::from).collect())
}

/// A run a worker has just started.
pub(crate) struct Started {
    pub agent: Agent,
    pub parameters: Value,
    /// The fencing token: this start's `attempts`.
    pub attempt: i32,
}

/// What starting a run found.
pub(crate) enum Start {
    Started(Started),
    /// It already succeeded or failed: nothing to do.
    Finished,
    NotFound,
}

/// Marks the run `running` for `worker`, unless it is already finished.
pub(crate) async fn start(
    conn: &mut PgConnection,
    id: Uuid,
    worker: &str,
) -> Result<Start, sqlx::Error> {
    let started: Option<(String, Value, i32)> = sqlx::query_as(
        "update agent_runs
         set status = 'running', attempts = attempts + 1, worker = $2, progress = 0,
             progress_note = 'starting', started_at = now(), error = null
         where id = $1 and status in ('queued', 'running')
         returning agent, parameters, attempts",
    )
    .bind(id)
    .bind(worker)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((agent, parameters, attempt)) = started {
        return Ok(Start::Started(Started {
            agent: agent.parse().unwrap_or(Agent::FinOps),
            parameters,
            attempt,
        }));
    }
    let exists: Option<(String,)> = sqlx::query_as("select status from agent_runs where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(match exists {
        Some(_) => Start::Finished,
        None => Start::NotFound,
    })
}

/// Records progress; false when the run is no longer this attempt's.
pub(crate) async fn set_progress(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    progress: i32,
    note: &str,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "update agent_runs set progress = $3, progress_note = $4
         where id = $1 and attempts = $2 and status = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(progress)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Records how the attempt ended; false when the run is no longer its.
pub(crate) async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    outcome: Result<&Value, &str>,
) -> Result<bool, sqlx::Error> {
    let (status, result, error, note) = match outcome {
        Ok(result) => ("succeeded", Some(result), None, "done"),
        Err(error) => ("failed", None, Some(error), "failed"),
    };
    let updated = sqlx::query(
        "update agent_runs
         set status = $3, result = $4, error = $5, progress_note = $6, finished_at = now(),
             progress = case when $3 = 'succeeded' then 100 else progress end
         where id = $1 and attempts = $2 and status = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(status)
    .bind(result)
    .bind(error)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Marks an unfinished run failed whoever holds it (the worker gave up on it,
/// or it could not be queued). Returns the run if it changed.
pub(crate) async fn fail(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
) -> Result<Option<AgentRun>, sqlx::Error> {
    let row: Option<RunRow> = sqlx::query_as(concat!(
        "update agent_runs
         set status = 'failed', error = $2, progress_note = 'failed', finished_at = now()
         where id = $1 and status in ('queued', 'running')
         returning ",
        columns!()
    ))
    .bind(id)
    .bind(error)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(AgentRun::from))
}
