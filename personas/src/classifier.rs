//! The executive classifier: who is asking (persona) and what they want
//! (intent), with calibrated confidence and the runners-up.
//!
//! Both decisions run the few-shot [`engine`](crate::engine) over the persona
//! files' exemplars (plus, for personas, their topics, glossary and KPIs), with
//! the tenant's own exemplars joining for the call. Context then shifts the
//! scores: the persona chosen by the user is a strong prior, and a follow-up
//! turn keeps the previous persona and intent unless its words clearly point
//! elsewhere. A best intent score below the rejection threshold means
//! out-of-scope. An LLM tie-breaker can later be consulted on results whose
//! `confidence` is low, choosing among `alternatives`.

use knowledge::embed::{AdaptOptions, EmbedError, Embedded, Embedder, LabelledText};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use crate::context::{PreviousTurn, looks_like_follow_up};
use crate::definition::{DefinitionError, PersonaSet};
use crate::engine::{FewShotIndex, IndexedExemplar, ScoringConfig, ranking, softmax};
use crate::lexical::keyword_terms;
use crate::persona_evidence::{SLOTS, distinct_vocabulary, persona_label, persona_scores};
use crate::types::{Exemplar, Intent, Persona};

/// Text longer than this many characters is cut before classification.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// One turn to classify.
#[derive(Debug, Clone, Copy)]
pub struct ClassifyInput<'a> {
    /// What the user wrote.
    pub text: &'a str,
    /// Persona chosen by the user or taken from their profile.
    pub persona_hint: Option<Persona>,
    /// The previous turn of the same conversation, if any.
    pub previous: Option<PreviousTurn>,
    /// `text` already embedded, when the caller needs the vector anyway (a
    /// turn searches with it too). Used only if this classifier's embedder
    /// made it; otherwise the text is embedded again.
    pub embedding: Option<Embedded<'a>>,
}

/// A runner-up intent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alternative {
    /// The intent.
    pub intent: Intent,
    /// Its probability.
    pub confidence: f32,
}

/// The classifier's answer for one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// Whose domain the turn belongs to.
    pub persona: Persona,
    /// Probability of `persona`.
    pub persona_confidence: f32,
    /// The second most likely persona.
    pub persona_runner_up: Persona,
    /// What the turn asks for.
    pub intent: Intent,
    /// Probability of `intent`.
    pub confidence: f32,
    /// The next most likely intents, best first.
    pub alternatives: Vec<Alternative>,
    /// The turn was read as a continuation of `previous`.
    pub follow_up: bool,
}

impl Classification {
    /// This result as the `previous` of the conversation's next turn.
    pub fn as_previous(&self) -> PreviousTurn {
        PreviousTurn {
            persona: self.persona,
            intent: self.intent,
        }
    }
}

/// Why a turn could not be classified, sorted by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// Nothing to classify: the text is empty or only whitespace (HTTP 422).
    #[error("the text is empty")]
    EmptyText,
    /// A tenant exemplar has no text (HTTP 422 when a tenant adds it).
    #[error("tenant exemplar {index}: empty utterance")]
    EmptyExemplar {
        /// Position in the list given.
        index: usize,
    },
    /// The embedder failed; its variant says whether to retry.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The persona definitions are invalid (at construction only).
    #[error(transparent)]
    Definition(#[from] DefinitionError),
}

/// Weights of evidence and context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierConfig {
    /// Scoring of intents (its `reject_below` decides out-of-scope).
    pub intent: ScoringConfig,
    /// Scoring of personas.
    pub persona: ScoringConfig,
    /// Added to the hinted persona's score: beaten only by clearly stronger evidence.
    pub persona_prior: f32,
    /// Added to the previous persona's and intent's scores on a follow-up.
    pub follow_up_bonus: f32,
    /// Weight of a persona's topics, glossary and KPIs next to its exemplars.
    pub facts_weight: f32,
    /// Added to a persona's score per word of its vocabulary in the text (at most two).
    pub vocabulary_bonus: f32,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            intent: ScoringConfig {
                reject_below: 0.19,
                ..ScoringConfig::default()
            },
            persona: ScoringConfig {
                neighbours: 3,
                ..ScoringConfig::default()
            },
            persona_prior: 0.12,
            follow_up_bonus: 0.15,
            facts_weight: 0.5,
            vocabulary_bonus: 0.08,
        }
    }
}

