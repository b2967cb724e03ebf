//! Benchmark 1: what a proxy in front of the upstream adds. The same streamed
//! request goes to the mock upstream directly, through the gateway's
//! `/v1/chat/completions` (persona pinned, retrieval off) and through
//! LiteLLM's proxy; added latency is each column's percentile minus the
//! direct one, at a fixed number of concurrent streams (closed loop) and at
//! fixed request rates (open loop, timed from when each request was due).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::sse::{Sample, StageTimings, Target, send};
use super::stats::{Summary, ms};

/// Added p99 under this counts as "fast enough" in the rate sweep.
pub const ADDED_P99_LIMIT_MS: f64 = 5.0;
/// A rate is not tried once a lower one broke down (errors, or an added p99
/// beyond this), since higher ones only queue more.
const GIVE_UP_MS: f64 = 1_000.0;
/// Requests in flight beyond which an open-loop run stops sending.
const MAX_IN_FLIGHT: usize = 2_000;
/// A pause before each run, so none starts in the wake of the one before.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Latencies of one column at one load.
#[derive(Debug, Clone)]
pub struct Measured {
    pub ttft: Summary,
    pub ttlb: Summary,
    pub errors: usize,
    pub first_error: Option<String>,
    pub requests: usize,
    pub seconds: f64,
    pub timings: Vec<StageTimings>,
    pub ttfb: Summary,
}

impl Measured {
    fn of(samples: Vec<Sample>, seconds: f64) -> Measured {
        let requests = samples.len();
        let first_error = samples.iter().find_map(|s| s.error.clone());
        let ok: Vec<&Sample> = samples.iter().filter(|s| s.ok).collect();
        Measured {
            ttft: Summary::of(ok.iter().map(|s| ms(s.ttft))),
            ttlb: Summary::of(ok.iter().map(|s| ms(s.ttlb))),
            ttfb: Summary::of(ok.iter().map(|s| ms(s.ttfb))),
            errors: requests - ok.len(),
            first_error,
            requests,
            seconds,
            timings: ok.iter().filter_map(|s| s.timings).collect(),
        }
    }

    /// Completed requests per second.
    pub fn rate(&self) -> f64 {
        (self.requests - self.errors) as f64 / self.seconds.max(1e-9)
    }
}

/// `concurrency` clients, each sending its next request as soon as the last
/// one ended, until `total` requests were sent.
pub async fn closed_loop(
    client: &reqwest::Client,
    target: &Target,
    expected: &str,
    concurrency: usize,
    total: usize,
) -> Measured {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, target, expected, next) = (
            client.clone(),
            target.clone(),
            expected.to_owned(),
            Arc::clone(&next),
        );
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                samples.push(send(&client, &target, Instant::now(), Some(&expected)).await);
            }
            samples
        }));
    }
    let mut samples = Vec::with_capacity(total);
    for task in tasks {
        samples.extend(task.await.unwrap_or_default());
    }
    Measured::of(samples, started.elapsed().as_secs_f64())
}

/// Requests sent at `rate` per second for `seconds`, whatever the answers
/// do; each is timed from when it was due.
pub async fn open_loop(
    client: &reqwest::Client,
    target: &Target,
    expected: &str,
    rate: f64,
    seconds: f64,
) -> Measured {
    let count = (rate * seconds).round().max(1.0) as usize;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(count);
    let mut refused = 0;
    for i in 0..count {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            refused += 1;
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (client, target, expected, in_flight) = (
            client.clone(),
            target.clone(),
            expected.to_owned(),
            Arc::clone(&in_flight),
        );
        tasks.push(tokio::spawn(async move {
            let sample = send(&client, &target, due, Some(&expected)).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            sample
        }));
    }
    let mut samples = Vec::with_capacity(count);
    for task in tasks {
        samples.extend(task.await.ok());
    }
    samples.extend((0..refused).map(|_| Sample {
        error: Some(format!(
            "not sent: {MAX_IN_FLIGHT} requests already in flight"
        )),
        ..Sample::default()
    }));
    Measured::of(samples, (Instant::now() - start).as_secs_f64())
}

/// One rate of the sweep for one column.
#[derive(Debug, Clone, Copy)]
pub struct RatePoint {
    pub rate: f64,
    pub achieved: f64,
    pub p99_ms: f64,
    pub added_p99_ms: f64,
    pub errors: usize,
}

impl RatePoint {
    pub fn passes(&self) -> bool {
        self.errors == 0 && self.added_p99_ms < ADDED_P99_LIMIT_MS
    }

    fn broke_down(&self) -> bool {
        self.errors > 0 || self.added_p99_ms > GIVE_UP_MS
    }
}

/// The open-loop sweep: for each rate, the direct column first (the
/// baseline at that rate), then each proxy until it breaks down.
pub async fn rate_sweep(
    client: &reqwest::Client,
    direct: &Target,
    proxies: &[&Target],
    expected: &str,
    rates: &[f64],
    seconds: f64,
) -> Vec<(String, Vec<RatePoint>)> {
    let mut sweeps: Vec<(String, Vec<RatePoint>)> = std::iter::once(direct)
        .chain(proxies.iter().copied())
        .map(|t| (t.name.to_owned(), Vec::new()))
        .collect();
    let mut gave_up = vec![false; proxies.len()];
    for &rate in rates {
        if gave_up.iter().all(|g| *g) {
            break;
        }
        tokio::time::sleep(SETTLE).await;
        let base = open_loop(client, direct, expected, rate, seconds).await;
        let base_p99 = base.ttlb.p99;
        eprintln!(
            "  {rate:>6.0}/s {:<9} p99 {:>8.2} ms ({} errors)",
            direct.name, base_p99, base.errors
        );
        sweeps[0].1.push(RatePoint {
            rate,
            achieved: base.rate(),
            p99_ms: base_p99,
            added_p99_ms: 0.0,
            errors: base.errors,
        });
        for (i, proxy) in proxies.iter().enumerate() {
            if gave_up[i] {
                continue;
            }
            tokio::time::sleep(SETTLE).await;
            let run = open_loop(client, proxy, expected, rate, seconds).await;
            let point = RatePoint {
                rate,
                achieved: run.rate(),
                p99_ms: run.ttlb.p99,
                added_p99_ms: run.ttlb.p99 - base_p99,
                errors: run.errors,
            };
            eprintln!(
                "  {rate:>6.0}/s {:<9} p99 {:>8.2} ms, added {:>+8.2} ms ({} errors{})",
                proxy.name,
                point.p99_ms,
                point.added_p99_ms,
                point.errors,
                run.first_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
            gave_up[i] = point.broke_down();
            sweeps[i + 1].1.push(point);
        }
    }
    sweeps
}

/// The highest rate of `points` whose added p99 stayed under the limit.
pub fn highest_passing(points: &[RatePoint]) -> Option<f64> {
    points
        .iter()
        .filter(|p| p.passes())
        .map(|p| p.rate)
        .fold(None, |best, r| Some(best.map_or(r, |b: f64| b.max(r))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(rate: f64, added: f64, errors: usize) -> RatePoint {
        RatePoint {
            rate,
            achieved: rate,
            p99_ms: added,
            added_p99_ms: added,
            errors,
        }
    }

    #[test]
    fn the_highest_passing_rate_ignores_failures() {
        let points = [
            point(10.0, 1.0, 0),
            point(50.0, 4.0, 0),
            point(100.0, 9.0, 0),
            point(200.0, 2.0, 3),
        ];
        assert_eq!(highest_passing(&points), Some(50.0));
        assert_eq!(highest_passing(&[point(10.0, 6.0, 0)]), None);
    }
}
