//! The results, one per attempt (`<uuid>-result.json`): Allure's model of a test result,
//! the scenario's id across runs (`history_id`), its status, steps and attachments.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::report::failure::failure_lines;
use crate::report::{Artifacts, RunInfo};
use crate::runner::{Attempt, Failure, Outcome, RunSummary, ScenarioResult, StepLog, INTERRUPTED_WHILE_RUNNING};
use crate::shared::redact::redact_text;
use crate::spec::Scenario;

/// One test result, as Allure 2 reads it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub uuid: String,
    pub history_id: String,
    pub test_case_id: String,
    pub full_name: String,
    pub name: String,
    pub description: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<StatusDetails>,
    pub stage: &'static str,
    pub start: i64,
    pub stop: i64,
    pub steps: Vec<Step>,
    pub attachments: Vec<Attachment>,
    pub parameters: Vec<Parameter>,
    pub labels: Vec<Label>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Broken,
    Skipped,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StatusDetails {
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub trace: String,
    /// The last attempt of a scenario that passed only on a retry.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<StatusDetails>,
    pub stage: &'static str,
    pub start: i64,
    pub stop: i64,
    pub parameters: Vec<Parameter>,
}

/// An evidence file: `source` is the name it is copied to in the results folder.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    pub name: String,
    pub source: String,
    #[serde(rename = "type")]
    pub mime: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Label {
    pub name: &'static str,
    pub value: String,
}

/// A result and the evidence files to copy for its attachments: (ft's file, the
/// attachment's `source`).
pub struct Written {
    pub result: TestResult,
    pub copies: Vec<(PathBuf, String)>,
}

