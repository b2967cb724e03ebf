//! Secrets at rest: a workspace's signing secret, bot token and webhook URL
//! are sealed with ChaCha20-Poly1305 before they reach the database.
//!
//! The key is derived from `AOS_JWT_SECRET` with HKDF-SHA256 under a label of
//! its own (`aos/slack/secrets/v1`), so it is never the JWT signing key itself
//! and no other setting is needed. Rotating `AOS_JWT_SECRET` therefore makes
//! stored Slack secrets unreadable: register the workspaces again after it.
//!
//! Sealed form: `v1.` + base64url(12-byte random nonce ‖ ciphertext ‖ tag).
//! The associated data names the team and the field, so a sealed value moved
//! to another row or column does not open.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const VERSION: &str = "v1.";
const SALT: &[u8] = b"autonomos-control-center";
const LABEL: &[u8] = b"aos/slack/secrets/v1";
const NONCE_LEN: usize = 12;

/// A sealed value could not be opened (wrong key, tampered, or not ours).
#[derive(Debug, thiserror::Error)]
#[error("a stored Slack secret cannot be decrypted (was AOS_JWT_SECRET changed?)")]
pub struct OpenError;

/// Seals and opens the secrets of Slack workspaces.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

/// Which secret of a workspace a sealed value is.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    SigningSecret,
    BotToken,
    WebhookUrl,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Field::SigningSecret => "signing_secret",
            Field::BotToken => "bot_token",
            Field::WebhookUrl => "webhook_url",
        }
    }
}

fn aad(team_id: &str, field: Field) -> Vec<u8> {
    format!("slack:{team_id}:{}", field.as_str()).into_bytes()
}

impl SecretBox {
    /// The box whose key HKDF derives from the server's master secret.
    pub fn from_master_secret(master: &[u8]) -> SecretBox {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
        let _ = Hkdf::<Sha256>::new(Some(SALT), master).expand(LABEL, &mut key);
        SecretBox {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    pub fn seal(&self, team_id: &str, field: Field, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad(team_id, field);
        // Encryption fails only for messages of gigabytes.
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, team_id: &str, field: Field, sealed: &str) -> Result<String, OpenError> {
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or(OpenError)?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = <&Nonce>::try_from(nonce).map_err(|_| OpenError)?;
        let aad = aad(team_id, field);
        let plain = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_team_and_field() {
        let sealer = SecretBox::from_master_secret(b"a master secret of at least 32 bytes!!");
        let sealed = sealer.seal("T123", Field::BotToken, "xoxb-1-2-3");
        assert!(sealed.starts_with("v1.") && !sealed.contains("xoxb"));
        assert_eq!(
            sealer
                .open("T123", Field::BotToken, &sealed)
                .ok()
                .as_deref(),
            Some("xoxb-1-2-3")
        );
        // Fresh nonce each time.
        assert_ne!(sealed, sealer.seal("T123", Field::BotToken, "xoxb-1-2-3"));
        assert!(sealer.open("T999", Field::BotToken, &sealed).is_err());
        assert!(sealer.open("T123", Field::SigningSecret, &sealed).is_err());
        let other = SecretBox::from_master_secret(b"another master secret of 32 bytes!!!!");
        assert!(other.open("T123", Field::BotToken, &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(sealer.open("T123", Field::BotToken, &tampered).is_err());
        assert!(sealer.open("T123", Field::BotToken, "xoxb-1-2-3").is_err());
    }
}
