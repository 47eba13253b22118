//! Reconnect delays: exponential growth, a cap, and jitter so that many agents restarted together do not reconnect
//! to Asterisk in lockstep. Pure arithmetic (the caller supplies the random number), so it is tested without time.

use std::time::Duration;

/// Exponential backoff with proportional jitter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
    /// Growth factor per attempt.
    pub multiplier: u32,
    /// Fraction of the delay that is randomised, 0.0 (none) to 1.0 (anywhere between 0 and the delay).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2,
            jitter: 0.25,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based). `random` is a uniform sample in `[0, 1)`; the result is
    /// in `[d·(1−jitter), d]` where `d = min(initial·multiplier^attempt, max)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let growth = u64::from(self.multiplier.max(1)).saturating_pow(attempt.min(63));
        let base_nanos = (self.initial.as_nanos() as u64)
            .saturating_mul(growth)
            .min(self.max.as_nanos() as u64);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let random = random.clamp(0.0, 1.0);
        let factor = 1.0 - jitter + jitter * random;
        Duration::from_nanos((base_nanos as f64 * factor) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_is_capped() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 2,
            jitter: 0.0,
        };
        let d: Vec<_> = (0..8).map(|a| b.delay(a, 0.5).as_millis()).collect();
        assert_eq!(d, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let b = Backoff {
            jitter: 0.5,
            ..Backoff::default()
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(1, 0.999_999_999).as_millis(), 999);
        for i in 0..100 {
            let d = b.delay(3, f64::from(i) / 100.0);
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
        }
    }
}
