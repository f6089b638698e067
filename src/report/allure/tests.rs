//! The Allure files of a run in-process: results, environment, executor, clearing;
//! what Allure itself reads of them is tests/it/allure.rs.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::results::{history_id, Status};
use super::*;
use crate::runner::{Attempt, Failure, Outcome, ScenarioResult, StepLog, INTERRUPTED_WHILE_RUNNING};
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
    assert_eq!(statuses, [Status::Failed, Status::Broken, Status::Passed], "the app's fault, then ft's, then a pass");
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
            (a.name.as_str(), a.mime, a.source.ends_with(&format!(".{}", a.source.rsplit('.').next().unwrap_or(""))))
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
    assert_eq!((github.kind.as_str(), github.build_order, github.build_name.as_str()), ("github", Some(7), "ci #7"));
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
    assert_eq!((gitlab.kind.as_str(), gitlab.build_order, gitlab.build_name.as_str()), ("gitlab", Some(3), "ft #9"));
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
