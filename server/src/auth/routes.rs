//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::session::{self, Session};
use super::{Principal, Subject};
use crate::domain::{Email, Role};
use crate::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::store::tenants::Tenant;
use crate::store::users::User;
use crate::store::{tenants, users};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<Session>, ApiError> {
    let email = Email::parse(&body.email)?;
    if body.password.is_empty() {
        return Err(ApiError::Validation("password must not be empty".into()));
    }
    if body.password.len() > crate::domain::Password::MAX_LEN {
        return Err(ApiError::Validation("password is too long".into()));
    }
    Ok(Json(session::sign_in(&state, &email, body.password).await?))
}

/// Exchange a refresh token for a new access token and refresh token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, ApiError> {
    Ok(Json(session::refresh(&state, &body.refresh_token).await?))
}

/// End the session a refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    session::sign_out(&state, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub tenant: Tenant,
    pub role: Role,
    /// Present when the caller is a signed-in user.
    pub user: Option<User>,
    /// Present when the caller uses an API key.
    pub api_key_id: Option<uuid::Uuid>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, principal: Principal) -> Result<Json<Me>, ApiError> {
    let mut tx = state.db.tenant(principal.tenant).await?;
    let tenant = tenants::current(&mut tx).await?;
    let (user, api_key_id) = match principal.subject {
        Subject::User(id) => {
            let user = users::get(&mut tx, id)
                .await
                .map_err(|_| ApiError::Unauthorized("this account no longer exists".into()))?;
            if user.disabled {
                return Err(ApiError::Unauthorized("this account is disabled".into()));
            }
            (Some(user), None)
        }
        Subject::ApiKey(id) => (None, Some(id)),
    };
    Ok(Json(Me {
        tenant,
        role: principal.role,
        user,
        api_key_id,
    }))
}
