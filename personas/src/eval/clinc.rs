//! CLINC150 few-shot evaluation of the [`engine`](crate::engine).
//!
//! Protocol: the first `shots` examples of each intent in `train` are the
//! exemplars. Up to [`HELDOUT_PER_INTENT`] further `train` examples per intent
//! plus `oos_train` form the held-out set on which evidence weights,
//! temperature and the out-of-scope threshold are tuned. `val` and `oos_val`
//! are only ever scored, one query at a time, timing embedding included.
//!
//! With [`EvalOptions::adapt`], the encoder is first fine-tuned on the
//! exemplars alone (see `knowledge::embed::adapt`) and everything after runs
//! on the tuned encoder. The out-of-scope threshold is set to reject
//! [`EvalOptions::target_oos_recall`] of the held-out out-of-scope queries.

use knowledge::embed::{AdaptOptions, Embedder};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{EvalError, Latency, expected_calibration_error};
use crate::engine::{Evidence, FewShotIndex, NEIGHBOURS_KEPT, ScoringConfig, softmax};

/// Held-out `train` examples per intent used for tuning.
pub const HELDOUT_PER_INTENT: usize = 20;

/// The splits of CLINC150's `data_full.json`-style file, rows `[text, intent]`.
#[derive(Debug, Deserialize)]
pub struct ClincData {
    /// In-scope training examples.
    pub train: Vec<(String, String)>,
    /// In-scope validation examples (scored only).
    pub val: Vec<(String, String)>,
    /// Out-of-scope training examples (tuning only).
    pub oos_train: Vec<(String, String)>,
    /// Out-of-scope validation examples (scored only).
    pub oos_val: Vec<(String, String)>,
}

impl ClincData {
    /// Reads the JSON file at `path`.
    pub fn load(path: &Path) -> Result<ClincData, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| EvalError::Parse {
            path: PathBuf::from(path),
            message: e.to_string(),
        })
    }
}

/// How the evaluation runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Exemplars per intent.
    pub shots: usize,
    /// Fine-tune the encoder on the exemplars first.
    pub adapt: Option<AdaptOptions>,
    /// Share of held-out out-of-scope queries the threshold must reject.
    pub target_oos_recall: f64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            shots: 10,
            adapt: None,
            target_oos_recall: 0.7,
        }
    }
}

/// What the CLINC150 evaluation measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClincReport {
    /// Exemplars per intent.
    pub shots: usize,
    /// How the encoder was fine-tuned, if it was.
    pub adaptation: Option<AdaptOptions>,
    /// Seconds the fine-tuning took (0 without).
    pub adaptation_seconds: f64,
    /// Share of held-out out-of-scope queries the threshold was set to reject.
    pub target_oos_recall: f64,
    /// Number of in-scope intents.
    pub intents: usize,
    /// Held-out examples used for tuning (in-scope, out-of-scope).
    pub heldout: (usize, usize),
    /// The tuned weights, temperature and threshold.
    pub config: ScoringConfig,
    /// Held-out in-scope accuracy with the tuned weights.
    pub heldout_accuracy: f64,
    /// `val` accuracy among the 150 intents (no rejection), as published few-shot results report it.
    pub accuracy: f64,
    /// `val` accuracy when out-of-scope rejection is on (a rejected in-scope query counts as wrong).
    pub accuracy_with_rejection: f64,
    /// Share of `oos_val` rejected.
    pub oos_recall: f64,
    /// Share of rejected `val` + `oos_val` queries that were out-of-scope.
    pub oos_precision: f64,
    /// Other thresholds: the held-out out-of-scope F1 optimum, and those
    /// rejecting 60%, 70%, 80% of held-out out-of-scope queries.
    pub tradeoff: Vec<OperatingPoint>,
    /// Expected calibration error of the top probability on `val` (10 bins).
    pub calibration_error: f64,
    /// Per-query latency on `val`, embedding included.
    pub latency: Latency,
    /// Per-query latency without embedding: the engine's own cost.
    pub scoring_latency: Latency,
}

/// Scores on `val` + `oos_val` with one out-of-scope threshold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OperatingPoint {
    /// How the threshold was picked on held-out data.
    pub chosen_by: String,
    /// Best combined score below which a query is rejected.
    pub reject_below: f32,
    /// `val` accuracy, rejected in-scope queries counting as wrong.
    pub accuracy_with_rejection: f64,
    /// Share of `oos_val` rejected.
    pub oos_recall: f64,
    /// Share of rejected queries that were out-of-scope.
    pub oos_precision: f64,
}

/// One scored `val` or `oos_val` query.
struct Outcome {
    best_score: f32,
    /// In scope and the best label is the right one.
    right: bool,
    out_of_scope: bool,
}

