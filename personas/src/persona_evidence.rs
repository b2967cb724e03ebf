//! Persona evidence beyond the engine's scores: the (persona, intent) label
//! layout that lets domain words rather than request words decide, and each
//! persona's distinctive vocabulary.

use std::collections::HashSet;

use crate::definition::PersonaSet;
use crate::lexical::keyword_terms;
use crate::types::{Intent, Persona};

/// Persona labels: one per (persona, business intent) pair, so that words of
/// the request type ("connector", "mapping") weigh alike for every persona and
/// the domain words decide, plus one per persona for its topics, glossary, KPIs.
pub(crate) const SLOTS: usize = 6;
const FACTS_SLOT: usize = SLOTS - 1;

pub(crate) fn persona_label(persona: Persona, intent: Option<Intent>) -> usize {
    let slot = intent
        .filter(|i| i.is_domain())
        .map_or(FACTS_SLOT, Intent::index);
    persona.index() * SLOTS + slot
}

/// Each persona's score: its exemplars of the chosen intent (its best intent for
/// greetings and off-topic text), blended with its facts.
pub(crate) fn persona_scores(joint: &[f32], intent: Intent, facts_weight: f32) -> Vec<f32> {
    Persona::ALL
        .iter()
        .map(|p| {
            let topical = if intent.is_domain() {
                joint[persona_label(*p, Some(intent))]
            } else {
                let first = p.index() * SLOTS;
                joint[first..first + FACTS_SLOT]
                    .iter()
                    .copied()
                    .fold(f32::MIN, f32::max)
            };
            (topical + facts_weight * joint[persona_label(*p, None)]) / (1.0 + facts_weight)
        })
        .collect()
}

/// Each persona's vocabulary as matchable terms, without the terms that more
/// than one persona lists (they say nothing about who is asking).
pub(crate) fn distinct_vocabulary(definitions: &PersonaSet) -> Vec<HashSet<String>> {
    let sets: Vec<HashSet<String>> = definitions
        .iter()
        .map(|d| {
            let whole_terms = d.vocabulary.iter().filter_map(|v| {
                let terms = keyword_terms(v);
                // One word, or two as a bigram (listed first); longer phrases cannot match.
                (terms.len() <= 3).then(|| terms.first().cloned()).flatten()
            });
            whole_terms.collect()
        })
        .collect();
    sets.iter()
        .enumerate()
        .map(|(i, set)| {
            let shared = |t: &String| {
                sets.iter()
                    .enumerate()
                    .any(|(j, s)| j != i && s.contains(t))
            };
            set.iter().filter(|t| !shared(t)).cloned().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_per_persona_and_intent() {
        let mut labels: Vec<usize> = Persona::ALL
            .iter()
            .flat_map(|p| {
                let domain = Intent::ALL.iter().filter(|i| i.is_domain());
                domain
                    .map(|i| persona_label(*p, Some(*i)))
                    .chain([persona_label(*p, None)])
            })
            .collect();
        let count = labels.len();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), count);
        assert!(labels.iter().all(|l| *l < Persona::ALL.len() * SLOTS));
        assert_eq!(
            persona_label(Persona::Cfo, Some(Intent::OutOfScope)),
            persona_label(Persona::Cfo, None)
        );
    }

    #[test]
    fn shared_vocabulary_is_dropped() {
        let set = PersonaSet::builtin().unwrap_or_else(|e| panic!("{e}"));
        let vocabulary = distinct_vocabulary(&set);
        assert!(vocabulary[Persona::Cro.index()].contains("salesforce"));
        assert!(vocabulary[Persona::Cfo.index()].contains("general ledger"));
        assert!(
            vocabulary[Persona::Coo.index()].contains("ticket"),
            "plural folded"
        );
        for (i, a) in vocabulary.iter().enumerate() {
            for b in &vocabulary[i + 1..] {
                assert!(a.is_disjoint(b));
            }
        }
    }
}
