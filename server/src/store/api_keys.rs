//! API keys for service clients: stored as a SHA-256 hash with a visible prefix.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, TenantTx};
use crate::domain::Role;

/// An API key as the API shows it (never the secret or its hash).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The visible start of the key, e.g. `aos_k7Hx2a9Q`.
    pub prefix: String,
    pub role: Role,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    name: String,
    prefix: String,
    role: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    key_hash: String,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<(ApiKey, String), StoreError> {
        let role = self
            .role
            .parse::<Role>()
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.to_string().into())))?;
        Ok((
            ApiKey {
                id: self.id,
                name: self.name,
                prefix: self.prefix,
                role,
                created_by: self.created_by,
                created_at: self.created_at,
                last_used_at: self.last_used_at,
                revoked_at: self.revoked_at,
            },
            self.key_hash,
        ))
    }
}

macro_rules! api_key_columns {
    () => {
        "id, name, prefix, role, created_by, created_at, last_used_at, revoked_at, key_hash"
    };
}

pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub role: Role,
    pub created_by: Option<Uuid>,
}

pub async fn create(tx: &mut TenantTx, new: NewApiKey<'_>) -> Result<ApiKey, StoreError> {
    let row: ApiKeyRow = sqlx::query_as(concat!(
        "insert into api_keys (id, tenant_id, name, prefix, key_hash, role, created_by)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6) returning ",
        api_key_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(new.name)
    .bind(new.prefix)
    .bind(new.key_hash)
    .bind(new.role.as_str())
    .bind(new.created_by)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from_write)?;
    Ok(row.into_key()?.0)
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<ApiKey>, StoreError> {
    let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
        "select ",
        api_key_columns!(),
        " from api_keys order by created_at, id"
    ))
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|row| row.into_key().map(|(key, _)| key))
        .collect()
}

/// The unrevoked key with this prefix and its hash, marking it used.
pub async fn find_active_by_prefix(
    tx: &mut TenantTx,
    prefix: &str,
) -> Result<Option<(ApiKey, String)>, StoreError> {
    // `last_used_at` is touched at most once a minute: a busy key would
    // otherwise serialise all its requests on a lock of its row.
    let row: Option<ApiKeyRow> = sqlx::query_as(concat!(
        "with found as (select ",
        api_key_columns!(),
        " from api_keys where prefix = $1 and revoked_at is null),
         touched as (update api_keys set last_used_at = now()
             where id = (select id from found)
               and (last_used_at is null or last_used_at < now() - interval '1 minute'))
         select ",
        api_key_columns!(),
        " from found"
    ))
    .bind(prefix)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(ApiKeyRow::into_key).transpose()
}

/// Revokes a key; revoking twice is harmless.
pub async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<ApiKey, StoreError> {
    let row: Option<ApiKeyRow> = sqlx::query_as(concat!(
        "update api_keys set revoked_at = coalesce(revoked_at, now())
         where id = $1 returning ",
        api_key_columns!()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.ok_or(StoreError::NotFound("api key"))?.into_key()?.0)
}