fn operating_point(outcomes: &[Outcome], reject_below: f32, chosen_by: String) -> OperatingPoint {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let rejected = |o: &Outcome| o.best_score < reject_below;
    let in_scope = count(&|o| !o.out_of_scope);
    let oos = outcomes.len() - in_scope;
    let kept_right = count(&|o| o.right && !rejected(o));
    let rejected_oos = count(&|o| o.out_of_scope && rejected(o));
    let rejected_all = count(&|o| rejected(o));
    OperatingPoint {
        chosen_by,
        reject_below,
        accuracy_with_rejection: ratio(kept_right, in_scope),
        oos_recall: ratio(rejected_oos, oos),
        oos_precision: ratio(rejected_oos, rejected_all),
    }
}

/// Trains on `shots` examples per intent (fine-tuning the encoder on them
/// when asked), tunes on held-out data, scores `val`.
pub async fn evaluate(
    embedder: &dyn Embedder,
    data: &ClincData,
    options: &EvalOptions,
) -> Result<ClincReport, EvalError> {
    let shots = options.shots;
    let mut labels: Vec<&str> = data.train.iter().map(|(_, l)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let label_of: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    let mut seen = vec![0usize; labels.len()];
    let (mut exemplars, mut heldout) = (Vec::new(), Vec::new());
    for (text, label) in &data.train {
        let id = label_of[label.as_str()];
        seen[id] += 1;
        if seen[id] <= shots {
            exemplars.push((id, text.clone()));
        } else if seen[id] <= shots + HELDOUT_PER_INTENT {
            heldout.push((Some(id), text.clone()));
        }
    }
    let heldout_sizes = (heldout.len(), data.oos_train.len());
    heldout.extend(data.oos_train.iter().map(|(t, _)| (None, t.clone())));

    let started = Instant::now();
    let adapted = match &options.adapt {
        Some(adapt) => {
            let labelled: Vec<(String, usize)> =
                exemplars.iter().map(|(l, t)| (t.clone(), *l)).collect();
            Some(embedder.adapt(&labelled, adapt).await?)
        }
        None => None,
    };
    let adaptation_seconds = started.elapsed().as_secs_f64();
    let embedder = adapted.as_deref().unwrap_or(embedder);

    let texts: Vec<String> = exemplars.iter().map(|(_, t)| t.clone()).collect();
    let vectors = embedder.embed(&texts).await?;
    let items = exemplars
        .into_iter()
        .zip(vectors)
        .map(|((l, t), v)| (l, t, v))
        .collect();
    let index = FewShotIndex::new(labels.len(), items);

    let texts: Vec<String> = heldout.iter().map(|(_, t)| t.clone()).collect();
    let vectors = embedder.embed(&texts).await?;
    let mut tuning = Vec::new();
    for k in 1..=NEIGHBOURS_KEPT.min(3) {
        let evidence: Vec<Evidence> = heldout
            .iter()
            .zip(&vectors)
            .map(|((_, t), v)| index.evidence(t, v, &[], k))
            .collect();
        tuning.push((k, evidence));
    }
    let truth: Vec<Option<usize>> = heldout.iter().map(|(l, _)| *l).collect();
    let (config, heldout_accuracy, heldout_oos_scores, f1_threshold) =
        tune(&tuning, &truth, options.target_oos_recall);

    let (mut latencies, mut scoring) = (Vec::new(), Vec::new());
    let (mut outcomes, mut calibration) = (Vec::new(), Vec::new());
    let queries = data
        .val
        .iter()
        .map(|(t, l)| (t, Some(label_of.get(l.as_str()).copied())));
    let oos = data.oos_val.iter().map(|(t, _)| (t, None));
    for (text, truth) in queries.chain(oos) {
        let started = Instant::now();
        let vectors = embedder.embed(std::slice::from_ref(text)).await?;
        let embedding = vectors.into_iter().next().unwrap_or_default();
        let scoring_started = Instant::now();
        let scores = index
            .evidence(text, &embedding, &[], config.neighbours)
            .combine(&config);
        let (best, best_score) = top(&scores);
        let probability = softmax(&scores, config.temperature)[best];
        scoring.push(scoring_started.elapsed());
        latencies.push(started.elapsed());
        let right = truth == Some(Some(best));
        if truth.is_some() {
            calibration.push((probability, right));
        }
        outcomes.push(Outcome {
            best_score,
            right,
            out_of_scope: truth.is_none(),
        });
    }
    let correct = outcomes.iter().filter(|o| o.right).count();
    let tuned = operating_point(&outcomes, config.reject_below, String::new());
    let f1 = operating_point(&outcomes, f1_threshold, "held-out F1".into());
    let by_recall = [0.6, 0.7, 0.8].into_iter().map(|q| {
        let threshold = quantile(&heldout_oos_scores, q);
        operating_point(
            &outcomes,
            threshold,
            format!("held-out recall {:.0}%", q * 100.0),
        )
    });
    let tradeoff = std::iter::once(f1).chain(by_recall).collect();
    Ok(ClincReport {
        shots,
        adaptation: options.adapt,
        adaptation_seconds: if options.adapt.is_some() {
            adaptation_seconds
        } else {
            0.0
        },
        target_oos_recall: options.target_oos_recall,
        intents: labels.len(),
        heldout: heldout_sizes,
        config,
        heldout_accuracy,
        accuracy: correct as f64 / data.val.len().max(1) as f64,
        accuracy_with_rejection: tuned.accuracy_with_rejection,
        oos_recall: tuned.oos_recall,
        oos_precision: tuned.oos_precision,
        tradeoff,
        calibration_error: expected_calibration_error(&calibration),
        latency: Latency::of(&latencies),
        scoring_latency: Latency::of(&scoring),
    })
}

/// The score below which a share `q` of `scores` lies.
fn quantile(scores: &[f32], q: f64) -> f32 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f32::total_cmp);
    let at = ((q * sorted.len() as f64) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(at).copied().unwrap_or(0.0)
}

