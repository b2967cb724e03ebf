//! Secrets at rest: credentials are sealed with ChaCha20-Poly1305 before they
//! reach the database, and opened only where they are used.
//!
//! Each use has its own key, derived from the server's master secret
//! (`AOS_JWT_SECRET`) with HKDF-SHA256 under a label of its own, so no key is
//! the JWT signing key itself and no other setting is needed. Rotating the
//! master secret therefore makes sealed values unreadable.
//!
//! Sealed form: `v1.` + base64url(12-byte random nonce ‖ ciphertext ‖ tag).
//! The associated data names where the value belongs (a Slack team and
//! field, a connector), so a sealed value moved to another row does not open.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const VERSION: &str = "v1.";
const SALT: &[u8] = b"autonomos-control-center";
const NONCE_LEN: usize = 12;

/// A sealed value could not be opened (wrong key, tampered, or not ours).
#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be decrypted (was AOS_JWT_SECRET changed?)")]
pub struct OpenError;

/// Seals and opens the secrets of one use.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// The box whose key HKDF derives from the master secret under `label`
    /// (such as `aos/slack/secrets/v1`).
    pub fn from_master_secret(master: &[u8], label: &str) -> SecretBox {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
        let _ = Hkdf::<Sha256>::new(Some(SALT), master).expand(label.as_bytes(), &mut key);
        SecretBox {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    /// Seals `plain` for the place named by `context`.
    pub fn seal(&self, context: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption fails only for messages of gigabytes.
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`seal`](Self::seal) sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, OpenError> {
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or(OpenError)?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = <&Nonce>::try_from(nonce).map_err(|_| OpenError)?;
        let plain = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"a master secret of at least 32 bytes!!";

    #[test]
    fn sealed_values_open_only_with_the_same_key_label_and_context() {
        let sealer = SecretBox::from_master_secret(MASTER, "aos/test/v1");
        let sealed = sealer.seal("place:1", "s3cret-value");
        assert!(sealed.starts_with("v1.") && !sealed.contains("s3cret"));
        assert_eq!(
            sealer.open("place:1", &sealed).ok().as_deref(),
            Some("s3cret-value")
        );
        // A fresh nonce each time.
        assert_ne!(sealed, sealer.seal("place:1", "s3cret-value"));
        assert!(sealer.open("place:2", &sealed).is_err());
        let other_label = SecretBox::from_master_secret(MASTER, "aos/other/v1");
        assert!(other_label.open("place:1", &sealed).is_err());
        let other_master =
            SecretBox::from_master_secret(b"another master secret of 32 bytes!!!!", "aos/test/v1");
        assert!(other_master.open("place:1", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.pop();
        tampered.push(if last == Some('A') { 'B' } else { 'A' });
        assert!(sealer.open("place:1", &tampered).is_err());
        assert!(sealer.open("place:1", "s3cret-value").is_err());
    }
}
