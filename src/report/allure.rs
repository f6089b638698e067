//! Allure 2 results (`--allure DIR`): a `<uuid>-result.json` per scenario attempt with its
//! steps, status, labels and parameters; the evidence copied beside it as
//! `<uuid>-attachment.<ext>`; `environment.properties` and `executor.json` for the run.
//!
//! Allure reads the folder with `allure generate DIR`. The format is Allure's "allure2
//! results" (the one its own adapters write): what each field means, and what Allure does
//! with it, is pinned by `tests/it/allure.rs`, which reads real runs with the real
//! Allure command line. Two of its rules shape this module:
//! - retries: Allure groups every result with the same `historyId` into one test case,
//!   the latest shown, the others under "Retries". So each attempt is a result of its own,
//!   and the id is the scenario's (its spec file's name and its own name), never the
//!   target's or the run's: the embedded app's port changes every run, and trends across
//!   runs (`history/`) need the same id every time.
//! - statuses: `failed` is the app's fault (ft's Failed), `broken` ft's or the browser's
//!   (ft's Error, and a scenario cut short by an interrupt), `skipped` not run.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::failure::failure_lines;
use super::{write_atomic, Artifacts, ReportError, RunInfo};
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
        let (label, ext, mime) = if super::artifacts::is_frame(path) {
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

/// `environment.properties`: the run's facts, shown on the report's overview. Java's
/// properties format, which Allure reads as ISO-8859-1: anything else is `\uXXXX`.
pub fn environment(out: &mut impl Write, info: &RunInfo, summary: &RunSummary) -> std::io::Result<()> {
    let mut props = vec![
        ("target", info.target.clone()),
        ("ft_version", env!("CARGO_PKG_VERSION").to_string()),
        ("specs", info.specs.clone()),
        ("spec_digest", format!("sha256:{}", info.spec_digest)),
        ("workers", info.workers.to_string()),
        ("sessions", if info.fresh_session { "fresh" } else { "reused" }.to_string()),
    ];
    if let Some(b) = &summary.browser {
        props.push(("browser", b.to_string()));
    }
    if let Some(c) = &info.commit {
        props.push(("commit", c.clone()));
    }
    if let Some(s) = &info.stage {
        props.push(("stage", s.clone()));
    }
    if let Some(shard) = &info.shard {
        props.push(("shard", shard.to_string()));
    }
    if summary.interrupted {
        props.push(("interrupted", "true".into()));
    }
    for (key, value) in props {
        writeln!(out, "{}={}", properties_escape(key, true), properties_escape(&value, false))?;
    }
    Ok(())
}

fn properties_escape(text: &str, key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | '#' | '!' if key || i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if key || i == 0 => out.push_str("\\ "),
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out
}

/// `executor.json`: who ran the run (the CI job, linked, when ft ran in one), so the
/// report links back to it and orders its trend by the CI's build numbers.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Executor {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_order: Option<u64>,
    pub build_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
}

/// The executor from the variables GitHub Actions, GitLab CI and Jenkins set; the job's
/// URL is the run record's (`record::ci_job_url`), so the two never disagree.
pub fn executor(info: &RunInfo, var: impl Fn(&str) -> Option<String>) -> Executor {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let number = |name: &str| set(name).and_then(|v| v.trim().parse::<u64>().ok());
    let build_url = info.ci_url.clone();
    if let (Some(server), Some(repo), Some(_)) =
        (set("GITHUB_SERVER_URL"), set("GITHUB_REPOSITORY"), set("GITHUB_RUN_ID"))
    {
        let run = set("GITHUB_RUN_NUMBER").unwrap_or_default();
        return Executor {
            name: "GitHub Actions".into(),
            kind: "github".into(),
            url: Some(format!("{server}/{repo}")),
            build_order: number("GITHUB_RUN_NUMBER"),
            build_name: format!("{} #{run}", set("GITHUB_WORKFLOW").unwrap_or_else(|| repo.clone())),
            build_url,
        };
    }
    if set("CI_JOB_URL").is_some() {
        return Executor {
            name: "GitLab CI".into(),
            kind: "gitlab".into(),
            url: set("CI_PROJECT_URL"),
            build_order: number("CI_PIPELINE_IID").or_else(|| number("CI_JOB_ID")),
            build_name: format!(
                "{} #{}",
                set("CI_JOB_NAME").unwrap_or_else(|| "job".into()),
                set("CI_JOB_ID").unwrap_or_default()
            ),
            build_url,
        };
    }
    if set("BUILD_URL").is_some() {
        return Executor {
            name: "Jenkins".into(),
            kind: "jenkins".into(),
            url: set("JENKINS_URL"),
            build_order: number("BUILD_NUMBER"),
            build_name: set("BUILD_TAG").unwrap_or_else(|| format!("#{}", set("BUILD_NUMBER").unwrap_or_default())),
            build_url,
        };
    }
    Executor {
        name: "ft".into(),
        kind: "ft".into(),
        url: None,
        build_order: None,
        build_name: format!("ft run at {}", info.started_at.format("%Y-%m-%d %H:%M:%S UTC")),
        build_url,
    }
}

