//! Tenants: the organisations that own everything else.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, TenantTx};
use crate::domain::TenantId;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Creates the tenant the transaction is scoped to.
pub async fn create(tx: &mut TenantTx, id: TenantId, name: &str) -> Result<Tenant, StoreError> {
    sqlx::query_as("insert into tenants (id, name) values ($1, $2) returning id, name, created_at")
        .bind(id.0)
        .bind(name)
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::from_write)
}

/// The tenant the transaction is scoped to.
pub async fn current(tx: &mut TenantTx) -> Result<Tenant, StoreError> {
    sqlx::query_as("select id, name, created_at from tenants")
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("tenant"))
}

/// Locks the tenant's row until the transaction ends, so that checks spanning
/// several rows (such as "one active admin remains") cannot race each other.
pub async fn lock_current(tx: &mut TenantTx) -> Result<(), StoreError> {
    sqlx::query("select id from tenants for update")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(())
}
