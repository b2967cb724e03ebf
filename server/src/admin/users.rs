//! `/api/v1/users`: list, create, read, change and delete users.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Principal, password};
use crate::domain::{Email, Password, Persona, Role, TenantId, parse_label};
use crate::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::users::{self, NewUser, User, UserChanges};
use crate::store::{Db, audit, refresh_tokens, tenants};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", get(read).patch(change).delete(remove))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

impl Paging {
    pub fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(ApiError::Validation(
                "limit must be between 1 and 200 and offset must not be negative".into(),
            ));
        }
        Ok((limit, offset))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

/// Users of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(Paging), security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<UserList>, ApiError> {
    principal.require(Role::Admin)?;
    let (limit, offset) = paging.bounds()?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    let users = users::list(&mut tx, limit, offset).await?;
    Ok(Json(UserList { users }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub display_name: Option<String>,
    /// cto, cro, coo or cfo.
    #[schema(value_type = Option<String>)]
    pub persona: Option<Persona>,
}

/// Add a user to the caller's tenant.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = CreateUser, security(("bearer" = [])),
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    principal.require(Role::Admin)?;
    let user = add_user(&state.db, principal.tenant, principal.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Validates, hashes and stores a new user, with its audit row; shared by the
/// API, the `aos user create` command and the demo seed.
pub async fn add_user(
    db: &Db,
    tenant: TenantId,
    actor: Actor,
    body: CreateUser,
) -> Result<User, ApiError> {
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password)?;
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| parse_label("display_name", n))
        .transpose()?;
    let hash = password::hash(&password)
        .await
        .map_err(ApiError::internal)?;
    let mut tx = db.tenant(tenant).await?;
    let user = users::create(
        &mut tx,
        NewUser {
            email: &email,
            password_hash: &hash,
            role: body.role,
            display_name: display_name.as_deref(),
            persona: body.persona,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "user.create",
        ("user", &user.id.to_string()),
        json!({ "email": user.email, "role": user.role }),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(user)
}

/// One user of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<User>, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    Ok(Json(users::get(&mut tx, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUser {
    pub role: Option<Role>,
    pub display_name: Option<String>,
    /// `null` clears the persona; absent leaves it.
    #[serde(default, deserialize_with = "crate::http::extract::present_or_null")]
    #[schema(value_type = Option<String>)]
    pub persona: Option<Option<Persona>>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Change a user's role, name, persona, password or disabled flag.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", request_body = ChangeUser, security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ChangeUser>,
) -> Result<Json<User>, ApiError> {
    principal.require(Role::Admin)?;
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| parse_label("display_name", n))
        .transpose()?;
    let hash = match body.password {
        Some(raw) => Some(
            password::hash(&Password::parse(raw)?)
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let mut tx = state.db.tenant(principal.tenant).await?;
    tenants::lock_current(&mut tx).await?;
    let before = users::get(&mut tx, id).await?;
    let user = users::update(
        &mut tx,
        id,
        UserChanges {
            role: body.role,
            display_name: display_name.as_deref(),
            persona: body.persona,
            disabled: body.disabled,
            password_hash: hash.as_deref(),
        },
    )
    .await?;
    if before.role == Role::Admin
        && !before.disabled
        && users::count_active_admins(&mut tx).await? == 0
    {
        return Err(ApiError::Conflict(
            "the tenant's last active admin cannot be demoted or disabled".into(),
        ));
    }
    if user.disabled || hash.is_some() {
        refresh_tokens::revoke_all_for_user(&mut tx, id).await?;
    }
    audit::record(
        &mut tx,
        principal.actor(),
        "user.update",
        ("user", &id.to_string()),
        json!({ "role": user.role, "disabled": user.disabled, "password_changed": hash.is_some() }),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(user))
}

/// Remove a user.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    tenants::lock_current(&mut tx).await?;
    let before = users::get(&mut tx, id).await?;
    users::delete(&mut tx, id).await?;
    if before.role == Role::Admin && users::count_active_admins(&mut tx).await? == 0 {
        return Err(ApiError::Conflict(
            "the tenant's last active admin cannot be deleted".into(),
        ));
    }
    audit::record(
        &mut tx,
        principal.actor(),
        "user.delete",
        ("user", &id.to_string()),
        json!({ "email": before.email }),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
