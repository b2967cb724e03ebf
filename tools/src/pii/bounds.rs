//! Where a candidate starts and ends: the byte checks every detector makes
//! around a regex match (a number must not run on into a date or a word),
//! and the one way their patterns are compiled. All digit classes in the
//! patterns are ASCII (`[0-9]`), so these byte checks hold.

use regex::Regex;

use super::{PiiKind, PiiMatch};

/// Compiles a detector's pattern. The patterns are constants the unit tests
/// compile; should one ever fail, its detector finds nothing rather than panic.
pub(super) fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern)
        .map_err(|err| tracing::error!(error = %err, pattern, "invalid PII pattern"))
        .ok()
}

pub(super) fn before(text: &str, i: usize) -> Option<u8> {
    i.checked_sub(1)
        .and_then(|j| text.as_bytes().get(j).copied())
}

pub(super) fn at(text: &str, i: usize) -> Option<u8> {
    text.as_bytes().get(i).copied()
}

pub(super) fn is_word(b: Option<u8>) -> bool {
    matches!(b, Some(b) if b.is_ascii_alphanumeric() || b == b'_')
}

pub(super) fn is_digit(b: Option<u8>) -> bool {
    matches!(b, Some(b) if b.is_ascii_digit())
}

/// Whether a number carries on after `end` (a digit, or `-`, `.`, `/` then a
/// digit): then the match is part of something longer, such as a date.
pub(super) fn number_continues_after(text: &str, end: usize) -> bool {
    let next = at(text, end);
    is_digit(next) || (matches!(next, Some(b'-' | b'.' | b'/')) && is_digit(at(text, end + 1)))
}

pub(super) fn number_continues_before(text: &str, start: usize) -> bool {
    let prev = before(text, start);
    is_digit(prev)
        || (matches!(prev, Some(b'-' | b'.' | b'/'))
            && is_digit(before(text, start.saturating_sub(1))))
}

/// A digit run that stands alone: not inside a word, not a decimal, not signed.
pub(super) fn standalone_number(text: &str, start: usize, end: usize) -> bool {
    let prev = before(text, start);
    let next = at(text, end);
    !(is_word(prev)
        || prev == Some(b'+')
        || (matches!(prev, Some(b'.' | b',')) && is_digit(before(text, start.saturating_sub(1))))
        || is_word(next)
        || (matches!(next, Some(b'.' | b',')) && is_digit(at(text, end + 1))))
}

pub(super) fn push(out: &mut Vec<PiiMatch>, kind: PiiKind, start: usize, end: usize) {
    out.push(PiiMatch { kind, start, end });
}
