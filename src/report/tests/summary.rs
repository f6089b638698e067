//! The one verdict as each writer states it (the console's headline, JUnit, the record),
//! and the reports folder taken before a run.

use super::*;

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
    std::fs::write(paths.artifacts().join(crate::report::artifacts::MARKER), "").expect("marker");
    for old in [&paths.junit, &paths.record, &paths.envelope()] {
        std::fs::write(old, "an earlier run's").expect("write");
    }
    let lock = crate::report::prepare(&paths).expect("a free folder");
    for old in [&paths.junit, &paths.record, &paths.envelope()] {
        assert!(!old.exists(), "{} outlived the start of a run", old.display());
    }
    assert!(!paths.artifacts().exists());

    std::fs::write(&paths.record, "the holder's own").expect("write");
    let err = crate::report::prepare(&paths).expect_err("the folder is held");
    assert!(matches!(err, crate::report::ReportError::Locked { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&paths.record).expect("kept"), "the holder's own");
    drop(lock);
}
