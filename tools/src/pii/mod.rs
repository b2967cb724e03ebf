//! PII detectors: where personal data and secrets sit in a piece of text.
//!
//! Discovery uses them to tag columns (by name and by sampled values) and the
//! gateway uses them to redact chat text before it leaves the process, so they
//! favour precision: card numbers must pass Luhn, IBANs mod-97, SSNs the area
//! rules, and dates, amounts or version strings never count as phone numbers.
//! Offsets are byte offsets into the text, always on `char` boundaries.

mod bounds;
mod columns;
mod contact;
mod numbers;
mod secrets;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use columns::kinds_for_column_name;

/// A category of personal data or secret.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Phone,
    CardNumber,
    Iban,
    /// A US social security number.
    NationalId,
    /// An API key, token, password or private key.
    Secret,
}

impl PiiKind {
    pub const ALL: [PiiKind; 6] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::CardNumber,
        PiiKind::Iban,
        PiiKind::NationalId,
        PiiKind::Secret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::CardNumber => "card_number",
            PiiKind::Iban => "iban",
            PiiKind::NationalId => "national_id",
            PiiKind::Secret => "secret",
        }
    }

    /// The kind named by [`PiiKind::as_str`].
    pub fn parse(name: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Which detection wins when two overlap: the lower number. A secret's
    /// value may look like an email, an IBAN contains digit runs, and so on.
    fn precedence(self) -> u8 {
        match self {
            PiiKind::Secret => 0,
            PiiKind::Email => 1,
            PiiKind::Iban => 2,
            PiiKind::CardNumber => 3,
            PiiKind::NationalId => 4,
            PiiKind::Phone => 5,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detection: `text[start..end]` is PII of `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PiiMatch {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

impl PiiMatch {
    /// The matched part of `text` (the text this match was found in).
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or_default()
    }
}

/// Every PII detection in `text`, sorted by position and never overlapping.
pub fn find_all(text: &str) -> Vec<PiiMatch> {
    let mut found = Vec::new();
    secrets::secrets(text, &mut found);
    if text.contains('@') {
        contact::emails(text, &mut found);
    }
    if text.bytes().any(|b| b.is_ascii_digit()) {
        numbers::ibans(text, &mut found);
        numbers::card_numbers(text, &mut found);
        numbers::national_ids(text, &mut found);
        contact::phones(text, &mut found);
    }
    resolve_overlaps(found)
}

/// Keeps the strongest of overlapping detections: by kind precedence, then the
/// longer one, then the earlier one.
fn resolve_overlaps(mut found: Vec<PiiMatch>) -> Vec<PiiMatch> {
    found.sort_by_key(|m| (m.kind.precedence(), usize::MAX - (m.end - m.start), m.start));
    let mut kept: Vec<PiiMatch> = Vec::with_capacity(found.len());
    for candidate in found {
        if kept
            .iter()
            .all(|k| candidate.end <= k.start || candidate.start >= k.end)
        {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

/// The share of non-empty sampled values that must match a kind for a column
/// to hold it (the PII discovery playbook's 20 %).
pub const VALUE_SHARE_THRESHOLD: f64 = 0.2;

/// How many sampled values held each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueProfile {
    /// Non-empty values looked at.
    pub sampled: usize,
    /// Values holding each kind at least once, in [`PiiKind::ALL`] order.
    pub matches: [usize; 6],
}

impl ValueProfile {
    /// The kinds held by at least [`VALUE_SHARE_THRESHOLD`] of the values.
    pub fn kinds(&self) -> Vec<PiiKind> {
        if self.sampled == 0 {
            return Vec::new();
        }
        // Integer form of `matches / sampled >= threshold`, at least one match.
        let needed = ((self.sampled as f64) * VALUE_SHARE_THRESHOLD)
            .ceil()
            .max(1.0) as usize;
        PiiKind::ALL
            .into_iter()
            .filter(|k| self.matches[k.index()] >= needed)
            .collect()
    }
}

/// Counts, over the non-empty values, how many hold each kind of PII.
pub fn profile_values(values: &[String]) -> ValueProfile {
    let mut profile = ValueProfile::default();
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        profile.sampled += 1;
        let mut seen = [false; 6];
        for found in find_all(value) {
            seen[found.kind.index()] = true;
        }
        for (count, seen) in profile.matches.iter_mut().zip(seen) {
            *count += usize::from(seen);
        }
    }
    profile
}

/// The kinds a sizeable share (see [`VALUE_SHARE_THRESHOLD`]) of the
/// non-empty sampled values hold.
pub fn kinds_in_values(values: &[String]) -> Vec<PiiKind> {
    profile_values(values).kinds()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PiiKind, &str)> {
        find_all(text)
            .into_iter()
            .map(|m| (m.kind, m.text(text)))
            .collect()
    }

    #[test]
    fn finds_each_kind_in_running_text_in_order() {
        let text = "Mail ada@example.com or call (415) 555-0123; card 4111 1111 1111 1111, \
                    IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, key AKIAIOSFODNN7EXAMPLE.";
        assert_eq!(
            found(text),
            vec![
                (PiiKind::Email, "ada@example.com"),
                (PiiKind::Phone, "(415) 555-0123"),
                (PiiKind::CardNumber, "4111 1111 1111 1111"),
                (PiiKind::Iban, "DE89 3704 0044 0532 0130 00"),
                (PiiKind::NationalId, "123-45-6789"),
                (PiiKind::Secret, "AKIAIOSFODNN7EXAMPLE"),
            ]
        );
    }

    #[test]
    fn matches_never_overlap_and_the_stronger_kind_wins() {
        assert_eq!(
            found("password=ada@example.com"),
            vec![(PiiKind::Secret, "ada@example.com")]
        );
        let text = "+4930231253670 and 4111111111111111";
        assert_eq!(
            found(text),
            vec![
                (PiiKind::Phone, "+4930231253670"),
                (PiiKind::CardNumber, "4111111111111111")
            ]
        );
    }

    #[test]
    fn offsets_are_bytes_and_survive_multibyte_text() {
        let text = "Grüße — jürgen@example.de ✓";
        let matches = find_all(text);
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].text(text), "jürgen@example.de");
        assert_eq!(&text[matches[0].start..matches[0].end], "jürgen@example.de");
    }

    #[test]
    fn plain_business_text_has_no_pii() {
        for text in [
            "Revenue grew 12.5% to $1,234,567.89 on 2026-08-01 (v1.2.3, build 2026.10.4).",
            "Ticket TCK-10001 opened 2026-08-01T04:02:36Z, SLA 72 hours, priority P2.",
            "Order 1234567890123456 shipped; invoice INV-2026-00042 for 4,500.00 EUR.",
            "Call at 10:30-11:45 on 08/01/2026; room 415-B; ext. 5550.",
            "The token budget is 4096 tokens; password resets go through Okta.",
            "Password: reset it via the self-service portal",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in PiiKind::ALL {
            assert_eq!(PiiKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::String(kind.as_str().into()))
            );
        }
    }

    #[test]
    fn a_column_holds_a_kind_when_a_fifth_of_its_values_do() {
        let mut values: Vec<String> = (0..8).map(|i| format!("note {i}")).collect();
        values.push("ada@example.com".into());
        values.push(String::new());
        assert_eq!(kinds_in_values(&values), vec![]);
        values.push("bob@example.org".into());
        assert_eq!(kinds_in_values(&values), vec![PiiKind::Email]);
        let profile = profile_values(&values);
        assert_eq!(profile.sampled, 10);
        assert_eq!(profile.matches[PiiKind::Email.index()], 2);
        assert_eq!(kinds_in_values(&[]), vec![]);
        assert_eq!(kinds_in_values(&["  ".into()]), vec![]);
    }

    #[test]
    fn demo_source_values_are_recognised() {
        let phones = vec!["+16045550116".to_owned(), "+493023125367".to_owned()];
        assert_eq!(kinds_in_values(&phones), vec![PiiKind::Phone]);
        let cards = vec!["4000051785228235".to_owned(), "4111118806220727".to_owned()];
        assert_eq!(kinds_in_values(&cards), vec![PiiKind::CardNumber]);
        let ibans = vec!["DE68370400449759615036".to_owned()];
        assert_eq!(kinds_in_values(&ibans), vec![PiiKind::Iban]);
        let ssns = vec!["554-55-8072".to_owned(), "664-20-0842".to_owned()];
        assert_eq!(kinds_in_values(&ssns), vec![PiiKind::NationalId]);
    }
}
