//! Approvals: a side-effecting action waiting for a person's decision.
//!
//! The row is the whole state machine: `pending → approved → executed | failed`
//! or `pending → rejected`. The move out of `pending` is one conditional
//! `update … where status = 'pending' and expires_at > now()`, so however many
//! decisions race, exactly one wins and the action runs once.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::Actor;
use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Executed,
    Failed,
    /// Pending past its expiry: it can no longer be decided.
    Expired,
}

impl ApprovalStatus {
    fn parse(raw: &str) -> ApprovalStatus {
        match raw {
            "approved" => ApprovalStatus::Approved,
            "rejected" => ApprovalStatus::Rejected,
            "executed" => ApprovalStatus::Executed,
            "failed" => ApprovalStatus::Failed,
            "expired" => ApprovalStatus::Expired,
            _ => ApprovalStatus::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Executed => "executed",
            ApprovalStatus::Failed => "failed",
            ApprovalStatus::Expired => "expired",
        }
    }
}

/// A person's answer to an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Approval {
    pub id: Uuid,
    /// The tool that will run.
    pub action: String,
    pub arguments: Value,
    /// One line saying what will happen, for the approver.
    pub summary: String,
    pub requested_by: Actor,
    /// The least role that may decide.
    pub decide_role: Role,
    pub status: ApprovalStatus,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<Actor>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    /// What the action returned, once executed.
    pub result: Option<Value>,
    pub error: Option<String>,
    pub conversation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Proof that an approval was approved by someone allowed to: the only way to
/// reach [`crate::ActionTool::execute`]. Only this module can make one.
#[derive(Debug)]
pub struct Approved {
    id: Uuid,
    by: Actor,
}

impl Approved {
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn by(&self) -> Actor {
        self.by
    }
}

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: Uuid,
    idempotency_key: Option<String>,
    action: String,
    arguments: Value,
    summary: String,
    requested_by_user: Option<Uuid>,
    requested_by_key: Option<Uuid>,
    decide_role: String,
    status: String,
    expires_at: DateTime<Utc>,
    decided_by_user: Option<Uuid>,
    decided_by_key: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    comment: Option<String>,
    result: Option<Value>,
    error: Option<String>,
    conversation_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

/// The columns of an [`ApprovalRow`], with `expired` worked out from the clock.
macro_rules! columns {
    () => { "id, idempotency_key, action, arguments, summary, requested_by_user, requested_by_key, decide_role,
    case when status = 'pending' and expires_at <= now() then 'expired' else status end as status,
    expires_at, decided_by_user, decided_by_key, decided_at, comment, result, error, conversation_id, created_at"
    };
}

impl From<ApprovalRow> for Approval {
    fn from(row: ApprovalRow) -> Self {
        let decided_by = row
            .decided_at
            .map(|_| Actor::from_columns(row.decided_by_user, row.decided_by_key));
        Approval {
            id: row.id,
            action: row.action,
            arguments: row.arguments,
            summary: row.summary,
            requested_by: Actor::from_columns(row.requested_by_user, row.requested_by_key),
            decide_role: row.decide_role.parse().unwrap_or(Role::Admin),
            status: ApprovalStatus::parse(&row.status),
            expires_at: row.expires_at,
            decided_by,
            decided_at: row.decided_at,
            comment: row.comment,
            result: row.result,
            error: row.error,
            conversation_id: row.conversation_id,
            created_at: row.created_at,
        }
    }
}

/// What a new approval asks for.
pub(crate) struct NewApproval<'a> {
    pub action: &'a str,
    pub arguments: &'a Value,
    pub summary: &'a str,
    pub requested_by: Actor,
    pub decide_role: Role,
    pub ttl: std::time::Duration,
    pub idempotency_key: Option<&'a str>,
    pub conversation_id: Option<Uuid>,
}

