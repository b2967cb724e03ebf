//! SQL for sync runs and the canonical records they write, on tenant
//! transactions.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One sync of one connector.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SyncRun {
    pub id: Uuid,
    pub connector_id: Uuid,
    /// queued, running, succeeded, partial or failed.
    pub status: String,
    pub rows_read: i64,
    pub rows_written: i64,
    /// `[{entity, row, error}]`, row numbers 1-based without the header.
    pub errors: Value,
    pub approval_id: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i32>,
}

const RUN_COLUMNS: &str = "id, connector_id, status, rows_read, rows_written, errors, approval_id, queued_at, started_at, finished_at, duration_ms";

pub(crate) async fn insert_run(
    conn: &mut PgConnection,
    connector_id: Uuid,
    approval_id: Option<Uuid>,
) -> Result<SyncRun, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into sync_runs (id, tenant_id, connector_id, status, approval_id)
         values ($1, app_current_tenant(), $2, 'queued', $3)
         returning {RUN_COLUMNS}"
    )))
    .bind(Uuid::new_v4())
    .bind(connector_id)
    .bind(approval_id)
    .fetch_one(conn)
    .await
}

pub async fn get_run(conn: &mut PgConnection, id: Uuid) -> Result<Option<SyncRun>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {RUN_COLUMNS} from sync_runs where id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A connector's runs, newest first.
pub async fn list_runs(
    conn: &mut PgConnection,
    connector_id: Uuid,
    limit: i64,
) -> Result<Vec<SyncRun>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {RUN_COLUMNS} from sync_runs where connector_id = $1
         order by queued_at desc limit $2"
    )))
    .bind(connector_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Moves a queued run (or one a dead worker left running) to running; `None`
/// when it has already finished.
pub(crate) async fn start_run(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SyncRun>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update sync_runs set status = 'running', started_at = now()
         where id = $1 and status in ('queued', 'running')
         returning {RUN_COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub(crate) struct RunOutcome<'a> {
    pub status: &'a str,
    pub rows_read: i64,
    pub rows_written: i64,
    pub errors: &'a Value,
    pub duration_ms: i32,
}

pub(crate) async fn finish_run(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: RunOutcome<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update sync_runs set status = $2, rows_read = $3, rows_written = $4, errors = $5,
             finished_at = now(), duration_ms = $6
         where id = $1",
    )
    .bind(id)
    .bind(outcome.status)
    .bind(outcome.rows_read)
    .bind(outcome.rows_written)
    .bind(outcome.errors)
    .bind(outcome.duration_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts or replaces canonical records by key; returns how many were written.
pub(crate) async fn upsert_records(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
    source_entity: &str,
    keys: &[String],
    data: &[Value],
) -> Result<u64, sqlx::Error> {
    if keys.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "insert into canonical_records (tenant_id, connector_id, entity, source_entity, source_key, data)
         select app_current_tenant(), $1, $2, $3, k, d
         from unnest($4::text[], $5::jsonb[]) as u(k, d)
         on conflict (tenant_id, connector_id, entity, source_key)
         do update set data = excluded.data, source_entity = excluded.source_entity, synced_at = now()",
    )
    .bind(connector_id)
    .bind(entity)
    .bind(source_entity)
    .bind(keys)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
