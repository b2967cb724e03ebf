//! Percentiles of latencies, in milliseconds.

use std::time::Duration;

use crate::eval::metrics::percentile;

/// Percentiles of a set of measurements (all zero when there were none).
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Summary {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Summary {
        let mut values: Vec<f64> = values.into_iter().collect();
        Summary {
            p50: percentile(&mut values, 0.50),
            p95: percentile(&mut values, 0.95),
            p99: percentile(&mut values, 0.99),
        }
    }
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
