//! The runner's public results: its configuration, the events reporters hear, and what
//! each scenario, attempt and run came to.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// What fixtures' target placeholders stand for (`{host}`, `{db}`...).
    pub places: super::fixtures::Places,
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
        /// What a scenario's visitor beyond its first is in this session (a user context or
        /// a session of its own: `Session::visitors_are`).
        visitors: &'static str,
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
    /// The worker that ran it (0-based), every attempt on it.
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

/// What became of one scenario of the spec set: the one vocabulary of every report. The
/// record and the history keep its `word`, the console, JUnit and the pages show its
/// `label`; no other place spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioStatus {
    Passed,
    /// Passed only on a retry.
    Flaky,
    Failed,
    /// ft could not run or judge it (browser or driver trouble).
    Error,
    /// Left out by --filter / --tag.
    NotSelected,
    /// Not run because the target is sensitive and the scenario is not tagged safe.
    SkippedUnsafe,
    /// Selected but never ran (interrupted, no browser).
    NotRun,
    /// Selected, and run by another shard of the same selection (`--shard`).
    OtherShard,
}

impl ScenarioStatus {
    /// How one attempt ended (an attempt is never flaky: a scenario is).
    pub fn of_attempt(outcome: &Outcome) -> ScenarioStatus {
        match outcome {
            Outcome::Passed => ScenarioStatus::Passed,
            Outcome::Failed(_) => ScenarioStatus::Failed,
            Outcome::Error(_) => ScenarioStatus::Error,
            Outcome::NotRun(_) => ScenarioStatus::NotRun,
            Outcome::Skipped(_) => ScenarioStatus::SkippedUnsafe,
        }
    }

    /// How a scenario ended, over all its attempts.
    pub fn of(result: &ScenarioResult) -> ScenarioStatus {
        match ScenarioStatus::of_attempt(&result.outcome) {
            ScenarioStatus::Passed if result.is_flaky() => ScenarioStatus::Flaky,
            status => status,
        }
    }

    /// The word a file keeps (`run.json`, `history.jsonl`, `--message-format json`).
    pub fn word(self) -> &'static str {
        match self {
            ScenarioStatus::Passed => "passed",
            ScenarioStatus::Flaky => "flaky",
            ScenarioStatus::Failed => "failed",
            ScenarioStatus::Error => "error",
            ScenarioStatus::NotSelected => "not_selected",
            ScenarioStatus::SkippedUnsafe => "skipped_unsafe",
            ScenarioStatus::NotRun => "not_run",
            ScenarioStatus::OtherShard => "other_shard",
        }
    }

    /// The status a `word` names. History lines written before the words were one say
    /// `skipped` for a scenario skipped as unsafe.
    pub fn from_word(word: &str) -> Option<ScenarioStatus> {
        ALL.iter().copied().find(|s| s.word() == word).or((word == "skipped").then_some(ScenarioStatus::SkippedUnsafe))
    }

    /// The status a `label` names.
    pub fn from_label(label: &str) -> Option<ScenarioStatus> {
        ALL.iter().copied().find(|s| s.label() == label)
    }

    /// The label a person reads (console, JUnit messages, the pages, annotations).
    pub fn label(self) -> &'static str {
        match self {
            ScenarioStatus::Passed => "PASS",
            ScenarioStatus::Flaky => "FLAKY",
            ScenarioStatus::Failed => "FAIL",
            ScenarioStatus::Error => "ERROR",
            ScenarioStatus::NotSelected => "NOT SELECTED",
            ScenarioStatus::SkippedUnsafe => "SKIP",
            ScenarioStatus::NotRun => "NOT RUN",
            ScenarioStatus::OtherShard => "OTHER SHARD",
        }
    }

    /// Did it run and say something about the app (passed, flaky, failed or errored)?
    /// Only these count in a scenario's times and flake rates.
    pub fn judged(self) -> bool {
        matches!(self, ScenarioStatus::Passed | ScenarioStatus::Flaky | ScenarioStatus::Failed | ScenarioStatus::Error)
    }
}

const ALL: [ScenarioStatus; 8] = [
    ScenarioStatus::Passed,
    ScenarioStatus::Flaky,
    ScenarioStatus::Failed,
    ScenarioStatus::Error,
    ScenarioStatus::NotSelected,
    ScenarioStatus::SkippedUnsafe,
    ScenarioStatus::NotRun,
    ScenarioStatus::OtherShard,
];

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

    /// An attempt's label (`ScenarioStatus::label`).
    pub fn label(&self) -> &'static str {
        ScenarioStatus::of_attempt(self).label()
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
    /// Its line in the scenario's file (for a step expanded from a reusable step, the
    /// line of the scenario's call).
    pub line: usize,
    /// What it did (`Step::described`: under its calls, for an expanded step).
    pub description: String,
    pub took: Duration,
    pub ok: bool,
    /// The reusable steps it was expanded from, the scenario's own call first.
    pub calls: Vec<crate::spec::CallSite>,
}

impl StepLog {
    /// Every string with each of `secrets` shown as `[secret]`.
    fn redact(&mut self, secrets: &[String]) {
        self.description = redact(secrets, &self.description);
    }
}

use crate::spec::values::redact;

impl Attempt {
    /// Every text of this attempt with the secrets it used shown as `[secret]`: the one
    /// place the runner's results pass through before any output (console, logs, JUnit,
    /// HTML, run.json, Allure, JSON lines) sees them.
    pub(super) fn redact(&mut self, secrets: &[String]) {
        if secrets.is_empty() {
            return;
        }
        for step in &mut self.log {
            step.redact(secrets);
        }
        if let Outcome::Failed(f) | Outcome::Error(f) = &mut self.outcome {
            if let Some((_, _, what)) = &mut f.step {
                *what = redact(secrets, what);
            }
            f.message = redact(secrets, &f.message);
            f.last_seen = f.last_seen.as_deref().map(|s| redact(secrets, s));
            f.evidence.html = f.evidence.html.as_deref().map(|s| redact(secrets, s));
            f.evidence.url = f.evidence.url.as_deref().map(|s| redact(secrets, s));
            for signal in &mut f.evidence.signals.entries {
                signal.text = redact(secrets, &signal.text);
                signal.url = signal.url.as_deref().map(|s| redact(secrets, s));
            }
            for frame in &mut f.evidence.filmstrip {
                frame.step = redact(secrets, &frame.step);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One vocabulary: the word a file keeps is serde's, reads back to the same status, and
    /// every status has its own word and label.
    #[test]
    fn every_status_has_one_word_and_one_label_that_read_back() {
        for status in ALL {
            let json = serde_json::to_value(status).expect("serializes");
            assert_eq!(json, status.word(), "the record's word is the history's");
            assert_eq!(ScenarioStatus::from_word(status.word()), Some(status));
            assert_eq!(ScenarioStatus::from_label(status.label()), Some(status));
        }
        let mut words: Vec<&str> = ALL.iter().map(|s| s.word()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), ALL.len());
        assert_eq!(ScenarioStatus::from_word("skipped"), Some(ScenarioStatus::SkippedUnsafe), "older history lines");
        assert_eq!(ScenarioStatus::from_word("PASS"), None);
    }
}
