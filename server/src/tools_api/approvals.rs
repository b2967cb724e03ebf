//! Approvals: list them, read one, decide one.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tools::{Approval, ApprovalStatus, Decision};
use uuid::Uuid;

use super::context;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/approvals", get(list))
        .route("/api/v1/approvals/{id}", get(show))
        .route("/api/v1/approvals/{id}/decide", post(decide))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<ApprovalStatus>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ApprovalList>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    let offset = query.offset.unwrap_or(0);
    if !(1..=200).contains(&limit) || offset < 0 {
        return Err(ApiError::Validation(
            "`limit` must be 1 to 200 and `offset` not negative".into(),
        ));
    }
    let mut tx = state.db.tenant(principal.tenant).await?;
    let approvals = tools::approvals::list(&mut tx, query.status, limit, offset)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(ApprovalList { approvals }))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Approval>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    tools::approvals::get(&mut tx, id)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("approval not found".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    pub decision: Decision,
    pub comment: Option<String>,
}

const MAX_COMMENT_CHARS: usize = 2000;

async fn decide(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecideRequest>,
) -> Result<Json<Approval>, ApiError> {
    let comment = body
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(ApiError::Validation(format!(
            "comment is longer than {MAX_COMMENT_CHARS} characters"
        )));
    }
    let ctx = context(&state, &principal, None);
    let approval = state.tools.decide(&ctx, id, body.decision, comment).await?;
    Ok(Json(approval))
}
