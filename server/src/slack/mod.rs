//! The Slack bot: the same gateway pipeline answering in Slack threads, slash
//! commands and approval buttons, plus per-tenant notifications by incoming
//! webhook.
//!
//! - [`routes`]: `POST /slack/events`, `/slack/commands`, `/slack/interactions`
//!   (signed by Slack, see [`signature`]) and the admin API.
//! - [`reply`]: runs a turn and renders its events into Slack as they stream.
//! - [`notify`]: platform events → incoming webhooks.
//! - [`seal`]: secrets encrypted at rest; [`store`]: the tables.

pub mod admin;
pub mod bench;
pub mod cli;
pub mod events;
pub mod interactions;
pub mod notify;
pub mod render;
pub mod reply;
pub mod routes;
pub mod seal;
pub mod signature;
pub mod slash;
pub mod store;
pub mod verify;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::principal::Subject;
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::settings::Secret;
use crate::state::AppState;
use seal::{Field, SecretBox};

/// The Slack Web API unless a workspace says otherwise.
pub const DEFAULT_API_BASE: &str = "https://slack.com/api";
/// How long a workspace read from the database is reused for signature checks.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Questions being set up at once (user lookup, placeholder, admission): a
/// burst of events is acknowledged at full speed and worked off behind it.
const SETUP_SLOTS: usize = 16;

/// Process-wide Slack state: the key for secrets, the HTTP client, and a
/// short-lived cache of workspaces (the acknowledgement path stays fast).
pub struct Slack {
    pub secrets: SecretBox,
    pub http: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, Arc<Workspace>)>>,
    setup: Arc<tokio::sync::Semaphore>,
}

/// A registered workspace with its secrets opened.
pub struct Workspace {
    pub tenant: TenantId,
    pub team_id: String,
    pub signing_secret: Secret,
    pub bot_token: Secret,
    pub api_base: String,
    pub webhook_url: Option<Secret>,
}

impl Workspace {
    /// The bot of this workspace, to call the Web API.
    pub fn bot<'a>(&'a self, http: &'a reqwest::Client) -> web::Bot<'a> {
        web::Bot {
            http,
            api_base: &self.api_base,
            token: self.bot_token.expose(),
        }
    }

    /// Whether `url` may receive what the bot posts for this workspace: a
    /// Slack host over HTTPS, or the workspace's own API origin (a proxy or a
    /// test server). Response URLs come in signed payloads; this keeps the
    /// server from posting anywhere else even so.
    pub fn may_post_to(&self, url: &str) -> bool {
        let origin = |u: &str| -> Option<String> {
            let (scheme, rest) = u.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next()?;
            Some(format!(
                "{}://{}",
                scheme.to_lowercase(),
                host.to_lowercase()
            ))
        };
        let Some(target) = origin(url) else {
            return false;
        };
        if let Some(host) = target.strip_prefix("https://") {
            let host = host.split(':').next().unwrap_or_default();
            if host == "slack.com" || host.ends_with(".slack.com") {
                return true;
            }
        }
        origin(&self.api_base).is_some_and(|own| own == target)
    }
}

