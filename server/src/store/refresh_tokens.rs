//! Rotating refresh tokens, stored as SHA-256 hashes and grouped in families
//! so that replaying a used token revokes every token descended from the login.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, TenantTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    tx: &mut TenantTx,
    user_id: Uuid,
    family_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at)
         values ($1, app_current_tenant(), $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(family_id)
    .bind(token_hash)
    .bind(expires_at)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// The token with this hash, locked until the transaction ends so that two
/// concurrent refreshes cannot both rotate it.
pub async fn find_for_update(
    tx: &mut TenantTx,
    token_hash: &str,
) -> Result<Option<RefreshToken>, StoreError> {
    Ok(sqlx::query_as(
        "select id, user_id, family_id, expires_at, revoked_at
         from refresh_tokens where token_hash = $1 for update",
    )
    .bind(token_hash)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("update refresh_tokens set revoked_at = now() where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn revoke_family(tx: &mut TenantTx, family_id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Signs a user out everywhere (used when they are disabled or deleted).
pub async fn revoke_all_for_user(tx: &mut TenantTx, user_id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
