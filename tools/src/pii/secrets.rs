//! Secrets: well-known key and token shapes (OpenAI, AWS, GitHub, Slack,
//! Stripe, Google, our own API keys and refresh tokens, JWTs), private keys,
//! the value of `password=…`-style assignments and the password in a URL.

use regex::{Captures, Regex};
use std::sync::LazyLock;

use super::bounds::{at, before, compile, is_word, push};
use super::{PiiKind, PiiMatch};

/// Well-known key and token shapes.
static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(concat!(
        r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        r"|(?:AKIA|ASIA)[0-9A-Z]{16}",
        r"|gh[pousr]_[A-Za-z0-9]{36,255}",
        r"|github_pat_[A-Za-z0-9_]{22,255}",
        r"|xox[abpr]-[A-Za-z0-9-]{10,}",
        r"|aos_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{32,}",
        r"|rt_[0-9a-f]{32}_[A-Za-z0-9_-]{32,}",
        r"|(?:sk|rk)_live_[A-Za-z0-9]{16,}",
        r"|AIza[0-9A-Za-z_-]{35}",
        r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    ))
});
static PRIVATE_KEY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
    )
});
/// `password=…`, `api_key: …`, `"client_secret": "…"`: the value is the secret.
static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(concat!(
        r#"(?i)\b(?:[a-z0-9]+[_.-])*(?:password|passwd|pwd|passphrase|secret|api[_-]?key|"#,
        r#"access[_-]?key|secret[_-]?key|private[_-]?key|token|credentials?)["']?[ \t]*([:=])[ \t]*"#,
        r#"(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|([^\s"',;]{1,256}))"#,
    ))
});
/// The password in `scheme://user:password@host`.
static URL_PASSWORD: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s/@]+)@"));

pub(super) fn secrets(text: &str, out: &mut Vec<PiiMatch>) {
    if let Some(re) = TOKEN.as_ref() {
        for m in re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let body = m.as_str().get(4..).unwrap_or_default();
            let random_looking = body.bytes().any(|b| b.is_ascii_digit())
                && body.bytes().any(|b| b.is_ascii_alphabetic());
            let standalone = !is_word(before(text, start))
                && before(text, start) != Some(b'-')
                && !is_word(at(text, end));
            if random_looking && standalone {
                push(out, PiiKind::Secret, start, end);
            }
        }
    }
    if let Some(re) = PRIVATE_KEY.as_ref() {
        for m in re.find_iter(text) {
            push(out, PiiKind::Secret, m.start(), m.end());
        }
    }
    if let Some(re) = ASSIGNMENT.as_ref() {
        for caps in re.captures_iter(text) {
            assigned_secret(&caps, out);
        }
    }
    if let Some(re) = URL_PASSWORD.as_ref() {
        for caps in re.captures_iter(text) {
            if let Some(password) = caps.get(1) {
                push(out, PiiKind::Secret, password.start(), password.end());
            }
        }
    }
}

/// The value of a `key = value` or `key: value` assignment, when it looks like
/// a credential. A colon is common in prose ("Password: reset it in Okta"), so
/// there the value must be longer and hold a digit or a symbol.
fn assigned_secret(caps: &Captures<'_>, out: &mut Vec<PiiMatch>) {
    let colon = caps.get(1).is_some_and(|s| s.as_str() == ":");
    let quoted = caps.get(2).or_else(|| caps.get(3));
    let Some(value) = quoted.or_else(|| caps.get(4)) else {
        return;
    };
    let mut raw = value.as_str();
    if quoted.is_none() && colon {
        raw = raw.trim_end_matches(['.', ')', '!', '?']);
    }
    let lower = raw.to_ascii_lowercase();
    let placeholder = [
        "null", "none", "true", "false", "redacted", "hidden", "required", "string",
    ]
    .contains(&lower.as_str())
        || ["${", "{{", "<", "%("].iter().any(|p| raw.starts_with(p))
        || raw
            .chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '.'));
    let length = raw.chars().count();
    let credible = if colon {
        length >= 6
            && raw
                .chars()
                .any(|c| c.is_ascii_digit() || !c.is_alphanumeric())
    } else {
        length >= 4
    };
    if credible && !placeholder {
        push(
            out,
            PiiKind::Secret,
            value.start(),
            value.start() + raw.len(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(detect: fn(&str, &mut Vec<PiiMatch>), text: &str) -> Vec<String> {
        let mut out = Vec::new();
        detect(text, &mut out);
        out.iter().map(|m| m.text(text).to_owned()).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [&TOKEN, &PRIVATE_KEY, &ASSIGNMENT, &URL_PASSWORD] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn well_known_keys_are_secrets() {
        let aos = "aos_Ab3dEf9h_Zx-9_abcdefghijklmnopqrstuvwxyz012345";
        for key in [
            "sk-proj-Abc123Def456Ghi789Jkl012Mno345",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_1234567890abcdefghijABCDEFGHIJ123456",
            "xoxb-123456789012-abcdefABCDEF",
            aos,
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ] {
            assert_eq!(spans(secrets, &format!("use {key} now")), [key], "{key}");
        }
        for text in [
            "pip install sk-learn-contrib-extensions-tools",
            "task-abcdefghij1234567890abcd",
            "AKIA1234",
            "xoxb-short",
        ] {
            assert_eq!(spans(secrets, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn assignments_mark_only_the_value() {
        assert_eq!(spans(secrets, "DB_PASSWORD=s3cret!"), ["s3cret!"]);
        assert_eq!(
            spans(secrets, r#"{"client_secret": "abc123xyz"}"#),
            ["abc123xyz"]
        );
        assert_eq!(spans(secrets, "password: hunter22."), ["hunter22"]);
        assert_eq!(spans(secrets, "api_key = 'k-1234'"), ["k-1234"]);
        assert_eq!(
            spans(secrets, "postgres://app:pa55word@db:5432/x"),
            ["pa55word"]
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        assert_eq!(spans(secrets, &format!("key:\n{pem}\nbye")), [pem]);
        for text in [
            "password: reset it through Okta",
            "password=${DB_PASSWORD}",
            "secret: 10 days",
            "token_count=42",
            "max_tokens: 4096",
            "password=****",
            "password = null",
        ] {
            assert_eq!(spans(secrets, text), Vec::<String>::new(), "{text}");
        }
    }
}
