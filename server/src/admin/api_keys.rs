//! `/api/v1/api-keys`: create (the key is shown once), list and revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::tokens::{hash_secret, new_api_key};
use crate::domain::{Role, TenantId, parse_label};
use crate::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Db;
use crate::store::api_keys::{self, ApiKey, NewApiKey};
use crate::store::audit::{self, Actor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", get(list).post(create))
        .route("/api/v1/api-keys/{id}", delete(revoke))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKey>,
}

/// API keys of the caller's tenant (never their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ApiKeyList>, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    Ok(Json(ApiKeyList {
        api_keys: api_keys::list(&mut tx).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    pub role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    /// The full key. It is shown only in this response; store it now.
    pub key: String,
    pub api_key: ApiKey,
}

/// Create an API key for a service client.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "admin", request_body = CreateApiKey, security(("bearer" = [])),
    responses((status = 201, body = CreatedApiKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    principal.require(Role::Admin)?;
    let created = issue_key(
        &state.db,
        principal.tenant,
        principal.actor(),
        principal.user_id(),
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Makes and stores a new key, with its audit row; shared by the API and `aos apikey create`.
pub async fn issue_key(
    db: &Db,
    tenant: TenantId,
    actor: Actor,
    created_by: Option<Uuid>,
    body: CreateApiKey,
) -> Result<CreatedApiKey, ApiError> {
    let name = parse_label("name", &body.name)?;
    let (key, prefix) = new_api_key();
    let mut tx = db.tenant(tenant).await?;
    let api_key = api_keys::create(
        &mut tx,
        NewApiKey {
            name: &name,
            prefix: &prefix,
            key_hash: &hash_secret(&key),
            role: body.role,
            created_by,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "api_key.create",
        ("api_key", &api_key.id.to_string()),
        json!({ "name": api_key.name, "role": api_key.role, "prefix": api_key.prefix }),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(CreatedApiKey { key, api_key })
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    let api_key = api_keys::revoke(&mut tx, id).await?;
    audit::record(
        &mut tx,
        principal.actor(),
        "api_key.revoke",
        ("api_key", &id.to_string()),
        json!({ "prefix": api_key.prefix }),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(api_key))
}
