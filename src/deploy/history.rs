//! `reports/deploys.jsonl`: one JSON line per pipeline, so nobody has to reconstruct
//! what was released when, tested how, and with what result.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeployOutcome;
use crate::report::ReportError;
use crate::shared::redact::redact_text;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeployRecord {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub commit: String,
    pub staging: String,
    pub live: String,
    /// What the LIVE tag named before this pipeline.
    pub previous_live: Option<String>,
    pub stages: Vec<StageRecord>,
    /// Tags written (locally).
    pub tags: Vec<String>,
    pub pushed_to: Option<String>,
    pub rolled_back_to: Option<String>,
    pub outcome: String,
    /// What ft exited with (`exit::for_deploy_ended`): the outcome's code, or 130/143
    /// when a signal reached the pipeline.
    pub exit_code: u8,
    /// A Ctrl-C or SIGTERM reached the pipeline (a bake cut short, a command left to
    /// finish): ft exited 130/143 whatever the outcome.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    pub reason: String,
    pub ft_version: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageRecord {
    pub name: String,
    pub ok: bool,
    pub started_at: DateTime<Utc>,
    pub seconds: f64,
    pub detail: String,
    /// The stage's report or log file.
    pub file: Option<String>,
}

impl StageRecord {
    pub fn new(
        name: &str,
        ok: bool,
        started_at: DateTime<Utc>,
        took: Duration,
        detail: &str,
        file: Option<&Path>,
    ) -> Self {
        StageRecord {
            name: name.to_string(),
            ok,
            started_at,
            seconds: (took.as_secs_f64() * 1000.0).round() / 1000.0,
            detail: redact_text(detail),
            file: file.map(|f| f.display().to_string()),
        }
    }
}

impl DeployRecord {
    pub fn new(started_at: DateTime<Utc>) -> DeployRecord {
        DeployRecord {
            started_at,
            finished_at: started_at,
            commit: String::new(),
            staging: String::new(),
            live: String::new(),
            previous_live: None,
            stages: Vec::new(),
            tags: Vec::new(),
            pushed_to: None,
            rolled_back_to: None,
            outcome: String::new(),
            exit_code: 0,
            interrupted: false,
            reason: String::new(),
            ft_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    pub fn finish(&mut self, outcome: DeployOutcome, reason: &str, signal: Option<crate::interrupts::StopSignal>) {
        self.finished_at = Utc::now();
        self.outcome =
            serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        self.exit_code = outcome.exit_code_after(signal);
        self.interrupted = signal.is_some();
        self.reason = redact_text(reason);
    }
}

/// Append one line (see `report::jsonl::append`): concurrent pipelines each keep theirs.
pub fn append(path: &Path, record: &DeployRecord) -> Result<(), ReportError> {
    crate::report::jsonl::append(path, &[serde_json::to_string(record).unwrap_or_default()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> DeployRecord {
        let mut r = DeployRecord::new(Utc::now());
        r.commit = format!("commit-{n}");
        r.reason = "x".repeat(2000);
        r
    }

    fn lines(path: &Path) -> Vec<DeployRecord> {
        let text = std::fs::read_to_string(path).expect("history");
        text.lines().map(|l| serde_json::from_str(l).expect("every line parses")).collect()
    }

    // 30 concurrent `ft deploy` runs once left 16 lines: each rewrote the whole file.
    #[test]
    fn thirty_concurrent_appends_leave_thirty_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("reports/deploys.jsonl");
        let threads: Vec<_> = (0..30)
            .map(|n| {
                let path = path.clone();
                std::thread::spawn(move || append(&path, &record(n)).expect("append"))
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let mut commits: Vec<String> = lines(&path).into_iter().map(|r| r.commit).collect();
        commits.sort();
        let mut want: Vec<String> = (0..30).map(|n| format!("commit-{n}")).collect();
        want.sort();
        assert_eq!(commits, want);
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("deploys.jsonl");
        append(&path, &record(1)).expect("append");
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("{\"started_at\": \"2026-");
        std::fs::write(&path, text).expect("tear");
        append(&path, &record(2)).expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        let last: DeployRecord = serde_json::from_str(text.lines().last().expect("a line")).expect("parses");
        assert_eq!(last.commit, "commit-2");
        assert_eq!(text.lines().count(), 3);
    }
}
