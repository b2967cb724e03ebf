//! Contact details: email addresses and phone numbers (international
//! `+` format, and North American national formats). Dates, amounts, versions
//! and card numbers never count as phone numbers.

use regex::Regex;
use std::sync::LazyLock;

use super::bounds::{
    at, before, compile, is_word, number_continues_after, number_continues_before, push,
};
use super::{PiiKind, PiiMatch};

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"[\p{L}\p{N}_%+-][\p{L}\p{N}._%+-]*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,24}",
    )
});
/// International format: `+` and 8–15 digits, optionally grouped.
static E164: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(r"\+[1-9](?:[ .-]?(?:\([0-9]{1,4}\)|[0-9])){7,16}"));
/// North American national format: (415) 555-0123, 415-555-0123, 1 415 555 0123.
static NANP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(r"(?:1[ .-])?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}")
});

pub(super) fn emails(text: &str, out: &mut Vec<PiiMatch>) {
    let Some(re) = EMAIL.as_ref() else { return };
    for m in re.find_iter(text) {
        // A top-level domain longer than the pattern allows: not an address.
        if text[m.end()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        push(out, PiiKind::Email, m.start(), m.end());
    }
}

pub(super) fn phones(text: &str, out: &mut Vec<PiiMatch>) {
    if let Some(re) = E164.as_ref() {
        for m in re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            if is_word(before(text, start)) || number_continues_after(text, end) {
                continue;
            }
            if plausible_international(m.as_str()) {
                push(out, PiiKind::Phone, start, end);
            }
        }
    }
    if let Some(re) = NANP.as_ref() {
        for m in re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let standalone = !is_word(before(text, start))
                && before(text, start) != Some(b'+')
                && !number_continues_before(text, start)
                && !is_word(at(text, end))
                && !number_continues_after(text, end);
            if standalone {
                push(out, PiiKind::Phone, start, end);
            }
        }
    }
}

/// 8–15 digits, and not a signed date (`+2026-08-01`) or amount (`+12345678.90`).
fn plausible_international(candidate: &str) -> bool {
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    if !(8..=15).contains(&digits) {
        return false;
    }
    let groups: Vec<usize> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect();
    let date_like = groups == [4, 2, 2] && candidate.contains('-');
    let decimal_like = candidate
        .rfind(|c: char| !c.is_ascii_digit())
        .is_some_and(|i| candidate[i..].starts_with('.') && candidate.len() - i - 1 <= 2);
    !date_like && !decimal_like
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
        for pattern in [&EMAIL, &E164, &NANP] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn emails_with_international_characters() {
        assert_eq!(
            spans(emails, "to: jürgen.müller@beispiel.de."),
            ["jürgen.müller@beispiel.de"]
        );
        assert_eq!(
            spans(emails, "a.b+tag@sub.example.co.uk"),
            ["a.b+tag@sub.example.co.uk"]
        );
        for text in ["@handle", "user@localhost", "name@example.", "v1.2@3.4"] {
            assert_eq!(spans(emails, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn phones_in_international_and_national_formats() {
        for phone in [
            "+16045550116",
            "+44 20 7946 0958",
            "+1 (415) 555-0123",
            "(415) 555-0123",
            "415-555-0123",
            "415.555.0123",
            "1-800-555-0199",
        ] {
            assert_eq!(
                spans(phones, &format!("call {phone}, thanks")),
                [phone],
                "{phone}"
            );
        }
        for text in [
            "2026-08-01",
            "08/01/2026",
            "+2026-08-01",
            "+12345678.90",
            "$415,555,0123",
            "v10.415.555.0123",
            "4111-1111-1111-1111",
            "123-456-7890", // area codes never start with 1
            "+1234567",     // too short
            "2026-10-04T10:30:00+05:30",
            "1.2.3",
        ] {
            assert_eq!(spans(phones, text), Vec::<String>::new(), "{text}");
        }
    }
}