/// A tenant's own exemplars, embedded once and passed to every call for that
/// tenant. Holding one per tenant (keyed by tenant id) and passing only the
/// caller's keeps tenants apart: nothing of it is stored in the [`Classifier`].
#[derive(Debug, Clone, Default)]
pub struct TenantExemplars {
    persona: Vec<IndexedExemplar>,
    intent: Vec<IndexedExemplar>,
}

impl TenantExemplars {
    /// Number of exemplars held.
    pub fn len(&self) -> usize {
        self.intent.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.intent.is_empty()
    }
}

/// Classifies turns by persona and intent. Cheap to share behind an `Arc`.
pub struct Classifier {
    embedder: Arc<dyn Embedder>,
    definitions: PersonaSet,
    personas: FewShotIndex,
    intents: FewShotIndex,
    /// Per persona: its vocabulary terms that no other persona lists.
    vocabulary: Vec<HashSet<String>>,
    config: ClassifierConfig,
}

impl Classifier {
    /// A classifier over the built-in persona files with the default config.
    pub async fn builtin(embedder: Arc<dyn Embedder>) -> Result<Classifier, ClassifyError> {
        let definitions = PersonaSet::builtin()?;
        Classifier::new(embedder, definitions, ClassifierConfig::default()).await
    }

    /// A classifier whose encoder is first fine-tuned on the exemplars of
    /// `definitions` (see [`adaptation_examples`]). Training blocks a thread
    /// for as long as it takes; the embedder must run here.
    pub async fn adapted(
        embedder: Arc<dyn Embedder>,
        definitions: PersonaSet,
        config: ClassifierConfig,
        options: &AdaptOptions,
    ) -> Result<Classifier, ClassifyError> {
        let examples = adaptation_examples(&definitions);
        let tuned = embedder.adapt(&examples, options).await?;
        Classifier::new(tuned, definitions, config).await
    }

    /// Embeds every exemplar of `definitions` (about a second with the local model).
    pub async fn new(
        embedder: Arc<dyn Embedder>,
        definitions: PersonaSet,
        config: ClassifierConfig,
    ) -> Result<Classifier, ClassifyError> {
        let intent_items: Vec<(usize, String)> = definitions
            .exemplars()
            .map(|e| (e.intent.index(), e.text.clone()))
            .collect();
        let mut persona_items: Vec<(usize, String)> = definitions
            .exemplars()
            .filter(|e| e.intent.is_domain())
            .map(|e| (persona_label(e.persona, Some(e.intent)), e.text.clone()))
            .collect();
        for d in definitions.iter() {
            let label = persona_label(d.persona, None);
            let facts = d.cares_about.iter().chain(&d.kpis).cloned();
            let glossary = d
                .glossary
                .iter()
                .map(|(term, meaning)| format!("{term}: {meaning}"));
            persona_items.extend(facts.chain(glossary).map(|text| (label, text)));
        }
        let texts: Vec<String> = intent_items
            .iter()
            .chain(&persona_items)
            .map(|(_, t)| t.clone())
            .collect();
        let mut vectors = embedder.embed(&texts).await?.into_iter();
        let mut attach = |items: Vec<(usize, String)>| {
            items
                .into_iter()
                .zip(vectors.by_ref())
                .map(|((label, text), v)| (label, text, v))
                .collect::<Vec<_>>()
        };
        let intents = FewShotIndex::new(Intent::ALL.len(), attach(intent_items));
        let personas = FewShotIndex::new(Persona::ALL.len() * SLOTS, attach(persona_items));
        let vocabulary = distinct_vocabulary(&definitions);
        Ok(Classifier {
            embedder,
            definitions,
            vocabulary,
            personas,
            intents,
            config,
        })
    }

