//! Sessions: sign-in issues an access token and a refresh token; a refresh
//! rotates the refresh token; reuse of a rotated token ends the whole family.

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use super::password;
use super::tokens::{hash_secret, new_refresh_token, refresh_token_tenant};
use crate::domain::{Email, TenantId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::users::User;
use crate::store::{LookupKind, TenantTx, refresh_tokens, users};

/// Tokens handed to a client that has signed in or refreshed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
    pub user: User,
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("email or password is incorrect".into())
}

/// Checks an email and password and opens a new session.
pub async fn sign_in(
    state: &AppState,
    email: &Email,
    password: String,
) -> Result<Session, ApiError> {
    let Some(tenant) = state
        .db
        .lookup_tenant(LookupKind::Email, email.as_str())
        .await?
    else {
        password::verify(password, password::DECOY_HASH.into()).await;
        return Err(bad_credentials());
    };
    let mut tx = state.db.tenant(tenant).await?;
    let Some((user, hash)) = users::find_for_login(&mut tx, email).await? else {
        password::verify(password, password::DECOY_HASH.into()).await;
        return Err(bad_credentials());
    };
    if !password::verify(password, hash).await || user.disabled {
        return Err(bad_credentials());
    }
    let session = issue(state, &mut tx, tenant, user, Uuid::new_v4()).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(session)
}

/// Exchanges a refresh token for a new session, rotating it.
pub async fn refresh(state: &AppState, token: &str) -> Result<Session, ApiError> {
    let invalid = || ApiError::Unauthorized("invalid or expired refresh token".into());
    let tenant = refresh_token_tenant(token).ok_or_else(invalid)?;
    let mut tx = state.db.tenant(tenant).await?;
    let stored = refresh_tokens::find_for_update(&mut tx, &hash_secret(token))
        .await?
        .ok_or_else(invalid)?;
    if stored.revoked_at.is_some() {
        // A rotated token came back: someone holds a copy. End the family.
        refresh_tokens::revoke_family(&mut tx, stored.family_id).await?;
        tx.commit().await.map_err(ApiError::internal)?;
        tracing::warn!(family = %stored.family_id, "refresh token reuse; session family revoked");
        return Err(invalid());
    }
    if stored.expires_at <= Utc::now() {
        return Err(invalid());
    }
    let user = match users::get(&mut tx, stored.user_id).await {
        Ok(user) if !user.disabled => user,
        _ => return Err(invalid()),
    };
    refresh_tokens::revoke(&mut tx, stored.id).await?;
    let session = issue(state, &mut tx, tenant, user, stored.family_id).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(session)
}

/// Ends the session a refresh token belongs to. Unknown tokens are ignored, so
/// signing out twice is harmless.
pub async fn sign_out(state: &AppState, token: &str) -> Result<(), ApiError> {
    let Some(tenant) = refresh_token_tenant(token) else {
        return Ok(());
    };
    let mut tx = state.db.tenant(tenant).await?;
    if let Some(stored) = refresh_tokens::find_for_update(&mut tx, &hash_secret(token)).await? {
        refresh_tokens::revoke_family(&mut tx, stored.family_id).await?;
    }
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(())
}

async fn issue(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: TenantId,
    user: User,
    family: Uuid,
) -> Result<Session, ApiError> {
    let now = Utc::now();
    let access_token = state
        .jwt
        .issue(user.id, tenant, user.role, now)
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token(tenant);
    let refresh_ttl = state.settings.refresh_token_ttl;
    let expires_at = now + chrono::Duration::from_std(refresh_ttl).map_err(ApiError::internal)?;
    refresh_tokens::insert(
        tx,
        user.id,
        family,
        &hash_secret(&refresh_token),
        expires_at,
    )
    .await?;
    Ok(Session {
        access_token,
        token_type: "Bearer",
        expires_in: state.jwt.access_ttl().as_secs(),
        refresh_token,
        refresh_expires_in: refresh_ttl.as_secs(),
        user,
    })
}
