//! How alike names are: by the embedder (canonical vectors cached per process
//! and model), and by their words and letters. Scores are in [0, 1].

use knowledge::embed::{EmbedError, Embedder};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use crate::canonical::{ENTITIES, Field};

/// Common abbreviations in column names, spelled out before comparing.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("acct", "account"),
    ("addr", "address"),
    ("amt", "amount"),
    ("avg", "average"),
    ("cust", "customer"),
    ("desc", "description"),
    ("dt", "date"),
    ("env", "environment"),
    ("num", "number"),
    ("opp", "opportunity"),
    ("org", "organization"),
    ("pct", "percent"),
    ("qty", "quantity"),
    ("ts", "timestamp"),
];

/// Words that say nothing about what a column holds.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "in", "is", "of", "on", "or", "such", "the", "to",
    "was", "which", "who", "with",
];

/// A column or entity name as words: `unblendedCost_USD` → "unblended cost usd".
pub(crate) fn humanise(name: &str) -> String {
    words(name).join(" ")
}

fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for ch in name.chars() {
        if !ch.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        // camelCase boundary
        if ch.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = ch.is_lowercase() || ch.is_ascii_digit();
        current.extend(ch.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(short, _)| *short == w)
                .map_or(w, |(_, long)| (*long).to_owned())
        })
        .collect()
}

/// A word reduced to a rough stem, so "costs" meets "cost".
fn stem(word: &str) -> String {
    word.strip_suffix("ies").map_or_else(
        || {
            word.strip_suffix('s')
                .filter(|w| w.len() > 2 && !w.ends_with('s'))
                .unwrap_or(word)
                .to_owned()
        },
        |w| format!("{w}y"),
    )
}

fn stems(text: &str) -> HashSet<String> {
    words(text)
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| stem(w))
        .collect()
}

fn dice<T: Eq + std::hash::Hash>(a: &HashSet<T>, b: &HashSet<T>) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f32 / (a.len() + b.len()) as f32
}

fn trigrams(text: &str) -> HashSet<String> {
    let compact: Vec<char> = format!(" {} ", words(text).join("")).chars().collect();
    compact
        .windows(3)
        .map(|w| w.iter().collect::<String>())
        .collect()
}

/// How alike two names are by their words and letters, in [0, 1]:
/// `assigned_team` / `owning_team` ≈ 0.5, `priority` / `priority` = 1.
pub fn name_similarity(a: &str, b: &str) -> f32 {
    let by_words = dice(&stems(a), &stems(b));
    let by_letters = dice(&trigrams(a), &trigrams(b));
    by_words.max(0.8 * by_letters)
}

/// Lexical signal of a source column against a canonical field: its name
/// against the field's name, or its words found in the field's description.
pub(crate) fn lexical(source: &str, field: &Field) -> f32 {
    let by_name = name_similarity(source, field.name);
    let source_words = stems(source);
    let described: HashSet<String> = stems(&format!("{} {}", field.name, field.description));
    let contained = if source_words.is_empty() {
        0.0
    } else {
        source_words.intersection(&described).count() as f32 / source_words.len() as f32
    };
    by_name.max(0.7 * contained)
}

/// The text a canonical field is embedded as.
pub(crate) fn field_text(field: &Field) -> String {
    format!("{}: {}", humanise(field.name), field.description)
}

/// The text a canonical entity is embedded as.
pub(crate) fn entity_text(name: &str, description: &str) -> String {
    format!("{}: {}", humanise(name), description)
}

/// The text a source entity is embedded as: its table or file name in words,
/// without the file extension.
pub(crate) fn source_entity_text(entity: &str) -> String {
    let stem = entity
        .rsplit_once('.')
        .filter(|(_, ext)| matches!(*ext, "csv" | "json" | "jsonl" | "ndjson"))
        .map_or(entity, |(stem, _)| stem);
    humanise(stem)
}

/// Embedder output rescaled so unrelated short phrases land near 0 and
/// near-synonyms near 1 (MiniLM puts unrelated phrases around 0.1–0.3).
pub(crate) fn semantic(cosine: f32) -> f32 {
    ((cosine - 0.2) / 0.6).clamp(0.0, 1.0)
}

/// Vectors of every canonical entity and field, embedded once per process and model.
pub(crate) struct CanonicalVectors {
    pub fields: HashMap<(&'static str, &'static str), Vec<f32>>,
    pub entities: HashMap<&'static str, Vec<f32>>,
}

/// The canonical vectors for this embedder, embedding them (in one batch) the
/// first time.
pub(crate) async fn canonical_vectors(
    embedder: &dyn Embedder,
) -> Result<Arc<CanonicalVectors>, EmbedError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<CanonicalVectors>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let model = embedder.model_id().to_owned();
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&model)
    {
        return Ok(found.clone());
    }
    let mut keys: Vec<(&'static str, Option<&'static str>)> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for entity in ENTITIES {
        keys.push((entity.name, None));
        texts.push(entity_text(entity.name, entity.description));
        for field in entity.fields {
            keys.push((entity.name, Some(field.name)));
            texts.push(field_text(field));
        }
    }
    let vectors = embedder.embed(&texts).await?;
    let mut built = CanonicalVectors {
        fields: HashMap::new(),
        entities: HashMap::new(),
    };
    for ((entity, field), vector) in keys.into_iter().zip(vectors) {
        match field {
            Some(field) => {
                built.fields.insert((entity, field), vector);
            }
            None => {
                built.entities.insert(entity, vector);
            }
        }
    }
    let built = Arc::new(built);
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(model, built.clone());
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_into_words() {
        assert_eq!(humanise("unblended_cost"), "unblended cost");
        assert_eq!(humanise("unblendedCostUSD"), "unblended cost usd");
        assert_eq!(humanise("avg_cpu_pct"), "average cpu percent");
        assert_eq!(source_entity_text("cloud_costs.csv"), "cloud costs");
        assert_eq!(source_entity_text("crm.accounts"), "crm accounts");
    }

    #[test]
    fn name_similarity_ranks_related_names_higher() {
        assert!((name_similarity("priority", "priority") - 1.0).abs() < 1e-6);
        assert!(name_similarity("assigned_team", "owning_team") >= 0.5);
        assert!(
            name_similarity("unblended_cost", "cost_usd") > name_similarity("team_tag", "cost_usd")
        );
        assert_eq!(name_similarity("region", "channel"), 0.0);
        assert_eq!(stem("categories"), "category");
        assert_eq!(stem("costs"), "cost");
        assert_eq!(stem("class"), "class");
    }
}
