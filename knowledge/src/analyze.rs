//! Lexical analysis for the BM25 index: lower-casing, splitting into words of
//! two or more letters or digits, dropping stop words and Snowball stemming, in
//! the tenant's language. Documents and queries go through the same analyzer.

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{BTreeMap, HashSet};

/// A language the analyzer knows (stemmer and stop words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    French,
    German,
    Spanish,
    Italian,
    Portuguese,
    Dutch,
}

impl Language {
    pub fn parse(name: &str) -> Option<Language> {
        Some(match name {
            "english" => Language::English,
            "french" => Language::French,
            "german" => Language::German,
            "spanish" => Language::Spanish,
            "italian" => Language::Italian,
            "portuguese" => Language::Portuguese,
            "dutch" => Language::Dutch,
            _ => return None,
        })
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Language::English => Algorithm::English,
            Language::French => Algorithm::French,
            Language::German => Algorithm::German,
            Language::Spanish => Algorithm::Spanish,
            Language::Italian => Algorithm::Italian,
            Language::Portuguese => Algorithm::Portuguese,
            Language::Dutch => Algorithm::Dutch,
        }
    }
}

/// Turns text into index terms.
pub struct Analyzer {
    stemmer: Stemmer,
    stop_words: HashSet<&'static str>,
}

impl Analyzer {
    pub fn new(language: Language) -> Analyzer {
        let stop_words = match language {
            Language::English => ENGLISH_STOP_WORDS.iter().copied().collect(),
            // Stemming still applies; stop words matter less for BM25 since idf
            // already discounts them, so other languages go without a list.
            _ => HashSet::new(),
        };
        Analyzer {
            stemmer: Stemmer::create(language.algorithm()),
            stop_words,
        }
    }

    /// The terms of `text` in order, duplicates kept.
    pub fn terms(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .filter(|w| !self.stop_words.contains(w.as_str()))
            .map(|w| self.stemmer.stem(&w).into_owned())
            .filter(|t| t.len() <= 64)
            .collect()
    }

    /// Term frequencies of `text` (sorted by term) and its length in terms.
    pub fn term_frequencies(&self, text: &str) -> (BTreeMap<String, i32>, i32) {
        let mut counts = BTreeMap::new();
        let mut length = 0;
        for term in self.terms(text) {
            *counts.entry(term).or_insert(0) += 1;
            length += 1;
        }
        (counts, length)
    }
}

/// English stop words (the list used by common BM25 implementations such as
/// `bm25s`, which the evaluation compares against).
pub const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_terms_are_stemmed_and_stop_words_dropped() {
        let analyzer = Analyzer::new(Language::English);
        assert_eq!(
            analyzer.terms("The Connectors were syncing invoices, and a sync FAILED!"),
            vec!["connector", "were", "sync", "invoic", "sync", "fail"]
        );
        let (tf, len) = analyzer.term_frequencies("sync syncing synced");
        assert_eq!(len, 3);
        assert_eq!(tf.get("sync"), Some(&3));
    }

    #[test]
    fn single_characters_and_punctuation_are_not_terms() {
        let analyzer = Analyzer::new(Language::English);
        assert_eq!(analyzer.terms("x - y / 42 % Q3"), vec!["42", "q3"]);
        assert!(analyzer.terms("").is_empty());
    }

    #[test]
    fn other_languages_stem_with_their_own_rules() {
        let analyzer = Analyzer::new(Language::German);
        assert_eq!(analyzer.terms("Rechnungen"), vec!["rechnung"]);
        assert_eq!(Language::parse("klingon"), None);
    }
}
