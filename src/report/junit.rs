//! JUnit XML (quick-junit): a testsuite per spec file, a testcase per scenario, with
//! the failing step, selector, expectation and last observation, the step log in
//! system-out and Jenkins' `[[ATTACHMENT|path]]` links to the evidence.

use std::path::PathBuf;

use quick_junit::{FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::failure::failure_lines;
use super::{Artifacts, RunInfo};
use crate::runner::{Attempt, Failure, Outcome, RunSummary, ScenarioResult, StepLog};
use crate::spec::Scenario;
use crate::verdict::{FlakyPolicy, Verdict};

pub fn junit_report(
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    verdict: Verdict,
    flaky: FlakyPolicy,
    artifacts: &Artifacts,
) -> Report {
    let mut report = Report::new(info.stage.clone().map_or_else(|| "ft".to_string(), |s| format!("ft {s}")));
    report.set_timestamp(info.started_at);
    report.set_time(summary.wall);
    let mut groups: Vec<String> = Vec::new();
    for s in scenarios {
        if !groups.contains(&s.group) {
            groups.push(s.group.clone());
        }
    }
    for group in groups {
        let mut suite = TestSuite::new(group.clone());
        suite.set_timestamp(info.started_at);
        suite.add_properties(properties(info, summary, verdict, flaky));
        let mut time = std::time::Duration::ZERO;
        for result in summary.results.iter().filter(|r| scenarios.get(r.index).is_some_and(|s| s.group == group)) {
            let scenario = &scenarios[result.index];
            time += result.duration;
            suite.add_test_case(test_case(scenario, result, artifacts));
        }
        suite.set_time(time);
        report.add_test_suite(suite);
    }
    report
}

fn properties(info: &RunInfo, summary: &RunSummary, verdict: Verdict, flaky: FlakyPolicy) -> Vec<Property> {
    let mut props = vec![
        Property::new("verdict", verdict.label()),
        Property::new("green", verdict.is_green(flaky).to_string()),
        Property::new("target", info.target.clone()),
        Property::new("ft_version", env!("CARGO_PKG_VERSION")),
        Property::new("specs", info.specs.clone()),
        Property::new("spec_digest", format!("sha256:{}", info.spec_digest)),
        Property::new("workers", info.workers.to_string()),
        Property::new("sessions", if info.fresh_session { "fresh" } else { "reused" }),
    ];
    if let Some(b) = &summary.browser {
        props.push(Property::new("browser", b.name.clone()));
        props.push(Property::new("browser_version", b.version.clone()));
    }
    if let Some(c) = &info.commit {
        props.push(Property::new("commit", c.clone()));
    }
    if summary.interrupted {
        props.push(Property::new("interrupted", "true"));
    }
    props
}

/// A scenario's testcase. Its status is the last attempt's; with `--retries`, the earlier
/// failed attempts follow Maven Surefire's convention: `<flakyFailure>` under a passed
/// testcase, `<rerunFailure>` under a failed one, each with its own message, time, step
/// log and evidence links.
fn test_case(scenario: &Scenario, result: &ScenarioResult, artifacts: &Artifacts) -> TestCase {
    let last = result.earlier.len() + 1;
    let mut status = match &result.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed(f) | Outcome::Error(f) => {
            let mut status = TestCaseStatus::non_success(kind_of(&result.outcome));
            status.set_message(message(scenario, f));
            status.set_type(type_of(&result.outcome));
            status.set_description(failure_lines(scenario, f, None).join("\n"));
            status
        }
        Outcome::NotRun(why) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not run: {why}"));
            status
        }
        Outcome::Skipped(why) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("skipped: {why}"));
            status
        }
    };
    let reruns =
        result.earlier.iter().enumerate().map(|(i, a)| rerun(scenario, a, artifacts.get(&(result.index, i + 1))));
    status.add_reruns(reruns);
    status.set_rerun_kind(FlakyOrRerun::Rerun);
    let mut case = TestCase::new(scenario.name.clone(), status);
    case.set_classname(scenario.group.clone());
    case.set_time(result.duration);
    case.set_timestamp(result.started_at);
    let mut out = format!("scenario at {}\n", scenario.location());
    if !result.earlier.is_empty() {
        out.push_str(&format!("attempt {last} of {last}\n"));
    }
    out.push_str(&step_log(scenario, &result.log, artifacts.get(&(result.index, last))));
    case.set_system_out(out);
    case
}

fn rerun(scenario: &Scenario, attempt: &Attempt, files: Option<&Vec<PathBuf>>) -> TestRerun {
    let mut rerun = TestRerun::new(kind_of(&attempt.outcome));
    rerun.set_timestamp(attempt.started_at);
    rerun.set_time(attempt.duration);
    rerun.set_type(type_of(&attempt.outcome));
    if let Outcome::Failed(f) | Outcome::Error(f) = &attempt.outcome {
        rerun.set_message(message(scenario, f));
        rerun.set_description(failure_lines(scenario, f, None).join("\n"));
    }
    rerun.set_system_out(step_log(scenario, &attempt.log, files));
    rerun
}

fn kind_of(outcome: &Outcome) -> NonSuccessKind {
    if matches!(outcome, Outcome::Error(_)) {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    }
}

fn type_of(outcome: &Outcome) -> &'static str {
    if matches!(outcome, Outcome::Error(_)) {
        "infrastructure"
    } else {
        "expectation"
    }
}

/// `file:line: step: what went wrong`, the line CI servers show first.
fn message(scenario: &Scenario, f: &Failure) -> String {
    let what = f.step.as_ref().map(|(line, _, what)| format!("{}:{line}: {what}: ", scenario.file)).unwrap_or_default();
    format!("{what}{}", crate::shared::redact::redact_text(&f.message))
}

fn step_log(scenario: &Scenario, log: &[StepLog], files: Option<&Vec<PathBuf>>) -> String {
    let mut out = String::new();
    for step in log {
        out.push_str(&format!(
            "{} {}:{} {} ({:.3}s)\n",
            if step.ok { "ok  " } else { "FAIL" },
            scenario.file,
            step.line,
            step.description,
            step.took.as_secs_f64()
        ));
    }
    for file in files.into_iter().flatten() {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        out.push_str(&format!("[[ATTACHMENT|{}]]\n", abs.display()));
    }
    out
}
