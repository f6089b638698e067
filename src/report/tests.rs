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

fn console_summary(summary: &RunSummary, flaky: FlakyPolicy) -> String {
    let out = Shared::default();
    let mut console = Console::new(Box::new(out.clone()), false);
    let paths = ReportPaths::in_dir("reports".into());
    console.summary(summary, Verdict::of(summary), flaky, &[paths.junit.clone(), paths.record.clone(), paths.html()]);
    out.text()
}

#[test]
fn the_console_headline_is_the_verdict_under_the_runs_flaky_policy() {
    let scenarios = scenarios();
    let flaky = summary(&scenarios, |_| Outcome::Passed);
    assert_eq!(
        console_summary(&flaky, FlakyPolicy::Accept),
        "OK (flaky): 7 scenarios: 7 passed (1 flaky), 0 failed, 0 errors, 0 not run in 3.21s\nreports: reports/junit.xml, reports/run.json, reports/index.html\n"
    );
    assert!(console_summary(&flaky, FlakyPolicy::Reject)
        .starts_with("NOT OK (flaky, and --fail-on-flaky is set): 7 scenarios: 7 passed (1 flaky)"),);
    let failed = summary(&scenarios, |s| Outcome::Failed(failure(s)));
    assert!(console_summary(&failed, FlakyPolicy::Accept)
        .starts_with("NOT OK (failed): 7 scenarios: 2 passed (1 flaky), 5 failed, 0 errors, 0 not run"));
    let mut interrupted = summary(&scenarios, |_| Outcome::NotRun("interrupted before it started".into()));
    interrupted.interrupted = true;
    assert!(console_summary(&interrupted, FlakyPolicy::Accept).starts_with("NOT OK (interrupted): 7 scenarios"));
}

