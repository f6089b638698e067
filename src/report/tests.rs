//! The writers in-process, on a `Vec<u8>` (as ripgrep tests its printers): the console
//! summary, JUnit and the run record for a given summary, without a browser.

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

/// A writer the test can read back after the console has been given it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

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
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("utf-8")
    }
}

fn scenarios() -> Vec<Scenario> {
    spec::load(&SpecSource::BuiltIn, &Default::default()).expect("the built-in suite loads").scenarios
}

fn info() -> RunInfo {
    RunInfo {
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
        dirty_paths: Some(Vec::new()),
        ci_url: None,
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
    RunSummary { results, browser: None, interrupted: false, wall: Duration::from_millis(3210) }
}

fn console_summary(summary: &RunSummary, flaky: FlakyPolicy) -> String {
    let out = Shared::default();
    let mut console = Console::new(Box::new(out.clone()), false);
    let paths = ReportPaths::in_dir("reports".into());
    console.summary(summary, Verdict::of(summary), flaky, &paths);
    out.text()
}

#[test]
fn the_console_headline_is_the_verdict_under_the_runs_flaky_policy() {
    let scenarios = scenarios();
    let flaky = summary(&scenarios, |_| Outcome::Passed);
    assert_eq!(
        console_summary(&flaky, FlakyPolicy::Accept),
        "OK (flaky): 6 scenarios: 6 passed (1 flaky), 0 failed, 0 errors, 0 not run in 3.21s\nreports: reports/junit.xml, reports/run.json\n"
    );
    assert!(console_summary(&flaky, FlakyPolicy::Reject)
        .starts_with("NOT OK (flaky, and --fail-on-flaky is set): 6 scenarios: 6 passed (1 flaky)"),);
    let failed = summary(&scenarios, |s| Outcome::Failed(failure(s)));
    assert!(console_summary(&failed, FlakyPolicy::Accept)
        .starts_with("NOT OK (failed): 6 scenarios: 2 passed (1 flaky), 4 failed, 0 errors, 0 not run"));
    let mut interrupted = summary(&scenarios, |_| Outcome::NotRun("interrupted before it started".into()));
    interrupted.interrupted = true;
    assert!(console_summary(&interrupted, FlakyPolicy::Accept).starts_with("NOT OK (interrupted): 6 scenarios"));
}

fn junit_text(summary: &RunSummary, flaky: FlakyPolicy) -> String {
    let scenarios = scenarios();
    let report = junit_report(&info(), &scenarios, summary, Verdict::of(summary), flaky, &Artifacts::new());
    let mut out = Vec::new();
    report.serialize(&mut out).expect("JUnit serialises");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn junit_carries_the_verdict_and_the_failing_step() {
    let scenarios = scenarios();
    let failed =
        summary(&scenarios, |s| if s.name.contains("layout") { Outcome::Failed(failure(s)) } else { Outcome::Passed });
    let xml = junit_text(&failed, FlakyPolicy::Accept);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let prop = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
            .and_then(|n| n.attribute("value"))
    };
    assert_eq!(prop("verdict"), Some("failed"));
    assert_eq!(prop("green"), Some("false"));
    let layout = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("layout and styling"))
        .expect("the layout testcase");
    let failure = layout.children().find(|n| n.has_tag_name("failure")).expect("a <failure>");
    let message = failure.attribute("message").unwrap_or("");
    assert!(
        message.starts_with("<built-in>/superlists.toml:") && message.contains("still not true after 10.0s"),
        "{message}"
    );
    assert!(!xml.contains("secret"), "no credentials");

    let flaky = summary(&scenarios, |_| Outcome::Passed);
    let xml = junit_text(&flaky, FlakyPolicy::Reject);
    assert!(xml.contains(r#"<property name="verdict" value="flaky"/>"#), "{xml}");
    assert!(xml.contains(r#"<property name="green" value="false"/>"#), "{xml}");
    assert!(xml.contains("<flakyFailure"), "the retried attempt is kept: {xml}");
}

#[test]
fn the_record_states_the_verdict_and_its_counts_agree_with_it() {
    let scenarios = scenarios();
    let flaky = summary(&scenarios, |_| Outcome::Passed);
    let rec = RunRecord::new(&info(), &scenarios, &flaky, Verdict::of(&flaky), FlakyPolicy::Reject, Utc::now());
    let ft = &rec.predicate.ft;
    assert_eq!(ft.verdict, Verdict::Flaky);
    assert!(!ft.green, "--fail-on-flaky: not green");
    assert_eq!(rec.predicate.result, "WARNED");
    assert_eq!(Verdict::from_counts(&ft.counts()), ft.verdict, "the counts give the stated verdict");
    let json = serde_json::to_string(&rec).expect("serialises");
    let back: RunRecord = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, rec);
}

#[test]
fn prepare_takes_the_folder_and_leaves_no_earlier_record_and_a_held_folder_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = ReportPaths::in_dir(dir.path().join("reports"));
    std::fs::create_dir_all(paths.artifacts()).expect("mkdir");
    std::fs::write(paths.artifacts().join(super::artifacts::MARKER), "").expect("marker");
    for old in [&paths.junit, &paths.record, &paths.envelope()] {
        std::fs::write(old, "an earlier run's").expect("write");
    }
    let lock = super::prepare(&paths).expect("a free folder");
    for old in [&paths.junit, &paths.record, &paths.envelope()] {
        assert!(!old.exists(), "{} outlived the start of a run", old.display());
    }
    assert!(!paths.artifacts().exists());

    std::fs::write(&paths.record, "the holder's own").expect("write");
    let err = super::prepare(&paths).expect_err("the folder is held");
    assert!(matches!(err, super::ReportError::Locked { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&paths.record).expect("kept"), "the holder's own");
    drop(lock);
}
