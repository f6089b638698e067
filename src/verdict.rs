//! The one rule that says how a run ended. Computed once from the run summary (as
//! nextest computes its final status from its run statistics) and read by everything
//! that shows or acts on it: the exit code, the console, JUnit's properties, the run
//! record, the deploy pipeline's stages and `ft gate`. No other place decides.

use serde::{Deserialize, Serialize};

use crate::runner::{Outcome, RunSummary};
pub use crate::settings::FlakyPolicy;

/// How a run ended, from the best to the worst that can be told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every scenario meant to run passed at the first attempt, and at least one ran.
    Green,
    /// Every scenario meant to run passed, but some only on a retry.
    Flaky,
    /// A scenario failed: the app did not behave as specified.
    Failed,
    /// Nothing failed, but some scenarios could not be run or judged (the browser or
    /// driver broke, no session could be had): the run says nothing about them.
    Broken,
    /// Ctrl-C or SIGTERM stopped the run before it was whole.
    Interrupted,
    /// Not one scenario ran (every one was skipped or not run): never a pass.
    NothingRan,
}

impl Verdict {
    /// The verdict of a finished run.
    pub fn of(summary: &RunSummary) -> Verdict {
        Verdict::from_counts(&Counts::of(summary))
    }

    /// The verdict for these counts. An interruption outranks everything (the run is not
    /// whole, whatever else happened); then a failure (the app is wrong); then scenarios
    /// that could not be judged; then a run in which nothing ran. `ft gate` applies the
    /// same rule to a record's counts to catch a record that contradicts itself.
    pub fn from_counts(c: &Counts) -> Verdict {
        if c.interrupted {
            Verdict::Interrupted
        } else if c.failed > 0 {
            Verdict::Failed
        } else if c.errors + c.not_run > 0 {
            Verdict::Broken
        } else if c.only_quarantined_failures() {
            // Scenarios ran and failed; quarantine kept them from counting, which leaves
            // nothing that vouches for the app. Not "nothing ran" (exit 3, infrastructure):
            // the run did run, and what ran failed.
            Verdict::Failed
        } else if c.passed == 0 {
            Verdict::NothingRan
        } else if c.flaky > 0 {
            Verdict::Flaky
        } else {
            Verdict::Green
        }
    }

    /// May this run be trusted as a pass? The one answer to "is it green?".
    pub fn is_green(self, flaky: FlakyPolicy) -> bool {
        match self {
            Verdict::Green => true,
            Verdict::Flaky => flaky == FlakyPolicy::Accept,
            Verdict::Failed | Verdict::Broken | Verdict::Interrupted | Verdict::NothingRan => false,
        }
    }

    /// How a finished run exits: 0 green, 1 failed (or flaky where flakes are refused), 3
    /// nothing could be judged, 130 interrupted (the signal's own code wins when ft saw
    /// one: `commands::run`).
    pub fn exit_code(self, flaky: FlakyPolicy) -> u8 {
        use crate::exit::{FAILED, INFRA, PASSED, SIGINT};
        match self {
            v if v.is_green(flaky) => PASSED,
            Verdict::Green | Verdict::Flaky | Verdict::Failed => FAILED,
            Verdict::Broken | Verdict::NothingRan => INFRA,
            Verdict::Interrupted => SIGINT,
        }
    }

    /// The word used in the console, JUnit and the record.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Green => "green",
            Verdict::Flaky => "flaky",
            Verdict::Failed => "failed",
            Verdict::Broken => "broken",
            Verdict::Interrupted => "interrupted",
            Verdict::NothingRan => "nothing ran",
        }
    }

    /// The words a person reads first, in the console and the HTML report: `OK`,
    /// `OK (flaky)`, `NOT OK (failed)`... Green under the run's flaky policy, and why not.
    pub fn headline(self, flaky: FlakyPolicy) -> String {
        match (self.is_green(flaky), self) {
            (true, Verdict::Green) => "OK".to_string(),
            (true, _) => format!("OK ({self})"),
            (false, Verdict::Flaky) => format!("NOT OK ({self}, and --fail-on-flaky is set)"),
            (false, _) => format!("NOT OK ({self})"),
        }
    }

    /// In-toto's test-result `result`: PASSED, WARNED (green only thanks to retries) or
    /// FAILED. Attestation tools read this; ft itself reads the verdict.
    pub fn test_result(self) -> &'static str {
        match self {
            Verdict::Green => "PASSED",
            Verdict::Flaky => "WARNED",
            _ => "FAILED",
        }
    }
}

/// How many scenarios ended which way: what the verdict is computed from, and what the
/// console and the record show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    /// Passed, at the first attempt or on a retry.
    pub passed: usize,
    /// Passed only on a retry (counted in `passed` too).
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
    pub not_run: usize,
    /// Deliberately not run (e.g. unsafe on a sensitive target); the run is still whole.
    pub skipped: usize,
    /// Failed or errored, but quarantined (`quarantine = "reason"`): reported, and not
    /// counted in `failed` or `errors`, so they do not decide the verdict.
    pub quarantined_failed: usize,
    pub interrupted: bool,
}

impl Counts {
    pub fn of(summary: &RunSummary) -> Counts {
        let mut c = Counts { total: summary.results.len(), interrupted: summary.interrupted, ..Counts::default() };
        for r in &summary.results {
            // A failure that does not count against the run is a quarantined one.
            let failed = r.outcome.counts_against_run(false);
            if failed && !r.outcome.counts_against_run(summary.quarantined.contains(&r.index)) {
                c.quarantined_failed += 1;
                continue;
            }
            match r.outcome {
                Outcome::Passed => c.passed += 1,
                Outcome::Failed(_) => c.failed += 1,
                Outcome::Error(_) => c.errors += 1,
                Outcome::NotRun(_) => c.not_run += 1,
                Outcome::Skipped(_) => c.skipped += 1,
            }
            if r.is_flaky() {
                c.flaky += 1;
            }
        }
        c
    }

