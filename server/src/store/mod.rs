//! Postgres storage. Every tenant-owned query runs in a [`TenantTx`]: a
//! transaction that has named its tenant with `set_config('app.tenant_id', …,
//! true)`, so row-level security shows it that tenant's rows and nothing else.
//! The HTTP layer never writes SQL; it calls the functions in these modules.

pub mod api_keys;
pub mod audit;
pub mod refresh_tokens;
pub mod tenants;
pub mod users;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

use crate::domain::TenantId;

/// A transaction scoped to one tenant.
pub type TenantTx = Transaction<'static, Postgres>;

/// Storage failures, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Turns unique-constraint violations into conflicts the client can act on.
    pub fn from_write(err: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let message = match db.constraint() {
                Some("tenant_lookup_pkey") | Some("users_pkey") => {
                    "a user with this email already exists"
                }
                Some("tenants_pkey") => "a tenant with this id already exists",
                _ => "the record already exists",
            };
            return StoreError::Conflict(message.into());
        }
        StoreError::Database(err)
    }
}

/// Where a tenant is found before one is known (login by email, API key by prefix).
#[derive(Debug, Clone, Copy)]
pub enum LookupKind {
    Email,
    ApiKey,
}

impl LookupKind {
    fn as_str(self) -> &'static str {
        match self {
            LookupKind::Email => "email",
            LookupKind::ApiKey => "api_key",
        }
    }
}

/// The connection pool, shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Connects and checks the connection with one round trip.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("aos");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Db { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction that sees only `tenant`'s rows.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantTx, StoreError> {
        Ok(tools::begin_tenant(&self.pool, tenant.0).await?)
    }

    /// The tenant that owns a login email or an API key prefix, if any.
    pub async fn lookup_tenant(
        &self,
        kind: LookupKind,
        key: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        let row: Option<(uuid::Uuid,)> = sqlx::query_as(
            "select tenant_id from tenant_lookup where kind = $1 and lookup_key = $2",
        )
        .bind(kind.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| TenantId(id)))
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether every migration this binary knows has been applied.
    pub async fn schema_version(&self) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "select max(version) from _sqlx_migrations where success having max(version) is not null",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(v,)| v))
    }
}

/// The migrations embedded in this binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
