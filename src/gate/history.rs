//! `reports/deploys.jsonl`: one JSON line per pipeline, so nobody has to reconstruct
//! what was released when, tested how, and with what result.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DeployOutcome;
use crate::report::{write_atomic, ReportError};
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
    pub exit_code: u8,
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
            reason: String::new(),
            ft_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    pub fn finish(&mut self, outcome: DeployOutcome, reason: &str) {
        self.finished_at = Utc::now();
        self.outcome =
            serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        self.exit_code = crate::exit::for_deploy(outcome);
        self.reason = redact_text(reason);
    }
}

/// Append one line. The file is rewritten whole through a temporary file and a rename,
/// so an interrupted append never leaves a torn last line.
pub fn append(path: &Path, record: &DeployRecord) -> Result<(), ReportError> {
    let mut text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ReportError::Write { path: path.to_path_buf(), source }),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let line = serde_json::to_string(record).unwrap_or_default();
    text.push_str(&line);
    text.push('\n');
    write_atomic(path, text.as_bytes())
}
