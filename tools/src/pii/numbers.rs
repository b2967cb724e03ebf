//! Numbers that identify a person or an account, each checked the way its
//! issuer checks it: card numbers (Luhn, a network's leading digit, card-like
//! grouping), US social security numbers (SSA area, group and serial rules)
//! and IBANs (the country's length and the mod-97 check digits).

use regex::Regex;
use std::sync::LazyLock;

use super::bounds::{
    at, before, compile, is_word, number_continues_after, number_continues_before, push,
    standalone_number,
};
use super::{PiiKind, PiiMatch};

/// A run of digits, possibly grouped by single spaces or dashes.
static DIGIT_RUN: LazyLock<Option<Regex>> = LazyLock::new(|| compile(r"[0-9]+(?:[ -][0-9]+)*"));
static SSN: LazyLock<Option<Regex>> = LazyLock::new(|| compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}"));
static IBAN_START: LazyLock<Option<Regex>> = LazyLock::new(|| compile(r"[A-Z]{2}[0-9]{2}"));

pub(super) fn card_numbers(text: &str, out: &mut Vec<PiiMatch>) {
    let Some(re) = DIGIT_RUN.as_ref() else { return };
    for run in re.find_iter(text) {
        if run.len() < 13 || !standalone_number(text, run.start(), run.end()) {
            continue;
        }
        // Digit groups as (start, end, separator before the group).
        let mut groups: Vec<(usize, usize, Option<u8>)> = Vec::new();
        let mut group_start = run.start();
        let mut separator = None;
        for (i, b) in run.as_str().bytes().enumerate() {
            if !b.is_ascii_digit() {
                groups.push((group_start, run.start() + i, separator));
                group_start = run.start() + i + 1;
                separator = Some(b);
            }
        }
        groups.push((group_start, run.end(), separator));
        // Longest window of whole groups first, left to right.
        let mut i = 0;
        while i < groups.len() {
            let found = (i..groups.len()).rev().find(|&j| {
                let window = &groups[i..=j];
                let grouped_like_a_card = window.len() == 1
                    || window.iter().all(|g| (3..=6).contains(&(g.1 - g.0)))
                        && window[1..].iter().all(|g| g.2 == window[1].2);
                let digits: Vec<u8> = text[window[0].0..window[window.len() - 1].1]
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .collect();
                grouped_like_a_card && (13..=19).contains(&digits.len()) && valid_card(&digits)
            });
            match found {
                Some(j) => {
                    push(out, PiiKind::CardNumber, groups[i].0, groups[j].1);
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }
}

/// A major network's leading digit (2–6) and a valid Luhn check digit.
fn valid_card(digits: &[u8]) -> bool {
    matches!(digits.first(), Some(b'2'..=b'6')) && luhn(digits)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            match (i % 2 == 1, d * 2) {
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
                (false, _) => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

pub(super) fn national_ids(text: &str, out: &mut Vec<PiiMatch>) {
    let Some(re) = SSN.as_ref() else { return };
    for m in re.find_iter(text) {
        let (start, end) = (m.start(), m.end());
        let standalone = !is_word(before(text, start))
            && !number_continues_before(text, start)
            && !is_word(at(text, end))
            && !number_continues_after(text, end);
        if standalone && valid_ssn(m.as_str()) {
            push(out, PiiKind::NationalId, start, end);
        }
    }
}

/// SSA rules: no area 000, 666 or 9xx, no group 00, no serial 0000.
fn valid_ssn(ssn: &str) -> bool {
    let (area, group, serial) = (&ssn[0..3], &ssn[4..6], &ssn[7..11]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

pub(super) fn ibans(text: &str, out: &mut Vec<PiiMatch>) {
    let Some(re) = IBAN_START.as_ref() else {
        return;
    };
    for m in re.find_iter(text) {
        if is_word(before(text, m.start())) {
            continue;
        }
        if let Some(end) = iban_end(text, m.start()) {
            push(out, PiiKind::Iban, m.start(), end);
        }
    }
}

/// Where the IBAN starting at `start` ends: exactly its country's length of
/// letters and digits (printed in groups of four or not) with a valid checksum.
fn iban_end(text: &str, start: usize) -> Option<usize> {
    let length = iban_length(text.get(start..start + 2)?)?;
    let mut chars = Vec::with_capacity(length);
    let mut i = start;
    while chars.len() < length {
        let b = at(text, i)?;
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            chars.push(b);
        } else if !(b == b' ' && chars.len().is_multiple_of(4)) {
            return None;
        }
        i += 1;
    }
    (!is_word(at(text, i)) && iban_checksum_ok(&chars)).then_some(i)
}

fn iban_checksum_ok(chars: &[u8]) -> bool {
    let mut remainder: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        remainder = if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    remainder == 1
}

/// IBAN length per country (SWIFT IBAN registry).
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" => 20,
        "CH" | "CR" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" | "VA" => 22,
        "AE" | "GI" | "IL" | "IQ" | "TL" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" | "ST" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" => 27,
        "AL" | "AZ" | "BY" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" | "SV" => 28,
        "BR" | "EG" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" | "SC" => 31,
        "LC" => 32,
        _ => return None,
    })
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
        for pattern in [&DIGIT_RUN, &SSN, &IBAN_START] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn cards_need_luhn_a_network_digit_and_card_grouping() {
        assert_eq!(
            spans(card_numbers, "4111111111111111"),
            ["4111111111111111"]
        );
        assert_eq!(
            spans(card_numbers, "5500-0000-0000-0004"),
            ["5500-0000-0000-0004"]
        );
        assert_eq!(
            spans(card_numbers, "amex 3782 822463 10005."),
            ["3782 822463 10005"]
        );
        assert_eq!(
            spans(card_numbers, "order 1234 4111 1111 1111 1111"),
            ["4111 1111 1111 1111"]
        );
        for text in [
            "4111111111111112",        // Luhn fails
            "4111 1111 1111 1112",     // Luhn fails
            "1234567812345670",        // Luhn passes, no network starts with 1
            "4111-1111 1111-1111",     // mixed separators
            "0.4111111111111111",      // a decimal
            "4111111111111111.50",     // an amount
            "ID4111111111111111",      // inside a word
            "+4111111111111111",       // a phone number
            "41111111111111111111111", // too long
        ] {
            assert_eq!(spans(card_numbers, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn ibans_need_their_country_length_and_mod_97() {
        assert_eq!(
            spans(ibans, "DE89370400440532013000"),
            ["DE89370400440532013000"]
        );
        assert_eq!(
            spans(ibans, "GB82 WEST 1234 5698 7654 32."),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(spans(ibans, "NO9386011117947"), ["NO9386011117947"]);
        for text in [
            "DE89370400440532013001",  // checksum
            "DE8937040044053201300",   // too short
            "DE893704004405320130000", // too long
            "ZZ89370400440532013000",  // no such country
            "XDE89370400440532013000", // inside a word
        ] {
            assert_eq!(spans(ibans, text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn ssns_follow_the_area_group_and_serial_rules() {
        assert_eq!(spans(national_ids, "SSN: 123-45-6789."), ["123-45-6789"]);
        for text in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert_eq!(spans(national_ids, text), Vec::<String>::new(), "{text}");
        }
        for text in [
            "1123-45-6789",
            "123-45-67890",
            "12-123-45-6789",
            "ab123-45-6789",
        ] {
            assert_eq!(spans(national_ids, text), Vec::<String>::new(), "{text}");
        }
    }
}
