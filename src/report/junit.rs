//! JUnit XML (quick-junit): a testsuite per spec file, a testcase per scenario, with
//! the failing step, selector, expectation and last observation, the step log in
//! system-out and Jenkins' `[[ATTACHMENT|path]]` links to the evidence.

use std::collections::HashMap;
use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::console::failure_lines;
use super::RunInfo;
use crate::runner::{Outcome, RunSummary, ScenarioResult};
use crate::spec::Scenario;

pub fn junit_report(
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    artifacts: &HashMap<usize, Vec<PathBuf>>,
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
        suite.add_properties(properties(info, summary));
        let mut time = std::time::Duration::ZERO;
        for result in summary.results.iter().filter(|r| scenarios.get(r.index).is_some_and(|s| s.group == group)) {
            let scenario = &scenarios[result.index];
            time += result.duration;
            suite.add_test_case(test_case(scenario, result, artifacts.get(&result.index)));
        }
        suite.set_time(time);
        report.add_test_suite(suite);
    }
    report
}

fn properties(info: &RunInfo, summary: &RunSummary) -> Vec<Property> {
    let mut props = vec![
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

fn test_case(scenario: &Scenario, result: &ScenarioResult, files: Option<&Vec<PathBuf>>) -> TestCase {
    let status = match &result.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed(f) | Outcome::Error(f) => {
            let kind = if matches!(result.outcome, Outcome::Failed(_)) {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            let what = f
                .step
                .as_ref()
                .map(|(line, _, what)| format!("{}:{line}: {what}: ", scenario.file))
                .unwrap_or_default();
            status.set_message(format!("{what}{}", f.message));
            status.set_type(if matches!(result.outcome, Outcome::Failed(_)) {
                "expectation"
            } else {
                "infrastructure"
            });
            status.set_description(failure_lines(scenario, f, None).join("\n"));
            status
        }
        Outcome::NotRun(why) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not run: {why}"));
            status
        }
    };
    let mut case = TestCase::new(scenario.name.clone(), status);
    case.set_classname(scenario.group.clone());
    case.set_time(result.duration);
    case.set_timestamp(result.started_at);
    let mut out = format!("scenario at {}\n", scenario.location());
    for step in &result.log {
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
    case.set_system_out(out);
    case
}
