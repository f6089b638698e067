//! An expectation's wait that wakes on change, where the page can hold it
//! (`Session::watchable`: a local Chromium over DevTools, on the page itself): after a look
//! that does not hold, the page is watched (`Session::when_changed`) until what the look
//! sees changes, and what it sees then is judged; when it holds, the expectation holds with
//! what the page saw (the same inspection script and fields as a look over WebDriver, but
//! the element reference, which only chromedriver makes: an action after it finds its
//! element with a look of its own, as after a step that looked at something else). A
//! confirming look through chromedriver cost as much as polling overshot (BENCHMARKS.md,
//! "Waits that wake on change, over DevTools"). When the next step is an expectation too,
//! the page makes its first look in the same answer (`Seen::look_ahead`): that step judges
//! what the page showed the moment this one held, with no round trip. A page that does not
//! change costs one answer per `WAKE_CAP`, no WebDriver command; one that changes all the
//! time no more looks than polling would make. Anywhere else, and once the page cannot hold
//! a wait, it polls as `wait::until` does, with the same message at the deadline.

use std::time::{Duration, Instant};

use super::predicates::Judge;
use super::{Inspect, LastPage};
use crate::browser::{BrowserError, Change, Session};
use crate::runner::ScenarioState;
use crate::wait::{pause, Patience, TimedOut, WaitError};

/// The longest one wait in the page lasts before the page looks once more by itself (for
/// what neither a mutation nor an event tells: a value a script set, a shadow root's
/// insides) and answers whether anything changed.
pub(super) const WAKE_CAP: Duration = Duration::from_secs(1);

/// Look until `judge` accepts what a look at `inspect` sees, waking on change (see the
/// module); the failure at the deadline is `wait::until`'s.
pub(super) async fn until(
    patience: Patience,
    session: &Session,
    state: &ScenarioState,
    inspect: &Inspect,
    judge: &Judge<'_>,
    page: &LastPage,
) -> Result<(), WaitError<BrowserError>> {
    let start = Instant::now();
    let deadline = start + patience.max_wait;
    let timed_out = |checks, last_seen| {
        let waited = Instant::now() - start;
        WaitError::TimedOut(TimedOut { waited, checks, last_seen })
    };
    let mut checks = 0u32;
    // The tab the page's waits are held in, asked at the first wait; `None` once it
    // cannot hold one: the rest polls.
    let mut tab: Option<Option<String>> = None;
    // What the last check that answered saw (see `wait::until`).
    let mut answered: Option<String> = None;
    loop {
        checks += 1;
        let bound = patience.max_wait.max(Duration::from_secs(1));
        let (mut last_seen, mut since) = match tokio::time::timeout(bound, state.seen.look(session, inspect)).await {
            Ok(Ok(Ok(seen))) => {
                page.note(&seen);
                match judge(&seen) {
                    Ok(()) => return Ok(()),
                    Err(why) => (why, Some(seen)),
                }
            }
            Ok(Ok(Err(why))) => (why, None),
            Ok(Err(fatal)) => return Err(WaitError::Fatal(fatal)),
            Err(_) => match &answered {
                Some(seen) => (format!("{seen} (the check after it did not answer within {bound:?})"), None),
                None => (format!("a check did not answer within {bound:?}"), None),
            },
        };
        answered = Some(last_seen.clone());
        if Instant::now() >= deadline {
            return Err(timed_out(checks, last_seen));
        }
        let held = match (&tab, &since) {
            (Some(known), _) => known.clone(),
            (None, Some(seen)) => tab.insert(session.watchable(seen).await).clone(),
            // A look that saw nothing to compare with (the browser's error): poll.
            (None, None) => None,
        };
        if held.is_none() || since.is_none() {
            pause(patience.poll, deadline).await;
        }
        let Some(held) = held else { continue };
        // The page was left under the wait: looked at again over WebDriver, even at the
        // deadline.
        let mut again = false;
        // Held in the page until what the look sees changes to something that holds.
        while let Some(before) = since.take() {
            let began = Instant::now();
            let left = deadline.saturating_duration_since(began);
            if left.is_zero() {
                return Err(timed_out(checks, last_seen));
            }
            checks += 1;
            let (asked, next) = (state.seen.asked(inspect), state.seen.ahead());
            let look = asked.look();
            match session.when_changed(&held, look, next.as_ref().map(Inspect::look), &before, left.min(WAKE_CAP)).await
            {
                Change::Same => since = Some(before),
                Change::Seen { seen, ahead } => {
                    let (seen, ahead) = (*seen, ahead.map(|ahead| *ahead));
                    page.note(&seen);
                    match judge(&seen) {
                        // What the page saw is the step's observation, as a look's would be;
                        // what the next step's first look saw in that moment is that step's.
                        Ok(()) => {
                            match (next, ahead) {
                                (Some(next), Some(ahead)) if ahead.error.is_none() => state.seen.keep(next, ahead),
                                _ => state.seen.keep(asked, seen),
                            }
                            return Ok(());
                        }
                        Err(why) => {
                            last_seen = why;
                            answered = Some(last_seen.clone());
                            since = Some(seen);
                            // No more answers than polling would give: a page that
                            // changes all the time (a clock, an animation) is looked at
                            // once per poll interval.
                            let spacing = patience.poll.saturating_sub(began.elapsed());
                            pause(spacing, deadline).await;
                        }
                    }
                }
                // The page was replaced: looked at again at once.
                Change::Left => again = true,
                Change::Cannot => {
                    tab = Some(None);
                    pause(patience.poll, deadline).await;
                }
            }
        }
        if Instant::now() >= deadline && !again {
            return Err(timed_out(checks, last_seen));
        }
    }
}
