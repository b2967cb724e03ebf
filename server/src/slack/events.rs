//! `POST /slack/events`, Slack's Events API: `url_verification`, then
//! `event_callback`s acknowledged at once (verify, de-duplicate, spawn,
//! 200) and worked on afterwards. `app_mention` and direct messages are
//! answered in their thread.
//!
//! Slack retries an event it did not see acknowledged in 3 s (with
//! `X-Slack-Retry-Num`); the first delivery claims its `event_id` in Redis
//! (`SET NX` with a day's expiry), so every replica answers it once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use super::render;
use super::reply::{self, Destination, Question};
use super::verify::{self, authenticate, authenticate_any, signed_headers};
use super::{Caller, Workspace};
use crate::error::ApiError;
use crate::state::AppState;

/// How long an `event_id` is remembered (Slack retries within minutes).
const EVENT_ID_TTL_SECS: u64 = 24 * 3600;

/// The outer envelope of everything Slack posts here.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    team_id: Option<String>,
    challenge: Option<String>,
    event_id: Option<String>,
    event: Option<Value>,
}

/// The fields of an `app_mention` or `message` event the bot needs.
#[derive(Debug, Deserialize)]
pub struct ChatEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub user: Option<String>,
    #[serde(default)]
    pub text: String,
    pub channel: Option<String>,
    pub channel_type: Option<String>,
    pub ts: Option<String>,
    pub thread_ts: Option<String>,
    pub subtype: Option<String>,
    pub bot_id: Option<String>,
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = verify::raw_body(body)?;
    let signed = signed_headers(&headers)?;
    let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("the body is not a Slack event envelope: {e}"))
    })?;
    if envelope.kind == "url_verification" {
        authenticate_any(&state, &signed, &body).await?;
        let challenge = envelope.challenge.ok_or_else(|| {
            ApiError::BadRequest("`url_verification` without a `challenge`".into())
        })?;
        return Ok(Json(json!({ "challenge": challenge })).into_response());
    }
    let workspace = authenticate(&state, envelope.team_id.as_deref(), &signed, &body).await?;
    if envelope.kind != "event_callback" {
        // app_rate_limited and other notices: nothing to do.
        return Ok(Json(json!({"ok": true})).into_response());
    }
    let event_id = envelope
        .event_id
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or_else(|| ApiError::BadRequest("an `event_callback` needs an `event_id`".into()))?;
    let event: ChatEvent = envelope
        .event
        .ok_or_else(|| ApiError::BadRequest("an `event_callback` needs an `event`".into()))
        .and_then(|e| {
            serde_json::from_value(e)
                .map_err(|e| ApiError::Validation(format!("the `event` is not readable: {e}")))
        })?;
    if !claim(&state, &workspace.team_id, &event_id).await? {
        let retry = headers
            .get("x-slack-retry-num")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info!(event_id, retry, "Slack event already answered");
        return Ok(Json(json!({"ok": true, "duplicate": true})).into_response());
    }
    if answerable(&event) {
        tokio::spawn(async move { handle(state, workspace, event_id, event).await });
    }
    Ok(Json(json!({"ok": true})).into_response())
}

/// Claims `event_id` for this delivery; false when a delivery (here or on
/// another replica) claimed it first.
async fn claim(state: &AppState, team_id: &str, event_id: &str) -> Result<bool, ApiError> {
    let key = format!(
        "{}slack:event:{team_id}:{event_id}",
        state.settings.redis_prefix
    );
    let mut redis = state.redis.clone();
    let set: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(EVENT_ID_TTL_SECS)
        .query_async(&mut redis)
        .await
        .map_err(|e| ApiError::Unavailable(format!("Redis is unavailable: {e}")))?;
    Ok(set.is_some())
}

/// Mentions, and direct messages written by a person (not the bot's own
/// messages, edits or joins).
fn answerable(event: &ChatEvent) -> bool {
    let by_person = event.user.is_some() && event.bot_id.is_none() && event.subtype.is_none();
    let kind = match event.kind.as_str() {
        "app_mention" => true,
        "message" => event.channel_type.as_deref() == Some("im"),
        _ => false,
    };
    kind && by_person && event.channel.is_some() && event.ts.is_some()
}

