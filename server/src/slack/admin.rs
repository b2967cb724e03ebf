//! The admin API for Slack (admin role, the caller's own tenant):
//! workspaces (`/api/v1/slack/workspaces`: secrets go in, never come out) and
//! Slack user → platform user links (`/api/v1/slack/users`). The registration
//! logic is shared with `aos slack add` and `aos slack map-user`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::seal::{Field, SecretBox};
use super::store::{self, NewWorkspace, StoredWorkspace, UserLink};
use crate::auth::Principal;
use crate::domain::{Role, TenantId};
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Db;
use crate::store::audit::{self, Actor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/slack/workspaces",
            get(list_workspaces).post(add_workspace),
        )
        .route(
            "/api/v1/slack/workspaces/{team_id}",
            delete(remove_workspace),
        )
        .route("/api/v1/slack/users", get(list_links).put(map_user))
        .route(
            "/api/v1/slack/users/{team_id}/{slack_user_id}",
            delete(unmap_user),
        )
}

/// A workspace as the API shows it: no secrets.
#[derive(Debug, Serialize)]
pub struct WorkspaceView {
    pub team_id: String,
    pub api_base: String,
    pub webhook_configured: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredWorkspace> for WorkspaceView {
    fn from(row: StoredWorkspace) -> Self {
        WorkspaceView {
            team_id: row.team_id,
            api_base: row.api_base,
            webhook_configured: row.webhook_url_enc.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What registering a workspace takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddWorkspace {
    pub team_id: String,
    pub signing_secret: String,
    pub bot_token: String,
    pub api_base: Option<String>,
    pub webhook_url: Option<String>,
}

/// A Slack team or user id: upper-case letters and digits.
fn slack_id(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if (2..=32).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        Ok(value.to_owned())
    } else {
        Err(ApiError::Validation(format!(
            "`{field}` must be a Slack id such as T0123ABCD (2 to 32 upper-case letters and digits)"
        )))
    }
}

fn http_url(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim().trim_end_matches('/');
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 500
        && value.split("://").nth(1).is_some_and(|rest| {
            let host = rest.split('/').next().unwrap_or_default();
            !host.is_empty() && !host.contains('@')
        })
        && !value.chars().any(char::is_whitespace);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::Validation(format!(
            "`{field}` must be an http(s) URL"
        )))
    }
}

impl AddWorkspace {
    fn validated(self) -> Result<AddWorkspace, ApiError> {
        let signing_secret = self.signing_secret.trim().to_owned();
        if !(8..=256).contains(&signing_secret.len()) {
            return Err(ApiError::Validation(
                "`signing_secret` must be 8 to 256 characters (Slack app → Basic Information)"
                    .into(),
            ));
        }
        let bot_token = self.bot_token.trim().to_owned();
        if !bot_token.starts_with("xoxb-") || bot_token.len() > 512 {
            return Err(ApiError::Validation(
                "`bot_token` must be a Slack bot token (`xoxb-…`)".into(),
            ));
        }
        Ok(AddWorkspace {
            team_id: slack_id("team_id", &self.team_id)?,
            signing_secret,
            bot_token,
            api_base: Some(http_url(
                "api_base",
                self.api_base.as_deref().unwrap_or(super::DEFAULT_API_BASE),
            )?),
            webhook_url: self
                .webhook_url
                .as_deref()
                .map(|w| http_url("webhook_url", w))
                .transpose()?,
        })
    }
}

/// Registers (or re-registers, replacing its secrets) a workspace for a
/// tenant; true when it is new. Shared by the API and `aos slack add`.
pub async fn register_workspace(
    db: &Db,
    secrets: &SecretBox,
    tenant: TenantId,
    actor: Actor,
    input: AddWorkspace,
) -> Result<(WorkspaceView, bool), ApiError> {
    let input = input.validated()?;
    let team = input.team_id.as_str();
    let signing = secrets.seal(team, Field::SigningSecret, &input.signing_secret);
    let token = secrets.seal(team, Field::BotToken, &input.bot_token);
    let webhook = input
        .webhook_url
        .as_deref()
        .map(|w| secrets.seal(team, Field::WebhookUrl, w));
    let api_base = input.api_base.as_deref().unwrap_or(super::DEFAULT_API_BASE);
    let mut tx = db.tenant(tenant).await?;
    let (row, created) = store::upsert_workspace(
        &mut tx,
        NewWorkspace {
            tenant,
            team_id: team,
            signing_secret_enc: &signing,
            bot_token_enc: &token,
            api_base,
            webhook_url_enc: webhook.as_deref(),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        if created {
            "slack.workspace.add"
        } else {
            "slack.workspace.update"
        },
        ("slack_workspace", team),
        json!({"api_base": api_base, "webhook": webhook.is_some()}),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok((row.into(), created))
}

/// Whom a Slack user is linked to: a platform user by id or by email.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapUser {
    pub team_id: String,
    pub slack_user_id: String,
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
}

/// Links a Slack user to a platform user of the tenant. Shared by the API
/// and `aos slack map-user`.
pub async fn link_user(
    db: &Db,
    tenant: TenantId,
    actor: Actor,
    input: MapUser,
) -> Result<UserLink, ApiError> {
    let team = slack_id("team_id", &input.team_id)?;
    let slack_user = slack_id("slack_user_id", &input.slack_user_id)?;
    let mut tx = db.tenant(tenant).await?;
    // Looked up under row-level security: only a user of this tenant is found.
    let found: Option<(Uuid,)> = match (input.user_id, input.email.as_deref()) {
        (Some(id), None) => sqlx::query_as("select id from users where id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(ApiError::internal)?,
        (None, Some(email)) => sqlx::query_as("select id from users where email = lower($1)")
            .bind(email.trim())
            .fetch_optional(&mut *tx)
            .await
            .map_err(ApiError::internal)?,
        _ => {
            return Err(ApiError::Validation(
                "give exactly one of `user_id` and `email`".into(),
            ));
        }
    };
    let (user_id,) =
        found.ok_or_else(|| ApiError::NotFound("no user of this tenant matches".into()))?;
    let link = store::link_user(&mut tx, tenant, &team, &slack_user, user_id).await?;
    audit::record(
        &mut tx,
        actor,
        "slack.user.map",
        ("slack_user", &format!("{team}/{slack_user}")),
        json!({"user_id": user_id}),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(link)
}

#[derive(Serialize)]
struct WorkspaceList {
    workspaces: Vec<WorkspaceView>,
}

async fn list_workspaces(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<WorkspaceList>, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    let rows = store::workspaces(&mut tx).await?;
    Ok(Json(WorkspaceList {
        workspaces: rows.into_iter().map(WorkspaceView::from).collect(),
    }))
}

async fn add_workspace(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<AddWorkspace>,
) -> Result<(StatusCode, Json<WorkspaceView>), ApiError> {
    principal.require(Role::Admin)?;
    let (view, created) = register_workspace(
        &state.db,
        &state.slack.secrets,
        principal.tenant,
        principal.actor(),
        body,
    )
    .await?;
    state.slack.forget(&view.team_id);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

async fn remove_workspace(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(team_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    let team = slack_id("team_id", &team_id)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    if !store::delete_workspace(&mut tx, &team).await? {
        return Err(ApiError::NotFound("Slack workspace not found".into()));
    }
    audit::record(
        &mut tx,
        principal.actor(),
        "slack.workspace.remove",
        ("slack_workspace", &team),
        json!({}),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    state.slack.forget(&team);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct LinkList {
    links: Vec<UserLink>,
}

async fn list_links(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<LinkList>, ApiError> {
    principal.require(Role::Admin)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    Ok(Json(LinkList {
        links: store::links(&mut tx).await?,
    }))
}

async fn map_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<MapUser>,
) -> Result<Json<UserLink>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(
        link_user(&state.db, principal.tenant, principal.actor(), body).await?,
    ))
}

async fn unmap_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((team_id, slack_user_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    let team = slack_id("team_id", &team_id)?;
    let user = slack_id("slack_user_id", &slack_user_id)?;
    let mut tx = state.db.tenant(principal.tenant).await?;
    if !store::unlink_user(&mut tx, &team, &user).await? {
        return Err(ApiError::NotFound("Slack user link not found".into()));
    }
    audit::record(
        &mut tx,
        principal.actor(),
        "slack.user.unmap",
        ("slack_user", &format!("{team}/{user}")),
        json!({}),
    )
    .await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AddWorkspace {
        AddWorkspace {
            team_id: "T0123ABC".into(),
            signing_secret: "8f742231b10e8888abcd99yyyzzz85a5".into(),
            bot_token: "xoxb-1-2".into(),
            api_base: None,
            webhook_url: None,
        }
    }

    #[test]
    fn registration_input_is_checked() {
        let ok = input().validated().ok();
        assert_eq!(
            ok.and_then(|i| i.api_base).as_deref(),
            Some(super::super::DEFAULT_API_BASE)
        );
        let bad_team = AddWorkspace {
            team_id: "t-lower".into(),
            ..input()
        };
        assert!(bad_team.validated().is_err());
        let bad_token = AddWorkspace {
            bot_token: "xoxp-user-token".into(),
            ..input()
        };
        assert!(bad_token.validated().is_err());
        let bad_base = AddWorkspace {
            api_base: Some("ftp://x".into()),
            ..input()
        };
        assert!(bad_base.validated().is_err());
        let trailing = AddWorkspace {
            api_base: Some("http://127.0.0.1:9/api/".into()),
            ..input()
        };
        assert_eq!(
            trailing
                .validated()
                .ok()
                .and_then(|i| i.api_base)
                .as_deref(),
            Some("http://127.0.0.1:9/api")
        );
    }
}
