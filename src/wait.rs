//! The one retry-until-deadline primitive. Every expectation and every element an
//! action needs goes through `until` (an expectation whose wait the page can hold, through
//! `runner::expect::wake`, which wakes on change and polls as this does where it cannot);
//! nothing else in ft polls or sleeps.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long to keep re-checking, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patience {
    pub max_wait: Duration,
    pub poll: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Patience { max_wait: Duration::from_secs(10), poll: Duration::from_millis(25) }
    }
}

/// What one check found.
#[derive(Debug)]
pub enum Check<T> {
    /// The condition holds.
    Done(T),
    /// Not yet; what was seen instead, in words, for the failure message.
    NotYet(String),
}

/// The condition never held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    pub waited: Duration,
    pub checks: u32,
    pub last_seen: String,
}

#[derive(Debug)]
pub enum WaitError<E> {
    TimedOut(TimedOut),
    /// The check itself failed in a way re-checking cannot mend (e.g. the browser is gone).
    Fatal(E),
}

/// Run `check` until it reports `Done`, re-checking every `patience.poll` until
/// `patience.max_wait` has passed; a check still running at the deadline is allowed to
/// finish (bounded by one more `max_wait`), and there is always one last check at the
/// deadline so a condition that became true while we slept is not missed.
pub async fn until<T, E, F, Fut>(patience: Patience, mut check: F) -> Result<T, WaitError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>, E>>,
    E: std::fmt::Display,
{
    let start = Instant::now();
    let deadline = start + patience.max_wait;
    let mut checks = 0u32;
    // What the last check that answered saw: a check cut off by its bound (a busy machine,
    // a page busy in a script) does not hide it.
    let mut answered: Option<String> = None;
    loop {
        checks += 1;
        let bound = patience.max_wait.max(Duration::from_secs(1));
        let last_seen = match tokio::time::timeout(bound, check()).await {
            Ok(Ok(Check::Done(value))) => return Ok(value),
            Ok(Ok(Check::NotYet(seen))) => {
                answered = Some(seen.clone());
                seen
            }
            Ok(Err(fatal)) => return Err(WaitError::Fatal(fatal)),
            Err(_) => match &answered {
                Some(seen) => format!("{seen} (the check after it did not answer within {bound:?})"),
                None => format!("a check did not answer within {bound:?}"),
            },
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitError::TimedOut(TimedOut { waited: now - start, checks, last_seen }));
        }
        pause(patience.poll, deadline).await;
    }
}

/// The pause between two looks: `interval`, never past `deadline`. The one sleep of a
/// wait, for `until` and for the wait the page holds (`runner::expect::wake`).
pub async fn pause(interval: Duration, deadline: Instant) {
    tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick() -> Patience {
        Patience { max_wait: Duration::from_millis(300), poll: Duration::from_millis(5) }
    }

    /// A check cut off at its bound keeps what the check before it saw in the message.
    #[tokio::test]
    async fn a_check_that_does_not_answer_keeps_what_the_one_before_saw() {
        let calls = AtomicU32::new(0);
        let patience = Patience { max_wait: Duration::from_millis(50), poll: Duration::from_millis(5) };
        let got = until(patience, || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return Ok::<_, String>(Check::<()>::NotYet("no element matches #x".into()));
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(Check::NotYet("never seen".into()))
        })
        .await;
        match got {
            Err(WaitError::TimedOut(t)) => {
                assert_eq!(t.last_seen, "no element matches #x (the check after it did not answer within 1s)")
            }
            other => panic!("a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn returns_as_soon_as_the_condition_holds() {
        let calls = AtomicU32::new(0);
        let got = until(quick(), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, String>(if n == 3 { Check::Done(n) } else { Check::NotYet(format!("call {n}")) })
        })
        .await;
        assert!(matches!(got, Ok(3)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn times_out_with_the_last_observation() {
        let calls = AtomicU32::new(0);
        let got = until(quick(), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<Check<()>, String>(Check::NotYet(format!("saw {n}")))
        })
        .await;
        let Err(WaitError::TimedOut(t)) = got else { panic!("expected a time-out") };
        assert!(t.checks >= 2, "it re-checked: {t:?}");
        assert_eq!(t.last_seen, format!("saw {}", calls.load(Ordering::SeqCst)));
        assert!(t.waited >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_fatal_error_stops_waiting_at_once() {
        let calls = AtomicU32::new(0);
        let got = until(quick(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<Check<()>, _>("browser gone".to_string())
        })
        .await;
        assert!(matches!(got, Err(WaitError::Fatal(ref e)) if e == "browser gone"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_zero_max_wait_still_checks_once() {
        let p = Patience { max_wait: Duration::ZERO, poll: Duration::from_millis(5) };
        let got = until(p, || async { Ok::<_, String>(Check::Done(7)) }).await;
        assert!(matches!(got, Ok(7)));
    }
}
