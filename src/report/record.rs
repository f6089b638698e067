//! The run record (`run.json`): what ran, against what, from which commit and specs,
//! and the result, shaped as an in-toto Statement with a test-result predicate so
//! attestation tooling can read it, plus ft's own details.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RunInfo;
use crate::runner::{Outcome, RunSummary};
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The commit tested (empty outside a git work tree).
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: TestResult,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Subject {
    pub name: String,
    pub digest: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// In-toto's word for the verdict (`Verdict::test_result`): PASSED; WARNED when green
    /// only thanks to retries (flaky scenarios); FAILED otherwise. ft reads `ft.verdict`.
    pub result: String,
    pub configuration: Vec<Subject>,
    pub passed_tests: Vec<String>,
    pub failed_tests: Vec<String>,
    pub warned_tests: Vec<String>,
    /// ft's own fields (in-toto allows extra fields in a predicate).
    pub ft: FtDetails,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub struct FtDetails {
    pub ft_version: String,
    /// How the run ended, computed once (`Verdict::of`); what `ft gate` reads.
    pub verdict: Verdict,
    /// Whether the run itself counted as green (a flaky run with `--fail-on-flaky` did not).
    pub green: bool,
    /// Whether the run accepted flaky scenarios as green (no `--fail-on-flaky`).
    pub flaky_accepted: bool,
    pub commit: Option<String>,
    pub target: String,
    pub stage: Option<String>,
    pub specs: String,
    pub spec_digest: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub workers: usize,
    pub total: usize,
    pub passed: usize,
    /// Passed on a retry (counted in `passed` too).
    #[serde(default)]
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
    pub not_run: usize,
    /// False when the run was interrupted or some scenario did not run.
    pub complete: bool,
    /// Ctrl-C or SIGTERM stopped the run.
    #[serde(default)]
    pub interrupted: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub errored_tests: Vec<String>,
    pub not_run_tests: Vec<String>,
    /// Deliberately not run (e.g. unsafe on a sensitive target); the run is still complete.
    #[serde(default)]
    pub skipped_tests: Vec<String>,
}

impl RunRecord {
    pub fn new(
        info: &RunInfo,
        scenarios: &[Scenario],
        summary: &RunSummary,
        verdict: Verdict,
        flaky_policy: FlakyPolicy,
        finished_at: DateTime<Utc>,
    ) -> RunRecord {
        let mut passed = Vec::new();
        let mut failed = Vec::new();
        let mut errored = Vec::new();
        let mut not_run = Vec::new();
        let mut flaky = Vec::new();
        let mut skipped = Vec::new();
        for r in &summary.results {
            let name = scenarios.get(r.index).map_or_else(|| format!("#{}", r.index), |s| s.name.clone());
            match r.outcome {
                Outcome::Passed => {
                    if r.is_flaky() {
                        flaky.push(name.clone());
                    }
                    passed.push(name)
                }
                Outcome::Failed(_) => failed.push(name),
                Outcome::Error(_) => errored.push(name),
                Outcome::NotRun(_) => not_run.push(name),
                Outcome::Skipped(_) => skipped.push(name),
            }
        }
        let counts = Counts::of(summary);
        let digest = |k: &str, v: &str| std::iter::once((k.to_string(), v.to_string())).collect();
        let subject =
            info.commit.iter().map(|c| Subject { name: "git commit".into(), digest: digest("gitCommit", c) }).collect();
        RunRecord {
            statement_type: STATEMENT_TYPE.into(),
            subject,
            predicate_type: PREDICATE_TYPE.into(),
            predicate: TestResult {
                result: verdict.test_result().into(),
                configuration: vec![Subject { name: info.specs.clone(), digest: digest("sha256", &info.spec_digest) }],
                passed_tests: passed.clone(),
                failed_tests: failed.iter().chain(errored.iter()).cloned().collect(),
                warned_tests: flaky.clone(),
                ft: FtDetails {
                    ft_version: env!("CARGO_PKG_VERSION").into(),
                    verdict,
                    green: verdict.is_green(flaky_policy),
                    flaky_accepted: flaky_policy == FlakyPolicy::Accept,
                    commit: info.commit.clone(),
                    target: info.target.clone(),
                    stage: info.stage.clone(),
                    specs: info.specs.clone(),
                    spec_digest: info.spec_digest.clone(),
                    browser: summary.browser.as_ref().map(|b| b.name.clone()),
                    browser_version: summary.browser.as_ref().map(|b| b.version.clone()),
                    workers: info.workers,
                    total: counts.total,
                    passed: counts.passed,
                    flaky: counts.flaky,
                    failed: counts.failed,
                    errors: counts.errors,
                    not_run: counts.not_run,
                    complete: counts.complete(),
                    interrupted: counts.interrupted,
                    started_at: info.started_at,
                    finished_at,
                    errored_tests: errored,
                    not_run_tests: not_run,
                    skipped_tests: skipped,
                },
            },
        }
    }
}

impl FtDetails {
    /// The counts as recorded, for re-checking the recorded verdict against them.
    pub fn counts(&self) -> Counts {
        Counts {
            total: self.total,
            passed: self.passed,
            flaky: self.flaky,
            failed: self.failed,
            errors: self.errors,
            not_run: self.not_run,
            skipped: self.skipped_tests.len(),
            // An incomplete run with every scenario run can only have been interrupted.
            interrupted: self.interrupted || (!self.complete && self.not_run == 0),
        }
    }
}
