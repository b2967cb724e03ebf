//! Tenant-scoped transactions: every query on tenant-owned tables runs in one,
//! so row-level security shows it that tenant's rows and nothing else.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Begins a transaction that sees only `tenant`'s rows.
pub async fn begin_tenant(
    pool: &PgPool,
    tenant: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
