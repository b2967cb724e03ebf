//! Who is calling: the `Principal` extractor turns `Authorization: Bearer …`
//! (an access JWT or an API key) into a tenant, a subject and a role.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use super::tokens::{API_KEY_PREFIX, api_key_prefix, hash_secret, hashes_match};
use crate::domain::{Role, TenantId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::{LookupKind, api_keys, users};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    pub role: Role,
    pub subject: Subject,
}

/// A signed-in user or a service client holding an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    ApiKey(Uuid),
}

impl Principal {
    /// Refuses with 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this action needs the `{needed}` role; you have `{}`",
                self.role
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        match self.subject {
            Subject::User(id) => Actor::User(id),
            Subject::ApiKey(id) => Actor::ApiKey(id),
        }
    }

    /// The id of the user or API key: who owns conversations and counts
    /// against rate limits.
    pub fn subject_id(&self) -> Uuid {
        match self.subject {
            Subject::User(id) | Subject::ApiKey(id) => id,
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self.subject {
            Subject::User(id) => Some(id),
            Subject::ApiKey(_) => None,
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer` header".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the `Authorization` header must be `Bearer <token>`".into())
            })?;
        Principal::from_token(state, token).await
    }
}

impl Principal {
    /// Authenticates a bearer token (an access JWT or an API key) given some
    /// other way than the header, e.g. as the WebSocket's `access_token`.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
        if token.starts_with(API_KEY_PREFIX) {
            authenticate_api_key(state, token).await
        } else {
            let claims = state
                .jwt
                .verify(token)
                .map_err(|_| ApiError::Unauthorized("invalid or expired access token".into()))?;
            // The token proves who signed in; the account as stored now decides
            // what they may do, so disabling or demoting takes effect at once.
            let tenant = TenantId(claims.tid);
            let mut tx = state.db.tenant(tenant).await?;
            let account = users::access(&mut tx, claims.sub).await?;
            let Some((role, false)) = account else {
                return Err(ApiError::Unauthorized(
                    "this account is disabled or no longer exists".into(),
                ));
            };
            Ok(Principal {
                tenant,
                role,
                subject: Subject::User(claims.sub),
            })
        }
    }
}

async fn authenticate_api_key(state: &AppState, key: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::Unauthorized("invalid or revoked API key".into());
    let prefix = api_key_prefix(key).ok_or_else(invalid)?;
    let tenant = state
        .db
        .lookup_tenant(LookupKind::ApiKey, prefix)
        .await?
        .ok_or_else(invalid)?;
    let mut tx = state.db.tenant(tenant).await?;
    let (api_key, stored_hash) = api_keys::find_active_by_prefix(&mut tx, prefix)
        .await?
        .ok_or_else(invalid)?;
    if !hashes_match(&hash_secret(key), &stored_hash) {
        return Err(invalid());
    }
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Principal {
        tenant,
        role: api_key.role,
        subject: Subject::ApiKey(api_key.id),
    })
}