    /// Scenarios ran, but every one that would count was a quarantined failure: none
    /// passed, none failed, none broke.
    pub fn only_quarantined_failures(&self) -> bool {
        self.quarantined_failed > 0 && self.passed + self.failed + self.errors + self.not_run == 0
    }

    /// Every scenario meant to run did run, and nothing stopped the run.
    pub fn complete(&self) -> bool {
        !self.interrupted && self.not_run == 0
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;

    use super::*;
    use crate::runner::{Attempt, Failure, ScenarioResult};

    fn failure() -> Failure {
        Failure { step: None, message: "no".into(), last_seen: None, evidence: Default::default() }
    }

    fn result(index: usize, outcome: Outcome, failed_before: usize) -> ScenarioResult {
        let attempt =
            |o: Outcome| Attempt { outcome: o, started_at: Utc::now(), duration: Duration::ZERO, log: Vec::new() };
        ScenarioResult {
            index,
            worker: 0,
            outcome,
            started_at: Utc::now(),
            duration: Duration::ZERO,
            log: Vec::new(),
            earlier: (0..failed_before).map(|_| attempt(Outcome::Failed(failure()))).collect(),
        }
    }

    fn summary(results: Vec<ScenarioResult>, interrupted: bool) -> RunSummary {
        RunSummary {
            results,
            browser: None,
            isolation: None,
            interrupted,
            wall: Duration::ZERO,
            quarantined: Vec::new(),
        }
    }

    #[test]
    fn all_passed_at_the_first_attempt_is_green() {
        let s = summary(vec![result(0, Outcome::Passed, 0), result(1, Outcome::Skipped("unsafe".into()), 0)], false);
        assert_eq!(Verdict::of(&s), Verdict::Green);
        assert!(Verdict::Green.is_green(FlakyPolicy::Reject));
    }

    #[test]
    fn passing_only_on_a_retry_is_flaky_and_green_only_where_flakes_are_accepted() {
        let s = summary(vec![result(0, Outcome::Passed, 1), result(1, Outcome::Passed, 0)], false);
        let v = Verdict::of(&s);
        assert_eq!(v, Verdict::Flaky);
        assert!(v.is_green(FlakyPolicy::Accept));
        assert!(!v.is_green(FlakyPolicy::Reject));
        assert_eq!(v.test_result(), "WARNED");
    }

    #[test]
    fn a_failure_outranks_errors_and_flakes() {
        let s = summary(
            vec![
                result(0, Outcome::Passed, 1),
                result(1, Outcome::Error(failure()), 0),
                result(2, Outcome::Failed(failure()), 0),
            ],
            false,
        );
        assert_eq!(Verdict::of(&s), Verdict::Failed);
    }

    #[test]
    fn errors_or_scenarios_not_run_without_a_failure_are_broken() {
        let errored = summary(vec![result(0, Outcome::Passed, 0), result(1, Outcome::Error(failure()), 0)], false);
        assert_eq!(Verdict::of(&errored), Verdict::Broken);
        let not_run = summary(vec![result(0, Outcome::Passed, 0), result(1, Outcome::NotRun("x".into()), 0)], false);
        assert_eq!(Verdict::of(&not_run), Verdict::Broken);
    }

    #[test]
    fn an_interrupted_run_is_never_green_even_if_all_that_ran_passed() {
        let s = summary(vec![result(0, Outcome::Passed, 0)], true);
        assert_eq!(Verdict::of(&s), Verdict::Interrupted);
        assert!(!Verdict::Interrupted.is_green(FlakyPolicy::Accept));
        assert_eq!(Verdict::Interrupted.test_result(), "FAILED");
    }

    #[test]
    fn zero_scenarios_run_is_never_a_pass() {
        assert_eq!(Verdict::of(&summary(Vec::new(), false)), Verdict::NothingRan);
        let all_skipped = summary(vec![result(0, Outcome::Skipped("unsafe".into()), 0)], false);
        assert_eq!(Verdict::of(&all_skipped), Verdict::NothingRan);
        assert!(!Verdict::NothingRan.is_green(FlakyPolicy::Accept));
    }

    #[test]
    fn a_run_of_only_quarantined_failures_failed_and_did_not_nothing_run() {
        let mut only =
            summary(vec![result(0, Outcome::Failed(failure()), 0), result(1, Outcome::Failed(failure()), 0)], false);
        only.quarantined = vec![0, 1];
        assert_eq!(Verdict::of(&only), Verdict::Failed);
        assert_eq!(Verdict::of(&only).exit_code(FlakyPolicy::Accept), crate::exit::FAILED);
        // Beside a scenario that passed, a quarantined failure still does not count.
        let mut beside = summary(vec![result(0, Outcome::Failed(failure()), 0), result(1, Outcome::Passed, 0)], false);
        beside.quarantined = vec![0];
        assert_eq!(Verdict::of(&beside), Verdict::Green);
    }

    #[test]
    fn the_record_spells_the_verdict_in_snake_case() {
        assert_eq!(serde_json::to_string(&Verdict::NothingRan).ok().as_deref(), Some("\"nothing_ran\""));
        assert_eq!(serde_json::from_str::<Verdict>("\"flaky\"").ok(), Some(Verdict::Flaky));
    }
}
