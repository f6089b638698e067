//! The runner's public results: its configuration, the events reporters hear, and what
//! each scenario, attempt and run came to.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::browser::{BrowserError, BrowserInfo, Evidence, Isolation};
use crate::settings::Settings;

/// What the runner is given: the target, the scenarios not to run, and the run's settings
/// as the flags (and ft.toml) set them.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The target's base URL, without a trailing slash.
    pub base_url: String,
    /// Scenarios (by index) not to run, with the reason they are skipped.
    pub skip: HashMap<usize, String>,
    pub settings: Settings,
}

impl RunConfig {
    /// Is `scenario`'s failure kept from failing the run (`quarantine = "reason"`,
    /// honoured unless --no-quarantine)?
    pub fn quarantines(&self, scenario: &crate::spec::Scenario) -> bool {
        self.settings.honour_quarantine && scenario.quarantine.is_some()
    }
}

/// Everything the reporters hear about a run, in order.
#[derive(Clone, Debug)]
pub enum RunEvent {
    /// A browser session is ready (the first one names the browser for the reports).
    SessionStarted {
        worker: usize,
        browser: BrowserInfo,
        took: Duration,
        /// How this session keeps one scenario's visitor from the next.
        isolation: Isolation,
    },
    ScenarioStarted {
        index: usize,
        worker: usize,
    },
    /// An attempt failed and the scenario will run again (`--retries`); `number` is 1-based.
    AttemptFailed {
        index: usize,
        worker: usize,
        number: usize,
        attempt: Attempt,
    },
    ScenarioFinished(ScenarioResult),
    /// The first interrupt: nothing new is scheduled.
    Interrupted {
        signal_count: u32,
    },
    /// A worker could not get a browser and stopped; the others go on.
    WorkerStopped {
        worker: usize,
        reason: String,
    },
}

/// A scenario's result: its last attempt, and the failed attempts before it.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// Index into the scenarios given to `run`.
    pub index: usize,
    #[allow(dead_code, reason = "kept for the HTML report's timeline, a lane per worker (issue 23)")]
    pub worker: usize,
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub log: Vec<StepLog>,
    /// Failed attempts before the last one (with `--retries`), oldest first.
    pub earlier: Vec<Attempt>,
}

impl ScenarioResult {
    pub(super) fn new(index: usize, worker: usize, last: Attempt, earlier: Vec<Attempt>) -> ScenarioResult {
        ScenarioResult {
            index,
            worker,
            outcome: last.outcome,
            started_at: last.started_at,
            duration: last.duration,
            log: last.log,
            earlier,
        }
    }

    pub(super) fn not_run(
        index: usize,
        worker: usize,
        why: &str,
        started_at: DateTime<Utc>,
        duration: Duration,
    ) -> Self {
        let attempt = Attempt::new(Outcome::NotRun(why.to_string()), started_at, duration, Vec::new());
        ScenarioResult::new(index, worker, attempt, Vec::new())
    }

    /// Passed, but only after failing: not to be trusted as green without saying so.
    pub fn is_flaky(&self) -> bool {
        matches!(self.outcome, Outcome::Passed) && !self.earlier.is_empty()
    }
}

/// One run of a scenario's steps.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub log: Vec<StepLog>,
}

impl Attempt {
    pub(super) fn new(outcome: Outcome, started_at: DateTime<Utc>, duration: Duration, log: Vec<StepLog>) -> Attempt {
        Attempt { outcome, started_at, duration, log }
    }
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Passed,
    /// The app did not behave as the scenario expects.
    Failed(Failure),
    /// ft could not run the scenario (browser or driver trouble): not the app's fault.
    Error(Failure),
    /// Not run, with the reason (interrupted, no browser): the run is incomplete.
    NotRun(String),
    /// Deliberately not run, with the reason (e.g. not safe on a sensitive target): the
    /// run is still complete.
    Skipped(String),
}

/// The reason a scenario cut short by a second interrupt is not run: reporters tell it
/// apart from one that never started (JUnit makes it an error, not a skip).
pub const INTERRUPTED_WHILE_RUNNING: &str = "interrupted while running";

impl Outcome {
    /// Does this outcome count against the run? A failure or an error, unless the
    /// scenario is quarantined. The one rule: the verdict counts these, and
    /// `--max-failures` stops at them (a quarantined failure stops nothing, as it fails
    /// nothing).
    pub fn counts_against_run(&self, quarantined: bool) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::Error(_)) && !quarantined
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed(_) => "FAIL",
            Outcome::Error(_) => "ERROR",
            Outcome::NotRun(_) => "NOT RUN",
            Outcome::Skipped(_) => "SKIP",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Failure {
    /// The failing step (line, column, description), when a step failed.
    pub step: Option<(usize, usize, String)>,
    /// What went wrong, in one line.
    pub message: String,
    /// What the page showed at the last check.
    pub last_seen: Option<String>,
    pub evidence: Evidence,
}

#[derive(Clone, Debug)]
pub struct StepLog {
    pub line: usize,
    pub description: String,
    pub took: Duration,
    pub ok: bool,
}

/// The run as a whole; `verdict::Counts` counts it, `verdict::Verdict` judges it.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub results: Vec<ScenarioResult>,
    pub browser: Option<BrowserInfo>,
    /// The weakest isolation of the run's sessions (None: no session started).
    pub isolation: Option<Isolation>,
    pub interrupted: bool,
    pub wall: Duration,
    /// Scenarios (by index) whose failure does not fail the run (`quarantine`, honoured
    /// unless --no-quarantine).
    pub quarantined: Vec<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to start the browser driver")]
    Driver(#[source] BrowserError),
    #[error("failed to start any browser session")]
    NoSession(#[source] BrowserError),
}
