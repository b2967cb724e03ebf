//! Audit log: one row for every change an administrator or a side effect makes,
//! written in the same transaction as the change itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Who did something: a signed-in user, an API key, or the operator's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
    System,
}

impl Actor {
    /// The (user, API key) columns that record this actor.
    pub fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Actor::User(id) => (Some(id), None),
            Actor::ApiKey(id) => (None, Some(id)),
            Actor::System => (None, None),
        }
    }

    /// The actor recorded in a pair of (user, API key) columns.
    pub fn from_columns(user: Option<Uuid>, key: Option<Uuid>) -> Actor {
        match (user, key) {
            (Some(id), _) => Actor::User(id),
            (None, Some(id)) => Actor::ApiKey(id),
            (None, None) => Actor::System,
        }
    }
}

/// Records `action` on `target` (type, id) in the caller's tenant transaction.
pub async fn record(
    conn: &mut PgConnection,
    actor: Actor,
    action: &str,
    target: (&str, &str),
    detail: Value,
) -> Result<(), sqlx::Error> {
    let (user, key) = actor.columns();
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
    .execute(conn)
    .await?;
    Ok(())
}
