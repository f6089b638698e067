//! JUnit XML: a testsuite per spec file, a testcase per scenario, with the failing step,
//! expectation and last observation, the step log in system-out and Jenkins'
//! `[[ATTACHMENT|path]]` links to the evidence.
//!
//! The file must be accepted by every consumer: the Jenkins xUnit plugin validates the
//! whole file against its `junit-10.xsd`, and Maven Surefire's
//! `surefire-test-report-3.0.xsd` describes each `<testsuite>` (both are in
//! `tests/schemas/`, and the tests check every kind of run against them). Their common
//! ground decides the shape: no `timestamp` on testcases or the root, no `skipped` on the
//! root, no `file` on testcases, child elements in Surefire's order, and every retry with
//! `message`, `type`, a `<stackTrace>` and its `<system-out>`. quick-junit writes some of
//! these (and writes a retry's detail as text), so this module writes the XML itself.
//!
//! Parsers that validate nothing have rules of their own, and the file keeps to them too
//! (`tests/it/junit_consumers.rs` reads real runs with each): xunitparser stops at a
//! property name it has seen in any earlier suite, so the run's properties are written
//! once; Codecov's test-results-parser reads a self-closing `<skipped/>` as a pass, so
//! skipped is written with an end tag.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::failure::failure_lines;
use super::{Artifacts, RunInfo};
use crate::runner::{Attempt, Failure, Outcome, RunSummary, ScenarioResult, StepLog};
use crate::spec::Scenario;
use crate::verdict::{FlakyPolicy, Verdict};

/// The `type` of the error a scenario cut short by an interrupt reads as.
const INTERRUPTED: &str = "interrupted";

/// A JUnit document, ready to write.
#[derive(Clone, Debug)]
pub struct JunitReport {
    name: String,
    time: Duration,
    /// About the run, not any one spec file: written once, in the first `<testsuite>`.
    /// `<testsuites>` would be their place, but junit-10.xsd allows only testsuites there.
    properties: Vec<(String, String)>,
    suites: Vec<Suite>,
}

#[derive(Clone, Debug)]
struct Suite {
    name: String,
    time: Duration,
    cases: Vec<Case>,
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    classname: String,
    time: Duration,
    status: Status,
    retries: Vec<Retry>,
    system_out: String,
}

/// What a testcase's last attempt came to.
#[derive(Clone, Debug)]
enum Status {
    Passed,
    Failure(Detail),
    Error(Detail),
    Skipped { message: String },
}

#[derive(Clone, Debug)]
struct Detail {
    message: String,
    kind: String,
    body: String,
}

/// An earlier, failed attempt: Surefire's `flakyFailure`/`flakyError` under a testcase
/// that finally passed, `rerunFailure`/`rerunError` under one that did not.
#[derive(Clone, Debug)]
struct Retry {
    element: &'static str,
    detail: Detail,
    system_out: String,
}

pub fn junit_report(
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    verdict: Verdict,
    flaky: FlakyPolicy,
    artifacts: &Artifacts,
) -> JunitReport {
    // Attachments are shown relative to where ft ran: GitLab only links paths relative to
    // the project directory, which is where CI runs ft.
    let cwd = std::env::current_dir().ok();
    build(info, scenarios, summary, verdict, flaky, artifacts, cwd.as_deref())
}

