//! JUnit that every consumer accepts (issues 10 and 23): each kind of run checked with
//! xmllint against both schemas; and JUnit and the record of a run agreeing (issue 24).

use super::*;

// Issue 10: JUnit that every consumer accepts. Each kind of run is checked with xmllint:
// the whole file against the Jenkins xUnit plugin's junit-10.xsd, and each testsuite on
// its own against Maven Surefire's surefire-test-report-3.0.xsd (tests/schemas/).

/// A JUnit document for `summary`, with evidence for every attempt that failed, links
/// made relative to `/work/project`.
fn junit_for(summary: &RunSummary) -> crate::report::junit::JunitReport {
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
    crate::report::junit::build(
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
pub(super) fn assert_accepted(summary: &RunSummary) -> String {
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
    let report = crate::report::junit::build(
        &info(),
        &scenarios,
        &run,
        Verdict::of(&run),
        FlakyPolicy::Accept,
        &Artifacts::new(),
        None,
    );
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
    let mut reports = crate::report::Reports::new(
        paths.clone(),
        Console::new(Box::new(out.clone()), false),
        info(),
        scenarios.clone(),
    );
    let run = summary(&scenarios, |s| Outcome::Failed(failure(s)));
    assert!(!reports.finish(&run, Verdict::of(&run), FlakyPolicy::Accept), "one file failed");
    let text = out.text();
    assert!(text.contains("warning: failed to write") && text.contains("not-a-folder/junit.xml: "), "{text}");
    assert!(text.contains("NOT OK (failed): 7 scenarios"), "the summary still comes: {text}");
    let listed = text.lines().find(|l| l.starts_with("reports: ")).expect("the reports line");
    assert!(!listed.contains("junit.xml") && listed.contains("run.json"), "only what was written is listed: {listed}");
    assert!(paths.record.is_file(), "the record is still written");
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
        let xml = crate::report::junit::build(
            &info(),
            scenarios,
            &run,
            verdict,
            FlakyPolicy::Accept,
            &Artifacts::new(),
            None,
        )
        .to_xml();
        assert_eq!(crate::report::merge::agree(&rec, &xml), Ok(()), "{what}");
    }
    let run = summary(&scenarios, failed);
    let mut rec = RunRecord::new(&info(), &scenarios, &run, Verdict::of(&run), FlakyPolicy::Accept, Utc::now());
    let xml = crate::report::junit::build(
        &info(),
        &scenarios,
        &run,
        Verdict::of(&run),
        FlakyPolicy::Accept,
        &Artifacts::new(),
        None,
    )
    .to_xml();
    rec.predicate.ft.scenarios[2].status = crate::report::record::ScenarioStatus::Passed;
    let why = crate::report::merge::agree(&rec, &xml).expect_err("an edited status");
    assert!(why.contains("is PASS in the record, a <failure> in the JUnit file"), "{why}");
}
