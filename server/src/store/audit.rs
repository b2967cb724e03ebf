//! Audit log: one row for every change an administrator or a side effect makes.

use serde_json::Value;

use super::{StoreError, TenantTx};

pub use tools::Actor;

/// Records `action` on `target` in the same transaction as the change itself.
pub async fn record(
    tx: &mut TenantTx,
    actor: Actor,
    action: &str,
    target: (&str, &str),
    detail: Value,
) -> Result<(), StoreError> {
    tools::audit::record(&mut *tx, actor, action, target, detail).await?;
    Ok(())
}
