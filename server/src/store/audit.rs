//! Audit log: one row for every change an administrator or a side effect makes.

use serde_json::Value;
use uuid::Uuid;

use super::{StoreError, TenantTx};

/// Who did something: a signed-in user or an API key.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
    /// The operator's command line.
    System,
}

/// Records `action` on `target` in the same transaction as the change itself.
pub async fn record(
    tx: &mut TenantTx,
    actor: Actor,
    action: &str,
    target: (&str, &str),
    detail: Value,
) -> Result<(), StoreError> {
    let (user, key) = match actor {
        Actor::User(id) => (Some(id), None),
        Actor::ApiKey(id) => (None, Some(id)),
        Actor::System => (None, None),
    };
    sqlx::query(
        "insert into audit_log (tenant_id, actor_user_id, actor_key_id, action, target_type, target_id, detail)
         values (app_current_tenant(), $1, $2, $3, $4, $5, $6)",
    )
    .bind(user)
    .bind(key)
    .bind(action)
    .bind(target.0)
    .bind(target.1)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