impl Slack {
    /// `master` is the secret the sealing key is derived from (`AOS_JWT_SECRET`).
    pub fn new(master: &[u8]) -> Result<Slack, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("autonomos-aos/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Slack {
            secrets: SecretBox::from_master_secret(master),
            http,
            cache: Mutex::new(HashMap::new()),
            setup: Arc::new(tokio::sync::Semaphore::new(SETUP_SLOTS)),
        })
    }

    /// A slot to set a question up in; held until its turn is admitted (not
    /// while it streams or waits for an approval).
    pub async fn setup_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.setup).acquire_owned().await.ok()
    }

    /// The workspace of `team_id`, with its secrets opened; `None` when no
    /// tenant registered it.
    pub async fn workspace(
        &self,
        state: &AppState,
        team_id: &str,
    ) -> Result<Option<Arc<Workspace>>, ApiError> {
        if let Some(cached) = self.cached(team_id) {
            return Ok(Some(cached));
        }
        let Some(tenant) = store::route(&state.db, team_id).await? else {
            return Ok(None);
        };
        let mut tx = state.db.tenant(tenant).await?;
        let Some(row) = store::workspace(&mut tx, team_id).await? else {
            return Ok(None);
        };
        drop(tx);
        let workspace = Arc::new(self.open(tenant, &row)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(team_id.to_owned(), (Instant::now(), Arc::clone(&workspace)));
        }
        Ok(Some(workspace))
    }

    fn cached(&self, team_id: &str) -> Option<Arc<Workspace>> {
        let cache = self.cache.lock().ok()?;
        let (at, workspace) = cache.get(team_id)?;
        (at.elapsed() < CACHE_TTL).then(|| Arc::clone(workspace))
    }

    /// Forgets a cached workspace (after it changed here).
    pub fn forget(&self, team_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(team_id);
        }
    }

    /// Opens a stored workspace's secrets.
    pub fn open(
        &self,
        tenant: TenantId,
        row: &store::StoredWorkspace,
    ) -> Result<Workspace, ApiError> {
        let open = |field, sealed: &str| {
            self.secrets
                .open(&row.team_id, field, sealed)
                .map(Secret::new)
                .map_err(ApiError::internal)
        };
        Ok(Workspace {
            tenant,
            team_id: row.team_id.clone(),
            signing_secret: open(Field::SigningSecret, &row.signing_secret_enc)?,
            bot_token: open(Field::BotToken, &row.bot_token_enc)?,
            api_base: row.api_base.clone(),
            webhook_url: row
                .webhook_url_enc
                .as_deref()
                .map(|w| open(Field::WebhookUrl, w))
                .transpose()?,
        })
    }
}

/// Who a Slack user is on the platform.
pub enum Caller {
    /// Linked to an active platform user: act as them.
    Linked(Principal),
    /// Not linked, or linked to a disabled or deleted user.
    Unlinked,
}

/// The principal a Slack user acts as: the linked platform user with their
/// current role (demoting or disabling them takes effect at once).
pub async fn caller(
    state: &AppState,
    workspace: &Workspace,
    slack_user_id: &str,
) -> Result<Caller, ApiError> {
    let mut tx = state.db.tenant(workspace.tenant).await?;
    let Some(user_id) = store::linked_user(&mut tx, &workspace.team_id, slack_user_id).await?
    else {
        return Ok(Caller::Unlinked);
    };
    match crate::store::users::access(&mut tx, user_id).await? {
        Some((role, false)) => Ok(Caller::Linked(Principal {
            tenant: workspace.tenant,
            role,
            subject: Subject::User(user_id),
        })),
        _ => Ok(Caller::Unlinked),
    }
}

/// The email of a platform user, to name who decided something.
pub async fn user_label(state: &AppState, tenant: TenantId, user_id: Uuid) -> Option<String> {
    let mut tx = state.db.tenant(tenant).await.ok()?;
    crate::store::users::get(&mut tx, user_id)
        .await
        .ok()
        .map(|u| u.email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(api_base: &str) -> Workspace {
        Workspace {
            tenant: TenantId(Uuid::nil()),
            team_id: "T1".into(),
            signing_secret: Secret::new("s"),
            bot_token: Secret::new("xoxb-1"),
            api_base: api_base.into(),
            webhook_url: None,
        }
    }

    #[test]
    fn posts_go_only_to_slack_or_the_workspaces_own_api_origin() {
        let ws = workspace("http://127.0.0.1:4000/api");
        assert!(ws.may_post_to("https://hooks.slack.com/actions/T1/1/abc"));
        assert!(ws.may_post_to("http://127.0.0.1:4000/response/1"));
        assert!(!ws.may_post_to("http://127.0.0.1:4001/response/1"));
        assert!(!ws.may_post_to("http://hooks.slack.com/actions/T1/1/abc"));
        assert!(!ws.may_post_to("https://hooks.slack.com.evil.example/x"));
        assert!(!ws.may_post_to("https://evil.example/?https://slack.com"));
        assert!(!ws.may_post_to("not a url"));
    }
}
