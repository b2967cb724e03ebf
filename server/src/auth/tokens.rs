//! Credentials: short-lived access JWTs (HS256 only), opaque rotating refresh
//! tokens and API keys. Opaque secrets are stored as SHA-256 hashes; the tenant
//! is carried in the refresh token and found by prefix for API keys, so a lookup
//! never needs to read across tenants.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use uuid::Uuid;

use crate::domain::{Role, TenantId};

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The tenant id.
    pub tid: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// Always `access`; refresh tokens are not JWTs, but a typed claim keeps
    /// any future token kind from being accepted here.
    pub typ: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid signing key: {0}")]
    Key(String),
    #[error("invalid or expired token")]
    Invalid,
}

/// Signs and checks access tokens with one shared secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Result<Self, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret)
                .map_err(|e| TokenError::Key(e.to_string()))?,
            decoding: DecodingKey::from_secret(secret)
                .map_err(|e| TokenError::Key(e.to_string()))?,
            validation,
            access_ttl,
        })
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Issues an access token for `user` valid from `now`.
    pub fn issue(
        &self,
        user: Uuid,
        tenant: TenantId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            sub: user,
            tid: tenant.0,
            role,
            iat,
            exp: iat + self.access_ttl.as_secs() as i64,
            jti: Uuid::new_v4(),
            typ: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Key(e.to_string()))
    }

    /// Checks signature, algorithm (HS256 only, so `alg: none` fails), expiry and kind.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.typ != "access" {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

/// SHA-256 of an opaque secret, hex-encoded, as stored in the database.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two hashes without leaking where they differ.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

const REFRESH_PREFIX: &str = "rt_";

/// Makes a refresh token for `tenant`: `rt_<tenant id>_<secret>`.
pub fn new_refresh_token(tenant: TenantId) -> String {
    format!("{REFRESH_PREFIX}{}_{}", tenant.0.simple(), random_secret())
}

/// The tenant a refresh token claims to belong to; the hash lookup decides the rest.
pub fn refresh_token_tenant(token: &str) -> Option<TenantId> {
    let rest = token.strip_prefix(REFRESH_PREFIX)?;
    let (tenant, secret) = rest.split_once('_')?;
    if secret.len() < 32 {
        return None;
    }
    Uuid::try_parse(tenant).ok().map(TenantId)
}

/// API keys look like `aos_<8 characters>_<secret>`; the part before the second `_` is the prefix.
pub const API_KEY_PREFIX: &str = "aos_";

/// A new API key and its visible prefix.
pub fn new_api_key() -> (String, String) {
    let prefix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    let prefix = format!("{API_KEY_PREFIX}{prefix}");
    let key = format!("{prefix}_{}", random_secret());
    (key, prefix)
}

/// The visible prefix of something shaped like an API key.
pub fn api_key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 8 && id.chars().all(|c| c.is_ascii_alphanumeric()) && secret.len() >= 32)
        .then(|| &key[..API_KEY_PREFIX.len() + 8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60)).expect("keys")
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let keys = keys();
        let user = Uuid::new_v4();
        let tenant = TenantId(Uuid::new_v4());
        let token = keys
            .issue(user, tenant, Role::Analyst, Utc::now())
            .expect("issue");
        let claims = keys.verify(&token).expect("verify");
        assert_eq!(
            (claims.sub, claims.tid, claims.role),
            (user, tenant.0, Role::Analyst)
        );
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let keys = keys();
        let old = Utc::now() - chrono::Duration::hours(1);
        let token = keys
            .issue(Uuid::new_v4(), TenantId(Uuid::new_v4()), Role::Admin, old)
            .expect("issue");
        assert!(keys.verify(&token).is_err());
        let other = JwtKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60))
            .expect("keys");
        let token = other
            .issue(
                Uuid::new_v4(),
                TenantId(Uuid::new_v4()),
                Role::Admin,
                Utc::now(),
            )
            .expect("issue");
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn refresh_tokens_carry_their_tenant() {
        let tenant = TenantId(Uuid::new_v4());
        let token = new_refresh_token(tenant);
        assert_eq!(refresh_token_tenant(&token), Some(tenant));
        assert_eq!(refresh_token_tenant("rt_nonsense"), None);
    }

    #[test]
    fn api_keys_expose_only_their_prefix() {
        let (key, prefix) = new_api_key();
        assert_eq!(api_key_prefix(&key), Some(prefix.as_str()));
        assert!(key.len() > prefix.len() + 32);
        assert_eq!(api_key_prefix("aos_short_x"), None);
        assert!(hashes_match(&hash_secret(&key), &hash_secret(&key)));
        assert!(!hashes_match(&hash_secret(&key), &hash_secret("other")));
    }
}
