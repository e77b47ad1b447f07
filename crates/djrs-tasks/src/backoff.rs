//! [`Backoff`]: how long a failed attempt waits before its retry, per task
//! (`#[task(backoff = …)]`) or per worker ([`Worker::retry_backoff`](crate::Worker::retry_backoff)).

use std::time::Duration;

/// A retry policy: the delay before the retry of a failed attempt, from the attempt's number
/// (1 for the first), with ±25 % jitter unless switched off, so tasks that failed together do
/// not all come back at once.
///
/// ```
/// use std::time::Duration;
///
/// use djrs_tasks::Backoff;
///
/// let linear = Backoff::linear(Duration::from_secs(10), Duration::from_secs(60)).without_jitter();
/// assert_eq!(linear.delay(1), Duration::from_secs(10));
/// assert_eq!(linear.delay(3), Duration::from_secs(30));
/// assert_eq!(linear.delay(9), Duration::from_secs(60)); // capped
///
/// let jittered = Backoff::fixed(Duration::from_secs(8));
/// let delay = jittered.delay(1);
/// assert!(delay >= Duration::from_secs(6) && delay < Duration::from_secs(10));
/// ```
///
/// On a task, any `const` expression of this type:
///
/// ```
/// use std::time::Duration;
///
/// use djrs_tasks::{Backoff, task};
///
/// #[task(max_attempts = 10, backoff = Backoff::exponential(Duration::from_secs(2), Duration::from_secs(600)))]
/// async fn call_partner_api() -> Result<(), std::io::Error> {
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Backoff {
    curve: Curve,
    jitter: bool,
}

#[derive(Debug, Clone, Copy)]
enum Curve {
    Exponential { base: Duration, cap: Duration },
    Linear { step: Duration, cap: Duration },
    Fixed(Duration),
    Custom(fn(u32) -> Duration),
}

impl Backoff {
    /// `base · 2^(attempt−1)`, at most `cap` (never below `base`): the worker's default, with
    /// 1 s and 1 h.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let b = djrs_tasks::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(5));
    /// let b = b.without_jitter();
    /// assert_eq!([b.delay(1), b.delay(2), b.delay(3), b.delay(4)].map(|d| d.as_secs()), [1, 2, 4, 5]);
    /// ```
    pub const fn exponential(base: Duration, cap: Duration) -> Self {
        let cap = if cap.as_nanos() < base.as_nanos() {
            base
        } else {
            cap
        };
        Self::jittered(Curve::Exponential { base, cap })
    }

    /// `step · attempt`, at most `cap` (never below `step`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let b = djrs_tasks::Backoff::linear(Duration::from_secs(5), Duration::from_secs(12));
    /// let b = b.without_jitter();
    /// assert_eq!([b.delay(1), b.delay(2), b.delay(3)].map(|d| d.as_secs()), [5, 10, 12]);
    /// ```
    pub const fn linear(step: Duration, cap: Duration) -> Self {
        let cap = if cap.as_nanos() < step.as_nanos() {
            step
        } else {
            cap
        };
        Self::jittered(Curve::Linear { step, cap })
    }

    /// The same delay after every attempt.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let b = djrs_tasks::Backoff::fixed(Duration::from_secs(3)).without_jitter();
    /// assert_eq!(b.delay(1), b.delay(7));
    /// ```
    pub const fn fixed(delay: Duration) -> Self {
        Self::jittered(Curve::Fixed(delay))
    }

    /// Your own curve: `f(attempt)` (1 for the first attempt), jittered unless switched off.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// fn fibonacci(attempt: u32) -> Duration {
    ///     let (mut a, mut b) = (1u64, 1u64);
    ///     for _ in 1..attempt.min(40) {
    ///         (a, b) = (b, a + b);
    ///     }
    ///     Duration::from_secs(a)
    /// }
    ///
    /// let b = djrs_tasks::Backoff::custom(fibonacci).without_jitter();
    /// assert_eq!([1, 2, 3, 4, 5].map(|n| b.delay(n).as_secs()), [1, 1, 2, 3, 5]);
    /// ```
    pub const fn custom(f: fn(u32) -> Duration) -> Self {
        Self::jittered(Curve::Custom(f))
    }

