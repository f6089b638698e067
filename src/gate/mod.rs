//! `ft gate --record PATH`: the split form of the gate for CI pipelines. A staging job
//! leaves a run record; the live job opens the gate only if that record is of a real
//! target (the one named, with `--target`), for this very commit from a clean tree, the
//! whole spec set green, recent, and made with the same specs. Every reason at once.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use crate::git;
use crate::report::record::{RunRecord, ScenarioStatus};
use crate::shared::durations::human;
use crate::shared::redact::{redact, without_userinfo};
use crate::shared::text::short_hash as short;
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
    /// Accept a record in which some scenarios of the specs were not selected or were
    /// skipped as unsafe.
    pub allow_partial: bool,
    /// Accept a record made in a work tree with uncommitted changes.
    pub allow_dirty: bool,
    /// The record must be of this target (resolved like --liveserver, without user info).
    pub target: Option<String>,
    /// Demand a signed record (a DSSE envelope) whose signature this key verifies.
    pub verify_key: Option<crate::sign::VerifyKey>,
    /// Count quarantined scenarios' failures like any other (`--no-quarantine`).
    pub no_quarantine: bool,
    /// Accept a record of a run that checked no HTTPS certificate (`--insecure-certs`).
    pub allow_insecure: bool,
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
    /// Every quarantined scenario of the record, with how it ended: the gate names them
    /// whatever it decides, never letting one through silently.
    pub quarantined: Vec<String>,
}