/// The files of an Allure results folder that a run writes, so the next run clears them:
/// results, containers, attachments and the two run files. `history/` (copied in from
/// the last report, for trends) and `categories.json` (the user's) are kept.
fn is_results_file(name: &str) -> bool {
    name.ends_with("-result.json")
        || name.ends_with("-container.json")
        || name.contains("-attachment.")
        || name == "environment.properties"
        || name == "executor.json"
}

/// Clear an earlier run's results from `dir`, so they cannot pass for this run's (Allure
/// would show an earlier failure as this run's retry). Only files at its top.
pub fn clear(dir: &Path) -> Result<(), ReportError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReportError::Clear { path: dir.to_path_buf(), source }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && is_results_file(&name.to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(|source| ReportError::Clear { path: entry.path(), source })?;
        }
    }
    Ok(())
}

/// Write the run's results into `dir`: each result with its attachments, then the
/// environment and the executor. Returns how many results were written.
pub fn write(
    dir: &Path,
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    artifacts: &Artifacts,
) -> Result<usize, ReportError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let written = results(info, scenarios, summary, artifacts);
    for w in &written {
        for (from, name) in &w.copies {
            let to = dir.join(name);
            std::fs::copy(from, &to).map_err(err(&to))?;
        }
        let json = serde_json::to_vec_pretty(&w.result).unwrap_or_default();
        write_atomic(&dir.join(format!("{}-result.json", w.result.uuid)), &json)?;
    }
    let mut props = Vec::new();
    let _ = environment(&mut props, info, summary);
    write_atomic(&dir.join("environment.properties"), &props)?;
    let executor = executor(info, |name| std::env::var(name).ok());
    write_atomic(&dir.join("executor.json"), &serde_json::to_vec_pretty(&executor).unwrap_or_default())?;
    Ok(written.len())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::runner::StepLog;
    use crate::spec::{self, SpecSource};

    fn scenarios() -> Vec<Scenario> {
        spec::load(&SpecSource::BuiltIn, &Default::default(), &Default::default())
            .expect("the built-in suite loads")
            .scenarios
    }

    fn info() -> RunInfo {
        RunInfo {
            target: "https://***@staging.example".into(),
            specs: "built-in".into(),
            spec_digest: "ab".repeat(32),
            workers: 1,
            fresh_session: false,
            patience: crate::wait::Patience { max_wait: Duration::from_secs(10), poll: Duration::from_millis(25) },
            started_at: Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("a date"),
            commit: Some("1".repeat(40)),
            stage: None,
            target_url: "https://staging.example".into(),
            embedded_target: false,
            spec_files: Vec::new(),
            overrides: Default::default(),
            not_selected: Vec::new(),
            shard: None,
            shard_split: None,
            other_shards: Vec::new(),
            dirty_paths: None,
            ci_url: None,
            notes: Vec::new(),
            trust: Default::default(),
        }
    }

    fn log() -> Vec<StepLog> {
        vec![
            StepLog {
                line: 3,
                description: "visit /".into(),
                took: Duration::from_millis(200),
                ok: true,
                calls: Vec::new(),
            },
            StepLog {
                line: 4,
                description: "expect_title \"To-Do\"".into(),
                took: Duration::from_millis(300),
                ok: false,
                calls: Vec::new(),
            },
        ]
    }

    fn failure(secret: bool) -> Failure {
        Failure {
            step: Some((4, 3, "expect_title \"To-Do\"".into())),
            message: if secret { "at https://user:pw@x.example/?token=s3cret".into() } else { "still not true".into() },
            last_seen: Some("the title was \"Superlists\"".into()),
            evidence: Default::default(),
        }
    }

    fn attempt(outcome: Outcome, log: Vec<StepLog>) -> Attempt {
        Attempt { outcome, started_at: info().started_at, duration: Duration::from_millis(500), log }
    }

    fn result(index: usize, last: Attempt, earlier: Vec<Attempt>) -> ScenarioResult {
        ScenarioResult {
            index,
            worker: 1,
            outcome: last.outcome,
            started_at: last.started_at,
            duration: last.duration,
            log: last.log,
            earlier,
        }
    }

    fn summary(results: Vec<ScenarioResult>) -> RunSummary {
        RunSummary {
            results,
            browser: None,
            interrupted: false,
            wall: Duration::from_secs(1),
            quarantined: Vec::new(),
            isolation: None,
        }
    }

    #[test]
    fn each_attempt_is_a_result_with_the_scenarios_id_and_its_own_status_steps_and_times() {
        let s = scenarios();
        let flaky = result(
            0,
            attempt(Outcome::Passed, vec![log()[0].clone()]),
            vec![attempt(Outcome::Failed(failure(false)), log()), attempt(Outcome::Error(failure(false)), log())],
        );
        let written = results(&info(), &s, &summary(vec![flaky]), &Artifacts::new());
        let statuses: Vec<Status> = written.iter().map(|w| w.result.status).collect();
        assert_eq!(
            statuses,
            [Status::Failed, Status::Broken, Status::Passed],
            "the app's fault, then ft's, then a pass"
        );
        let ids: Vec<&str> = written.iter().map(|w| w.result.history_id.as_str()).collect();
        assert!(ids.iter().all(|id| *id == history_id(&s[0])), "every attempt is one test case to Allure: {ids:?}");
        let uuids: std::collections::HashSet<&str> = written.iter().map(|w| w.result.uuid.as_str()).collect();
        assert_eq!(uuids.len(), 3, "each its own file");
        let last = &written[2].result;
        assert!(last.status_details.as_ref().is_some_and(|d| d.flaky), "{:?}", last.status_details);
        let first = &written[0].result;
        assert_eq!(first.stop - first.start, 500);
        let steps: Vec<(&str, Status, i64, i64)> = first
            .steps
            .iter()
            .map(|st| (st.name.as_str(), st.status, st.start - first.start, st.stop - first.start))
            .collect();
        assert_eq!(steps, [("visit /", Status::Passed, 0, 200), ("expect_title \"To-Do\"", Status::Failed, 200, 500)]);
        let details = first.status_details.as_ref().expect("a failure has details");
        assert_eq!(details.message, "still not true");
        assert!(details.trace.contains("last seen: the title was \"Superlists\""), "{}", details.trace);
        let labels: Vec<(&str, &str)> = first.labels.iter().map(|l| (l.name, l.value.as_str())).collect();
        assert!(labels.contains(&("suite", "superlists")), "{labels:?}");
        assert!(labels.contains(&("thread", "worker 2")), "{labels:?}");
        for tag in &s[0].tags {
            assert!(labels.contains(&("tag", tag.as_str())), "{labels:?}");
        }
        assert_eq!(first.parameters[0].value, "https://***@staging.example", "the target as shown, redacted");
    }

    #[test]
    fn not_run_is_skipped_but_cut_short_is_broken_and_secrets_never_reach_a_result() {
        let s = scenarios();
        let run = summary(vec![
            result(0, attempt(Outcome::NotRun("interrupted before it started".into()), Vec::new()), Vec::new()),
            result(1, attempt(Outcome::NotRun(INTERRUPTED_WHILE_RUNNING.into()), Vec::new()), Vec::new()),
            result(2, attempt(Outcome::Skipped("not safe".into()), Vec::new()), Vec::new()),
            result(3, attempt(Outcome::Failed(failure(true)), log()), Vec::new()),
        ]);
        let written = results(&info(), &s, &run, &Artifacts::new());
        let statuses: Vec<Status> = written.iter().map(|w| w.result.status).collect();
        assert_eq!(statuses, [Status::Skipped, Status::Broken, Status::Skipped, Status::Failed]);
        let json = serde_json::to_string(&written.iter().map(|w| &w.result).collect::<Vec<_>>()).expect("json");
        assert!(!json.contains("s3cret") && !json.contains(":pw@"), "{json}");
    }

    #[test]
    fn a_quarantined_failure_is_skipped_saying_it_failed() {
        let mut s = scenarios();
        s[0].quarantine = Some("issue 42".into());
        let mut run = summary(vec![result(0, attempt(Outcome::Failed(failure(false)), log()), Vec::new())]);
        run.quarantined = vec![0];
        let written = results(&info(), &s, &run, &Artifacts::new());
        assert_eq!(written[0].result.status, Status::Skipped);
        let message = &written[0].result.status_details.as_ref().expect("details").message;
        assert_eq!(message, "quarantined (issue 42); it failed: still not true");
    }

    #[test]
    fn the_history_id_is_the_spec_files_name_and_the_scenarios_whatever_the_folder_or_run() {
        let mut s = scenarios()[0].clone();
        let built_in = history_id(&s);
        s.file = "./specs/superlists.toml".into();
        assert_eq!(history_id(&s), built_in);
        s.name.push('!');
        assert_ne!(history_id(&s), built_in);
        assert_eq!(built_in.len(), 32);
    }

    #[test]
    fn evidence_files_become_attachments_with_their_mime_types() {
        let s = scenarios();
        let mut f = failure(false);
        f.evidence.filmstrip = vec![crate::browser::Frame { line: 3, step: "visit /".into(), png: Vec::new() }];
        let files: Vec<PathBuf> = ["x.png", "x.html", "x.signals.json", "x.signals.txt", "x.filmstrip-01-line-3.png"]
            .iter()
            .map(|n| PathBuf::from("reports/artifacts/superlists/x").join(n))
            .collect();
        let artifacts: Artifacts = [((0, 1), files)].into_iter().collect();
        let run = summary(vec![result(0, attempt(Outcome::Failed(f), log()), Vec::new())]);
        let written = results(&info(), &s, &run, &artifacts);
        let got: Vec<(&str, &str, bool)> = written[0]
            .result
            .attachments
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.mime,
                    a.source.ends_with(&format!(".{}", a.source.rsplit('.').next().unwrap_or(""))),
                )
            })
            .collect();
        assert_eq!(
            got.iter().map(|(n, m, _)| (*n, *m)).collect::<Vec<_>>(),
            [
                ("screenshot", "image/png"),
                ("page HTML", "text/html"),
                ("browser signals (JSON)", "application/json"),
                ("browser signals", "text/plain"),
                ("filmstrip 1 of 1: line 3: visit /", "image/png"),
            ]
        );
        let sources: Vec<&str> = written[0].copies.iter().map(|(_, to)| to.as_str()).collect();
        assert!(sources.iter().all(|s| s.contains("-attachment.")), "{sources:?}");
        assert!(sources[1].ends_with(".html") && sources[0].ends_with(".png"), "{sources:?}");
    }

    #[test]
    fn environment_properties_escape_as_java_reads_them() {
        let mut i = info();
        i.target = "http://staging:8000/ä".into();
        let mut out = Vec::new();
        environment(&mut out, &i, &summary(Vec::new())).expect("written");
        let text = String::from_utf8(out).expect("ascii");
        assert!(text.contains("target=http://staging:8000/\\u00e4\n"), "{text}");
        assert!(text.is_ascii());
    }

    #[test]
    fn the_executor_is_the_ci_job_that_ran_ft() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let mut i = info();
        i.ci_url = Some("https://github.com/o/r/actions/runs/42".into());
        let github = executor(
            &i,
            env(&[
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "o/r"),
                ("GITHUB_RUN_ID", "42"),
                ("GITHUB_RUN_NUMBER", "7"),
                ("GITHUB_WORKFLOW", "ci"),
            ]),
        );
        assert_eq!(
            (github.kind.as_str(), github.build_order, github.build_name.as_str()),
            ("github", Some(7), "ci #7")
        );
        assert_eq!(github.build_url, i.ci_url);
        assert_eq!(github.url.as_deref(), Some("https://github.com/o/r"));
        i.ci_url = Some("https://gitlab.example/o/r/-/jobs/9".into());
        let gitlab = executor(
            &i,
            env(&[
                ("CI_JOB_URL", "https://gitlab.example/o/r/-/jobs/9"),
                ("CI_JOB_ID", "9"),
                ("CI_PIPELINE_IID", "3"),
                ("CI_JOB_NAME", "ft"),
            ]),
        );
        assert_eq!(
            (gitlab.kind.as_str(), gitlab.build_order, gitlab.build_name.as_str()),
            ("gitlab", Some(3), "ft #9")
        );
        i.ci_url = None;
        let local = executor(&i, env(&[]));
        assert_eq!((local.kind.as_str(), local.build_url), ("ft", None));
    }

    #[test]
    fn clearing_removes_an_earlier_runs_results_and_keeps_history_and_categories() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "a-result.json",
            "b-container.json",
            "c-attachment.png",
            "environment.properties",
            "executor.json",
            "categories.json",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        std::fs::create_dir(dir.path().join("history")).expect("mkdir");
        clear(dir.path()).expect("cleared");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["categories.json", "history", "notes.txt"]);
        clear(&dir.path().join("missing")).expect("nothing to clear");
    }
}