/// `junit_report` with the directory attachments are shown relative to.
pub(super) fn build(
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    verdict: Verdict,
    flaky: FlakyPolicy,
    artifacts: &Artifacts,
    cwd: Option<&Path>,
) -> JunitReport {
    let properties = properties(info, summary, verdict, flaky);
    let mut groups: Vec<&str> = Vec::new();
    for s in scenarios {
        if !groups.contains(&s.group.as_str()) {
            groups.push(&s.group);
        }
    }
    let mut suites = Vec::new();
    for group in groups {
        let mut cases = Vec::new();
        let mut time = Duration::ZERO;
        for result in summary.results.iter() {
            let Some(scenario) = scenarios.get(result.index).filter(|s| s.group == group) else { continue };
            time += result.duration;
            let mut case = test_case(scenario, result, artifacts, cwd);
            // Quarantined: its failure is reported, but as what it is to the run, not a failure.
            if summary.quarantined.contains(&result.index) {
                if let (Some(why), Outcome::Failed(f) | Outcome::Error(f)) = (&scenario.quarantine, &result.outcome) {
                    case.status = Status::Skipped { message: format!("quarantined ({why}); it failed: {}", f.message) };
                }
            }
            cases.push(case);
        }
        suites.push(Suite { name: group.to_string(), time, cases });
    }
    // An interrupted run must not read as a success to a parser for which skipped means
    // passed (xunitparser's rule). The scenario cut short is already an error; when none
    // was (the interrupt came between scenarios, or SIGTERM let them finish), one testcase
    // says so, in a suite of its own: it is about the run, not about any spec file.
    let cut_short = suites.iter().flat_map(|s| &s.cases).any(|c| c.is_interrupted());
    if summary.interrupted && !cut_short {
        let not_run = summary.results.iter().filter(|r| matches!(r.outcome, Outcome::NotRun(_))).count();
        let case = Case {
            name: RUN_INTERRUPTED.into(),
            classname: "ft".into(),
            time: Duration::ZERO,
            status: Status::Error(Detail {
                message: format!("the run was interrupted: {not_run} of {} scenarios not run", summary.results.len()),
                kind: INTERRUPTED.into(),
                body: "ft was stopped (Ctrl-C or SIGTERM) before the run was complete".into(),
            }),
            retries: Vec::new(),
            system_out: String::new(),
        };
        suites.push(Suite { name: "ft".into(), time: Duration::ZERO, cases: vec![case] });
    }
    let name = info.stage.as_ref().map_or_else(|| "ft".to_string(), |s| format!("ft {s}"));
    JunitReport { name, time: summary.wall, properties, suites }
}