pub async fn check(opts: &GateOptions) -> Result<Decision, GateError> {
    let text = match &opts.verify_key {
        // Signed: only the payload whose signature verifies is read at all.
        Some(key) => crate::sign::open(&opts.record, key)?,
        None => crate::shared::files::read_regular(&opts.record, crate::shared::files::MAX_DATA_BYTES)
            .map_err(|r| GateError::Read { path: opts.record.clone(), source: r.into() })?,
    };
    let record: RunRecord = serde_json::from_slice(&text).map_err(|e| {
        let envelope = serde_json::from_slice::<serde_json::Value>(&text).is_ok_and(|v| v.get("payloadType").is_some());
        let why = if envelope {
            "it is a signed envelope (run.intoto.json): pass --verify-key with the signer's public key".to_string()
        } else {
            e.to_string()
        };
        GateError::Parse { path: opts.record.clone(), why }
    })?;
    record.check_claims().map_err(|why| GateError::Parse { path: opts.record.clone(), why })?;
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
    if ft.embedded_target {
        shut.push(format!(
            "the run tested ft's built-in superlists app ({}), not your server: run with --liveserver (or FT_LIVESERVER) naming staging",
            ft.target
        ));
    }
    if let Some(want) = &opts.target {
        match crate::target::resolve_as(want, "--target") {
            Ok(url) if crate::target::same_server(&url, &ft.target_url) => {}
            Ok(url) => shut.push(format!(
                "the record is of {}, not of --target {}",
                redact(&ft.target_url),
                redact(&without_userinfo(&url))
            )),
            Err(e) => shut.push(format!("--target: {e}")),
        }
    }
    match &ft.dirty_paths {
        Some(paths) if !paths.is_empty() && !opts.allow_dirty => {
            let shown: Vec<&str> = paths.iter().take(10).map(String::as_str).collect();
            shut.push(format!(
                "the run was made with uncommitted changes ({}): what was tested is not the commit; pass --allow-dirty to accept that",
                shown.join(", ")
            ));
        }
        // A commit but no word on the tree (git status failed): clean cannot be assumed.
        None if ft.commit.is_some() && !opts.allow_dirty => shut.push(
            "the record does not say whether the work tree was clean (git status failed during the run); pass --allow-dirty to accept that".into(),
        ),
        _ => {}
    }
    shut.extend(shard_reasons(&record, opts.verify_key.is_some()));
    shut.extend(verdict_reasons(&record, opts.allow_flaky));
    shut.extend(partial_reasons(&record, opts.allow_partial));
    shut.extend(insecure_reason(&ft.trust, opts.allow_insecure));
    if ft.spec_digest != opts.spec_digest {
        shut.push(format!(
            "the specs changed since the run (sha256 {} then, {} now)",
            short(&ft.spec_digest),
            short(&opts.spec_digest)
        ));
    }
    let age = Utc::now().signed_duration_since(ft.finished_at);
    let max_age = chrono::Duration::from_std(opts.max_age).unwrap_or(chrono::Duration::MAX);
    if age > max_age {
        shut.push(format!("the run is {} old, older than --max-age {}", human(age), human(max_age)));
    } else if age < -chrono::Duration::minutes(5) {
        shut.push(format!("the run finished {} in the future: check the clocks", human(-age)));
    }
    let quarantined: Vec<String> = ft
        .scenarios
        .iter()
        .filter_map(|s| {
            let why = s.quarantine.as_ref()?;
            let status = serde_json::to_value(s.status).ok()?.as_str().unwrap_or("").replace('_', " ");
            Some(format!("{} ({}): {status}; quarantined: {why}", s.name, s.location))
        })
        .collect();
    if opts.no_quarantine && ft.quarantined_failed > 0 {
        let failed: Vec<&str> = ft
            .scenarios
            .iter()
            .filter(|s| s.quarantine.is_some() && matches!(s.status, ScenarioStatus::Failed | ScenarioStatus::Error))
            .map(|s| s.name.as_str())
            .collect();
        shut.push(format!(
            "quarantined scenarios failed, and --no-quarantine counts them: {}",
            none_if_empty(&failed.join(", "))
        ));
    }
    Ok(Decision { record, shut_because: shut, quarantined })
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
    // Failures the counts leave out must be quarantined ones the scenarios list as failed.
    let bad =
        |s: &&crate::report::record::ScenarioRecord| matches!(s.status, ScenarioStatus::Failed | ScenarioStatus::Error);
    let listed_failed = ft.scenarios.iter().filter(bad).count();
    let listed_quarantined = ft.scenarios.iter().filter(bad).filter(|s| s.quarantine.is_some()).count();
    if ft.failed + ft.errors + ft.quarantined_failed != listed_failed || ft.quarantined_failed > listed_quarantined {
        shut.push(format!(
            "the record contradicts itself: it counts {} failed, {} errors and {} quarantined failures, but lists {listed_failed} scenarios that failed or errored ({listed_quarantined} of them quarantined)",
            ft.failed, ft.errors, ft.quarantined_failed
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
                none_if_empty(&ft.named(ScenarioStatus::Error).join(", ")),
                none_if_empty(&ft.named(ScenarioStatus::NotRun).join(", "))
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

/// A shard's record is a part of a run, never a run: only the merge of all N opens the
/// gate, and a merged record must name every shard once (with nothing run elsewhere).
/// Under `--verify-key` (`signed`), the signature vouches for the merge only: every shard
/// merged must have had its own signature verified too, or an edited, unsigned shard
/// could ride in on it.
fn shard_reasons(record: &RunRecord, signed: bool) -> Vec<String> {
    let ft = &record.predicate.ft;
    let mut shut = Vec::new();
    if let Some(shard) = ft.shard {
        shut.push(format!(
            "the record is shard {shard} of a run, not the whole run: merge the records of all {} shards with `ft merge` and gate the merged record",
            shard.total
        ));
    } else if !ft.named(ScenarioStatus::OtherShard).is_empty() {
        shut.push(
            "the record contradicts itself: it is not a shard's, yet says other shards ran some scenarios".into(),
        );
    }
    if let Some(merged) = &ft.merged {
        let total = merged.shards.first().map(|s| s.shard.total).unwrap_or(0);
        let mut indices: Vec<usize> = merged.shards.iter().map(|s| s.shard.index).collect();
        indices.sort_unstable();
        let whole = total > 0
            && merged.shards.iter().all(|s| s.shard.total == total)
            && indices == (1..=total).collect::<Vec<_>>();
        if !whole {
            shut.push(format!(
                "the merged record does not hold every shard exactly once (shards {indices:?} of {total})"
            ));
        }
        let unverified: Vec<String> =
            merged.shards.iter().filter(|s| !s.signature_verified).map(|s| s.shard.to_string()).collect();
        if signed && !unverified.is_empty() {
            shut.push(format!(
                "the merged record is signed, but shard {} of it was merged without a verified signature: the signature vouches for nothing those shards say; run every shard with --sign-key and merge with --verify-key",
                unverified.join(", ")
            ));
        }
    }
    shut
}

/// A run that accepted any certificate may have tested whatever answered at the target's
/// address: the gate refuses it unless told (`--allow-insecure`); `ft deploy` asks the
/// same of its staging run.
pub fn insecure_reason(trust: &crate::report::record::TrustRecord, allow_insecure: bool) -> Option<String> {
    (trust.insecure_certs && !allow_insecure).then(|| {
        "the run accepted any HTTPS certificate (--insecure-certs): what answered may not have been the server named; pass --allow-insecure to accept that".to_string()
    })
}

/// The gate vouches for the whole spec set: every scenario of it must have run and passed,
/// unless a partial run is explicitly accepted.
fn partial_reasons(record: &RunRecord, allow_partial: bool) -> Vec<String> {
    let ft = &record.predicate.ft;
    if allow_partial {
        return Vec::new();
    }
    let not_selected = ft.named(ScenarioStatus::NotSelected);
    let unsafe_skipped = ft.named(ScenarioStatus::SkippedUnsafe);
    if not_selected.is_empty() && unsafe_skipped.is_empty() {
        return Vec::new();
    }
    let ran = ft.scenarios.len() - not_selected.len() - unsafe_skipped.len();
    let mut parts = Vec::new();
    if !not_selected.is_empty() {
        parts.push(format!("not selected: {}", list(&not_selected)));
    }
    if !unsafe_skipped.is_empty() {
        parts.push(format!("skipped as unsafe: {}", list(&unsafe_skipped)));
    }
    vec![format!(
        "only {ran} of the {} scenarios of the specs ran ({}); pass --allow-partial to accept a partial run",
        ft.scenarios.len(),
        parts.join("; ")
    )]
}

/// Names for a reason line: the first few, then how many more.
fn list(names: &[&str]) -> String {
    let shown = names.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    match names.len() {
        n if n > 5 => format!("{shown} and {} more", n - 5),
        _ => shown,
    }
}

fn none_if_empty(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}
