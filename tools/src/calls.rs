//! The record of every tool call: who, what, how long, and how it ended.

use serde_json::Value;
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

use crate::platform::Caller;

pub(crate) struct CallRecord<'a> {
    pub tool: &'a str,
    pub arguments: &'a Value,
    pub outcome: &'static str,
    pub error: Option<String>,
    pub approval_id: Option<Uuid>,
    pub duration: Duration,
}

/// Writes the record in its own transaction; a failure to record is logged,
/// never turned into a failed call.
pub(crate) async fn record(pool: &PgPool, caller: &Caller, call: CallRecord<'_>) {
    let written = async {
        let mut tx = crate::tenant::begin_tenant(pool, caller.tenant).await?;
        let (user, key) = caller.actor.columns();
        sqlx::query(
            "insert into tool_calls (id, tenant_id, tool, arguments, actor_user_id, actor_key_id, persona,
                 outcome, error, approval_id, duration_ms)
             values ($1, app_current_tenant(), $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::new_v4())
        .bind(call.tool)
        .bind(call.arguments)
        .bind(user)
        .bind(key)
        .bind(caller.persona.map(|p| p.as_str()))
        .bind(call.outcome)
        .bind(call.error)
        .bind(call.approval_id)
        .bind(i32::try_from(call.duration.as_millis()).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = written {
        tracing::error!(error = %err, tool = call.tool, "cannot record a tool call");
    }
}
