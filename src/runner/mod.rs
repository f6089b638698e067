//! Schedules scenarios over workers, runs their steps through the browser and the
//! wait primitive, and emits `RunEvent`s. It never prints or writes files: a failing
//! scenario is data (`Outcome::Failed`), not an `Err`.
//!
//! One room per job: `result` (what a run reports), `dispatch` (the run as a whole:
//! workers, interrupts, grace), `queue` (the scenarios not started yet and the
//! `--max-failures` count, shared by the workers), `browsers` (the driver and the idle sessions, kept
//! between runs by `ft watch`), `worker` (one browser's sessions and attempts), `ahead`
//! (with `--fresh-session`, the next session started while an attempt runs),
//! `steps` (one step; the actions), `expect` (the expectations), `signals` (the
//! expectations on what the browser reported), `sensitive` (where an unsafe scenario may
//! not go), `filmstrip` (an attempt's last screens, `--filmstrip`) and `fixtures`
//! (server-side commands: a fixture step, and the `before_all` hooks `job` runs).

use std::collections::HashMap;

use crate::browser::BrowserError;
use crate::wait::WaitError;

mod ahead;
mod browsers;
mod capture;
mod controls;
mod dispatch;
mod expect;
mod filmstrip;
pub mod fixtures;
mod looks;
mod queue;
mod result;
mod sensitive;
mod signals;
mod steps;
mod worker;

pub use browsers::Browsers;
pub use dispatch::{run_in, STOPPED_EARLY};
pub use result::{
    Attempt, Failure, Outcome, RunConfig, RunError, RunEvent, RunSummary, ScenarioResult, ScenarioStatus, StepLog,
    INTERRUPTED_WHILE_RUNNING,
};
pub use steps::page_load_limit;
pub use worker::needs_bidi;

/// Per-attempt state that steps share.
#[derive(Default)]
struct ScenarioState {
    /// The scenario's steps, so a step can tell which one follows it (see `ahead`).
    steps: Vec<crate::spec::Step>,
    /// The index of the step running now: steps expanded from reusable steps repeat
    /// positions, so a step is known by its index.
    at: usize,
    /// The attempt's values: the built-ins and what its steps set.
    values: crate::spec::values::Values,
    /// What inspections already saw that a later step may use instead of asking again.
    seen: expect::Seen,
    /// The element the last step typed into or cleared (its selector and the request its
    /// form would send): a step acting on it next acts on the same element at once.
    acted: Option<(crate::shared::locator::Locator, Option<Request>)>,
    /// A `press` already sent with the typing of the step before it (its index), and the
    /// request its form would send.
    pressed_ahead: Option<(usize, Option<Request>)>,
    /// URLs by the name `remember_url` gave them, for `expect_url_differs`.
    urls: HashMap<String, String>,
    /// Stops the scenario where it must not act (`--sensitive-url`).
    guard: sensitive::Guard,
    /// The last request a step sent or may have sent (a visit, a form pressed or clicked
    /// in), so a timeout on an HTTP error page can say which request it answered.
    request: Option<Request>,
    /// When the attempt started: an email that arrived before is not its own.
    started: Option<std::time::SystemTime>,
}

/// A request as a step made it: the method and the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    method: String,
    url: String,
}

impl ScenarioState {
    fn new(scenario: &crate::spec::Scenario, config: &RunConfig, values: crate::spec::values::Values) -> ScenarioState {
        ScenarioState {
            steps: scenario.steps.clone(),
            values,
            urls: HashMap::new(),
            guard: sensitive::Guard::for_scenario(scenario, config),
            request: None,
            started: Some(std::time::SystemTime::now()),
            ..ScenarioState::default()
        }
    }

    /// The step `n` after the one running now, with its values filled in as they are
    /// now; `None` past the last step, or when its values are not all set yet.
    fn ahead(&self, n: usize) -> Option<crate::spec::Step> {
        let step = self.steps.get(self.at + n)?;
        if !step.templated {
            return Some(step.clone());
        }
        // A copy: looking ahead must not count as using a secret.
        let kind = crate::spec::values::resolve(&step.kind, &mut self.values.clone()).ok()?;
        Some(crate::spec::Step { kind, ..step.clone() })
    }

    /// `step`, the one running now, with its values filled in.
    fn resolve(&mut self, step: &crate::spec::Step) -> Result<crate::spec::Step, String> {
        if !step.templated {
            return Ok(step.clone());
        }
        let kind = crate::spec::values::resolve(&step.kind, &mut self.values)?;
        Ok(crate::spec::Step { kind, ..step.clone() })
    }
}

/// A page's text as a message shows it: on one line, cut at 300 characters (the page HTML
/// is in the evidence).
fn clip(text: &str) -> String {
    crate::shared::text::clip(&text.replace('\n', " ⏎ "), 300)
}

/// Why a step failed; the worker turns it into the scenario's outcome.
enum StepError {
    /// The app did not do what the step expects.
    Failed { message: String, last_seen: Option<String> },
    /// The browser could not be used.
    Browser(BrowserError),
    /// ft refused to go on (e.g. the browser landed on a sensitive URL): not the app's fault.
    Refused { message: String },
}

impl From<WaitError<BrowserError>> for StepError {
    fn from(e: WaitError<BrowserError>) -> Self {
        match e {
            WaitError::Fatal(e) if e.is_session_lost() => StepError::Browser(e),
            WaitError::Fatal(e) => StepError::Failed { message: e.to_string(), last_seen: None },
            WaitError::TimedOut(t) => StepError::Failed {
                message: format!("still not true after {:.1}s ({} checks)", t.waited.as_secs_f64(), t.checks),
                last_seen: Some(t.last_seen),
            },
        }
    }
}