    /// The persona definitions (prompts, tools, scopes) the classifier was built from.
    pub fn definitions(&self) -> &PersonaSet {
        &self.definitions
    }

    /// Embeds a tenant's exemplars for use with [`Classifier::classify`]; call
    /// again when the tenant changes them.
    pub async fn tenant_exemplars(
        &self,
        exemplars: &[Exemplar],
    ) -> Result<TenantExemplars, ClassifyError> {
        if let Some(index) = exemplars.iter().position(|e| e.text.trim().is_empty()) {
            return Err(ClassifyError::EmptyExemplar { index });
        }
        let texts: Vec<String> = exemplars
            .iter()
            .map(|e| clip(e.text.trim()).to_owned())
            .collect();
        let vectors = self.embedder.embed(&texts).await?;
        let mut tenant = TenantExemplars::default();
        for ((e, text), v) in exemplars.iter().zip(&texts).zip(vectors) {
            if e.intent.is_domain() {
                let label = persona_label(e.persona, Some(e.intent));
                let item = self.personas.prepare(label, text, v.clone());
                tenant.persona.extend(item);
            }
            tenant
                .intent
                .extend(self.intents.prepare(e.intent.index(), text, v));
        }
        Ok(tenant)
    }

    /// Classifies one turn, with `tenant` holding the calling tenant's exemplars
    /// (use `TenantExemplars::default()` for none).
    pub async fn classify(
        &self,
        input: ClassifyInput<'_>,
        tenant: &TenantExemplars,
    ) -> Result<Classification, ClassifyError> {
        let text = clip(input.text.trim());
        if text.is_empty() {
            return Err(ClassifyError::EmptyText);
        }
        let given = input
            .embedding
            .and_then(|e| e.usable_by(self.embedder.as_ref()));
        let embedding = match given {
            Some(given) => given.to_vec(),
            None => {
                let vectors = self.embedder.embed(&[text.to_owned()]).await?;
                vectors.into_iter().next().unwrap_or_default()
            }
        };
        Ok(self.decide(text, &embedding, input, tenant))
    }

