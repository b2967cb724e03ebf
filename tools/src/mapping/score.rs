//! The scoring model of a proposal: each signal of a (source column,
//! canonical field) pair, the confidence they add up to, the one-to-one
//! pairing of columns with fields, and which canonical entity fits a source
//! entity at all.

use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;

use super::MappingError;
use super::evidence::{type_compatibility, value_profile};
use super::similarity::{self, CanonicalVectors, humanise, lexical, semantic};
use crate::canonical::{ENTITIES, Entity, Field};
use crate::connectors::ColumnProfile;
use crate::platform::Platform;
use knowledge::embed::cosine;

/// The least confidence worth proposing (a rename or retype of a mapped
/// column is always proposed: a person must look at it).
pub(crate) const MIN_CONFIDENCE: f32 = 0.45;
/// The least fit (of fields, and of entity names) for a canonical entity to
/// be proposed for a source entity nothing is mapped from yet. Entities that
/// belong together score about 0.7 and above; strangers stay under 0.4.
const MIN_ENTITY_FIT: f32 = 0.45;
/// Weights of the signals in the confidence.
pub(crate) const W_SEMANTIC: f32 = 0.45;
pub(crate) const W_LEXICAL: f32 = 0.15;
pub(crate) const W_TYPE: f32 = 0.2;
pub(crate) const W_VALUES: f32 = 0.2;

/// Scores one source column against one canonical field exactly as a
/// proposal would (for "what if" questions and tests).
pub async fn score_field(
    platform: &Platform,
    column: &ColumnProfile,
    canonical_entity: &str,
    canonical_field: &str,
) -> Result<(f32, Signals), MappingError> {
    let entity = crate::canonical::entity(canonical_entity).ok_or_else(|| {
        MappingError::NotFound(format!("`{canonical_entity}` is not a canonical entity"))
    })?;
    let f = entity
        .fields
        .iter()
        .position(|f| f.name == canonical_field)
        .ok_or_else(|| {
            MappingError::NotFound(format!(
                "`{canonical_field}` is not a field of {canonical_entity}"
            ))
        })?;
    let canonical = similarity::canonical_vectors(platform.embedder.as_ref()).await?;
    let vectors = platform.embedder.embed(&[humanise(&column.name)]).await?;
    let mut scored = score_entity(entity, std::slice::from_ref(column), &vectors, &canonical);
    let confidence = scored.confidence(0, f);
    let signals = scored.signals.swap_remove(0).swap_remove(f);
    Ok((confidence, signals))
}

/// The signals of one (column, canonical field) pair, each in [0, 1].
#[derive(Debug, Clone, Serialize)]
pub struct Signals {
    /// Embedder similarity of the names and descriptions, rescaled to [0, 1].
    pub semantic: f32,
    /// Word and letter similarity of the names.
    pub lexical: f32,
    pub type_compatibility: f32,
    pub value_profile: f32,
    pub type_note: String,
    pub value_note: String,
}

impl Signals {
    pub(crate) fn confidence(&self) -> f32 {
        let c = W_SEMANTIC * self.semantic
            + W_LEXICAL * self.lexical
            + W_TYPE * self.type_compatibility
            + W_VALUES * self.value_profile;
        // Values that cannot become the field's type sink the pair.
        let c = if self.type_compatibility == 0.0 {
            c * 0.5
        } else {
            c
        };
        round2(c.clamp(0.0, 1.0))
    }

    /// The name part of the confidence, on its own scale.
    pub(crate) fn name_score(&self) -> f32 {
        round2((W_SEMANTIC * self.semantic + W_LEXICAL * self.lexical) / (W_SEMANTIC + W_LEXICAL))
    }
}

pub(crate) fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

/// Scores of every column against every field of one canonical entity.
pub(crate) struct Scored {
    pub entity: &'static Entity,
    /// Fields of `entity`.
    pub fields: &'static [Field],
    /// [column][field]
    pub signals: Vec<Vec<Signals>>,
}

impl Scored {
    pub(crate) fn confidence(&self, column: usize, field: usize) -> f32 {
        self.signals[column][field].confidence()
    }

