//! Storage of Slack workspaces, user links and threads. Secrets arrive here
//! already sealed ([`super::seal`]); every query but the routing one runs in a
//! tenant transaction under row-level security.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::store::{Db, StoreError, TenantTx};

/// A workspace row as stored (secrets sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredWorkspace {
    pub team_id: String,
    pub signing_secret_enc: String,
    pub bot_token_enc: String,
    pub api_base: String,
    pub webhook_url_enc: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new or replaced workspace (secrets sealed).
pub struct NewWorkspace<'a> {
    pub tenant: TenantId,
    pub team_id: &'a str,
    pub signing_secret_enc: &'a str,
    pub bot_token_enc: &'a str,
    pub api_base: &'a str,
    pub webhook_url_enc: Option<&'a str>,
}

/// The tenant a Slack team belongs to, before any tenant is known.
pub async fn route(db: &Db, team_id: &str) -> Result<Option<TenantId>, StoreError> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "select tenant_id from tenant_lookup where kind = 'slack_team' and lookup_key = $1",
    )
    .bind(team_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(id,)| TenantId(id)))
}

/// Every registered team and its tenant (routing data only, no secrets).
pub async fn all_routes(db: &Db, limit: i64) -> Result<Vec<(String, TenantId)>, StoreError> {
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "select lookup_key, tenant_id from tenant_lookup where kind = 'slack_team'
         order by lookup_key limit $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(t, id)| (t, TenantId(id))).collect())
}

macro_rules! workspace_columns {
    () => {
        "team_id, signing_secret_enc, bot_token_enc, api_base, webhook_url_enc, created_at, updated_at"
    };
}

pub async fn workspace(
    tx: &mut TenantTx,
    team_id: &str,
) -> Result<Option<StoredWorkspace>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        workspace_columns!(),
        " from slack_workspaces where team_id = $1"
    ))
    .bind(team_id)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn workspaces(tx: &mut TenantTx) -> Result<Vec<StoredWorkspace>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        workspace_columns!(),
        " from slack_workspaces order by team_id"
    ))
    .fetch_all(&mut **tx)
    .await?)
}

/// Registers a workspace, or replaces its secrets and settings. A team
/// registered to another tenant is a conflict.
pub async fn upsert_workspace(
    tx: &mut TenantTx,
    new: NewWorkspace<'_>,
) -> Result<(StoredWorkspace, bool), StoreError> {
    let sql = concat!(
        "insert into slack_workspaces
             (tenant_id, team_id, signing_secret_enc, bot_token_enc, api_base, webhook_url_enc)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, team_id) do update set
             signing_secret_enc = excluded.signing_secret_enc,
             bot_token_enc = excluded.bot_token_enc,
             api_base = excluded.api_base,
             webhook_url_enc = excluded.webhook_url_enc,
             updated_at = now()
         returning ",
        workspace_columns!(),
        ", (xmax = 0) as inserted"
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        workspace: StoredWorkspace,
        inserted: bool,
    }
    let row: Row = sqlx::query_as(sql)
        .bind(new.tenant.0)
        .bind(new.team_id)
        .bind(new.signing_secret_enc)
        .bind(new.bot_token_enc)
        .bind(new.api_base)
        .bind(new.webhook_url_enc)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("tenant_lookup_pkey") => {
                StoreError::Conflict(
                    "this Slack team is already registered to another tenant".into(),
                )
            }
            _ => StoreError::Database(e),
        })?;
    Ok((row.workspace, row.inserted))
}

pub async fn delete_workspace(tx: &mut TenantTx, team_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from slack_workspaces where team_id = $1")
        .bind(team_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A Slack user acting as a platform user.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserLink {
    pub team_id: String,
    pub slack_user_id: String,
    pub user_id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// Links a Slack user to a platform user of the tenant (replacing an older link).
pub async fn link_user(
    tx: &mut TenantTx,
    tenant: TenantId,
    team_id: &str,
    slack_user_id: &str,
    user_id: Uuid,
) -> Result<UserLink, StoreError> {
    sqlx::query(
        "insert into slack_user_links (tenant_id, team_id, slack_user_id, user_id)
         values ($1, $2, $3, $4)
         on conflict (tenant_id, team_id, slack_user_id) do update
             set user_id = excluded.user_id, created_at = now()",
    )
    .bind(tenant.0)
    .bind(team_id)
    .bind(slack_user_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            match db.constraint().unwrap_or_default() {
                c if c.contains("user_id") => StoreError::NotFound("user"),
                _ => StoreError::NotFound("Slack workspace"),
            }
        }
        _ => StoreError::Database(e),
    })?;
    links(tx)
        .await?
        .into_iter()
        .find(|l| l.team_id == team_id && l.slack_user_id == slack_user_id)
        .ok_or(StoreError::NotFound("Slack user link"))
}

pub async fn links(tx: &mut TenantTx) -> Result<Vec<UserLink>, StoreError> {
    Ok(sqlx::query_as(
        "select l.team_id, l.slack_user_id, l.user_id, u.email, l.created_at
         from slack_user_links l join users u on u.id = l.user_id
         order by l.team_id, l.slack_user_id",
    )
    .fetch_all(&mut **tx)
    .await?)
}

pub async fn unlink_user(
    tx: &mut TenantTx,
    team_id: &str,
    slack_user_id: &str,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("delete from slack_user_links where team_id = $1 and slack_user_id = $2")
            .bind(team_id)
            .bind(slack_user_id)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The platform user a Slack user acts as, if linked.
pub async fn linked_user(
    tx: &mut TenantTx,
    team_id: &str,
    slack_user_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "select user_id from slack_user_links where team_id = $1 and slack_user_id = $2",
    )
    .bind(team_id)
    .bind(slack_user_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Where a Slack thread's messages go on the platform.
pub struct Thread<'a> {
    pub tenant: TenantId,
    pub team_id: &'a str,
    pub channel_id: &'a str,
    pub thread_ts: &'a str,
    pub user_id: Uuid,
}

/// The conversation a thread continues for this user, if any.
pub async fn thread_conversation(
    tx: &mut TenantTx,
    thread: &Thread<'_>,
) -> Result<Option<Uuid>, StoreError> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "select conversation_id from slack_threads
         where team_id = $1 and channel_id = $2 and thread_ts = $3 and user_id = $4",
    )
    .bind(thread.team_id)
    .bind(thread.channel_id)
    .bind(thread.thread_ts)
    .bind(thread.user_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id,)| id))
}

pub async fn remember_thread(
    tx: &mut TenantTx,
    thread: &Thread<'_>,
    conversation_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into slack_threads (tenant_id, team_id, channel_id, thread_ts, user_id, conversation_id)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, team_id, channel_id, thread_ts, user_id)
         do update set conversation_id = excluded.conversation_id",
    )
    .bind(thread.tenant.0)
    .bind(thread.team_id)
    .bind(thread.channel_id)
    .bind(thread.thread_ts)
    .bind(thread.user_id)
    .bind(conversation_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