fn properties(info: &RunInfo, summary: &RunSummary, verdict: Verdict, flaky: FlakyPolicy) -> Vec<(String, String)> {
    let mut props = vec![
        ("verdict", verdict.label().to_string()),
        ("green", verdict.is_green(flaky).to_string()),
        ("target", info.target.clone()),
        ("ft_version", env!("CARGO_PKG_VERSION").to_string()),
        ("specs", info.specs.clone()),
        ("spec_digest", format!("sha256:{}", info.spec_digest)),
        ("workers", info.workers.to_string()),
        ("sessions", if info.fresh_session { "fresh" } else { "reused" }.to_string()),
        // Neither schema allows a timestamp on both suite and root: it is kept here.
        ("timestamp", rfc3339(info.started_at)),
    ];
    if let Some(b) = &summary.browser {
        props.push(("browser", b.name.clone()));
        props.push(("browser_version", b.version.clone()));
    }
    if let Some(c) = &info.commit {
        props.push(("commit", c.clone()));
    }
    if summary.interrupted {
        props.push(("interrupted", "true".to_string()));
    }
    props.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A scenario's testcase. Its status is the last attempt's; with `--retries`, the earlier
/// failed attempts follow Maven Surefire's convention (`<flakyFailure>` under a passed
/// testcase, `<rerunFailure>` under a failed one), each with its own message, detail,
/// step log and evidence links.
fn test_case(scenario: &Scenario, result: &ScenarioResult, artifacts: &Artifacts, cwd: Option<&Path>) -> Case {
    let last = result.earlier.len() + 1;
    let status = match &result.outcome {
        Outcome::Passed => Status::Passed,
        Outcome::Failed(f) => Status::Failure(detail(scenario, &result.outcome, f)),
        Outcome::Error(f) => Status::Error(detail(scenario, &result.outcome, f)),
        Outcome::NotRun(why) if interrupted_while_running(why) => Status::Error(Detail {
            message: format!("interrupted while running: {}", scenario.location()),
            kind: INTERRUPTED.into(),
            body: "ft was stopped (Ctrl-C or SIGTERM) while this scenario ran: it neither passed nor failed".into(),
        }),
        // Never started because the run was interrupted: skipped (the run already carries
        // an interrupted error). Never started for any other reason (no browser could be
        // had): an error, or a parser that counts skipped as passed would call it green.
        Outcome::NotRun(why) if why.starts_with("interrupted") => {
            Status::Skipped { message: format!("not run: {why}") }
        }
        // `--max-failures`: the run has its failures; these were left out on purpose.
        Outcome::NotRun(why) if why.starts_with(crate::runner::STOPPED_EARLY) => {
            Status::Skipped { message: format!("not run: {why}") }
        }
        Outcome::NotRun(why) => Status::Error(Detail {
            message: format!("not run: {why}"),
            kind: "infrastructure".into(),
            body: format!("{} did not run: {why}", scenario.location()),
        }),
        Outcome::Skipped(why) => Status::Skipped { message: format!("skipped: {why}") },
    };
    let passed = matches!(status, Status::Passed);
    let retries = result
        .earlier
        .iter()
        .enumerate()
        .map(|(i, a)| retry(scenario, a, passed, artifacts.get(&(result.index, i + 1)), cwd))
        .collect();
    let mut out = format!("scenario at {} (started {})\n", scenario.location(), rfc3339(result.started_at));
    if !result.earlier.is_empty() {
        out.push_str(&format!("attempt {last} of {last}\n"));
    }
    out.push_str(&step_log(scenario, &result.log, artifacts.get(&(result.index, last)), cwd));
    Case {
        name: scenario.name.clone(),
        classname: scenario.group.clone(),
        time: result.duration,
        status,
        retries,
        system_out: out,
    }
}

/// The runner reports the scenarios it abandoned at an interrupt as not run "interrupted
/// while running"; unlike those never started, they were cut short, which is an error.
fn interrupted_while_running(why: &str) -> bool {
    why.starts_with(crate::runner::INTERRUPTED_WHILE_RUNNING)
}

fn retry(
    scenario: &Scenario,
    attempt: &Attempt,
    passed: bool,
    files: Option<&Vec<PathBuf>>,
    cwd: Option<&Path>,
) -> Retry {
    let error = matches!(attempt.outcome, Outcome::Error(_));
    let element = match (passed, error) {
        (true, false) => "flakyFailure",
        (true, true) => "flakyError",
        (false, false) => "rerunFailure",
        (false, true) => "rerunError",
    };
    let detail = match &attempt.outcome {
        Outcome::Failed(f) | Outcome::Error(f) => detail(scenario, &attempt.outcome, f),
        // Only failed attempts are retried; anything else is shown for what it is.
        other => Detail { message: other.label().to_string(), kind: "expectation".into(), body: String::new() },
    };
    let mut system_out =
        format!("attempt started {} ({:.3}s)\n", rfc3339(attempt.started_at), attempt.duration.as_secs_f64());
    system_out.push_str(&step_log(scenario, &attempt.log, files, cwd));
    Retry { element, detail, system_out }
}

fn detail(scenario: &Scenario, outcome: &Outcome, f: &Failure) -> Detail {
    let kind = if matches!(outcome, Outcome::Error(_)) { "infrastructure" } else { "expectation" };
    Detail { message: message(scenario, f), kind: kind.into(), body: failure_lines(scenario, f, None).join("\n") }
}

/// `file:line: step: what went wrong`, the line CI servers show first, with what the
/// browser reported when it did (`[browser: 2 console errors; POST /lists/new → 500]`):
/// often the cause, and CI servers show nothing else without a click.
fn message(scenario: &Scenario, f: &Failure) -> String {
    let what = f.step.as_ref().map(|(line, _, what)| format!("{}:{line}: {what}: ", scenario.file)).unwrap_or_default();
    let browser = super::signals::summary_line(&f.evidence.signals).map(|b| format!(" [{b}]")).unwrap_or_default();
    format!("{what}{}{browser}", crate::shared::redact::redact_text(&f.message))
}

fn step_log(scenario: &Scenario, log: &[StepLog], files: Option<&Vec<PathBuf>>, cwd: Option<&Path>) -> String {
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
        out.push_str(&format!("[[ATTACHMENT|{}]]\n", attachment_path(file, cwd).display()));
    }
    out
}

/// An evidence file as JUnit links it: relative to `cwd` when it is under it (GitLab
/// resolves attachments against the project directory), absolute otherwise.
fn attachment_path(file: &Path, cwd: Option<&Path>) -> PathBuf {
    let abs = match cwd {
        Some(cwd) if file.is_relative() => cwd.join(file),
        _ => std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()),
    };
    match cwd.and_then(|cwd| abs.strip_prefix(cwd).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => abs,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Seconds with at most three decimals: Surefire's `SUREFIRE_TIME` allows no more.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

impl JunitReport {
    /// The document as XML text.
    pub fn to_xml(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let total = |f: fn(&Suite) -> usize| self.suites.iter().map(f).sum::<usize>().to_string();
        x.push_str("<testsuites");
        attr(&mut x, "name", &self.name);
        attr(&mut x, "tests", &total(|s| s.cases.len()));
        attr(&mut x, "failures", &total(Suite::failures));
        attr(&mut x, "errors", &total(Suite::errors));
        attr(&mut x, "time", &seconds(self.time));
        x.push_str(">\n");
        for (i, suite) in self.suites.iter().enumerate() {
            suite.write(&mut x, if i == 0 { &self.properties } else { &[] });
        }
        x.push_str("</testsuites>\n");
        x
    }

    /// Each `<testsuite>` as a document of its own, as Surefire writes them (one per file),
    /// as `to_xml` writes it (the run's properties in the first).
    #[cfg(test)]
    pub fn suites_as_documents(&self) -> Vec<String> {
        self.suites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                s.write(&mut x, if i == 0 { &self.properties } else { &[] });
                x
            })
            .collect()
    }
}

