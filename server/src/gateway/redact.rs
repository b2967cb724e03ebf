//! Reversible PII redaction. Before any text leaves the process (to an LLM or
//! a log), emails, phone numbers, card numbers, IBANs, national ids and secrets
//! become placeholders such as `[EMAIL_1]`, stable within a conversation; what
//! the user sees has them restored. The detectors are the ones discovery uses.

use std::collections::HashMap;
use tools::pii::{self, PiiKind};

/// The placeholders of one conversation.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
    counts: HashMap<PiiKind, usize>,
}

impl Redactor {
    /// A redactor that has seen the conversation so far, so the same value
    /// gets the same placeholder in every turn.
    pub fn for_history<'a>(texts: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut redactor = Redactor::default();
        for text in texts {
            redactor.redact(text);
        }
        redactor
    }

    /// `text` with every detected value replaced by its placeholder.
    pub fn redact(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in pii::find_all(text) {
            out.push_str(&text[last..found.start]);
            let value = &text[found.start..found.end];
            out.push_str(&self.placeholder(found.kind, value));
            last = found.end;
        }
        out.push_str(&text[last..]);
        out
    }

    fn placeholder(&mut self, kind: PiiKind, value: &str) -> String {
        if let Some(existing) = self.by_value.get(value) {
            return existing.clone();
        }
        let count = self.counts.entry(kind).or_insert(0);
        *count += 1;
        let placeholder = format!("[{}_{}]", kind.as_str().to_uppercase(), count);
        self.by_value.insert(value.to_owned(), placeholder.clone());
        self.by_placeholder
            .insert(placeholder.clone(), value.to_owned());
        placeholder
    }

    /// `text` with every known placeholder replaced by its value.
    pub fn restore(&self, text: &str) -> String {
        if self.by_placeholder.is_empty() || !text.contains('[') {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            match tail.find(']').map(|close| &tail[..=close]) {
                Some(candidate) if self.by_placeholder.contains_key(candidate) => {
                    out.push_str(&self.by_placeholder[candidate]);
                    rest = &tail[candidate.len()..];
                }
                _ => {
                    out.push('[');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Restores placeholders in streamed text, holding back a trailing fragment
/// that could be the start of a placeholder split across deltas.
#[derive(Debug, Default)]
pub struct StreamRestorer {
    pending: String,
}

/// The longest placeholder is short; anything longer after `[` is plain text.
const MAX_PLACEHOLDER: usize = 24;

impl StreamRestorer {
    /// The text that can be shown now.
    pub fn push(&mut self, redactor: &Redactor, delta: &str) -> String {
        self.pending.push_str(delta);
        let cut = match self.pending.rfind('[') {
            Some(open)
                if !self.pending[open..].contains(']')
                    && self.pending.len() - open < MAX_PLACEHOLDER =>
            {
                open
            }
            _ => self.pending.len(),
        };
        let ready: String = self.pending.drain(..cut).collect();
        redactor.restore(&ready)
    }

    /// Whatever is still held back, at the end of the stream.
    pub fn finish(&mut self, redactor: &Redactor) -> String {
        let rest = std::mem::take(&mut self.pending);
        redactor.restore(&rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_stable_placeholders_and_come_back() {
        let mut r = Redactor::default();
        let a = r.redact("Mail jane.doe@example.com or call +14155550123.");
        assert!(!a.contains("jane.doe@example.com"), "{a}");
        assert!(!a.contains("+14155550123"), "{a}");
        let b = r.redact("Again: jane.doe@example.com");
        let placeholder = b.trim_start_matches("Again: ");
        assert!(a.contains(placeholder), "{a} / {b}");
        assert_eq!(
            r.restore(&a),
            "Mail jane.doe@example.com or call +14155550123."
        );
    }

    #[test]
    fn placeholders_split_across_deltas_are_restored() {
        let mut r = Redactor::default();
        let redacted = r.redact("card 4111 1111 1111 1111 please");
        let mut stream = StreamRestorer::default();
        let mut shown = String::new();
        for piece in redacted.as_bytes().chunks(3) {
            shown.push_str(&stream.push(&r, std::str::from_utf8(piece).unwrap_or("")));
        }
        shown.push_str(&stream.finish(&r));
        assert_eq!(shown, "card 4111 1111 1111 1111 please");
    }

    #[test]
    fn brackets_that_are_not_placeholders_pass_through() {
        let r = Redactor::default();
        assert_eq!(r.restore("see [1] and [x"), "see [1] and [x");
    }
}
