//! `ft gate --record PATH`: the split form of the gate for CI pipelines. A staging job
//! leaves a run record; the live job opens the gate only if that record is for this very
//! commit, complete, all green, recent, and made with the same specs.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use crate::git;
use crate::report::record::{RunRecord, PREDICATE_TYPE, STATEMENT_TYPE};
use crate::shared::durations::human;
use crate::verdict::{FlakyPolicy, Verdict};

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
    /// Demand a signed record (a DSSE envelope) whose signature this key verifies.
    pub verify_key: Option<crate::sign::VerifyKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("failed to read the run record {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not an ft run record: {why}\n  hint: pass the run.json an `ft run` wrote (reports/run.json by default)", path.display())]
    Parse { path: PathBuf, why: String },
    #[error(transparent)]
    Envelope(#[from] crate::sign::EnvelopeError),
}

/// The gate's decision: it opens when `shut_because` is empty.
#[derive(Debug)]
pub struct Decision {
    pub record: RunRecord,
    pub shut_because: Vec<String>,
}

pub async fn check(opts: &GateOptions) -> Result<Decision, GateError> {
    let text = match &opts.verify_key {
        // Signed: only the payload whose signature verifies is read at all.
        Some(key) => crate::sign::open(&opts.record, key)?,
        None => std::fs::read(&opts.record).map_err(|source| GateError::Read { path: opts.record.clone(), source })?,
    };
    let record: RunRecord = serde_json::from_slice(&text)
        .map_err(|e| GateError::Parse { path: opts.record.clone(), why: e.to_string() })?;
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
    shut.extend(verdict_reasons(&record, opts.allow_flaky));
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
    Ok(Decision { record, shut_because: shut })
}

/// Why the record's verdict does not open the gate, if it does not. The verdict is the
/// one the run computed (`Verdict::of`); the gate only applies its flaky policy to it, and
/// refuses a record whose counts give another verdict than the one it states.
fn verdict_reasons(record: &RunRecord, allow_flaky: bool) -> Vec<String> {
    let ft = &record.predicate.ft;
    let mut shut = Vec::new();
    let from_counts = Verdict::from_counts(&ft.counts());
    if from_counts != ft.verdict {
        shut.push(format!(
            "the record contradicts itself: it says {}, but its counts say {from_counts} ({} of {} passed, {} failed, {} errors, {} of {} scenarios did not run)",
            ft.verdict, ft.passed, ft.total, ft.failed, ft.errors, ft.not_run, ft.total
        ));
    }
    // A run made with --fail-on-flaky refused its flaky scenarios: --allow-flaky here
    // cannot make that run green after the fact.
    let policy = FlakyPolicy::accept_if(allow_flaky && ft.flaky_accepted);
    let verdict = ft.verdict;
    if !verdict.is_green(policy) {
        let why = match verdict {
            Verdict::Flaky if allow_flaky => {
                "the run itself did not accept flaky scenarios (--fail-on-flaky)".to_string()
            }
            Verdict::Flaky => format!(
                "scenarios passed only on a retry (flaky: {}); pass --allow-flaky to accept that",
                record.predicate.warned_tests.join(", ")
            ),
            Verdict::Failed => {
                format!("scenarios failed: {}", none_if_empty(&record.predicate.failed_tests.join(", ")))
            }
            Verdict::Broken => format!(
                "scenarios could not be run or judged (errors: {}; not run: {})",
                none_if_empty(&ft.errored_tests.join(", ")),
                none_if_empty(&ft.not_run_tests.join(", "))
            ),
            Verdict::Interrupted => {
                format!("the run was interrupted ({} of {} scenarios did not run)", ft.not_run, ft.total)
            }
            Verdict::NothingRan => "no scenario ran".to_string(),
            Verdict::Green => String::new(),
        };
        shut.push(format!("the run was not green ({verdict}): {why}"));
    }
    shut
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