fn junit_text(summary: &RunSummary, flaky: FlakyPolicy) -> String {
    let scenarios = scenarios();
    junit_report(&info(), &scenarios, summary, Verdict::of(summary), flaky, &Artifacts::new()).to_xml()
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

// Issue 10: JUnit that every consumer accepts. Each kind of run is checked with xmllint:
// the whole file against the Jenkins xUnit plugin's junit-10.xsd, and each testsuite on
// its own against Maven Surefire's surefire-test-report-3.0.xsd (tests/schemas/).

/// A JUnit document for `summary`, with evidence for every attempt that failed, links
/// made relative to `/work/project`.
fn junit_for(summary: &RunSummary) -> super::junit::JunitReport {
    let scenarios = scenarios();
    let mut artifacts = Artifacts::new();
    for r in &summary.results {
        let attempts = r.earlier.iter().map(|a| &a.outcome).chain([&r.outcome]);
        for (number, outcome) in attempts.enumerate() {
            if matches!(outcome, Outcome::Failed(_) | Outcome::Error(_)) {
                let file = format!("/work/project/reports/artifacts/s{}/a{}/screenshot.png", r.index, number + 1);
                artifacts.insert((r.index, number + 1), vec![file.into(), "/elsewhere/page.html".into()]);
            }
        }
    }
    let verdict = Verdict::of(summary);
    super::junit::build(
        &info(),
        &scenarios,
        summary,
        verdict,
        FlakyPolicy::Accept,
        &artifacts,
        Some(std::path::Path::new("/work/project")),
    )
}

/// Validate with `xmllint --noout --schema`; xmllint comes with Debian's libxml2-utils
/// (scripts/install-deps.sh installs it): without it the test fails rather than pass
/// unchecked.
fn assert_valid(xml: &str, schema: &str) {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas").join(schema);
    let mut file = tempfile::Builder::new().suffix(".xml").tempfile().expect("a temp file");
    file.write_all(xml.as_bytes()).expect("written");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file.path())
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils, or scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "invalid against {}:\n{}\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Valid for both schemas; returns the parsed-back text of the whole file.
fn assert_accepted(summary: &RunSummary) -> String {
    let report = junit_for(summary);
    let xml = report.to_xml();
    assert_valid(&xml, "junit-10.xsd");
    let suites = report.suites_as_documents();
    assert!(!suites.is_empty());
    for suite in suites {
        assert_valid(&suite, "surefire-test-report-3.0.xsd");
    }
    xml
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

#[test]
fn junit_of_a_green_run_is_valid_for_jenkins_xunit_and_surefire() {
    let xml = assert_accepted(&all(|_| Outcome::Passed));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    assert_eq!(count(&doc, "testsuite", "errors") + count(&doc, "testsuite", "failures"), 0);
    assert!(xml.contains(r#"<property name="verdict" value="green"/>"#), "{xml}");
}

#[test]
fn junit_of_a_failing_run_is_valid_and_links_evidence_relative_to_the_project() {
    let failing = all(|s| match s.name.as_str() {
        "layout and styling" => Outcome::Error(failure(s)),
        n if n.contains("duplicate") => Outcome::Failed(failure(s)),
        _ => Outcome::Passed,
    });
    let xml = assert_accepted(&failing);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    assert_eq!((count(&doc, "testsuite", "failures"), count(&doc, "testsuite", "errors")), (1, 1));
    let out =
        doc.descendants().find(|n| n.has_tag_name("system-out") && n.text().is_some_and(|t| t.contains("ATTACHMENT")));
    let out = out.and_then(|n| n.text()).expect("attachment lines");
    assert!(out.contains("[[ATTACHMENT|reports/artifacts/s"), "under the project: relative: {out}");
    assert!(out.contains("[[ATTACHMENT|/elsewhere/page.html]]"), "outside it: absolute: {out}");
}

#[test]
fn junit_of_a_flaky_run_gives_each_retry_its_message_type_stack_trace_and_output() {
    let scenarios = scenarios();
    let flaky = summary(&scenarios, |_| Outcome::Passed);
    let xml = assert_accepted(&flaky);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let retry = doc.descendants().find(|n| n.has_tag_name("flakyFailure")).expect("a <flakyFailure>");
    assert!(retry.attribute("message").is_some_and(|m| m.contains("still not true after 10.0s")), "{xml}");
    assert_eq!(retry.attribute("type"), Some("expectation"));
    let child = |tag| retry.children().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()).unwrap_or("");
    assert!(child("stackTrace").contains("last seen: the title was \"Superlists\""), "{xml}");
    assert!(child("system-out").contains("[[ATTACHMENT|reports/artifacts/s1/a1/screenshot.png]]"), "{xml}");
    assert_eq!(count(&doc, "testsuite", "failures"), 0, "a pass on retry is a pass");
}

#[test]
fn junit_of_a_scenario_that_failed_every_retry_is_valid() {
    let scenarios = scenarios();
    let mut never = all(|_| Outcome::Passed);
    let f = failure(&scenarios[2]);
    never.results[2] = result(2, Outcome::Failed(f.clone()), vec![Outcome::Error(f.clone()), Outcome::Failed(f)]);
    let xml = assert_accepted(&never);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let tc = case(&doc, &scenarios[2].name);
    let kids: Vec<&str> = tc.children().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
    assert_eq!(kids, ["failure", "rerunFailure", "rerunError", "system-out"]);
}

#[test]
fn junit_of_a_run_interrupted_mid_scenario_has_that_scenario_as_an_interrupted_error() {
    let scenarios = scenarios();
    let mut run = all(|_| Outcome::NotRun("interrupted before it started".into()));
    run.results[0] = result(0, Outcome::Passed, Vec::new());
    run.results[1] = result(1, Outcome::NotRun("interrupted while running".into()), Vec::new());
    run.interrupted = true;
    let xml = assert_accepted(&run);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let error = case(&doc, &scenarios[1].name).children().find(|n| n.has_tag_name("error")).expect("an <error>");
    assert_eq!(error.attribute("type"), Some("interrupted"));
    let never = case(&doc, &scenarios[2].name).children().find(|n| n.has_tag_name("skipped")).expect("<skipped>");
    assert_eq!(never.attribute("message"), Some("not run: interrupted before it started"));
    assert_eq!(count(&doc, "testsuite", "errors"), 1, "no synthetic testcase beside a real one");
    assert_eq!(count(&doc, "testsuite", "tests"), scenarios.len());
}

#[test]
fn junit_of_a_run_interrupted_between_scenarios_still_counts_an_error() {
    let mut run = all(|_| Outcome::NotRun("interrupted before it started".into()));
    run.results[0] = result(0, Outcome::Passed, Vec::new());
    run.interrupted = true;
    let xml = assert_accepted(&run);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    assert_eq!(count(&doc, "testsuites", "errors"), 1, "skipped must not read as success: {xml}");
    let error = case(&doc, "run interrupted").children().find(|n| n.has_tag_name("error")).expect("an <error>");
    assert_eq!(error.attribute("type"), Some("interrupted"));
}

#[test]
fn junit_of_a_run_with_unsafe_scenarios_skipped_is_valid() {
    let xml = assert_accepted(&all(|s| {
        if s.has_tag("smoke") {
            Outcome::Passed
        } else {
            Outcome::Skipped("not safe on a sensitive target".into())
        }
    }));
    // Issue 23: with an end tag; test-results-parser reads `<skipped …/>` as a pass.
    assert!(xml.contains(r#"<skipped message="skipped: not safe on a sensitive target"></skipped>"#), "{xml}");
    assert!(!xml.contains("<skipped message=\"skipped: not safe on a sensitive target\"/>"), "{xml}");
}

/// Issue 23: xunitparser stopped with an AssertionError on any file of two or more suites
/// (two spec files, or an interrupted run's `ft` suite), each repeating the run's
/// properties. They are written once, in the first suite, and both schemas still accept it.
#[test]
fn junit_of_a_run_of_two_spec_files_states_the_run_properties_once() {
    let mut scenarios = scenarios();
    for s in scenarios.iter_mut().skip(4) {
        s.group = "validation".into();
    }
    let mut run = all(|_| Outcome::NotRun("interrupted before it started".into()));
    run.results[0] = result(0, Outcome::Passed, Vec::new());
    run.interrupted = true;
    let report =
        super::junit::build(&info(), &scenarios, &run, Verdict::of(&run), FlakyPolicy::Accept, &Artifacts::new(), None);
    let xml = report.to_xml();
    assert_valid(&xml, "junit-10.xsd");
    for suite in report.suites_as_documents() {
        assert_valid(&suite, "surefire-test-report-3.0.xsd");
    }
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let suites: Vec<_> = doc.root_element().children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(names, ["superlists", "validation", "ft"], "{xml}");
    let properties = |suite: &roxmltree::Node| -> Vec<String> {
        suite
            .descendants()
            .filter(|n| n.has_tag_name("property"))
            .filter_map(|p| p.attribute("name"))
            .map(String::from)
            .collect()
    };
    let first = properties(&suites[0]);
    assert!(first.iter().any(|n| n == "verdict") && first.iter().any(|n| n == "interrupted"), "{xml}");
    let mut unique = first.clone();
    unique.dedup();
    assert_eq!(unique.len(), first.len(), "{xml}");
    for later in &suites[1..] {
        assert_eq!(properties(later), Vec::<String>::new(), "{xml}");
    }
}

#[test]
fn junit_escapes_markup_and_drops_characters_xml_cannot_hold() {
    let scenarios = scenarios();
    let mut f = failure(&scenarios[0]);
    f.message = "a \"quoted\" <b>&amp; ]]> line\nbreak \u{1b}[31m".into();
    f.last_seen = Some("tab\there \u{0}".into());
    let xml = assert_accepted(&all(|_| Outcome::Failed(f.clone())));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let failure = case(&doc, &scenarios[0].name).children().find(|n| n.has_tag_name("failure")).expect("<failure>");
    assert!(failure
        .attribute("message")
        .is_some_and(|m| m.ends_with("a \"quoted\" <b>&amp; ]]> line\nbreak \u{FFFD}[31m")));
    // The body is the failure's lines as people read them: control characters escaped.
    assert!(failure.text().is_some_and(|t| t.contains("tab\there \\u{0}")), "{xml}");
}

#[test]
fn junit_of_scenarios_that_never_got_a_browser_counts_them_as_errors_not_skips() {
    let scenarios = scenarios();
    let mut run = all(|_| Outcome::NotRun("no browser session could be started".into()));
    run.results[0] = result(0, Outcome::Passed, Vec::new());
    let xml = assert_accepted(&run);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let error = case(&doc, &scenarios[1].name).children().find(|n| n.has_tag_name("error")).expect("an <error>");
    assert_eq!(error.attribute("type"), Some("infrastructure"));
    assert_eq!(count(&doc, "testsuites", "errors"), scenarios.len() - 1, "{xml}");
}

/// Issue 10: a report that cannot be written (here JUnit under a path whose parent is a
/// file, as unwritable for root as a full disk) is a warning with the OS error; the record
/// and the summary still come out.
#[test]
fn a_report_that_cannot_be_written_is_a_warning_and_the_others_still_come_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("not-a-folder"), "").expect("write");
    let mut paths = ReportPaths::in_dir(dir.path().join("reports"));
    paths.junit = dir.path().join("not-a-folder/junit.xml");
    let out = Shared::default();
    let scenarios = scenarios();
    let mut reports =
        super::Reports::new(paths.clone(), Console::new(Box::new(out.clone()), false), info(), scenarios.clone());
    let run = summary(&scenarios, |s| Outcome::Failed(failure(s)));
    assert!(!reports.finish(&run, Verdict::of(&run), FlakyPolicy::Accept), "one file failed");
    let text = out.text();
    assert!(text.contains("warning: failed to write") && text.contains("not-a-folder/junit.xml: "), "{text}");
    assert!(text.contains("NOT OK (failed): 7 scenarios"), "the summary still comes: {text}");
    let listed = text.lines().find(|l| l.starts_with("reports: ")).expect("the reports line");
    assert!(!listed.contains("junit.xml") && listed.contains("run.json"), "only what was written is listed: {listed}");
    assert!(paths.record.is_file(), "the record is still written");
}

// Issue 10: the HTML report, read back as text (the browser's view is tests/html_report.rs).

fn html_text(summary: &RunSummary, artifacts: &Artifacts) -> String {
    html_page(&scenarios(), summary, artifacts, &[])
}

fn html_page(
    scenarios: &[Scenario],
    summary: &RunSummary,
    artifacts: &Artifacts,
    history: &[super::history::ScenarioRun],
) -> String {
    let info = info();
    let page = super::html::RunPage {
        info: &info,
        scenarios,
        summary,
        verdict: Verdict::of(summary),
        flaky: FlakyPolicy::Accept,
        artifacts,
        dir: "reports".as_ref(),
        history,
    };
    let mut out = Vec::new();
    super::html::write_run(&mut out, &page).expect("written to a Vec");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn the_html_report_of_a_failing_and_flaky_run_shows_each_failure_its_screenshot_and_the_retry() {
    let scenarios = scenarios();
    let failing =
        summary(
            &scenarios,
            |s| if s.name.contains("duplicate") { Outcome::Failed(failure(s)) } else { Outcome::Passed },
        );
    let dup = scenarios.iter().position(|s| s.name.contains("duplicate")).expect("the duplicate scenario");
    let mut artifacts = Artifacts::new();
    artifacts.insert(
        (1, 1),
        vec!["reports/artifacts/superlists/m/m.png".into(), "reports/artifacts/superlists/m/m.html".into()],
    );
    artifacts.insert((dup, 1), vec!["reports/artifacts/superlists/d/d.png".into()]);
    let page = html_text(&failing, &artifacts);

    assert!(page.contains(r#"<h1 id="verdict" class="red">NOT OK (failed)</h1>"#), "{page}");
    assert!(page.contains("7 scenarios: 6 passed (1 flaky), 1 failed, 0 errors, 0 not run"), "{page}");
    assert!(page.contains("https://***@staging.example") && page.contains(&"1".repeat(40)), "{page}");
    assert!(page.contains(r#"data-status="FAIL""#) && page.contains(r#"data-status="FLAKY""#), "{page}");
    assert!(page.contains("still not true after 10.0s (400 checks)"), "the failure's message: {page}");
    assert!(page.contains("last seen: the title was &quot;Superlists&quot;"), "{page}");
    assert!(page.contains(r#"<img src="artifacts/superlists/d/d.png""#), "the failure's screenshot: {page}");
    assert!(page.contains(r#"<img src="artifacts/superlists/m/m.png""#), "the retry's screenshot: {page}");
    assert!(page.contains(r#"href="artifacts/superlists/m/m.html">page HTML"#), "{page}");
    assert!(page.contains("attempt 1 of 2: FAIL") && page.contains("attempt 2 of 2: PASS"), "the retry: {page}");
    assert!(!page.contains("base64") && !page.contains("http-equiv=\"refresh\""));
    assert!(page.contains("content=\"default-src &#39;none&#39;; img-src &#39;self&#39; data:; style-src &#39;sha256-"));
    assert!(!page.contains("unsafe-inline"), "only the page's own style and script, by hash: {page}");
    // The failure first, then the flake, then the rest in spec order.
    let at = |name: &str| page.find(&format!(">{name}<")).unwrap_or_else(|| panic!("{name} in {page}"));
    assert!(at(&scenarios[dup].name) < at(&scenarios[1].name), "{page}");
    assert!(at(&scenarios[1].name) < at(&scenarios[0].name), "{page}");
    let last = (2..scenarios.len()).rev().find(|i| *i != dup).expect("a passing scenario after the first");
    assert!(at(&scenarios[0].name) < at(&scenarios[last].name), "{page}");
}

#[test]
fn the_html_report_escapes_names_messages_and_what_the_page_showed() {
    let mut scenarios = scenarios();
    scenarios[0].name = "<script>alert('name')</script> & co".into();
    let mut summary = all(|_| Outcome::Passed);
    summary.results[0].outcome = Outcome::Failed(Failure {
        step: Some((3, 5, "expect_text \"<b>\"".into())),
        message: "saw <img src=x onerror=alert(1)> at https://user:pw@host/?token=abc".into(),
        last_seen: Some("the text was \"</p><script>\"".into()),
        evidence: Default::default(),
    });
    let page = html_page(&scenarios, &summary, &Artifacts::new(), &[]);
    assert!(page.contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; &amp; co"), "{page}");
    assert!(page.contains("saw &lt;img src=x onerror=alert(1)&gt;"), "{page}");
    assert!(page.contains("the text was &quot;&lt;/p&gt;&lt;script&gt;&quot;"), "{page}");
    assert!(!page.contains("pw@") && !page.contains("token=abc"), "messages are redacted: {page}");
    // The only tags of these kinds are the page's own.
    assert_eq!(page.matches("<script>").count(), 1, "{page}");
    assert_eq!(page.matches("<img").count(), 0, "{page}");
}

// Issue 11: what the browser reported, and the filmstrip, in every report.

/// A console error whose text is markup, an exception, and a POST answered 500.
fn browser_signals() -> crate::browser::Signals {
    use crate::browser::{Signal, SignalKind};
    let console = |kind, text: &str| Signal {
        kind,
        at_ms: 1250,
        text: text.into(),
        method: None,
        url: Some("http://127.0.0.1:8000/static/app.js:12:5".into()),
        status: None,
        resource: None,
    };
    crate::browser::Signals {
        entries: vec![
            console(SignalKind::ConsoleError, "<img src=x onerror=alert(1)> is not a function"),
            console(SignalKind::Exception, "TypeError: list is undefined"),
            Signal {
                kind: SignalKind::FailedRequest,
                at_ms: 2004,
                text: String::new(),
                method: Some("POST".into()),
                url: Some("http://127.0.0.1:8000/lists/new?token=abc".into()),
                status: Some(500),
                resource: Some("document".into()),
            },
        ],
        dropped: 0,
        source: Some("bidi".into()),
    }
}

const BROWSER_SAID: &str = "browser: 1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500";

/// The built-in suite with `dup` (the duplicate-items scenario) failed, its evidence
/// holding the browser's signals and three frames.
fn failed_with_signals() -> (RunSummary, usize) {
    let scenarios = scenarios();
    let dup = scenarios.iter().position(|s| s.name.contains("duplicate")).expect("the duplicate scenario");
    let summary = all(|s| {
        if s.name.contains("duplicate") {
            let mut f = failure(s);
            f.evidence.signals = browser_signals();
            f.evidence.filmstrip = [(12, "visit /"), (14, "type \"<b>milk</b>\" into #id_text"), (15, "press Enter")]
                .into_iter()
                .map(|(line, step)| crate::browser::Frame { line, step: step.into(), png: vec![line as u8; 8] })
                .collect();
            Outcome::Failed(f)
        } else {
            Outcome::Passed
        }
    });
    (summary, dup)
}

#[test]
fn the_browsers_summary_is_in_the_console_the_json_events_and_github_annotations() {
    let (summary, dup) = failed_with_signals();
    let scenarios = scenarios();
    let finished = crate::runner::RunEvent::ScenarioFinished(summary.results[dup].clone());
    let out = Shared::default();
    let mut console = Console::new(Box::new(out.clone()), false);
    console.event(&finished, &scenarios, &Artifacts::new());
    let text = out.text();
    assert!(text.lines().any(|l| l.trim() == BROWSER_SAID), "redacted, under the failure: {text}");

    let events = Shared::default();
    let mut stream = super::EventStream::new(Box::new(events.clone()));
    stream.event(&finished, &scenarios, &Artifacts::new());
    let line: serde_json::Value = serde_json::from_str(events.text().trim()).expect("one JSON line");
    assert_eq!(line["browser"], "1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500");

    let mut annotations = Vec::new();
    super::github::annotations(&mut annotations, &scenarios, &summary).expect("written");
    let annotations = String::from_utf8(annotations).expect("utf-8");
    assert!(annotations.contains(&format!("%0A{BROWSER_SAID}")), "GitHub's annotation: {annotations}");
}

#[test]
fn junit_carries_the_browsers_summary_in_the_message_and_stays_valid() {
    let (summary, _) = failed_with_signals();
    let xml = assert_accepted(&summary);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let failure = case(&doc, "cannot add duplicate items")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    let message = failure.attribute("message").expect("a message");
    assert!(message.ends_with(&format!("[{BROWSER_SAID}]")), "{message}");
    assert!(message.contains("still not true after"), "the failure itself first: {message}");
    assert!(failure.text().is_some_and(|t| t.lines().any(|l| l == BROWSER_SAID)), "and in the detail: {xml}");
    assert!(!xml.contains("token=abc"));
}

#[test]
fn the_html_report_lists_the_signals_escaped_and_the_filmstrip_in_order() {
    let (summary, dup) = failed_with_signals();
    let dir = "reports/artifacts/superlists/d";
    let mut files: Vec<std::path::PathBuf> = vec![format!("{dir}/d.png").into(), format!("{dir}/d.signals.txt").into()];
    files.extend((1..=3).map(|i| format!("{dir}/d.filmstrip-0{i}-line-{}.png", [12, 14, 15][i - 1]).into()));
    let mut artifacts = Artifacts::new();
    artifacts.insert((dup, 1), files);
    let page = html_text(&summary, &artifacts);

    assert!(page.contains(&format!("<p class=\"browser\">{}</p>", super::html::esc(BROWSER_SAID))), "{page}");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; is not a function"), "entries escaped: {page}");
    assert!(page.contains("TypeError: list is undefined") && page.contains("→ 500 (document)"), "{page}");
    assert!(!page.contains("token=abc"), "entries redacted: {page}");
    assert!(page.contains(r#"href="artifacts/superlists/d/d.signals.txt">browser signals: d.signals.txt"#), "{page}");
    let frames: Vec<usize> =
        (1..=3).map(|i| page.find(&format!("filmstrip-0{i}-line-")).expect("each frame shown")).collect();
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "in step order: {page}");
    assert!(
        page.contains("<figcaption>after line 14: type &quot;&lt;b&gt;milk&lt;/b&gt;&quot; into #id_text</figcaption>")
    );
    assert_eq!(page.matches("<img").count(), 4, "the screenshot and three frames, nothing from the signals: {page}");
    assert_eq!(page.matches("alt=\"screenshot").count(), 1, "a frame is not shown as the screenshot: {page}");
}

#[test]
fn evidence_files_hold_the_signals_and_the_filmstrip_in_step_order() {
    let (summary, dup) = failed_with_signals();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("artifacts");
    let place = super::artifacts::Place { dir: "superlists/dup".into(), stem: "dup".into() };
    let files = super::artifacts::write(&root, &place, 2, &summary.results[dup].outcome).expect("written");
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().expect("a name").to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        [
            "dup.attempt-2.signals.json",
            "dup.attempt-2.signals.txt",
            "dup.attempt-2.filmstrip-01-line-12.png",
            "dup.attempt-2.filmstrip-02-line-14.png",
            "dup.attempt-2.filmstrip-03-line-15.png",
        ]
    );
    let mut sorted = names.clone();
    sorted.sort();
    let frames: Vec<&String> = sorted.iter().filter(|n| n.contains(".filmstrip-")).collect();
    assert_eq!(frames, names[2..].iter().collect::<Vec<_>>(), "frame names sort in step order");
    assert_eq!(files.iter().filter(|p| super::artifacts::is_frame(p)).count(), 3);
    assert_eq!(std::fs::read(&files[3]).expect("a frame"), vec![14u8; 8], "each frame's own bytes");

    let json = std::fs::read_to_string(&files[0]).expect("signals.json");
    let back: crate::browser::Signals = serde_json::from_str(&json).expect("signals.json reads back");
    assert_eq!(back, browser_signals(), "round-trips");
    let text = std::fs::read_to_string(&files[1]).expect("signals.txt");
    assert!(text.starts_with("1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500\n"), "{text}");
    assert!(text.contains("+2.004s  failed request   POST http://127.0.0.1:8000/lists/new?token=*** → 500"), "{text}");
    assert!(text.contains("collected by: bidi") && !text.contains("token=abc"), "{text}");

    // Collected, and nothing reported: the JSON says so; there is nothing to read.
    let quiet = Outcome::Failed(Failure {
        evidence: crate::browser::Evidence {
            signals: crate::browser::Signals { source: Some("bidi".into()), ..Default::default() },
            ..Default::default()
        },
        ..failure(&scenarios()[0])
    });
    let files = super::artifacts::write(&root, &place, 1, &quiet).expect("written");
    assert_eq!(files, [root.join("superlists/dup/dup.signals.json")]);
    assert!(super::artifacts::write(&root, &place, 1, &Outcome::Passed).expect("nothing").is_empty());
}

/// `ft merge` refuses a shard whose junit.xml and run.json disagree (issue 24, finding 1):
/// for every kind of run, what ft itself writes must agree, and an edited record must not.
#[test]
fn the_junit_and_the_record_of_every_kind_of_run_agree_and_an_edited_record_does_not() {
    let scenarios = scenarios();
    let failed = |s: &Scenario| Outcome::Failed(failure(s));
    let mut mid = all(|_| Outcome::NotRun("interrupted before it started".into()));
    mid.results[1] = result(1, Outcome::NotRun("interrupted while running".into()), Vec::new());
    mid.interrupted = true;
    let mut between = all(|_| Outcome::NotRun("interrupted before it started".into()));
    between.results[0] = result(0, Outcome::Passed, Vec::new());
    between.interrupted = true;
    let mut quarantined = all(|_| Outcome::Passed);
    quarantined.results[2] = result(2, failed(&scenarios[2]), Vec::new());
    quarantined.quarantined = vec![2];
    let mut scenarios_q = scenarios.clone();
    scenarios_q[2].quarantine = Some("the banner".into());
    let runs = [
        ("flaky and failed", summary(&scenarios, failed), &scenarios),
        ("green", all(|_| Outcome::Passed), &scenarios),
        ("interrupted mid-scenario", mid, &scenarios),
        ("interrupted between scenarios", between, &scenarios),
        (
            "unsafe skipped",
            all(|s| if s.has_tag("smoke") { Outcome::Passed } else { Outcome::Skipped("unsafe".into()) }),
            &scenarios,
        ),
        ("no browser", all(|_| Outcome::NotRun("no browser session could be started".into())), &scenarios),
        ("quarantined failure", quarantined, &scenarios_q),
    ];
    for (what, run, scenarios) in runs {
        let verdict = Verdict::of(&run);
        let rec = RunRecord::new(&info(), scenarios, &run, verdict, FlakyPolicy::Accept, Utc::now());
        let xml = super::junit::build(&info(), scenarios, &run, verdict, FlakyPolicy::Accept, &Artifacts::new(), None)
            .to_xml();
        assert_eq!(super::merge::agree(&rec, &xml), Ok(()), "{what}");
    }
    let run = summary(&scenarios, failed);
    let mut rec = RunRecord::new(&info(), &scenarios, &run, Verdict::of(&run), FlakyPolicy::Accept, Utc::now());
    let xml =
        super::junit::build(&info(), &scenarios, &run, Verdict::of(&run), FlakyPolicy::Accept, &Artifacts::new(), None)
            .to_xml();
    rec.predicate.ft.scenarios[2].status = super::record::ScenarioStatus::Passed;
    let why = super::merge::agree(&rec, &xml).expect_err("an edited status");
    assert!(why.contains("is PASS in the record, a <failure> in the JUnit file"), "{why}");
}