    /// The same curve without jitter: exactly its delays.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let b = djrs_tasks::Backoff::fixed(Duration::from_secs(3));
    /// assert_eq!(b.without_jitter().delay(1), Duration::from_secs(3));
    /// ```
    pub const fn without_jitter(self) -> Self {
        Backoff {
            curve: self.curve,
            jitter: false,
        }
    }

    const fn jittered(curve: Curve) -> Self {
        Backoff {
            curve,
            jitter: true,
        }
    }

    /// The delay after failed attempt number `attempt` (1 for the first; 0 counts as 1).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let b = djrs_tasks::Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
    /// let third = b.delay(3); // 400 ms ± 25 %
    /// assert!(third >= Duration::from_millis(300) && third < Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let nominal = self.nominal(attempt.max(1));
        if self.jitter {
            nominal.mul_f64(rand::random_range(0.75..1.25))
        } else {
            nominal
        }
    }

    /// The delay before jitter.
    fn nominal(&self, attempt: u32) -> Duration {
        match self.curve {
            Curve::Exponential { base, cap } => {
                let exponent = (attempt - 1).min(31);
                base.saturating_mul(1 << exponent).min(cap)
            }
            Curve::Linear { step, cap } => step.saturating_mul(attempt).min(cap),
            Curve::Fixed(delay) => delay,
            Curve::Custom(f) => f(attempt),
        }
    }
}

impl Default for Backoff {
    /// [`Backoff::exponential`] from 1 s to 1 h, jittered: a worker's default.
    fn default() -> Self {
        Backoff::exponential(Duration::from_secs(1), Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn each_curve_gives_its_delays_up_to_its_cap() {
        fn squares(attempt: u32) -> Duration {
            Duration::from_millis(u64::from(attempt) * u64::from(attempt))
        }
        let table: [(Backoff, &[(u32, u64)]); 6] = [
            (
                Backoff::exponential(MS(100), MS(1_000)),
                &[
                    (0, 100),
                    (1, 100),
                    (2, 200),
                    (3, 400),
                    (4, 800),
                    (5, 1_000),
                    (40, 1_000),
                ],
            ),
            (Backoff::exponential(MS(100), MS(10)), &[(1, 100), (3, 100)]),
            (
                Backoff::linear(MS(50), MS(120)),
                &[(0, 50), (1, 50), (2, 100), (3, 120), (u32::MAX, 120)],
            ),
            (Backoff::linear(MS(50), MS(10)), &[(1, 50), (4, 50)]),
            (Backoff::fixed(MS(70)), &[(1, 70), (9, 70)]),
            (Backoff::custom(squares), &[(1, 1), (3, 9), (10, 100)]),
        ];
        for (backoff, cases) in table {
            for &(attempt, nominal) in cases {
                let exact = backoff.without_jitter().delay(attempt);
                assert_eq!(exact, MS(nominal), "{backoff:?} attempt {attempt}");
                for _ in 0..20 {
                    let jittered = backoff.delay(attempt).as_secs_f64();
                    let nominal = MS(nominal).as_secs_f64();
                    assert!(
                        jittered >= nominal * 0.75 && jittered < nominal * 1.25,
                        "{backoff:?} attempt {attempt}: {jittered}"
                    );
                }
            }
        }
    }

    #[test]
    fn jitter_spreads_delays_unless_switched_off() {
        let jittered = Backoff::fixed(Duration::from_secs(100));
        let delays: std::collections::HashSet<Duration> =
            (0..20).map(|_| jittered.delay(1)).collect();
        assert!(delays.len() > 1, "{delays:?}");
        let exact = jittered.without_jitter();
        assert!((0..20).all(|_| exact.delay(1) == Duration::from_secs(100)));
        assert!(Backoff::default().jitter);
        assert_eq!(
            Backoff::default().without_jitter().delay(13),
            Duration::from_secs(3600)
        );
    }
}
