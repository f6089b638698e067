//! The writers in-process, on a `Vec<u8>` (as ripgrep tests its printers): the console
//! summary, JUnit and the run record for a given summary, without a browser.
//! Here the builders and readers every file of them shares; the tests by what they test:
//! `summary` (the verdict in the console, JUnit and the record; the folder taken),
//! `junit` (JUnit every consumer accepts, and agreeing with the record), `html`,
//! `signals` (what the browser reported, and the filmstrip, in every report).

mod html;
mod junit;
mod signals;
mod summary;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::record::RunRecord;
use super::{junit_report, Artifacts, Console, ReportPaths, RunInfo};
use crate::runner::{Attempt, Failure, Outcome, RunSummary, ScenarioResult};
use crate::spec::{self, Scenario, SpecSource};
use crate::verdict::{FlakyPolicy, Verdict};
use crate::wait::Patience;

/// A writer the test can read back after the console has been given it (also the
/// console's own tests').
#[derive(Clone, Default)]
pub(super) struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::ErrorKind::Other)?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    pub(super) fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("utf-8")
    }
}

/// The built-in suite's first seven scenarios (the lists, layout and validation): the
/// reports' figures below are written for seven.
fn scenarios() -> Vec<Scenario> {
    let mut all = spec::load(&SpecSource::BuiltIn, &Default::default(), &Default::default())
        .expect("the built-in suite loads")
        .scenarios;
    all.truncate(7);
    all
}

pub(super) fn info() -> RunInfo {
    RunInfo {
        trust: Default::default(),
        target: "https://***@staging.example".into(),
        specs: "built-in".into(),
        spec_digest: "ab".repeat(32),
        workers: 1,
        fresh_session: false,
        patience: Patience { max_wait: Duration::from_secs(10), poll: Duration::from_millis(25) },
        started_at: Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("a date"),
        commit: Some("1".repeat(40)),
        stage: None,
        target_url: "https://staging.example".into(),
        embedded_target: false,
        spec_files: vec![("specs/superlists.toml".into(), "cd".repeat(32))],
        overrides: [("error".to_string(), ".has-error".to_string())].into_iter().collect(),
        not_selected: Vec::new(),
        shard: None,
        shard_split: None,
        other_shards: Vec::new(),
        dirty_paths: Some(Vec::new()),
        ci_url: None,
        notes: Vec::new(),
    }
}

fn failure(scenario: &Scenario) -> Failure {
    let step = &scenario.steps[0];
    Failure {
        step: Some((step.line, step.col, "expect_title \"To-Do\"".into())),
        message: "still not true after 10.0s (400 checks)".into(),
        last_seen: Some("the title was \"Superlists\"".into()),
        evidence: Default::default(),
    }
}

fn result(index: usize, outcome: Outcome, earlier: Vec<Outcome>) -> ScenarioResult {
    let at = |outcome| Attempt {
        outcome,
        started_at: info().started_at,
        duration: Duration::from_millis(500),
        log: Vec::new(),
    };
    ScenarioResult {
        index,
        worker: 0,
        outcome,
        started_at: info().started_at,
        duration: Duration::from_millis(500),
        log: Vec::new(),
        earlier: earlier.into_iter().map(at).collect(),
    }
}

/// Scenario 0 passed, 1 passed on a retry, the rest as `rest` says.
fn summary(scenarios: &[Scenario], rest: impl Fn(&Scenario) -> Outcome) -> RunSummary {
    let mut results = vec![
        result(0, Outcome::Passed, Vec::new()),
        result(1, Outcome::Passed, vec![Outcome::Failed(failure(&scenarios[1]))]),
    ];
    for (i, s) in scenarios.iter().enumerate().skip(2) {
        results.push(result(i, rest(s), Vec::new()));
    }
    RunSummary {
        results,
        browser: None,
        isolation: None,
        interrupted: false,
        wall: Duration::from_millis(3210),
        quarantined: Vec::new(),
    }
}

fn all(outcome: impl Fn(&Scenario) -> Outcome) -> RunSummary {
    let scenarios = scenarios();
    let results = scenarios.iter().enumerate().map(|(i, s)| result(i, outcome(s), Vec::new())).collect();
    RunSummary {
        results,
        browser: None,
        isolation: None,
        interrupted: false,
        wall: Duration::from_millis(1234),
        quarantined: Vec::new(),
    }
}

fn count(doc: &roxmltree::Document, tag: &str, attr: &str) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.attribute(attr).and_then(|v| v.parse::<usize>().ok()).expect("a count"))
        .sum()
}

fn case<'a>(doc: &'a roxmltree::Document<'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("a testcase {name}"))
}
