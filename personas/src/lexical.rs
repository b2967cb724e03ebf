//! Lexical evidence for the few-shot classifier: TF-IDF over word unigrams and
//! bigrams, with one profile per label (the normalised mean of its exemplars'
//! vectors) compared to the query by cosine. It catches exact domain words
//! ("NetSuite", "quota", "SLA") that sentence embeddings blur.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// A hasher with fixed keys: maps built by the same insertions iterate in the
/// same order, so sums over them add in the same order every time and a text
/// always gets the same score to the last bit. (The default `RandomState`
/// differs between instances, and so did the last bit of a confidence.)
type Fixed = BuildHasherDefault<DefaultHasher>;

/// A sparse, L2-normalised TF-IDF vector.
pub(crate) type SparseVector = HashMap<String, f32, Fixed>;

/// Inverse document frequencies learned from the exemplars, and each label's profile.
#[derive(Debug, Clone)]
pub(crate) struct LexicalIndex {
    idf: HashMap<String, f32>,
    /// Weight of a term no exemplar contains: the rarest possible.
    unseen_idf: f32,
    profiles: Vec<Profile>,
}

/// The sum of a label's exemplar vectors and that sum's squared length.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profile {
    sum: SparseVector,
    norm_sq: f32,
}

impl LexicalIndex {
    /// Learns term weights from `texts` and builds one profile per label.
    pub(crate) fn new(label_count: usize, texts: &[(usize, &str)]) -> LexicalIndex {
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let term_lists: Vec<Vec<String>> = texts.iter().map(|(_, t)| terms(t)).collect();
        for list in &term_lists {
            let mut seen: Vec<&String> = list.iter().collect();
            seen.sort();
            seen.dedup();
            for term in seen {
                *document_frequency.entry(term.clone()).or_default() += 1;
            }
        }
        let n = texts.len() as f32;
        let idf = document_frequency
            .into_iter()
            .map(|(term, df)| (term, ((n + 1.0) / (df as f32 + 1.0)).ln() + 1.0))
            .collect();
        let mut index = LexicalIndex {
            idf,
            unseen_idf: (n + 1.0).ln() + 1.0,
            profiles: vec![Profile::default(); label_count],
        };
        for ((label, _), list) in texts.iter().zip(&term_lists) {
            let vector = index.weigh(list);
            add_into(&mut index.profiles[*label].sum, &vector);
        }
        for profile in &mut index.profiles {
            profile.norm_sq = profile.sum.values().map(|w| w * w).sum();
        }
        index
    }

    /// The TF-IDF vector of `text` (sublinear term frequency, unit length).
    pub(crate) fn vector(&self, text: &str) -> SparseVector {
        self.weigh(&terms(text))
    }

    fn weigh(&self, terms: &[String]) -> SparseVector {
        let mut counts: HashMap<&str, f32, Fixed> = HashMap::default();
        for term in terms {
            *counts.entry(term).or_default() += 1.0;
        }
        let mut vector: SparseVector = counts
            .into_iter()
            .map(|(term, count)| {
                let idf = self.idf.get(term).copied().unwrap_or(self.unseen_idf);
                (term.to_owned(), (1.0 + count.ln()) * idf)
            })
            .collect();
        let norm = vector.values().map(|w| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.values_mut().for_each(|w| *w /= norm);
        }
        vector
    }

    /// Cosine of `query` with every label's profile, the profile of a label
    /// extended by that label's `extra` vectors (tenant exemplars) when given.
    pub(crate) fn scores(&self, query: &SparseVector, extra: &[Option<SparseVector>]) -> Vec<f32> {
        self.profiles
            .iter()
            .enumerate()
            .map(|(label, profile)| {
                let base = dot(query, &profile.sum);
                match extra.get(label).and_then(Option::as_ref) {
                    None if profile.norm_sq > 0.0 => base / profile.norm_sq.sqrt(),
                    None => 0.0,
                    Some(added) => {
                        let added_norm_sq: f32 = added.values().map(|w| w * w).sum();
                        let norm_sq =
                            profile.norm_sq + added_norm_sq + 2.0 * dot(added, &profile.sum);
                        if norm_sq > 0.0 {
                            (base + dot(query, added)) / norm_sq.sqrt()
                        } else {
                            0.0
                        }
                    }
                }
            })
            .collect()
    }
}

/// Adds `vector` into `sum`, term by term.
pub(crate) fn add_into(sum: &mut SparseVector, vector: &SparseVector) {
    for (term, weight) in vector {
        *sum.entry(term.clone()).or_default() += weight;
    }
}

fn dot(a: &SparseVector, b: &SparseVector) -> f32 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter_map(|(term, w)| large.get(term).map(|v| w * v))
        .sum()
}

/// Lower-cased words (letters and digits, apostrophes dropped) and the bigrams
/// of neighbouring words.
pub(crate) fn terms(text: &str) -> Vec<String> {
    with_bigrams(words(text).collect())
}

/// Like [`terms`], with a plural `s` dropped from words longer than three
/// letters, so that "deals" finds "deal": for matching persona vocabulary.
pub(crate) fn keyword_terms(text: &str) -> Vec<String> {
    let singular = |w: String| match w.strip_suffix('s') {
        Some(stem) if w.chars().count() > 3 && !stem.ends_with('s') => stem.to_owned(),
        _ => w,
    };
    with_bigrams(words(text).map(singular).collect())
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| {
            w.chars()
                .filter(|c| *c != '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
}

fn with_bigrams(words: Vec<String>) -> Vec<String> {
    let bigrams = words
        .windows(2)
        .map(|pair| format!("{} {}", pair[0], pair[1]));
    let mut all: Vec<String> = bigrams.collect();
    all.extend(words);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words_and_bigrams() {
        let mut t = terms("What's our AWS bill?");
        t.sort();
        assert_eq!(
            t,
            [
                "aws",
                "aws bill",
                "bill",
                "our",
                "our aws",
                "whats",
                "whats our"
            ]
        );
        assert!(terms("🙂🙂").is_empty());
    }

    #[test]
    fn the_label_sharing_words_scores_highest() {
        let index = LexicalIndex::new(
            2,
            &[
                (0, "aws bill went up"),
                (0, "cloud spend"),
                (1, "salesforce sync failed"),
            ],
        );
        let scores = index.scores(&index.vector("why did the aws bill go up"), &[]);
        assert!(scores[0] > scores[1] && scores[1] == 0.0, "{scores:?}");
        let mut added = SparseVector::default();
        add_into(&mut added, &index.vector("why did the aws bill go up"));
        let scores = index.scores(
            &index.vector("why did the aws bill go up"),
            &[None, Some(added)],
        );
        assert!(scores[1] > scores[0], "{scores:?}");
    }

    #[test]
    fn a_text_scores_the_same_to_the_last_bit_every_time() {
        let texts: Vec<(usize, &str)> = vec![
            (
                0,
                "why did our cloud bill jump so much this month on aws and gcp",
            ),
            (
                1,
                "which salesforce opportunities slipped out of the quarter pipeline",
            ),
        ];
        let query = "our aws cloud bill and salesforce pipeline jumped this quarter, why so much";
        let first = LexicalIndex::new(2, &texts);
        let scores = first.scores(&first.vector(query), &[]);
        for _ in 0..20 {
            let again = LexicalIndex::new(2, &texts);
            let bits = |s: &[f32]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&again.scores(&again.vector(query), &[])),
                bits(&scores)
            );
        }
    }
}
