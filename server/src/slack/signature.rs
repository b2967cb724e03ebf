//! Slack's request signature, version 0: `v0=` and the hex HMAC-SHA256 of
//! `v0:{timestamp}:{raw body}` keyed with the workspace's signing secret.
//! A pure function of its inputs, the current time included, so tests can
//! pin the clock to Slack's documented example.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now, either way (replay window).
pub const MAX_AGE_SECS: i64 = 5 * 60;

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the `X-Slack-Request-Timestamp` header is not a Unix time")]
    BadTimestamp,
    #[error("the request timestamp is more than five minutes from now")]
    Stale,
    #[error("the `X-Slack-Signature` header is not a `v0=` signature")]
    Malformed,
    #[error("the request signature does not match")]
    Mismatch,
}

/// Checks a signature against `secret` at the time `now` (Unix seconds).
/// The comparison is constant-time (`Mac::verify_slice`).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - sent).abs() > MAX_AGE_SECS {
        return Err(SignatureError::Stale);
    }
    let tag = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|t| t.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    mac(secret, timestamp.trim(), body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Slack-Signature` value for a body: what Slack sends, and what the
/// benchmark and tests send as Slack.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://api.slack.com/authentication/verifying-requests-from-slack
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const NOW: i64 = 1_531_420_618 + 30;

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(
            verify(
                SECRET.as_bytes(),
                TIMESTAMP,
                BODY.as_bytes(),
                SIGNATURE,
                NOW
            ),
            Ok(())
        );
        assert_eq!(
            sign(SECRET.as_bytes(), TIMESTAMP, BODY.as_bytes()),
            SIGNATURE
        );
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify(
                SECRET.as_bytes(),
                TIMESTAMP,
                tampered.as_bytes(),
                SIGNATURE,
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        let mut longer = BODY.to_owned();
        longer.push('&');
        assert_eq!(
            verify(
                SECRET.as_bytes(),
                TIMESTAMP,
                longer.as_bytes(),
                SIGNATURE,
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let body = BODY.as_bytes();
        let secret = SECRET.as_bytes();
        let at_edge = 1_531_420_618 + MAX_AGE_SECS;
        assert_eq!(verify(secret, TIMESTAMP, body, SIGNATURE, at_edge), Ok(()));
        assert_eq!(
            verify(secret, TIMESTAMP, body, SIGNATURE, at_edge + 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(secret, TIMESTAMP, body, SIGNATURE, 1_531_420_618 - 301),
            Err(SignatureError::Stale)
        );
        // A replay with a fresh timestamp but the old signature does not match.
        let fresh = (NOW + 3600).to_string();
        assert_eq!(
            verify(secret, &fresh, body, SIGNATURE, NOW + 3600),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_wrong_secret_is_refused() {
        assert_eq!(
            verify(
                b"8f742231b10e8888abcd99yyyzzz85a6",
                TIMESTAMP,
                BODY.as_bytes(),
                SIGNATURE,
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"", TIMESTAMP, BODY.as_bytes(), SIGNATURE, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let (secret, body) = (SECRET.as_bytes(), BODY.as_bytes());
        assert_eq!(
            verify(secret, "yesterday", body, SIGNATURE, NOW),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(secret, "", body, SIGNATURE, NOW),
            Err(SignatureError::BadTimestamp)
        );
        for bad in [
            "",
            "v0=",
            "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "v0=zz114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "v0=a2114d57",
        ] {
            assert_eq!(
                verify(secret, TIMESTAMP, body, bad, NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
