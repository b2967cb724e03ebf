//! Connectors (the AAM role): PostgreSQL, Supabase and file-folder sources.
//!
//! A connector is configured once ([`create`], validated at the edge), checked
//! on demand ([`check_health`]), observed ([`scan`]: every entity's schema is
//! fingerprinted and compared with the last observation, and drift marks the
//! connector `drifted` and raises mapping proposals), and synced
//! ([`queue_sync`] → a worker runs [`execute_sync_run`]), which writes
//! canonical records through the approved mappings only.

mod config;
mod convert;
mod drift;
mod files;
mod fingerprint;
mod health;
mod observe;
mod postgres;
mod runs;
mod source;
mod store;
mod sync;
mod tools;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

pub use config::{ConnectorConfig, ConnectorKind, FilesConfig, PostgresConfig};
pub(crate) use convert::convert as convert_value;
pub use drift::{Change, describe_all as describe_changes};
pub use fingerprint::{ColumnProfile, ColumnType};
pub use health::{Health, check_health};
pub use observe::{EntityError, EntityScan, ScanReport, scan};
pub use runs::{SyncRun, get_run, list_runs};
pub(crate) use store::set_status;
pub use store::{Connector, ConnectorStatus, Fingerprint, find, get, latest_fingerprint, list};
pub use sync::{execute_sync_run, queue_sync};
pub(crate) use tools::register;

use crate::audit::{self, Actor};
use crate::platform::Platform;
use crate::tool::ToolError;

/// Why a connector operation failed, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The configuration is wrong: fix it.
    #[error("invalid connector config: {0}")]
    InvalidConfig(String),
    /// The name is taken (names are unique per tenant).
    #[error("a connector named `{0}` already exists")]
    NameTaken(String),
    #[error("{0}")]
    NotFound(String),
    /// The source could not be reached or read; the message says why.
    #[error("{0}")]
    Source(String),
    /// The sync could not be handed to the workers.
    #[error("cannot queue the sync: {0}")]
    Queue(String),
    #[error("the platform database failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ConnectorError> for ToolError {
    fn from(err: ConnectorError) -> Self {
        match err {
            ConnectorError::InvalidConfig(_) | ConnectorError::NameTaken(_) => {
                ToolError::BadArgs(err.to_string())
            }
            ConnectorError::NotFound(message) => ToolError::NotFound(message),
            ConnectorError::Source(message) => ToolError::Failed(message),
            ConnectorError::Queue(_) => ToolError::Failed(err.to_string()),
            ConnectorError::Database(e) => e.into(),
        }
    }
}

/// A source could not be opened or read; the message is for people.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SourceError(pub String);

/// What a new connector is.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewConnector {
    pub name: String,
    pub kind: ConnectorKind,
    /// `{"url", "schemas"?, "tables"?}` for postgres and supabase,
    /// `{"path"}` for files.
    pub config: Value,
}

/// Validates and stores a new connector (audited). Its status is `unknown`
/// until a health check or a sync.
pub async fn create(
    platform: &Platform,
    tenant: Uuid,
    actor: Actor,
    new: NewConnector,
) -> Result<Connector, ConnectorError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ConnectorError::InvalidConfig(
            "the name must be 1 to 200 characters".into(),
        ));
    }
    let config = ConnectorConfig::parse(new.kind, &new.config, platform)
        .map_err(ConnectorError::InvalidConfig)?;
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let connector =
        match store::insert_connector(&mut tx, &platform.secrets, name, new.kind, &config).await {
            Ok(connector) => connector,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(ConnectorError::NameTaken(name.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
    audit::record(
        &mut tx,
        actor,
        "connector.create",
        ("connector", &connector.id.to_string()),
        serde_json::json!({"name": connector.name, "kind": connector.kind, "config": connector.config.redacted()}),
    )
    .await?;
    tx.commit().await?;
    Ok(connector)
}

/// Deletes a connector with its runs, fingerprints, records and mappings (audited).
pub async fn delete(
    platform: &Platform,
    tenant: Uuid,
    actor: Actor,
    id: Uuid,
) -> Result<(), ConnectorError> {
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let connector = require(&mut tx, id).await?;
    store::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "connector.delete",
        ("connector", &id.to_string()),
        serde_json::json!({"name": connector.name, "kind": connector.kind}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The connector with `id`, or `NotFound`.
pub(crate) async fn require(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Connector, ConnectorError> {
    store::get(conn, id)
        .await?
        .ok_or_else(|| ConnectorError::NotFound(format!("there is no connector with id {id}")))
}

/// The connector named (or with the id) `name_or_id`, or `NotFound`.
pub(crate) async fn require_named(
    conn: &mut PgConnection,
    name_or_id: &str,
) -> Result<Connector, ConnectorError> {
    store::find(conn, name_or_id).await?.ok_or_else(|| {
        ConnectorError::NotFound(format!("there is no connector named `{name_or_id}`"))
    })
}
