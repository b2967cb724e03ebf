//! Authenticating a request from Slack: both signature headers present, the
//! team registered, the v0 signature of the raw body valid for that team's
//! signing secret now. Anything else is a 401 and nothing is processed.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use std::sync::Arc;

use super::{Workspace, signature};
use crate::error::ApiError;
use crate::state::AppState;

/// The largest body accepted on the Slack endpoints.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Most workspaces tried for a `url_verification` (which names no team).
const MAX_CHALLENGE_WORKSPACES: i64 = 1000;

/// The two headers Slack signs a request with.
pub struct SignedHeaders {
    timestamp: String,
    signature: String,
}

/// The raw body, or 413 / 400 in the API's error shape.
pub fn raw_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
        }
    })
}

/// Both signature headers, or 401.
pub fn signed_headers(headers: &HeaderMap) -> Result<SignedHeaders, ApiError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    match (get("x-slack-request-timestamp"), get("x-slack-signature")) {
        (Some(timestamp), Some(signature)) => Ok(SignedHeaders {
            timestamp,
            signature,
        }),
        _ => Err(ApiError::Unauthorized(
            "missing `X-Slack-Request-Timestamp` or `X-Slack-Signature`: requests must be signed by Slack".into(),
        )),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn check(workspace: &Workspace, headers: &SignedHeaders, body: &[u8]) -> Result<(), ApiError> {
    signature::verify(
        workspace.signing_secret.expose().as_bytes(),
        &headers.timestamp,
        body,
        &headers.signature,
        now(),
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))
}

/// The workspace `team_id` names, once the body's signature is checked
/// against its signing secret.
pub async fn authenticate(
    state: &AppState,
    team_id: Option<&str>,
    headers: &SignedHeaders,
    body: &[u8],
) -> Result<Arc<Workspace>, ApiError> {
    let team_id = team_id
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the request names no Slack team".into()))?;
    let workspace = state
        .slack
        .workspace(state, team_id)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "no AutonomOS tenant has registered the Slack team `{}`",
                team_id.chars().take(40).collect::<String>()
            ))
        })?;
    check(&workspace, headers, body)?;
    Ok(workspace)
}

/// For `url_verification`, which names no team: whether some registered
/// workspace's signing secret signed the body (the app's secret is the same
/// in every workspace it is installed in).
pub async fn authenticate_any(
    state: &AppState,
    headers: &SignedHeaders,
    body: &[u8],
) -> Result<(), ApiError> {
    let routes = super::store::all_routes(&state.db, MAX_CHALLENGE_WORKSPACES).await?;
    let mut last = ApiError::Unauthorized("no Slack workspace is registered".into());
    for (team_id, _) in routes {
        match state.slack.workspace(state, &team_id).await {
            Ok(Some(workspace)) => match check(&workspace, headers, body) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, team_id, "cannot read a Slack workspace"),
        }
    }
    Err(last)
}