/// Grid search on held-out data: weights by accuracy, temperature by
/// log-likelihood, threshold by the share of out-of-scope queries it must
/// reject (`target_oos_recall`). Also returns the held-out out-of-scope best
/// scores and the threshold that maximises out-of-scope F1, for comparison.
fn tune(
    tuning: &[(usize, Vec<Evidence>)],
    truth: &[Option<usize>],
    target_oos_recall: f64,
) -> (ScoringConfig, f64, Vec<f32>, f32) {
    let mut best = (ScoringConfig::default(), -1.0);
    for (k, evidence) in tuning {
        for neighbour_weight in [0.0, 0.25, 0.5, 1.0] {
            for lexical_weight in [0.0, 0.1, 0.2, 0.3, 0.4, 0.6] {
                let config = ScoringConfig {
                    neighbour_weight,
                    lexical_weight,
                    neighbours: *k,
                    ..ScoringConfig::default()
                };
                let hits = evidence
                    .iter()
                    .zip(truth)
                    .filter(|(e, t)| t.is_some() && **t == Some(top(&e.combine(&config)).0))
                    .count();
                let in_scope = truth.iter().filter(|t| t.is_some()).count().max(1);
                let accuracy = hits as f64 / in_scope as f64;
                if accuracy > best.1 {
                    best = (config, accuracy);
                }
            }
        }
    }
    let (mut config, accuracy) = best;
    let evidence = tuning
        .iter()
        .find(|(k, _)| *k == config.neighbours)
        .map(|(_, e)| e.as_slice())
        .unwrap_or_default();
    let scores: Vec<Vec<f32>> = evidence.iter().map(|e| e.combine(&config)).collect();

    let mut best_nll = f64::INFINITY;
    for step in 1..=40 {
        let temperature = step as f32 * 0.0025;
        let nll: f64 = scores
            .iter()
            .zip(truth)
            .filter_map(|(s, t)| t.map(|t| -f64::from(softmax(s, temperature)[t].max(1e-9)).ln()))
            .sum();
        if nll < best_nll {
            (best_nll, config.temperature) = (nll, temperature);
        }
    }

    let best_scores: Vec<(f32, bool)> = scores
        .iter()
        .zip(truth)
        .map(|(s, t)| (top(s).1, t.is_none()))
        .collect();
    let (mut best_f1, mut f1_threshold) = (-1.0, 0.0);
    for step in 0..=300 {
        let threshold = step as f32 * 0.002;
        let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
        for (score, oos) in &best_scores {
            match (*score < threshold, *oos) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, true) => fn_ += 1.0,
                (false, false) => {}
            }
        }
        let f1 = if tp > 0.0 {
            2.0 * tp / (2.0 * tp + fp + fn_)
        } else {
            0.0
        };
        if f1 > best_f1 {
            (best_f1, f1_threshold) = (f1, threshold);
        }
    }
    let oos_scores: Vec<f32> = best_scores
        .iter()
        .filter(|(_, oos)| *oos)
        .map(|(s, _)| *s)
        .collect();
    config.reject_below = quantile(&oos_scores, target_oos_recall);
    (config, accuracy, oos_scores, f1_threshold)
}

/// The best label and its score.
fn top(scores: &[f32]) -> (usize, f32) {
    scores.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, s)| if s > best.1 { (i, s) } else { best },
    )
}