/// The question without the bot's leading mention, other mentions kept
/// readable (`<@U1>` → `@U1`), Slack's escaping undone.
pub fn question_text(text: &str) -> String {
    let mut rest = text.trim_start();
    // The mention(s) that addressed the bot.
    while let Some(after) = rest.strip_prefix("<@") {
        match after.find('>') {
            Some(end) => rest = after[end + 1..].trim_start(),
            None => break,
        }
    }
    let mut out = String::with_capacity(rest.len());
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        let mention = &rest[start + 2..];
        match mention.find('>') {
            Some(end) => {
                let id = mention[..end].split('|').next().unwrap_or_default();
                out.push('@');
                out.push_str(id);
                rest = &mention[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    render::unescape(
        out.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    )
}

async fn handle(state: AppState, workspace: Arc<Workspace>, event_id: String, event: ChatEvent) {
    let slot = state.slack.setup_slot().await;
    let (Some(user), Some(channel), Some(ts)) = (event.user, event.channel, event.ts) else {
        return;
    };
    let thread_ts = event.thread_ts.unwrap_or(ts);
    let destination = Destination::Thread {
        channel: channel.clone(),
        thread_ts: thread_ts.clone(),
    };
    let say = |text: String| {
        let (state, workspace) = (&state, &workspace);
        let (channel, thread_ts) = (&channel, &thread_ts);
        async move {
            let message = super::web::Message { text, blocks: None };
            let bot = workspace.bot(&state.slack.http);
            if let Err(e) = bot.post_message(channel, Some(thread_ts), &message).await {
                tracing::warn!(error = %e, "cannot reply in Slack");
            }
        }
    };
    let principal = match super::caller(&state, &workspace, &user).await {
        Ok(Caller::Linked(principal)) => principal,
        Ok(Caller::Unlinked) => {
            say(render::not_linked(&workspace.team_id, &user)).await;
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot map a Slack user");
            say("Sorry, I can't reach AutonomOS right now; try again in a minute.".into()).await;
            return;
        }
    };
    let text = question_text(&event.text);
    if text.is_empty() {
        say(render::help()).await;
        return;
    }
    let question = Question {
        principal: &principal,
        text,
        // `event_id` is at most 64 characters: within the gateway's 100.
        client_msg_id: format!("slack:{event_id}"),
    };
    reply::answer(&state, &workspace, question, destination, slot).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_stripped_and_escaping_undone() {
        assert_eq!(
            question_text("<@U0BOT> what is our spend &amp; budget?"),
            "what is our spend & budget?"
        );
        assert_eq!(
            question_text("<@U0BOT|aos>  what did <@U0ANN|ann> approve?"),
            "what did @U0ANN approve?"
        );
        assert_eq!(question_text("<@U0BOT>"), "");
        assert_eq!(
            question_text("<@U0BOT> <@U0BOT> hi <@broken"),
            "hi <@broken"
        );
    }

    fn event(kind: &str) -> ChatEvent {
        ChatEvent {
            kind: kind.into(),
            user: Some("U1".into()),
            text: "hi".into(),
            channel: Some("C1".into()),
            channel_type: None,
            ts: Some("1.2".into()),
            thread_ts: None,
            subtype: None,
            bot_id: None,
        }
    }

    #[test]
    fn only_mentions_and_direct_messages_from_people_are_answered() {
        assert!(answerable(&event("app_mention")));
        assert!(!answerable(&event("message")));
        let mut dm = event("message");
        dm.channel_type = Some("im".into());
        assert!(answerable(&dm));
        dm.bot_id = Some("B1".into());
        assert!(!answerable(&dm));
        let mut edit = event("app_mention");
        edit.subtype = Some("message_changed".into());
        assert!(!answerable(&edit));
        assert!(!answerable(&event("reaction_added")));
    }
}
