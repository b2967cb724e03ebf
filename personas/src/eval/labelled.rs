//! Scoring the executive classifier on a hand-labelled JSONL set: one object per
//! line, `{"text", "persona", "intent"}` with optional `"persona_hint"` and
//! `"previous": {"persona", "intent"}`. Persona `any` means the persona is not
//! scored for that line.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::{EvalError, Latency, expected_calibration_error};
use crate::classifier::{Classifier, ClassifyInput, TenantExemplars};
use crate::context::PreviousTurn;
use crate::types::{Intent, Persona};

/// One labelled request.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledRequest {
    /// What the user wrote.
    pub text: String,
    /// Expected persona, or `any`.
    pub persona: String,
    /// Expected intent.
    pub intent: Intent,
    /// Persona the user had chosen, if any.
    #[serde(default)]
    pub persona_hint: Option<Persona>,
    /// The previous turn, for follow-ups.
    #[serde(default)]
    pub previous: Option<PreviousTurn>,
}

impl LabelledRequest {
    /// The expected persona; `None` when any persona is acceptable.
    pub fn expected_persona(&self) -> Option<Persona> {
        self.persona.parse().ok()
    }
}

/// One wrong answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Miss {
    /// Line number (1-based).
    pub line: usize,
    /// The request text.
    pub text: String,
    /// `expected -> got` for persona and/or intent.
    pub what: String,
}

/// What the labelled evaluation measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabelledReport {
    /// Lines scored.
    pub requests: usize,
    /// Lines whose persona was scored.
    pub persona_scored: usize,
    /// Persona accuracy over `persona_scored` lines.
    pub persona_accuracy: f64,
    /// Intent accuracy over all lines.
    pub intent_accuracy: f64,
    /// Mean intent confidence; close to `intent_accuracy` when calibrated.
    pub mean_intent_confidence: f64,
    /// Expected calibration error of the intent confidence (10 bins).
    pub intent_calibration_error: f64,
    /// Expected calibration error of the persona confidence (10 bins).
    pub persona_calibration_error: f64,
    /// Intent accuracy per expected intent: (correct, total).
    pub per_intent: BTreeMap<Intent, (usize, usize)>,
    /// Most frequent confusions, `expected -> got` with counts, most frequent first.
    pub confusions: Vec<(String, usize)>,
    /// Every wrong answer.
    pub misses: Vec<Miss>,
    /// Per-request latency, embedding included.
    pub latency: Latency,
}

/// Reads a labelled JSONL file; blank lines are skipped.
pub fn load(path: &Path) -> Result<Vec<(usize, LabelledRequest)>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let request: LabelledRequest =
                serde_json::from_str(line).map_err(|e| EvalError::Parse {
                    path: path.to_path_buf(),
                    message: format!("line {}: {e}", i + 1),
                })?;
            if request.persona != "any" && request.expected_persona().is_none() {
                return Err(EvalError::Parse {
                    path: path.to_path_buf(),
                    message: format!("line {}: unknown persona `{}`", i + 1, request.persona),
                });
            }
            Ok((i + 1, request))
        })
        .collect()
}

/// Classifies every request and compares with its labels.
pub async fn evaluate(
    classifier: &Classifier,
    requests: &[(usize, LabelledRequest)],
) -> Result<LabelledReport, EvalError> {
    let none = TenantExemplars::default();
    let (mut persona_scored, mut persona_right, mut intent_right) = (0, 0, 0);
    let mut per_intent: BTreeMap<Intent, (usize, usize)> = BTreeMap::new();
    let mut confusions: BTreeMap<String, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut latencies = Vec::new();
    let (mut intent_calibration, mut persona_calibration) = (Vec::new(), Vec::new());
    for (line, request) in requests {
        let input = ClassifyInput {
            text: &request.text,
            persona_hint: request.persona_hint,
            previous: request.previous,
            embedding: None,
        };
        let started = Instant::now();
        let result = classifier.classify(input, &none).await?;
        latencies.push(started.elapsed());
        let mut wrong = Vec::new();
        if let Some(expected) = request.expected_persona() {
            persona_scored += 1;
            persona_calibration.push((result.persona_confidence, result.persona == expected));
            if result.persona == expected {
                persona_right += 1;
            } else {
                wrong.push(format!("persona {expected} -> {}", result.persona));
            }
        }
        intent_calibration.push((result.confidence, result.intent == request.intent));
        let entry = per_intent.entry(request.intent).or_default();
        entry.1 += 1;
        if result.intent == request.intent {
            intent_right += 1;
            entry.0 += 1;
        } else {
            wrong.push(format!("intent {} -> {}", request.intent, result.intent));
        }
        for w in &wrong {
            *confusions.entry(w.clone()).or_default() += 1;
        }
        if !wrong.is_empty() {
            misses.push(Miss {
                line: *line,
                text: request.text.clone(),
                what: wrong.join(", "),
            });
        }
    }
    let mut confusions: Vec<(String, usize)> = confusions.into_iter().collect();
    confusions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(LabelledReport {
        requests: requests.len(),
        persona_scored,
        persona_accuracy: ratio(persona_right, persona_scored),
        intent_accuracy: ratio(intent_right, requests.len()),
        mean_intent_confidence: intent_calibration
            .iter()
            .map(|(p, _)| f64::from(*p))
            .sum::<f64>()
            / requests.len().max(1) as f64,
        intent_calibration_error: expected_calibration_error(&intent_calibration),
        persona_calibration_error: expected_calibration_error(&persona_calibration),
        per_intent,
        confusions,
        misses,
        latency: Latency::of(&latencies),
    })
}
