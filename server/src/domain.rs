//! Value types parsed at the edge, so that the rest of the server only ever
//! handles well-formed emails, passwords, roles and tenants.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why a value was refused; the message is safe to show to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// A tenant's id. Every tenant-owned query runs inside a transaction scoped to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub Uuid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Roles in increasing order of power: `viewer < analyst < approver < admin`.
pub use tools::Role;

impl From<tools::UnknownRole> for InvalidValue {
    fn from(err: tools::UnknownRole) -> Self {
        InvalidValue(err.to_string())
    }
}

/// The executive persona a user usually speaks as; a prior for classification.
pub use personas::Persona;

/// A syntactically valid, lower-cased email address (at most 254 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue("email must not be empty".into()));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(InvalidValue(format!(
                "email is longer than {} characters",
                Self::MAX_LEN
            )));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(InvalidValue("email must contain `@`".into()));
        };
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.contains('@');
        if !well_formed {
            return Err(InvalidValue("email is not a valid address".into()));
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as submitted, checked for length only (8 to 512 bytes): long
/// inputs are refused before they reach the deliberately slow hash.
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 512;

    pub fn parse(raw: String) -> Result<Self, InvalidValue> {
        if raw.is_empty() {
            return Err(InvalidValue("password must not be empty".into()));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidValue(format!(
                "password is longer than {} bytes",
                Self::MAX_LEN
            )));
        }
        if raw.chars().count() < Self::MIN_LEN {
            return Err(InvalidValue(format!(
                "password must have at least {} characters",
                Self::MIN_LEN
            )));
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A short human label (tenant, key or display name): 1 to 200 characters after trimming.
pub fn parse_label(field: &str, raw: &str) -> Result<String, InvalidValue> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > 200 {
        return Err(InvalidValue(format!(
            "{field} is longer than 200 characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidValue(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Analyst);
        assert!(Role::Analyst < Role::Approver);
        assert!(Role::Approver < Role::Admin);
        assert_eq!("approver".parse::<Role>(), Ok(Role::Approver));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn email_is_normalised_and_bounded() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("ada@example.com".to_owned())
        );
        assert!(Email::parse("").is_err());
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a b@example.com").is_err());
        assert!(Email::parse("a@").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(10_000))).is_err());
    }

    #[test]
    fn password_length_is_checked_before_hashing() {
        assert!(Password::parse(String::new()).is_err());
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(513)).is_err());
        assert!(Password::parse("correct horse".into()).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("correct horse".into())),
            "Ok(Password([redacted]))"
        );
    }
}