/// Stable hash of an action and its arguments, so asking twice for the same
/// thing finds the approval that already waits.
fn arguments_hash(action: &str, arguments: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(action.as_bytes());
    hasher.update([0]);
    hasher.update(arguments.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Creates the approval, or returns the one that already stands for the same
/// idempotency key or the same pending action. The bool says whether it is new.
pub(crate) async fn create_or_find(
    conn: &mut PgConnection,
    new: NewApproval<'_>,
) -> Result<(Approval, bool), sqlx::Error> {
    let hash = arguments_hash(new.action, new.arguments);
    let (user, key) = new.requested_by.columns();
    let ttl_secs = new.ttl.as_secs_f64();
    let inserted: Option<ApprovalRow> = sqlx::query_as(concat!("insert into approvals (id, tenant_id, action, arguments, arguments_hash, summary, requested_by_user,
             requested_by_key, decide_role, idempotency_key, expires_at, conversation_id)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6, $7, $8, $9,
                 now() + make_interval(secs => $10), $11)
         on conflict do nothing
         returning ", columns!(), ""))
    .bind(Uuid::new_v4())
    .bind(new.action)
    .bind(new.arguments)
    .bind(&hash)
    .bind(new.summary)
    .bind(user)
    .bind(key)
    .bind(new.decide_role.as_str())
    .bind(new.idempotency_key)
    .bind(ttl_secs)
    .bind(new.conversation_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((row.into(), true));
    }
    let existing: ApprovalRow = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from approvals
         where ($1::text is not null and idempotency_key = $1)
            or (action = $2 and arguments_hash = $3 and status = 'pending')
         order by created_at desc limit 1"
    ))
    .bind(new.idempotency_key)
    .bind(new.action)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    // The same pending request arrived with a key of its own: remember the
    // key on that approval, so a retry with it finds it even once decided.
    if let Some(key) = new.idempotency_key
        && existing.idempotency_key.is_none()
    {
        sqlx::query(
            "update approvals set idempotency_key = $2 where id = $1 and idempotency_key is null",
        )
        .bind(existing.id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    }
    Ok((existing.into(), false))
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Approval>, sqlx::Error> {
    let row: Option<ApprovalRow> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from approvals where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Approval::from))
}

/// Approvals, newest first, optionally only those in one status.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<ApprovalStatus>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Approval>, sqlx::Error> {
    let rows: Vec<ApprovalRow> = sqlx::query_as(concat!(
        "select * from (select ",
        columns!(),
        " from approvals) a
         where $1::text is null or a.status = $1
         order by a.created_at desc limit $2 offset $3"
    ))
    .bind(status.map(ApprovalStatus::as_str))
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Approval::from).collect())
}

/// Moves a pending, unexpired approval to approved or rejected. `None` when it
/// was not pending any more (someone else decided first, or it expired).
pub(crate) async fn claim_decision(
    conn: &mut PgConnection,
    id: Uuid,
    decision: Decision,
    by: Actor,
    comment: Option<&str>,
) -> Result<Option<(Approval, Option<Approved>)>, sqlx::Error> {
    let (user, key) = by.columns();
    let status = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    };
    let row: Option<ApprovalRow> = sqlx::query_as(concat!(
        "update approvals set status = $2, decided_by_user = $3, decided_by_key = $4,
             decided_at = now(), comment = $5
         where id = $1 and status = 'pending' and expires_at > now()
         returning ",
        columns!(),
        ""
    ))
    .bind(id)
    .bind(status)
    .bind(user)
    .bind(key)
    .bind(comment)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| {
        let approval = Approval::from(row);
        let proof = (decision == Decision::Approve).then_some(Approved { id, by });
        (approval, proof)
    }))
}

/// Records what the approved action did.
pub(crate) async fn record_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: Result<&Value, &str>,
) -> Result<Approval, sqlx::Error> {
    let (status, result, error) = match outcome {
        Ok(result) => ("executed", Some(result), None),
        Err(error) => ("failed", None, Some(error)),
    };
    let row: ApprovalRow = sqlx::query_as(concat!(
        "update approvals set status = $2, result = $3, error = $4
         where id = $1 and status = 'approved'
         returning ",
        columns!(),
        ""
    ))
    .bind(id)
    .bind(status)
    .bind(result)
    .bind(error)
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_action_and_arguments_hash_alike() {
        let a = serde_json::json!({"proposal_id": "x"});
        assert_eq!(
            arguments_hash("approve_mapping", &a),
            arguments_hash("approve_mapping", &a)
        );
        assert_ne!(
            arguments_hash("approve_mapping", &a),
            arguments_hash("reject_mapping", &a)
        );
    }
}