/// The scenario's id across runs and attempts: its spec file's name (not its folder, so
/// `--specs ./specs`, `specs/` and the built-in suite agree) and its own name.
pub fn history_id(scenario: &Scenario) -> String {
    let file = Path::new(&scenario.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let digest = Sha256::digest(format!("{file}\n{}", scenario.name).as_bytes());
    digest.iter().take(16).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A random (version 4) UUID, as Allure names results and attachments.
fn uuid() -> String {
    let mut b = [0u8; 16];
    // No randomness would be a broken system; a clock-based name still keeps files apart.
    if getrandom::fill(&mut b).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        b = nanos.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Every result of a run: one per attempt, the earlier (failed) ones first.
pub fn results(info: &RunInfo, scenarios: &[Scenario], summary: &RunSummary, artifacts: &Artifacts) -> Vec<Written> {
    let mut out = Vec::new();
    for result in &summary.results {
        let Some(scenario) = scenarios.get(result.index) else { continue };
        let quarantined = summary.quarantined.contains(&result.index);
        for (i, attempt) in result.earlier.iter().enumerate() {
            let files = artifacts.get(&(result.index, i + 1));
            out.push(one(info, summary, scenario, result, attempt, files, false, false));
        }
        let last = Attempt {
            outcome: result.outcome.clone(),
            started_at: result.started_at,
            duration: result.duration,
            log: result.log.clone(),
        };
        let files = artifacts.get(&(result.index, result.earlier.len() + 1));
        out.push(one(info, summary, scenario, result, &last, files, result.is_flaky(), quarantined));
    }
    out
}

#[allow(clippy::too_many_arguments, reason = "one attempt of one scenario of one run: each argument is a part of it")]
fn one(
    info: &RunInfo,
    summary: &RunSummary,
    scenario: &Scenario,
    result: &ScenarioResult,
    attempt: &Attempt,
    files: Option<&Vec<PathBuf>>,
    flaky: bool,
    quarantined: bool,
) -> Written {
    let (mut status, mut details) = status(scenario, &attempt.outcome);
    let failure = match &attempt.outcome {
        Outcome::Failed(f) | Outcome::Error(f) => Some(f),
        _ => None,
    };
    // As in JUnit and the verdict: a quarantined failure is reported, but does not fail.
    if let (true, Some(why), Some(f)) = (quarantined, &scenario.quarantine, failure) {
        status = Status::Skipped;
        if let Some(d) = &mut details {
            d.message = format!("quarantined ({}); it failed: {}", redact_text(why), redact_text(&f.message));
        }
    }
    if flaky {
        details.get_or_insert_with(StatusDetails::default).flaky = true;
        if let Some(d) = details.as_mut().filter(|d| d.message.is_empty()) {
            d.message = format!("passed on attempt {} after failing", result.earlier.len() + 1);
        }
    }
    let start = attempt.started_at.timestamp_millis();
    let stop = start + millis(attempt.duration);
    let steps = steps(scenario, &attempt.log, start, status, failure);
    let (attachments, copies) = attachments(files, failure);
    let id = history_id(scenario);
    let mut labels = vec![
        Label { name: "suite", value: scenario.group.clone() },
        Label { name: "framework", value: "ft".into() },
        // The timeline's lanes: a host, then a lane per worker.
        Label { name: "host", value: host() },
        Label { name: "thread", value: format!("worker {}", result.worker + 1) },
    ];
    if let Some(stage) = &info.stage {
        labels.push(Label { name: "parentSuite", value: stage.clone() });
    }
    labels.extend(scenario.tags.iter().map(|t| Label { name: "tag", value: t.clone() }));
    let mut parameters = vec![Parameter { name: "target".into(), value: info.target.clone() }];
    if let Some(b) = &summary.browser {
        parameters.push(Parameter { name: "browser".into(), value: b.to_string() });
    }
    let mut description = scenario.location();
    if let Some(why) = &scenario.quarantine {
        description.push_str(&format!("\n\nquarantined: {why}"));
    }
    Written {
        result: TestResult {
            uuid: uuid(),
            history_id: id.clone(),
            test_case_id: id,
            full_name: format!("{}: {}", scenario.group, scenario.name),
            name: scenario.name.clone(),
            description,
            status,
            status_details: details,
            stage: "finished",
            start,
            stop,
            steps,
            attachments,
            parameters,
            labels,
        },
        copies,
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An outcome as Allure's status and its details.
fn status(scenario: &Scenario, outcome: &Outcome) -> (Status, Option<StatusDetails>) {
    let failed = |f: &Failure| StatusDetails {
        message: redact_text(&f.message),
        trace: failure_lines(scenario, f, None).join("\n"),
        flaky: false,
    };
    let said = |why: &str| Some(StatusDetails { message: why.to_string(), ..StatusDetails::default() });
    match outcome {
        Outcome::Passed => (Status::Passed, None),
        Outcome::Failed(f) => (Status::Failed, Some(failed(f))),
        Outcome::Error(f) => (Status::Broken, Some(failed(f))),
        // Cut short: it did not finish, and nothing about the app says why (as in JUnit, an error).
        Outcome::NotRun(why) if why == INTERRUPTED_WHILE_RUNNING => {
            (Status::Broken, said(&format!("{why}: {}", scenario.location())))
        }
        Outcome::NotRun(why) => (Status::Skipped, said(&format!("not run: {why}"))),
        Outcome::Skipped(why) => (Status::Skipped, said(&format!("skipped: {why}"))),
    }
}

/// The step log as Allure steps, one after another from the attempt's start; the step
/// that failed takes the attempt's status and message.
fn steps(scenario: &Scenario, log: &[StepLog], start: i64, status: Status, failure: Option<&Failure>) -> Vec<Step> {
    let mut at = start;
    log.iter()
        .map(|s| {
            let took = millis(s.took);
            let (status, status_details) = match (s.ok, failure) {
                (true, _) => (Status::Passed, None),
                (false, f) => (
                    if status == Status::Passed { Status::Failed } else { status },
                    f.map(|f| StatusDetails { message: redact_text(&f.message), ..StatusDetails::default() }),
                ),
            };
            let step = Step {
                name: s.description.clone(),
                status,
                status_details,
                stage: "finished",
                start: at,
                stop: at + took,
                parameters: vec![Parameter { name: "at".into(), value: format!("{}:{}", scenario.file, s.line) }],
            };
            at += took;
            step
        })
        .collect()
}

/// The attempt's evidence files as attachments: a name a person reads, the MIME type
/// Allure shows it by, and the name it is copied to.
fn attachments(files: Option<&Vec<PathBuf>>, failure: Option<&Failure>) -> (Vec<Attachment>, Vec<(PathBuf, String)>) {
    let (mut attachments, mut copies) = (Vec::new(), Vec::new());
    let frames = failure.map(|f| f.evidence.filmstrip.as_slice()).unwrap_or_default();
    let mut frame = 0;
    for path in files.into_iter().flatten() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (label, ext, mime) = if crate::report::artifacts::is_frame(path) {
            frame += 1;
            let what = frames.get(frame - 1).map(|f| format!(": line {}: {}", f.line, f.step)).unwrap_or_default();
            (format!("filmstrip {frame} of {}{what}", frames.len().max(frame)), "png", "image/png")
        } else if name.ends_with(".signals.json") {
            ("browser signals (JSON)".to_string(), "json", "application/json")
        } else if name.ends_with(".signals.txt") {
            ("browser signals".to_string(), "txt", "text/plain")
        } else if name.ends_with(".png") {
            ("screenshot".to_string(), "png", "image/png")
        } else if name.ends_with(".html") {
            ("page HTML".to_string(), "html", "text/html")
        } else {
            (name.clone(), "bin", "application/octet-stream")
        };
        let source = format!("{}-attachment.{ext}", uuid());
        attachments.push(Attachment { name: label, source: source.clone(), mime });
        copies.push((path.clone(), source));
    }
    (attachments, copies)
}

/// This machine's name, for the timeline's lanes.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
