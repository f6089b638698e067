//! `--message-format json`: one JSON object per line on standard output for every event
//! of a run (run started, scenario started, attempt failed, scenario finished,
//! interrupted, worker stopped, run finished), for other tools to follow a run live.
//! People's output goes to standard error meanwhile.

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use serde_json::{json, Value};

use super::{Artifacts, RunInfo};
use crate::runner::{Outcome, RunEvent, RunSummary, ScenarioStatus};
use crate::shared::redact::redact_text;
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub struct EventStream {
    out: Box<dyn Write + Send>,
}

fn outcome(o: &Outcome) -> (&'static str, Option<String>) {
    let message = match o {
        Outcome::Passed => None,
        Outcome::Failed(f) | Outcome::Error(f) => Some(f.message.clone()),
        Outcome::NotRun(why) | Outcome::Skipped(why) => Some(why.clone()),
    };
    (ScenarioStatus::of_attempt(o).word(), message)
}

/// A failed attempt's signals summary (`2 console errors; POST /lists/new → 500`), or null.
fn browser(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Failed(f) | Outcome::Error(f) => f.evidence.signals.summary(),
        _ => None,
    }
}

fn scenario_fields(scenario: Option<&Scenario>) -> Value {
    match scenario {
        Some(s) => json!({"scenario": s.name, "file": s.file, "line": s.line}),
        None => json!({}),
    }
}

impl EventStream {
    pub fn new(out: Box<dyn Write + Send>) -> EventStream {
        EventStream { out }
    }

    /// Best effort, like the console: a reader that went away must not stop the run.
    fn emit(&mut self, event: &str, mut fields: Value) {
        if let Value::Object(map) = &mut fields {
            map.insert("event".into(), json!(event));
            map.insert("time".into(), json!(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        // Messages quote pages and URLs: never a secret, as on the console.
        let line = redact_text(&serde_json::to_string(&fields).unwrap_or_default());
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    pub fn run_started(&mut self, info: &RunInfo, scenarios: &[Scenario]) {
        self.emit(
            "run_started",
            json!({
                "ft_version": env!("CARGO_PKG_VERSION"),
                "target": info.target,
                "specs": info.specs,
                "scenarios": scenarios.len(),
                "workers": info.workers,
                "stage": info.stage,
                "shard": info.shard.map(|s| s.to_string()),
                "commit": info.commit,
            }),
        );
    }

    pub fn event(&mut self, event: &RunEvent, scenarios: &[Scenario], artifacts: &Artifacts) {
        match event {
            RunEvent::SessionStarted { worker, browser, took, isolation, visitors } => self.emit(
                "session_started",
                json!({"worker": worker, "browser": browser.name, "browser_version": browser.version,
                       "seconds": took.as_secs_f64(), "isolation": isolation.name(), "visitors": visitors}),
            ),
            RunEvent::ScenarioStarted { index, worker } => {
                let mut v = scenario_fields(scenarios.get(*index));
                v["worker"] = json!(worker);
                self.emit("scenario_started", v);
            }
            RunEvent::AttemptFailed { index, worker, number, attempt } => {
                let (status, message) = outcome(&attempt.outcome);
                let mut v = scenario_fields(scenarios.get(*index));
                v["worker"] = json!(worker);
                v["attempt"] = json!(number);
                v["outcome"] = json!(status);
                v["message"] = json!(message);
                v["seconds"] = json!(attempt.duration.as_secs_f64());
                v["evidence"] = json!(evidence(artifacts, *index, *number));
                v["browser"] = json!(browser(&attempt.outcome));
                self.emit("attempt_failed", v);
            }
            RunEvent::ScenarioFinished(r) => {
                let (_, message) = outcome(&r.outcome);
                let attempts = r.earlier.len() + 1;
                let mut v = scenario_fields(scenarios.get(r.index));
                v["outcome"] = json!(ScenarioStatus::of(r).word());
                v["message"] = json!(message);
                v["attempts"] = json!(attempts);
                v["seconds"] = json!(r.duration.as_secs_f64());
                v["evidence"] = json!(evidence(artifacts, r.index, attempts));
                v["browser"] = json!(browser(&r.outcome));
                self.emit("scenario_finished", v);
            }
            RunEvent::Interrupted { signal_count } => self.emit("interrupted", json!({"signals": signal_count})),
            RunEvent::WorkerStopped { worker, reason } => {
                self.emit("worker_stopped", json!({"worker": worker, "reason": reason}))
            }
        }
    }

    pub fn run_finished(&mut self, summary: &RunSummary, verdict: Verdict, flaky: FlakyPolicy, written: &[PathBuf]) {
        let c = Counts::of(summary);
        self.emit(
            "run_finished",
            json!({
                "verdict": verdict.label(),
                "green": verdict.is_green(flaky),
                "total": c.total,
                "passed": c.passed,
                "flaky": c.flaky,
                "failed": c.failed,
                "errors": c.errors,
                "not_run": c.not_run,
                "skipped": c.skipped,
                "interrupted": c.interrupted,
                "seconds": summary.wall.as_secs_f64(),
                "reports": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            }),
        );
    }
}

fn evidence(artifacts: &Artifacts, index: usize, attempt: usize) -> Vec<String> {
    artifacts
        .get(&(index, attempt))
        .map(|files| files.iter().map(|f| f.display().to_string()).collect())
        .unwrap_or_default()
}
