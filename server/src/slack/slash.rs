//! `POST /slack/commands`: the `/aos` slash command (form-encoded, signed).
//! `/aos <question>` is acknowledged at once with an ephemeral "working on
//! it" and answered through the command's `response_url`; `/aos approvals`
//! lists the pending approvals the caller may decide, with their buttons.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use tools::ApprovalStatus;

use super::reply::{self, Destination, Question};
use super::verify::{self, authenticate, signed_headers};
use super::{Caller, render};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Approvals listed by `/aos approvals` (a message holds 50 blocks).
const LISTED: usize = 10;

/// The fields of a slash command the bot reads (Slack sends more).
#[derive(Debug, Deserialize)]
struct SlashCommand {
    team_id: String,
    user_id: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    text: String,
    response_url: String,
    trigger_id: Option<String>,
}

fn ephemeral(text: String) -> Json<Value> {
    Json(json!({"response_type": "ephemeral", "text": text}))
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = verify::raw_body(body)?;
    let signed = signed_headers(&headers)?;
    let command: SlashCommand = serde_urlencoded::from_bytes(&body).map_err(|e| {
        ApiError::BadRequest(format!("the body is not a Slack slash command form: {e}"))
    })?;
    let workspace = authenticate(&state, Some(&command.team_id), &signed, &body).await?;
    let text = super::render::unescape(command.text.trim());
    if text.is_empty() || text.eq_ignore_ascii_case("help") {
        return Ok(ephemeral(render::help()));
    }
    let principal = match super::caller(&state, &workspace, &command.user_id).await? {
        Caller::Linked(principal) => principal,
        Caller::Unlinked => {
            return Ok(ephemeral(render::not_linked(
                &workspace.team_id,
                &command.user_id,
            )));
        }
    };
    if text.eq_ignore_ascii_case("approvals") {
        return approvals(&state, &principal).await;
    }
    if !workspace.may_post_to(&command.response_url) {
        return Err(ApiError::Validation(
            "`response_url` is not a Slack URL".into(),
        ));
    }
    let client_msg_id = format!(
        "slack-cmd:{}",
        command
            .trigger_id
            .filter(|t| !t.is_empty() && t.len() <= 80)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
    );
    let name = if command.command.is_empty() {
        "/aos".to_owned()
    } else {
        command.command.clone()
    };
    tokio::spawn(async move {
        let slot = state.slack.setup_slot().await;
        let question = Question {
            principal: &principal,
            text,
            client_msg_id,
        };
        let destination = Destination::ResponseUrl(command.response_url);
        reply::answer(&state, &workspace, question, destination, slot).await;
    });
    Ok(ephemeral(format!(
        ":hourglass_flowing_sand: Working on it… (`{name}`); the answer will replace this message."
    )))
}

/// Pending approvals the caller's role may decide, as cards.
async fn approvals(state: &AppState, principal: &Principal) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    let pending = tools::approvals::list(&mut tx, Some(ApprovalStatus::Pending), 200, 0)
        .await
        .map_err(ApiError::internal)?;
    let mine: Vec<_> = pending
        .into_iter()
        .filter(|a| a.decide_role <= principal.role)
        .collect();
    if mine.is_empty() {
        return Ok(ephemeral(format!(
            "Nothing is waiting for you (your role: `{}`).",
            principal.role
        )));
    }
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn",
        "text": format!("*{} approval(s) waiting for you*", mine.len())}})];
    for approval in mine.iter().take(LISTED) {
        let expires = approval.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let card =
            render::approval_card(approval.id, &approval.action, &approval.summary, &expires);
        if let Some(Value::Array(card_blocks)) = card.blocks {
            blocks.push(json!({"type": "divider"}));
            blocks.extend(card_blocks);
        }
    }
    if mine.len() > LISTED {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
            "text": format!("…and {} more in the AutonomOS control center.", mine.len() - LISTED)}]}));
    }
    Ok(Json(json!({
        "response_type": "ephemeral",
        "text": format!("{} approval(s) waiting for you", mine.len()),
        "blocks": blocks,
    })))
}