impl Suite {
    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.status)).count()
    }
    fn failures(&self) -> usize {
        self.count(|s| matches!(s, Status::Failure(_)))
    }
    fn errors(&self) -> usize {
        self.count(|s| matches!(s, Status::Error(_)))
    }
    fn skipped(&self) -> usize {
        self.count(|s| matches!(s, Status::Skipped { .. }))
    }

    /// With `properties` (none: no `<properties>` at all, which both schemas allow).
    fn write(&self, x: &mut String, properties: &[(String, String)]) {
        x.push_str("  <testsuite");
        attr(x, "name", &self.name);
        attr(x, "tests", &self.cases.len().to_string());
        attr(x, "failures", &self.failures().to_string());
        attr(x, "errors", &self.errors().to_string());
        attr(x, "skipped", &self.skipped().to_string());
        attr(x, "time", &seconds(self.time));
        x.push_str(">\n");
        if !properties.is_empty() {
            x.push_str("    <properties>\n");
            for (name, value) in properties {
                x.push_str("      <property");
                attr(x, "name", name);
                attr(x, "value", value);
                x.push_str("/>\n");
            }
            x.push_str("    </properties>\n");
        }
        for case in &self.cases {
            case.write(x);
        }
        x.push_str("  </testsuite>\n");
    }
}

impl Case {
    fn is_interrupted(&self) -> bool {
        matches!(&self.status, Status::Error(d) if d.kind == INTERRUPTED)
    }

    /// Children in the order Surefire's schema requires: failure, rerunFailure,
    /// flakyFailure, skipped, error, rerunError, flakyError, system-out.
    fn write(&self, x: &mut String) {
        x.push_str("    <testcase");
        attr(x, "name", &self.name);
        attr(x, "classname", &self.classname);
        attr(x, "time", &seconds(self.time));
        x.push_str(">\n");
        let retries = |x: &mut String, element: &str| {
            for r in self.retries.iter().filter(|r| r.element == element) {
                r.write(x);
            }
        };
        if let Status::Failure(d) = &self.status {
            d.write(x, "failure");
        }
        retries(x, "rerunFailure");
        retries(x, "flakyFailure");
        if let Status::Skipped { message } = &self.status {
            // An end tag, not `<skipped/>`: test-results-parser reads only this as skipped.
            x.push_str("      <skipped");
            attr(x, "message", message);
            x.push_str("></skipped>\n");
        }
        if let Status::Error(d) = &self.status {
            d.write(x, "error");
        }
        retries(x, "rerunError");
        retries(x, "flakyError");
        element(x, "      ", "system-out", &self.system_out);
        x.push_str("    </testcase>\n");
    }
}

impl Detail {
    fn write(&self, x: &mut String, name: &str) {
        let _ = write!(x, "      <{name}");
        attr(x, "message", &self.message);
        attr(x, "type", &self.kind);
        x.push('>');
        x.push_str(&escape(&self.body, false));
        let _ = writeln!(x, "</{name}>");
    }
}

impl Retry {
    /// Jenkins' junit plugin and Surefire read a retry's detail from `<stackTrace>`.
    fn write(&self, x: &mut String) {
        let _ = write!(x, "      <{}", self.element);
        attr(x, "message", &self.detail.message);
        attr(x, "type", &self.detail.kind);
        x.push_str(">\n");
        element(x, "        ", "stackTrace", &self.detail.body);
        element(x, "        ", "system-out", &self.system_out);
        let _ = writeln!(x, "      </{}>", self.element);
    }
}

fn element(x: &mut String, indent: &str, name: &str, text: &str) {
    let _ = writeln!(x, "{indent}<{name}>{}</{name}>", escape(text, false));
}

pub(super) fn attr(x: &mut String, name: &str, value: &str) {
    let _ = write!(x, " {name}=\"{}\"", escape(value, true));
}

/// The one escape: markup characters as entities, and characters XML 1.0 cannot hold
/// at all (most control characters, which a page's text may contain) as U+FFFD, so the
/// file always parses. In attributes, line breaks and tabs are kept as character
/// references, or a parser would normalise them to spaces.
fn escape(text: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The testcase an interrupted run adds when no scenario was cut short.
pub const RUN_INTERRUPTED: &str = "run interrupted";
