//! SQL for connectors and their schema fingerprints.
//! Every function runs on a tenant transaction (`begin_tenant`), so row-level
//! security keeps it to one tenant.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::config::{ConnectorConfig, ConnectorKind};
use super::drift::Change;
use super::fingerprint::ColumnProfile;

/// How a connector is doing, as last observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    Unknown,
    Healthy,
    Failing,
    /// The source changed shape and the mapping has not caught up.
    Drifted,
}

impl ConnectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Unknown => "unknown",
            ConnectorStatus::Healthy => "healthy",
            ConnectorStatus::Failing => "failing",
            ConnectorStatus::Drifted => "drifted",
        }
    }

    fn parse(raw: &str) -> ConnectorStatus {
        match raw {
            "healthy" => ConnectorStatus::Healthy,
            "failing" => ConnectorStatus::Failing,
            "drifted" => ConnectorStatus::Drifted,
            _ => ConnectorStatus::Unknown,
        }
    }
}

/// A configured source of data.
#[derive(Debug, Clone, Serialize)]
pub struct Connector {
    pub id: Uuid,
    pub name: String,
    pub kind: ConnectorKind,
    /// Serialised with the password masked.
    pub config: ConnectorConfig,
    pub status: ConnectorStatus,
    pub status_detail: Option<String>,
    pub last_health_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ConnectorRow {
    id: Uuid,
    name: String,
    kind: String,
    config: Value,
    status: String,
    status_detail: Option<String>,
    last_health_at: Option<DateTime<Utc>>,
    last_sync_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ConnectorRow> for Connector {
    type Error = sqlx::Error;

    fn try_from(row: ConnectorRow) -> Result<Self, Self::Error> {
        let kind: ConnectorKind = row.kind.parse().map_err(decode_error)?;
        let config = ConnectorConfig::from_stored(kind, &row.config).map_err(decode_error)?;
        Ok(Connector {
            id: row.id,
            name: row.name,
            kind,
            config,
            status: ConnectorStatus::parse(&row.status),
            status_detail: row.status_detail,
            last_health_at: row.last_health_at,
            last_sync_at: row.last_sync_at,
            created_at: row.created_at,
        })
    }
}

fn decode_error(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}

const CONNECTOR_COLUMNS: &str =
    "id, name, kind, config, status, status_detail, last_health_at, last_sync_at, created_at";

pub(crate) async fn insert_connector(
    conn: &mut PgConnection,
    secrets: &crate::secrets::SecretBox,
    name: &str,
    kind: ConnectorKind,
    config: &ConnectorConfig,
) -> Result<Connector, sqlx::Error> {
    let id = Uuid::new_v4();
    let row: ConnectorRow = sqlx::query_as(
        "insert into connectors (id, tenant_id, name, kind, config)
         values ($1, app_current_tenant(), $2, $3, $4)
         returning id, name, kind, config, status, status_detail, last_health_at, last_sync_at, created_at",
    )
    .bind(id)
    .bind(name)
    .bind(kind.as_str())
    .bind(config.stored(secrets, id))
    .fetch_one(conn)
    .await?;
    row.try_into()
}

/// Every connector of the tenant, by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<Connector>, sqlx::Error> {
    let rows: Vec<ConnectorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CONNECTOR_COLUMNS} from connectors order by name"
    )))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Connector::try_from).collect()
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Connector>, sqlx::Error> {
    let row: Option<ConnectorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CONNECTOR_COLUMNS} from connectors where id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Connector::try_from).transpose()
}

/// The connector called `name_or_id` (its name, or its id).
pub async fn find(
    conn: &mut PgConnection,
    name_or_id: &str,
) -> Result<Option<Connector>, sqlx::Error> {
    let needle = name_or_id.trim();
    let id = Uuid::parse_str(needle).ok();
    let row: Option<ConnectorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CONNECTOR_COLUMNS} from connectors
         where name = $1 or id = $2 or ($2 is null and lower(name) = lower($1))
         order by (name = $1) desc limit 1"
    )))
    .bind(needle)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Connector::try_from).transpose()
}

pub(crate) async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from connectors where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a health observation: the status and a line of detail.
pub(crate) async fn set_health(
    conn: &mut PgConnection,
    id: Uuid,
    status: ConnectorStatus,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update connectors set status = $2, status_detail = $3, last_health_at = now() where id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the status without it counting as a health check.
pub(crate) async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ConnectorStatus,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update connectors set status = $2, status_detail = $3 where id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn touch_last_sync(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update connectors set last_sync_at = now() where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An observation of an entity's shape.
#[derive(Debug, Clone, Serialize)]
pub struct Fingerprint {
    pub id: Uuid,
    pub connector_id: Uuid,
    pub entity: String,
    pub fingerprint: String,
    pub columns: Vec<ColumnProfile>,
    /// Drift against the previous observation; empty for the first.
    pub changes: Vec<Change>,
    pub observed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FingerprintRow {
    id: Uuid,
    connector_id: Uuid,
    entity: String,
    fingerprint: String,
    columns: Value,
    changes: Value,
    observed_at: DateTime<Utc>,
}

impl From<FingerprintRow> for Fingerprint {
    fn from(row: FingerprintRow) -> Self {
        Fingerprint {
            id: row.id,
            connector_id: row.connector_id,
            entity: row.entity,
            fingerprint: row.fingerprint,
            columns: serde_json::from_value(row.columns).unwrap_or_default(),
            changes: serde_json::from_value(row.changes).unwrap_or_default(),
            observed_at: row.observed_at,
        }
    }
}

/// The latest observation of an entity.
pub async fn latest_fingerprint(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
) -> Result<Option<Fingerprint>, sqlx::Error> {
    let row: Option<FingerprintRow> = sqlx::query_as(
        "select id, connector_id, entity, fingerprint, columns, changes, observed_at
         from schema_fingerprints where connector_id = $1 and entity = $2
         order by observed_at desc, id limit 1",
    )
    .bind(connector_id)
    .bind(entity)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Fingerprint::from))
}

pub(crate) async fn insert_fingerprint(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
    fingerprint: &str,
    columns: &[ColumnProfile],
    changes: &[Change],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into schema_fingerprints (id, tenant_id, connector_id, entity, fingerprint, columns, changes)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::new_v4())
    .bind(connector_id)
    .bind(entity)
    .bind(fingerprint)
    .bind(serde_json::to_value(columns).unwrap_or_default())
    .bind(serde_json::to_value(changes).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

/// For each entity (of one connector, or all), the latest observation that
/// found drift, newest first.
pub(crate) async fn latest_drifts(
    conn: &mut PgConnection,
    connector_id: Option<Uuid>,
) -> Result<Vec<Fingerprint>, sqlx::Error> {
    let rows: Vec<FingerprintRow> = sqlx::query_as(
        "select * from (
             select distinct on (connector_id, entity)
                    id, connector_id, entity, fingerprint, columns, changes, observed_at
             from schema_fingerprints
             where changes <> '[]'::jsonb and ($1::uuid is null or connector_id = $1)
             order by connector_id, entity, observed_at desc
         ) d order by observed_at desc",
    )
    .bind(connector_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Fingerprint::from).collect())
}

/// How many entities (of one connector, or all) have been observed.
pub(crate) async fn observed_entities(
    conn: &mut PgConnection,
    connector_id: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(distinct (connector_id, entity)) from schema_fingerprints
         where $1::uuid is null or connector_id = $1",
    )
    .bind(connector_id)
    .fetch_one(conn)
    .await
}
