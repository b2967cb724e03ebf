//! A circuit breaker in front of the model server: after a run of failures it
//! refuses calls at once for a cool-down, so the gateway answers from its
//! offline composer instead of making every user wait for timeouts; then it
//! lets one probe through, and closes again when that probe succeeds.
//!
//! Time is passed in (`*_at` methods) so the state machine is tested without
//! sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::LlmError;

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed calls (transient errors, timeouts) that open it.
    pub failure_threshold: u32,
    /// How long it stays open before letting one probe through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// What the breaker lets through right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// The cool-down is over: the next call is a probe (others are refused
    /// while it runs).
    HalfOpen,
}

#[derive(Debug, Default)]
struct Inner {
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
}

/// The breaker; one per [`super::LlmClient`], shared by all its requests.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config: BreakerConfig {
                failure_threshold: config.failure_threshold.max(1),
                ..config
            },
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state_at(Instant::now())
    }

    pub fn state_at(&self, now: Instant) -> BreakerState {
        let inner = self.lock();
        match inner.opened_at {
            None => BreakerState::Closed,
            Some(at) if now < at + self.config.cool_down => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// Admits a call, or refuses it with [`LlmError::CircuitOpen`]. The call
    /// reports how it went through the permit.
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_>, LlmError> {
        self.try_acquire_at(Instant::now())
    }

    pub fn try_acquire_at(&self, now: Instant) -> Result<BreakerPermit<'_>, LlmError> {
        let mut inner = self.lock();
        let probe = match inner.opened_at {
            None => false,
            Some(at) if now < at + self.config.cool_down => return Err(LlmError::CircuitOpen),
            Some(_) if inner.probe_in_flight => return Err(LlmError::CircuitOpen),
            Some(_) => {
                inner.probe_in_flight = true;
                true
            }
        };
        Ok(BreakerPermit {
            breaker: self,
            probe,
            reported: false,
        })
    }

    /// Records a failure seen after the call's permit was used up, e.g. a
    /// stream that broke off mid-answer.
    pub(crate) fn record_late_failure(&self, now: Instant) {
        self.on_failure(false, now);
    }

    fn on_success(&self, probe: bool) {
        let mut inner = self.lock();
        if probe || inner.opened_at.is_none() {
            *inner = Inner::default();
        }
        // A call admitted before the breaker opened proves little: the probe decides.
    }

    fn on_failure(&self, probe: bool, now: Instant) {
        let mut inner = self.lock();
        if probe {
            inner.opened_at = Some(now);
            inner.probe_in_flight = false;
            return;
        }
        if inner.opened_at.is_some() {
            return;
        }
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        if inner.consecutive_failures >= self.config.failure_threshold {
            inner.opened_at = Some(now);
            tracing::warn!(
                failures = inner.consecutive_failures,
                cool_down_ms = self.config.cool_down.as_millis() as u64,
                "LLM circuit breaker opened"
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state stays consistent even if a holder panicked: use it anyway.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One admitted call. Report its outcome with [`BreakerPermit::succeed`] or
/// [`BreakerPermit::fail`]; a permit dropped unreported (the call was
/// cancelled) counts as neither, and frees the probe slot.
#[derive(Debug)]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    reported: bool,
}

impl BreakerPermit<'_> {
    pub fn succeed(mut self) {
        self.reported = true;
        self.breaker.on_success(self.probe);
    }

    pub fn fail(self) {
        self.fail_at(Instant::now());
    }

    pub fn fail_at(mut self, now: Instant) {
        self.reported = true;
        self.breaker.on_failure(self.probe, now);
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if !self.reported && self.probe {
            self.breaker.lock().probe_in_flight = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker();
        let t0 = Instant::now();
        b.try_acquire_at(t0).unwrap().fail_at(t0);
        b.try_acquire_at(t0).unwrap().fail_at(t0);
        b.try_acquire_at(t0).unwrap().succeed();
        b.try_acquire_at(t0).unwrap().fail_at(t0);
        b.try_acquire_at(t0).unwrap().fail_at(t0);
        assert_eq!(
            b.state_at(t0),
            BreakerState::Closed,
            "a success resets the count"
        );
        b.try_acquire_at(t0).unwrap().fail_at(t0);
        assert_eq!(b.state_at(t0), BreakerState::Open);
        assert_eq!(b.try_acquire_at(t0).unwrap_err(), LlmError::CircuitOpen);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_closes_on_success() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire_at(t0).unwrap().fail_at(t0);
        }
        let t1 = t0 + Duration::from_secs(29);
        assert!(b.try_acquire_at(t1).is_err(), "still cooling down");
        let t2 = t0 + Duration::from_secs(30);
        assert_eq!(b.state_at(t2), BreakerState::HalfOpen);
        let probe = b.try_acquire_at(t2).unwrap();
        assert!(b.try_acquire_at(t2).is_err(), "one probe at a time");
        probe.succeed();
        assert_eq!(b.state_at(t2), BreakerState::Closed);
        // Closed again with a fresh count: two failures do not reopen it.
        b.try_acquire_at(t2).unwrap().fail_at(t2);
        b.try_acquire_at(t2).unwrap().fail_at(t2);
        assert_eq!(b.state_at(t2), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_for_a_full_cool_down() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire_at(t0).unwrap().fail_at(t0);
        }
        let t1 = t0 + Duration::from_secs(31);
        b.try_acquire_at(t1).unwrap().fail_at(t1);
        assert_eq!(b.state_at(t1), BreakerState::Open);
        assert!(b.try_acquire_at(t1 + Duration::from_secs(29)).is_err());
        assert!(b.try_acquire_at(t1 + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn a_cancelled_probe_frees_the_slot() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.try_acquire_at(t0).unwrap().fail_at(t0);
        }
        let t1 = t0 + Duration::from_secs(30);
        drop(b.try_acquire_at(t1).unwrap());
        assert_eq!(b.state_at(t1), BreakerState::HalfOpen);
        assert!(b.try_acquire_at(t1).is_ok(), "another caller may probe");
    }

    #[test]
    fn stale_outcomes_do_not_move_an_open_breaker() {
        let b = breaker();
        let t0 = Instant::now();
        let early = b.try_acquire_at(t0).unwrap();
        let late = b.try_acquire_at(t0).unwrap();
        for _ in 0..3 {
            b.try_acquire_at(t0).unwrap().fail_at(t0);
        }
        // Calls admitted before it opened finish while it is open.
        early.succeed();
        let t1 = t0 + Duration::from_secs(20);
        late.fail_at(t1);
        b.record_late_failure(t1);
        assert_eq!(b.state_at(t1), BreakerState::Open);
        assert_eq!(
            b.state_at(t0 + Duration::from_secs(30)),
            BreakerState::HalfOpen,
            "the cool-down was not extended"
        );
    }
}
