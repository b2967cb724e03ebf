//! How long to wait before retrying: jittered exponential backoff, or what the
//! server asked for in `Retry-After`.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The first retry waits about this long; each further one doubles it.
const BASE: Duration = Duration::from_millis(250);
/// Backoff without a `Retry-After` never waits longer than this.
const CAP: Duration = Duration::from_secs(8);

/// The wait before retry number `retry` (0 for the first retry). `jitter` is a
/// random number in `[0, 1]`: half of the exponential delay is fixed and half
/// is spread by it ("equal jitter"), so requests that failed together do not
/// come back together. A server's `Retry-After` is honoured: never retry
/// sooner than it asked.
pub(crate) fn retry_delay(retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponential = BASE.saturating_mul(1u32 << retry.min(16)).min(CAP);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let backoff = exponential / 2 + exponential.mul_f64(jitter / 2.0);
    retry_after.map_or(backoff, |asked| asked.max(backoff))
}

/// Reads the server's wish from `retry-after-ms` (OpenAI's, in milliseconds)
/// or `Retry-After` (seconds, or an HTTP date, which is compared with `now`).
pub(crate) fn parse_retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = retry_after?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(retry_delay(0, None, 0.0), Duration::from_millis(125));
        assert_eq!(retry_delay(0, None, 1.0), Duration::from_millis(250));
        assert_eq!(retry_delay(1, None, 0.0), Duration::from_millis(250));
        assert_eq!(retry_delay(1, None, 1.0), Duration::from_millis(500));
        assert_eq!(retry_delay(3, None, 0.5), Duration::from_millis(1500));
        assert_eq!(retry_delay(30, None, 1.0), CAP);
        assert_eq!(retry_delay(30, None, 0.0), CAP / 2);
        // A broken random source does not produce a broken delay.
        assert_eq!(retry_delay(0, None, f64::NAN), Duration::from_millis(125));
        assert_eq!(retry_delay(0, None, 7.0), Duration::from_millis(250));
    }

    #[test]
    fn retry_after_is_a_floor() {
        let two = Some(Duration::from_secs(2));
        assert_eq!(retry_delay(0, two, 1.0), Duration::from_secs(2));
        // When the backoff is already longer, the backoff wins.
        assert_eq!(retry_delay(5, Some(Duration::from_millis(10)), 1.0), CAP);
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(None, Some("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after(None, Some(" 0.5 "), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(Some("1500"), Some("30"), now),
            Some(Duration::from_millis(1500)),
            "the finer header wins"
        );
        assert_eq!(
            parse_retry_after(None, Some("Wed, 21 Oct 2015 07:28:10 GMT"), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after(None, Some("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after(None, Some("soon"), now), None);
        assert_eq!(parse_retry_after(None, Some("-1"), now), None);
        assert_eq!(parse_retry_after(Some("x"), None, now), None);
        assert_eq!(parse_retry_after(None, None, now), None);
    }
}
