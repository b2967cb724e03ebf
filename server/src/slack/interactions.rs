//! `POST /slack/interactions`: clicks on approval cards. The form's `payload`
//! is signed like every Slack request; the clicking Slack user is mapped to a
//! platform user, and the decision goes through the same
//! `tools::Registry::decide` as the web and the API (applied once, audited,
//! announced to every replica). The card is then replaced with the outcome;
//! a refused click gets an ephemeral explanation.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tools::{DecideError, Decision};
use uuid::Uuid;

use super::render::{self, APPROVE_ACTION, REJECT_ACTION};
use super::verify::{self, authenticate, signed_headers};
use super::{Caller, Workspace, web};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    team: Option<Team>,
    user: User,
    #[serde(default)]
    actions: Vec<Action>,
    response_url: Option<String>,
}

#[derive(Deserialize)]
struct Team {
    id: String,
}

#[derive(Deserialize)]
struct User {
    id: String,
    team_id: Option<String>,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: String,
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = verify::raw_body(body)?;
    let signed = signed_headers(&headers)?;
    let form: Form = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::BadRequest("an interaction is a form with a `payload` field".into())
    })?;
    let payload: Payload = serde_json::from_str(&form.payload)
        .map_err(|e| ApiError::BadRequest(format!("`payload` is not an interaction: {e}")))?;
    let team_id = payload
        .team
        .as_ref()
        .map(|t| t.id.clone())
        .or_else(|| payload.user.team_id.clone());
    let workspace = authenticate(&state, team_id.as_deref(), &signed, &body).await?;
    if payload.kind != "block_actions" {
        return Ok(Json(json!({"ok": true})));
    }
    let Some(action) = payload
        .actions
        .iter()
        .find(|a| a.action_id == APPROVE_ACTION || a.action_id == REJECT_ACTION)
    else {
        // A button of something else: nothing of ours.
        return Ok(Json(json!({"ok": true})));
    };
    let decision = if action.action_id == APPROVE_ACTION {
        Decision::Approve
    } else {
        Decision::Reject
    };
    let approval_id: Uuid = action
        .value
        .parse()
        .map_err(|_| ApiError::Validation("the button's value is not an approval id".into()))?;
    let response_url = payload
        .response_url
        .filter(|url| workspace.may_post_to(url))
        .ok_or_else(|| {
            ApiError::Validation("the interaction has no Slack `response_url`".into())
        })?;
    let slack_user = payload.user.id;
    // Acknowledge now; deciding may run the action (up to its timeout).
    tokio::spawn(async move {
        let click = Click {
            workspace,
            slack_user,
            approval_id,
            decision,
            response_url,
        };
        click.apply(&state).await;
    });
    Ok(Json(json!({"ok": true})))
}

struct Click {
    workspace: Arc<Workspace>,
    slack_user: String,
    approval_id: Uuid,
    decision: Decision,
    response_url: String,
}

impl Click {
    async fn apply(self, state: &AppState) {
        let answer = match self.decide(state).await {
            Ok(message) => {
                let mut body = json!({"replace_original": true, "text": message.text});
                if let Some(blocks) = message.blocks {
                    body["blocks"] = blocks;
                }
                body
            }
            Err(explanation) => json!({"response_type": "ephemeral", "replace_original": false,
                "text": explanation}),
        };
        if let Err(e) = web::post_to_url(&state.slack.http, &self.response_url, &answer).await {
            tracing::warn!(error = %e, "cannot answer a Slack button click");
        }
    }

    /// The decided card, or why the click changed nothing.
    async fn decide(&self, state: &AppState) -> Result<web::Message, String> {
        let principal = match super::caller(state, &self.workspace, &self.slack_user).await {
            Ok(Caller::Linked(principal)) => principal,
            Ok(Caller::Unlinked) => {
                return Err(render::not_linked(
                    &self.workspace.team_id,
                    &self.slack_user,
                ));
            }
            Err(_) => return Err("AutonomOS is unavailable right now; try again shortly.".into()),
        };
        let ctx = crate::tools_api::context(state, &principal, None);
        let comment = "decided in Slack";
        match state
            .tools
            .decide(&ctx, self.approval_id, self.decision, Some(comment))
            .await
        {
            Ok(approval) => {
                let by = super::user_label(
                    state,
                    self.workspace.tenant,
                    principal.user_id().unwrap_or_default(),
                )
                .await;
                Ok(render::approval_outcome(&approval, by.as_deref()))
            }
            Err(DecideError::Denied { needed, have }) => Err(format!(
                ":no_entry: You can't decide this approval: it needs the `{needed}` role, and your AutonomOS account has `{have}`. Nothing was changed."
            )),
            Err(DecideError::AlreadyDecided(now)) => Err(format!(
                "This approval was already decided: it is `{}`. Nothing was changed.",
                now.status.as_str()
            )),
            Err(DecideError::NotFound) => {
                Err("This approval does not exist in your AutonomOS tenant.".into())
            }
            Err(e) => {
                tracing::warn!(error = %e, "deciding an approval from Slack failed");
                Err("AutonomOS could not record the decision; try again shortly.".into())
            }
        }
    }
}
