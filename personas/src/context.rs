//! Conversation context: recognising a follow-up turn ("and last month?",
//! "what about EMEA?", "break that down by region") that should keep the
//! previous turn's persona and intent unless its own words clearly say otherwise.

use serde::{Deserialize, Serialize};

use crate::types::{Intent, Persona};

/// What the previous turn of the conversation was classified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousTurn {
    /// The persona the previous turn was answered as.
    pub persona: Persona,
    /// The previous turn's intent.
    pub intent: Intent,
}

/// Openings that continue the previous question rather than start a new one.
const OPENERS: [&str; 24] = [
    "and ",
    "and?",
    "what about",
    "how about",
    "same ",
    "also ",
    "now ",
    "then ",
    "ok and",
    "okay and",
    "what if",
    "only ",
    "just ",
    "but ",
    "vs ",
    "versus",
    "compared to",
    "how does that",
    "how do those",
    "break it down",
    "break that down",
    "drill into",
    "split by",
    "show me the same",
];

/// Words that point back at something said before.
const ANAPHORA: [&str; 7] = ["that", "those", "them", "it", "these", "same", "ones"];

/// Whether `text` reads as a continuation of the previous turn: it opens with a
/// continuation phrase, is a bare fragment of three words or fewer, or is a short
/// sentence pointing back with "that", "those", "it"…
pub fn looks_like_follow_up(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    if OPENERS.iter().any(|o| lower.starts_with(o)) {
        return true;
    }
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return false;
    }
    words.len() <= 3 || (words.len() <= 7 && words.iter().any(|w| ANAPHORA.contains(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_are_follow_ups() {
        for text in [
            "and last month?",
            "What about EMEA?",
            "same for Q3",
            "break that down by region",
            "EMEA only?",
            "how does that compare to budget?",
        ] {
            assert!(looks_like_follow_up(text), "{text}");
        }
    }

    #[test]
    fn full_questions_are_not() {
        for text in [
            "Why did our AWS bill go up this month?",
            "Which connectors failed their last sync?",
            "What is our policy for rotating database credentials?",
            "🙂",
        ] {
            assert!(!looks_like_follow_up(text), "{text}");
        }
    }
}
