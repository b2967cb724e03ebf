//! A Slack workspace's signing secret, bot token and webhook URL are sealed
//! ([`tools::secrets`]) before they reach the database, with a key of their
//! own (label `aos/slack/secrets/v1`) and the team and field as associated
//! data, so a sealed value moved to another row or column does not open.
//! Rotating `AOS_JWT_SECRET` makes them unreadable: register the workspaces
//! again after it.

use tools::secrets::{self, OpenError};

/// The key's HKDF label: Slack's secrets have a key of their own.
const LABEL: &str = "aos/slack/secrets/v1";

/// Seals and opens the secrets of Slack workspaces.
#[derive(Clone, Debug)]
pub struct SecretBox(secrets::SecretBox);

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

fn context(team_id: &str, field: Field) -> String {
    format!("slack:{team_id}:{}", field.as_str())
}

impl SecretBox {
    /// The box whose key HKDF derives from the server's master secret.
    pub fn from_master_secret(master: &[u8]) -> SecretBox {
        SecretBox(secrets::SecretBox::from_master_secret(master, LABEL))
    }

    pub fn seal(&self, team_id: &str, field: Field, plain: &str) -> String {
        self.0.seal(&context(team_id, field), plain)
    }

    pub fn open(&self, team_id: &str, field: Field, sealed: &str) -> Result<String, OpenError> {
        self.0.open(&context(team_id, field), sealed)
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
        let last = tampered.pop();
        tampered.push(if last == Some('A') { 'B' } else { 'A' });
        assert!(sealer.open("T123", Field::BotToken, &tampered).is_err());
        assert!(sealer.open("T123", Field::BotToken, "xoxb-1-2-3").is_err());
    }
}
