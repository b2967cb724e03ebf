//! Conversations and messages in Postgres. A conversation belongs to the user
//! (or API key) that started it; others in the tenant do not see it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::store::audit::Actor;
use crate::store::{StoreError, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub title: String,
    pub persona: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: Uuid,
    pub role: String,
    pub text: String,
    pub client_msg_id: Option<String>,
    pub persona: Option<String>,
    pub intent: Option<String>,
    pub confidence: Option<f32>,
    pub citations: Value,
    pub tool_calls: Value,
    pub approvals: Value,
    pub model: Option<String>,
    pub prompt_tokens: i32,
    pub completion_tokens: i32,
    pub timings_ms: Value,
    pub finish_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The conversation, if it exists and belongs to `owner`.
pub async fn find_owned(
    tx: &mut TenantTx,
    id: Uuid,
    owner: Actor,
) -> Result<Option<ConversationSummary>, StoreError> {
    let (user, key) = owner.columns();
    let row = sqlx::query_as(
        "select id, title, persona, created_at, updated_at from conversations
         where id = $1 and user_id is not distinct from $2 and api_key_id is not distinct from $3",
    )
    .bind(id)
    .bind(user)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row)
}

pub async fn create(
    tx: &mut TenantTx,
    id: Uuid,
    owner: Actor,
    title: &str,
) -> Result<(), StoreError> {
    let (user, key) = owner.columns();
    sqlx::query(
        "insert into conversations (id, tenant_id, user_id, api_key_id, title)
         values ($1, app_current_tenant(), $2, $3, $4)",
    )
    .bind(id)
    .bind(user)
    .bind(key)
    .bind(title)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list_owned(
    tx: &mut TenantTx,
    owner: Actor,
    limit: i64,
) -> Result<Vec<ConversationSummary>, StoreError> {
    let (user, key) = owner.columns();
    let rows = sqlx::query_as(
        "select id, title, persona, created_at, updated_at from conversations
         where user_id is not distinct from $1 and api_key_id is not distinct from $2
         order by updated_at desc limit $3",
    )
    .bind(user)
    .bind(key)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}

pub async fn messages(
    tx: &mut TenantTx,
    conversation: Uuid,
) -> Result<Vec<StoredMessage>, StoreError> {
    let rows = sqlx::query_as(
        "select id, role, text, client_msg_id, persona, intent, confidence, citations, tool_calls,
                approvals, model, prompt_tokens, completion_tokens, timings_ms, finish_reason, created_at
         from messages where conversation_id = $1 order by created_at, role desc",
    )
    .bind(conversation)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}

pub async fn add_user_message(
    tx: &mut TenantTx,
    conversation: Uuid,
    id: Uuid,
    text: &str,
    client_msg_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into messages (id, tenant_id, conversation_id, role, text, client_msg_id)
         values ($1, app_current_tenant(), $2, 'user', $3, $4)",
    )
    .bind(id)
    .bind(conversation)
    .bind(text)
    .bind(client_msg_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("update conversations set updated_at = now() where id = $1")
        .bind(conversation)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A message a client already had (an OpenAI-style request carries the whole
/// conversation): kept as history, in order, without pipeline details.
pub async fn add_history_message(
    tx: &mut TenantTx,
    conversation: Uuid,
    role: &str,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into messages (id, tenant_id, conversation_id, role, text, created_at)
         values ($1, app_current_tenant(), $2, $3, $4, clock_timestamp())",
    )
    .bind(Uuid::new_v4())
    .bind(conversation)
    .bind(role)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Everything recorded about an assistant message.
pub struct AssistantRecord<'a> {
    pub id: Uuid,
    pub conversation: Uuid,
    pub reply_to: Uuid,
    pub text: &'a str,
    pub persona: Option<&'a str>,
    pub intent: Option<&'a str>,
    pub confidence: Option<f32>,
    pub citations: Value,
    pub tool_calls: Value,
    pub approvals: Value,
    pub model: Option<&'a str>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub timings_ms: Value,
    pub finish_reason: &'a str,
}

pub async fn add_assistant_message(
    tx: &mut TenantTx,
    record: AssistantRecord<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into messages (id, tenant_id, conversation_id, role, text, reply_to, persona, intent,
             confidence, citations, tool_calls, approvals, model, prompt_tokens, completion_tokens,
             timings_ms, finish_reason)
         values ($1, app_current_tenant(), $2, 'assistant', $3, $4, $5, $6, $7, $8, $9, $10, $11,
                 $12, $13, $14, $15)",
    )
    .bind(record.id)
    .bind(record.conversation)
    .bind(record.text)
    .bind(record.reply_to)
    .bind(record.persona)
    .bind(record.intent)
    .bind(record.confidence)
    .bind(record.citations)
    .bind(record.tool_calls)
    .bind(record.approvals)
    .bind(record.model)
    .bind(i32::try_from(record.prompt_tokens).unwrap_or(i32::MAX))
    .bind(i32::try_from(record.completion_tokens).unwrap_or(i32::MAX))
    .bind(record.timings_ms)
    .bind(record.finish_reason)
    .execute(&mut **tx)
    .await?;
    sqlx::query("update conversations set updated_at = now(), persona = coalesce($2, persona) where id = $1")
        .bind(record.conversation)
        .bind(record.persona)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct UsageDay {
    pub date: NaiveDate,
    pub persona: Option<String>,
    pub model: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub messages: i64,
}

/// Tokens per day, persona and model over the last `days` days.
pub async fn usage(tx: &mut TenantTx, days: i32) -> Result<Vec<UsageDay>, StoreError> {
    let rows = sqlx::query_as(
        "select (created_at at time zone 'utc')::date as date, persona,
                coalesce(model, 'offline-composer') as model,
                sum(prompt_tokens)::bigint as prompt_tokens,
                sum(completion_tokens)::bigint as completion_tokens,
                count(*) as messages
         from messages
         where role = 'assistant' and created_at > now() - make_interval(days => $1)
         group by 1, 2, 3 order by 1, 2, 3",
    )
    .bind(days)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}