    /// Greedy one-to-one pairing, best pairs first, among `columns` and the
    /// fields not in `taken`; pairs under `min` are left out.
    pub(crate) fn assign(
        &self,
        columns: &[usize],
        taken: &HashSet<&str>,
        refused: &HashSet<(usize, usize)>,
        min: f32,
    ) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for &c in columns {
            for (f, field) in self.fields.iter().enumerate() {
                if taken.contains(field.name) || refused.contains(&(c, f)) {
                    continue;
                }
                let confidence = self.confidence(c, f);
                if confidence >= min {
                    pairs.push((confidence, c, f));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut used_columns = HashSet::new();
        let mut used_fields = HashSet::new();
        let mut chosen = Vec::new();
        for (_, c, f) in pairs {
            if used_columns.contains(&c) || used_fields.contains(&f) {
                continue;
            }
            used_columns.insert(c);
            used_fields.insert(f);
            chosen.push((c, f));
        }
        chosen
    }

    /// How well the entity fits the whole source entity, in [0, 1].
    fn fit(&self, columns: usize) -> f32 {
        let all: Vec<usize> = (0..columns).collect();
        let total: f32 = self
            .assign(&all, &HashSet::new(), &HashSet::new(), MIN_CONFIDENCE)
            .iter()
            .map(|&(c, f)| self.confidence(c, f))
            .sum();
        total / columns.max(self.fields.len()).max(1) as f32
    }
}

/// Every column of a source entity scored against every field of `entity`.
pub(crate) fn score_entity(
    entity: &'static Entity,
    columns: &[ColumnProfile],
    column_vectors: &[Vec<f32>],
    canonical: &CanonicalVectors,
) -> Scored {
    let signals = columns
        .iter()
        .zip(column_vectors)
        .map(|(column, vector)| {
            entity
                .fields
                .iter()
                .map(|field| {
                    let cos = canonical
                        .fields
                        .get(&(entity.name, field.name))
                        .map_or(0.0, |v| cosine(vector, v));
                    let (type_score, type_note) =
                        type_compatibility(column.column_type, field.field_type);
                    let (value_score, value_note) = value_profile(column, field);
                    Signals {
                        semantic: round2(semantic(cos)),
                        lexical: round2(lexical(&column.name, field)),
                        type_compatibility: type_score,
                        value_profile: round2(value_score),
                        type_note,
                        value_note,
                    }
                })
                .collect()
        })
        .collect();
    Scored {
        entity,
        signals,
        fields: entity.fields,
    }
}

/// The canonical entity whose fields fit the columns best, helped by how
/// alike the entity names are; `None` when none fits well enough (an HR table
/// has no place in a model of costs, deals and tickets).
pub(crate) fn best_entity(
    columns: &[ColumnProfile],
    vectors: &[Vec<f32>],
    entity_vector: &[f32],
    canonical: &CanonicalVectors,
) -> Option<Scored> {
    let mut best: Option<(f32, Scored)> = None;
    for entity in ENTITIES {
        let scored = score_entity(entity, columns, vectors, canonical);
        let name = canonical
            .entities
            .get(entity.name)
            .map_or(0.0, |v| semantic(cosine(entity_vector, v)));
        let fit = 0.7 * scored.fit(columns.len()) + 0.3 * name;
        tracing::debug!(canonical = entity.name, fit, "canonical entity fit");
        if best.as_ref().is_none_or(|(b, _)| fit > *b) {
            best = Some((fit, scored));
        }
    }
    best.filter(|(fit, _)| *fit >= MIN_ENTITY_FIT)
        .map(|(_, scored)| scored)
}

/// The two next-best fields for a column, for the explanation.
pub(crate) fn alternatives(
    scored: &Scored,
    column: usize,
    chosen: usize,
) -> Vec<serde_json::Value> {
    let mut others: Vec<(f32, &str)> = scored
        .fields
        .iter()
        .enumerate()
        .filter(|(f, _)| *f != chosen)
        .map(|(f, field)| (scored.confidence(column, f), field.name))
        .collect();
    others.sort_by(|a, b| b.0.total_cmp(&a.0));
    others
        .into_iter()
        .take(2)
        .map(|(confidence, name)| {
            json!({"canonical_field": format!("{}.{name}", scored.entity.name), "confidence": confidence})
        })
        .collect()
}
