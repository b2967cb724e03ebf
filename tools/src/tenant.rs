//! Tenant-scoped transactions: every query on tenant-owned tables runs in one,
//! so row-level security shows it that tenant's rows and nothing else.

use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Begins a transaction that sees only `tenant`'s rows. The tenant is set by
/// the `BEGIN` itself, in the same round trip.
pub async fn begin_tenant(
    pool: &PgPool,
    tenant: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    // A `Uuid` prints as hex digits and dashes only, so it cannot break out
    // of the quotes; the simple query protocol takes no bind parameters.
    let begin = format!("begin; select set_config('app.tenant_id', '{tenant}', true)");
    pool.begin_with(AssertSqlSafe(begin)).await
}