    /// The decision once the text is embedded.
    fn decide(
        &self,
        text: &str,
        embedding: &[f32],
        input: ClassifyInput<'_>,
        tenant: &TenantExemplars,
    ) -> Classification {
        let config = &self.config;
        let previous = input.previous;
        let follow_up = previous.is_some() && looks_like_follow_up(text);

        let mut intent_scores = self
            .intents
            .evidence(text, embedding, &tenant.intent, config.intent.neighbours)
            .combine(&config.intent);
        let best_raw = intent_scores.iter().copied().fold(f32::MIN, f32::max);
        if let (true, Some(p)) = (follow_up, previous) {
            intent_scores[p.intent.index()] += config.follow_up_bonus;
        }
        let probabilities = softmax(&intent_scores, config.intent.temperature);
        let order = ranking(&probabilities);
        let mut intent = Intent::ALL[order[0]];
        let mut confidence = probabilities[order[0]];
        let mut alternatives: Vec<Alternative> = order[1..]
            .iter()
            .take(2)
            .map(|&i| Alternative {
                intent: Intent::ALL[i],
                confidence: probabilities[i],
            })
            .collect();
        let reject = config.intent.reject_below;
        let wordless = !text.chars().any(char::is_alphanumeric);
        if !follow_up && intent != Intent::OutOfScope && (wordless || best_raw < reject) {
            // Nothing the assistant knows is close, however the softmax spread
            // its mass: off-topic, more surely the further below the threshold.
            // Text without words (only emoji or punctuation) asks for nothing
            // the platform does, whatever it resembles (often a greeting).
            let distance = ((reject - best_raw) / 0.1).clamp(0.0, 1.0);
            let rejected_confidence = if wordless { 0.5 } else { 0.5 + 0.5 * distance };
            alternatives = vec![Alternative {
                intent,
                confidence: confidence * (1.0 - rejected_confidence),
            }];
            intent = Intent::OutOfScope;
            confidence = rejected_confidence;
        }

        let joint = self
            .personas
            .evidence(text, embedding, &tenant.persona, config.persona.neighbours)
            .combine(&config.persona);
        let mut persona_scores = persona_scores(&joint, intent, config.facts_weight);
        let words = keyword_terms(text);
        for (score, vocabulary) in persona_scores.iter_mut().zip(&self.vocabulary) {
            let hits = words
                .iter()
                .filter(|w| vocabulary.contains(*w))
                .count()
                .min(2);
            *score += config.vocabulary_bonus * hits as f32;
        }
        if let Some(hint) = input.persona_hint {
            persona_scores[hint.index()] += config.persona_prior;
        }
        if let (true, Some(p)) = (follow_up, previous) {
            persona_scores[p.persona.index()] += config.follow_up_bonus;
        }
        let persona_probabilities = softmax(&persona_scores, config.persona.temperature);
        let persona_order = ranking(&persona_probabilities);
        let mut persona = Persona::ALL[persona_order[0]];
        let mut persona_confidence = persona_probabilities[persona_order[0]];
        let persona_runner_up = Persona::ALL[persona_order[1]];
        if !intent.is_domain() {
            // Greetings and off-topic text say nothing about the domain: keep
            // the persona the user chose, else the conversation's.
            if let Some(known) = input.persona_hint.or(previous.map(|p| p.persona)) {
                persona_confidence = persona_probabilities[known.index()].max(0.5);
                persona = known;
            }
        }
        Classification {
            persona,
            persona_confidence,
            persona_runner_up: if persona_runner_up == persona {
                Persona::ALL[persona_order[0]]
            } else {
                persona_runner_up
            },
            intent,
            confidence,
            alternatives,
            follow_up,
        }
    }
}

/// The exemplars of `definitions` labelled for adapting the encoder: a label
/// per (persona, business intent) pair, as the persona index groups them, and
/// one per other intent, so that training separates who asks as well as what
/// they ask for. Labels are numbered densely in that order.
pub fn adaptation_examples(definitions: &PersonaSet) -> Vec<LabelledText> {
    let fine_label = |e: &Exemplar| {
        if e.intent.is_domain() {
            persona_label(e.persona, Some(e.intent))
        } else {
            Persona::ALL.len() * SLOTS + e.intent.index()
        }
    };
    let used: BTreeMap<usize, usize> = definitions
        .exemplars()
        .map(fine_label)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(dense, label)| (label, dense))
        .collect();
    definitions
        .exemplars()
        .map(|e| (e.text.clone(), used[&fine_label(e)]))
        .collect()
}

/// `text` cut to at most [`MAX_TEXT_CHARS`] characters, on a character boundary.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn adaptation_labels_separate_persona_and_intent_and_are_dense() {
        let definitions = PersonaSet::builtin().unwrap();
        let examples = adaptation_examples(&definitions);
        let exemplars: Vec<&Exemplar> = definitions.exemplars().collect();
        assert_eq!(examples.len(), exemplars.len());

        let mut label_of: HashMap<(Persona, Intent), usize> = HashMap::new();
        for (e, (text, label)) in exemplars.iter().zip(&examples) {
            assert_eq!(&e.text, text);
            let key = if e.intent.is_domain() {
                (e.persona, e.intent)
            } else {
                // Greetings and off-topic text are nobody's domain: one label
                // for all personas.
                (Persona::ALL[0], e.intent)
            };
            assert_eq!(*label_of.entry(key).or_insert(*label), *label, "{text}");
        }
        let mut labels: Vec<usize> = label_of.values().copied().collect();
        labels.sort_unstable();
        let distinct = labels.len();
        labels.dedup();
        assert_eq!(labels.len(), distinct, "two groups share a label");
        assert_eq!(
            labels,
            (0..distinct).collect::<Vec<_>>(),
            "labels have gaps"
        );
    }
}
