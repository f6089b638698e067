//! `ft gate --record PATH`: the split form of the gate for CI pipelines. A staging job
//! leaves a run record; the live job opens the gate only if that record is for this very
//! commit, complete, all green, recent, and made with the same specs.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use crate::git;
use crate::report::record::{RunRecord, PREDICATE_TYPE, STATEMENT_TYPE};
use crate::shared::durations::human;

#[derive(Clone, Debug)]
pub struct GateOptions {
    pub record: PathBuf,
    pub max_age: Duration,
    /// The git work tree whose HEAD is about to be deployed.
    pub repo: PathBuf,
    /// The digest of the specs as they are now.
    pub spec_digest: String,
    /// Accept a record whose scenarios passed only on a retry.
    pub allow_flaky: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("failed to read the run record {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not an ft run record: {why}\n  hint: pass the run.json an `ft run` wrote (reports/run.json by default)", path.display())]
    Parse { path: PathBuf, why: String },
}

/// The verdict: the gate opens when `shut_because` is empty.
#[derive(Debug)]
pub struct Verdict {
    pub record: RunRecord,
    pub shut_because: Vec<String>,
}

pub async fn check(opts: &GateOptions) -> Result<Verdict, GateError> {
    let text = std::fs::read_to_string(&opts.record)
        .map_err(|source| GateError::Read { path: opts.record.clone(), source })?;
    let record: RunRecord =
        serde_json::from_str(&text).map_err(|e| GateError::Parse { path: opts.record.clone(), why: e.to_string() })?;
    if record.statement_type != STATEMENT_TYPE || record.predicate_type != PREDICATE_TYPE {
        return Err(GateError::Parse {
            path: opts.record.clone(),
            why: format!("statement {} / predicate {}", record.statement_type, record.predicate_type),
        });
    }
    let mut shut = Vec::new();
    let ft = &record.predicate.ft;
    let recorded = record.subject.iter().find_map(|s| s.digest.get("gitCommit")).cloned();
    match (git::head(&opts.repo).await, recorded) {
        (Ok(head), Some(c)) if head == c => {}
        (Ok(head), Some(c)) => {
            shut.push(format!("the record is for commit {}, but HEAD is {}", short(&c), short(&head)))
        }
        (Ok(_), None) => shut.push("the record names no commit (was it made outside a git work tree?)".into()),
        (Err(e), _) => shut.push(format!("cannot tell which commit is to be deployed: {e}")),
    }
    let flaky_ok = opts.allow_flaky && record.predicate.result == "WARNED";
    if record.predicate.result == "WARNED" && !opts.allow_flaky {
        shut.push(format!(
            "scenarios passed only on a retry (flaky: {}); pass --allow-flaky to accept that",
            record.predicate.warned_tests.join(", ")
        ));
    } else if record.predicate.result != "PASSED" && !flaky_ok {
        let failed = record.predicate.failed_tests.join(", ");
        shut.push(format!(
            "the run did not pass (result {}; failed: {})",
            record.predicate.result,
            none_if_empty(&failed)
        ));
    }
    if ft.total == 0 || ft.passed == 0 {
        shut.push("no scenario ran".into());
    }
    if !ft.complete {
        shut.push(format!("the run was incomplete ({} of {} scenarios did not run)", ft.not_run, ft.total));
    }
    if ft.failed + ft.errors > 0 {
        shut.push(format!("{} scenarios failed and {} had errors", ft.failed, ft.errors));
    }
    if ft.spec_digest != opts.spec_digest {
        shut.push(format!(
            "the specs changed since the run (sha256 {} then, {} now)",
            &ft.spec_digest[..ft.spec_digest.len().min(12)],
            &opts.spec_digest[..opts.spec_digest.len().min(12)]
        ));
    }
    let age = Utc::now().signed_duration_since(ft.finished_at);
    let max_age = chrono::Duration::from_std(opts.max_age).unwrap_or(chrono::Duration::MAX);
    if age > max_age {
        shut.push(format!("the run is {} old, older than --max-age {}", human(age), human(max_age)));
    } else if age < -chrono::Duration::minutes(5) {
        shut.push(format!("the run finished {} in the future: check the clocks", human(-age)));
    }
    Ok(Verdict { record, shut_because: shut })
}

fn short(c: &str) -> &str {
    &c[..c.len().min(12)]
}

fn none_if_empty(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}
