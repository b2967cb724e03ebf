//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes).
//! Hashing is deliberately slow, so it runs on the blocking thread pool.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let plain = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(plain.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `plain` matches `phc`. A malformed stored hash simply does not match.
pub async fn verify(plain: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(plain.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password, verified against when an email is
/// unknown so that sign-in takes as long whether or not the account exists.
pub const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$SjGTD2GHUwTi4lTRJdi4d+yvf2U2X7mlMwi5nCM6sBY";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let password = Password::parse("correct horse battery".into()).expect("valid");
        let phc = hash(&password).await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), phc.clone()).await);
        assert!(!verify("wrong horse battery".into(), phc).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
    }

    #[tokio::test]
    async fn decoy_hash_is_well_formed() {
        assert!(argon2::PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify("guess".into(), DECOY_HASH.into()).await);
    }
}
