//! Measuring the classifier: [`clinc`] scores the few-shot engine on the public
//! CLINC150 intent benchmark, [`labelled`] scores the executive classifier on a
//! hand-labelled JSONL set. Both return reports; printing is the caller's.

pub mod clinc;
pub mod labelled;

use knowledge::embed::EmbedError;
use std::path::PathBuf;
use std::time::Duration;

use crate::classifier::ClassifyError;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The data file is malformed.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        message: String,
    },
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Classification failed.
    #[error(transparent)]
    Classify(#[from] ClassifyError),
}

/// Median and 99th percentile of per-query latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

impl Latency {
    /// Percentiles of `samples` (nearest rank); zeros when empty.
    pub fn of(samples: &[Duration]) -> Latency {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if ms.is_empty() {
                return 0.0;
            }
            let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
            ms[rank - 1]
        };
        Latency {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
        }
    }
}

/// Mean gap between confidence and accuracy over ten equal-width bins.
pub fn expected_calibration_error(predictions: &[(f32, bool)]) -> f64 {
    let mut bins = [(0.0f64, 0.0f64, 0usize); 10];
    for (p, right) in predictions {
        let bin = ((*p * 10.0) as usize).min(9);
        bins[bin].0 += f64::from(*p);
        bins[bin].1 += if *right { 1.0 } else { 0.0 };
        bins[bin].2 += 1;
    }
    let n = predictions.len().max(1) as f64;
    bins.iter()
        .filter(|b| b.2 > 0)
        .map(|(p, r, _)| (p - r).abs() / n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let latency = Latency::of(&samples);
        assert_eq!((latency.p50_ms, latency.p99_ms), (50.0, 99.0));
        assert_eq!(Latency::of(&[]).p99_ms, 0.0);
    }

    #[test]
    fn calibration_error_is_the_confidence_accuracy_gap() {
        assert!((expected_calibration_error(&[(0.95, true), (0.95, true)]) - 0.05).abs() < 1e-6);
        let overconfident = [(0.99, true), (0.99, false)];
        assert!((expected_calibration_error(&overconfident) - 0.49).abs() < 1e-6);
        assert_eq!(expected_calibration_error(&[]), 0.0);
    }
}
