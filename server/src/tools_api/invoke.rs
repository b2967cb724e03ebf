//! Listing and invoking tools.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use personas::Persona;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tools::registry::InvokeOptions;
use tools::{Approval, ToolError, ToolSpec};

use super::context;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tools", get(list))
        .route("/api/v1/tools/{name}/invoke", post(invoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only the tools this persona may use.
    pub persona: Option<Persona>,
}

#[derive(Serialize)]
pub struct ToolList<'a> {
    pub tools: Vec<&'a ToolSpec>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let ctx = context(&state, &principal, query.persona);
    let tools: Vec<&ToolSpec> = state.tools.available_to(&ctx).collect();
    Json(ToolList { tools }).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvokeRequest {
    #[serde(default)]
    pub arguments: Value,
    /// Speak as this persona (its tool allow-list applies).
    pub persona: Option<Persona>,
    /// Makes a retried request find the approval the first one created
    /// (the `Idempotency-Key` header does the same).
    pub idempotency_key: Option<String>,
}

/// The result of an invocation: the tool's output, or the approval it needs.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InvokeResponse {
    Ok { summary: String, data: Value },
    ApprovalRequired { approval: Box<Approval> },
}

const MAX_KEY_LEN: usize = 200;

async fn invoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<InvokeRequest>,
) -> Result<Response, ApiError> {
    let header_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::BadRequest("`Idempotency-Key` must be ASCII".into()))
        })
        .transpose()?;
    let idempotency_key = body.idempotency_key.or(header_key);
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > MAX_KEY_LEN)
    {
        return Err(ApiError::Validation(format!(
            "the idempotency key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    if state.tools.spec(&name).is_none() {
        return Err(ApiError::NotFound(format!(
            "there is no tool named `{name}`"
        )));
    }
    let ctx = context(&state, &principal, body.persona);
    let outcome = state
        .tools
        .invoke(
            &ctx,
            &name,
            body.arguments,
            InvokeOptions { idempotency_key },
        )
        .await;
    match outcome {
        Ok(output) => Ok(Json(InvokeResponse::Ok {
            summary: output.summary,
            data: output.data,
        })
        .into_response()),
        Err(ToolError::NeedsApproval(approval)) => Ok((
            StatusCode::ACCEPTED,
            Json(InvokeResponse::ApprovalRequired { approval }),
        )
            .into_response()),
        Err(e) => Err(tool_error(e)),
    }
}

/// A tool error as an API error.
pub(crate) fn tool_error(err: ToolError) -> ApiError {
    match err {
        ToolError::BadArgs(m) => ApiError::Validation(format!("bad arguments: {m}")),
        ToolError::Denied(m) => ApiError::Forbidden(m),
        ToolError::NotFound(m) => ApiError::NotFound(m),
        ToolError::Failed(m) => ApiError::ToolFailed(m),
        e @ ToolError::Timeout(_) => ApiError::Timeout(e.to_string()),
        ToolError::NeedsApproval(a) => {
            ApiError::Conflict(format!("needs approval {}: {}", a.id, a.summary))
        }
    }
}
