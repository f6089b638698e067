//! `ft merge`: the reports of the N shards of one run (`--shard I/N`) become one run's
//! record and JUnit file, which `ft gate` takes like any other. Only a whole set is
//! merged: every shard once, all from one commit, one spec set, one target, one policy;
//! signed shards re-checked against their signer's key.

mod junit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::record::{Merged, MergedShard, RunRecord, ScenarioRecord, ScenarioStatus};
use super::{write_atomic, ReportError, ReportPaths};
use crate::sign::{SignKey, VerifyKey};
use crate::verdict::{FlakyPolicy, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("failed to read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not an ft run record: {why}", path.display())]
    Parse { path: PathBuf, why: String },
    #[error("{}: {why}\n  hint: {hint}", path.display())]
    Signature { path: PathBuf, why: String, hint: String },
    #[error("the shards do not make one whole run: {why}\n  hint: {hint}")]
    NotWhole { why: String, hint: String },
    #[error("failed to merge {}: it does not agree with {}: {why}\n  hint: a shard's reports are merged as its run wrote them; run the shard again", junit.display(), record.display())]
    Disagree { junit: PathBuf, record: PathBuf, why: String },
    #[error("failed to sign the merged record: {why}\n  hint: a signed merge vouches for every shard: run each shard with --sign-key and merge with --verify-key (or merge without --sign-key)")]
    SignUnverified { why: String },
    #[error(transparent)]
    Junit(JunitMergeError),
    #[error(transparent)]
    Write(#[from] ReportError),
}

#[derive(Debug, thiserror::Error)]
#[error("failed to merge the JUnit files: {0}")]
pub struct JunitMergeError(String);

/// One shard's reports folder, read.
struct Part {
    dir: PathBuf,
    record: RunRecord,
    bytes: Vec<u8>,
    junit: String,
    signed: bool,
}

/// What `merge` wrote, for the console.
pub struct MergeOutcome {
    pub record: RunRecord,
    pub written: Vec<PathBuf>,
}

/// Merge the shard reports in `dirs` into `out` (its JUnit, record and, with `sign`, the
/// signed envelope). With `verify`, every shard must be signed by that key; without it,
/// a signed shard is refused (its signature could not be re-checked).
pub fn merge(
    dirs: &[PathBuf],
    out: &ReportPaths,
    verify: Option<&VerifyKey>,
    sign: Option<&SignKey>,
) -> Result<MergeOutcome, MergeError> {
    // Signing says "every shard of this run was as recorded": only shards whose own
    // signatures were verified can be vouched for (an unsigned shard is any file at all).
    if sign.is_some() && verify.is_none() {
        return Err(MergeError::SignUnverified {
            why: "--sign-key without --verify-key: the shards' records would be signed unverified".into(),
        });
    }
    // With `verify`, `read_part` refuses any shard whose signature it did not verify.
    let parts = dirs.iter().map(|d| read_part(d, verify)).collect::<Result<Vec<_>, _>>()?;
    let record = merge_records(&parts)?;
    let verdict = record.predicate.ft.verdict;
    let ft = &record.predicate.ft;
    let order: BTreeMap<&str, usize> = ft.scenarios.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let docs: Vec<(String, String)> =
        parts.iter().map(|p| (p.dir.join("junit.xml").display().to_string(), p.junit.clone())).collect();
    let properties = vec![
        ("verdict".to_string(), verdict.label().to_string()),
        ("green".to_string(), ft.green.to_string()),
        ("interrupted".to_string(), ft.interrupted.to_string()),
        ("workers".to_string(), ft.workers.to_string()),
        ("timestamp".to_string(), ft.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        ("shards".to_string(), parts.len().to_string()),
    ];
    let xml = junit::merge_documents(&docs, &properties, |_, name| order.get(name).copied().unwrap_or(usize::MAX))
        .map_err(|e| MergeError::Junit(JunitMergeError(e)))?;
    let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
    let mut written = Vec::new();
    write_atomic(&out.record, &json)?;
    written.push(out.record.clone());
    if let Some(key) = sign {
        write_atomic(&out.envelope(), &crate::sign::seal(&json, key))?;
        written.push(out.envelope());
    }
    write_atomic(&out.junit, xml.as_bytes())?;
    written.insert(0, out.junit.clone());
    // The whole run's history, so the next run's shards can balance by it (`--reports`
    // folders seeded with this file split alike).
    let mut lines = Vec::new();
    for p in &parts {
        let started = p.record.predicate.ft.started_at;
        let text = std::fs::read_to_string(p.dir.join(super::HISTORY_FILE)).unwrap_or_default();
        for line in text.lines() {
            let ours =
                serde_json::from_str::<super::history::ScenarioRun>(line).is_ok_and(|r| r.run_started_at == started);
            if ours {
                lines.push(line.to_string());
            }
        }
    }
    // The page: a row per scenario, linked to its shard's own page (steps, evidence).
    let indexes: Vec<_> = parts.iter().map(by_scenario).collect();
    let mut rows = Vec::new();
    for s in &record.predicate.ft.scenarios {
        // A shard's record lists the scenarios it ran first, in its own order: that
        // position is the section of its page.
        let shown = |i: usize| -> Option<usize> {
            let (position, status) = *indexes[i].get(&(s.name.as_str(), s.location.as_str()))?;
            (!matches!(status, ScenarioStatus::OtherShard | ScenarioStatus::NotSelected)).then_some(position)
        };
        let shard = parts.iter().enumerate().find_map(|(i, p)| {
            let local = shown(i)?;
            let label = p.record.predicate.ft.shard.map(|sh| sh.to_string()).unwrap_or_default();
            Some((label, p.dir.clone(), local))
        });
        rows.push(super::html::merged::MergedRow {
            name: s.name.clone(),
            location: s.location.clone(),
            status: ScenarioStatus::label(s.status),
            shard,
        });
    }
    // The page's history: the merged folder's earlier runs and this one's lines; its
    // timeline: a lane per shard (the records hold no attempt times).
    let mut history = super::history::recent(&out.dir.join(super::HISTORY_FILE));
    history.extend(lines.iter().filter_map(|l| serde_json::from_str(l).ok()));
    let shards: Vec<super::html::ShardSpan> = parts
        .iter()
        .map(|p| super::html::ShardSpan {
            label: p.record.predicate.ft.shard.map(|s| s.to_string()).unwrap_or_default(),
            started_at: p.record.predicate.ft.started_at,
            finished_at: p.record.predicate.ft.finished_at,
            green: p.record.predicate.ft.green,
        })
        .collect();
    let view = super::html::merged::MergedPage {
        record: &record,
        rows: &rows,
        shards: &shards,
        history: &history,
        dir: &out.dir,
    };
    let mut page = Vec::new();
    let _ = super::html::merged::write_merged(&mut page, &view);
    match write_atomic(&out.html(), &page) {
        Ok(()) => written.push(out.html()),
        Err(e) => eprintln!("warning: {e}; no HTML report of the merged run"),
    }
    let history = out.dir.join(super::HISTORY_FILE);
    super::jsonl::append(&history, &lines)?;
    if !lines.is_empty() {
        written.push(history);
    }
    Ok(MergeOutcome { record, written })
}

fn read_part(dir: &Path, verify: Option<&VerifyKey>) -> Result<Part, MergeError> {
    let read = |path: PathBuf| {
        crate::shared::files::read_regular(&path, crate::shared::files::MAX_DATA_BYTES)
            .map_err(|r| MergeError::Read { path, source: r.into() })
    };
    let record_path = dir.join("run.json");
    let bytes = read(record_path.clone())?;
    let envelope = crate::sign::envelope_path(&record_path);
    let signed = envelope.is_file();
    match (verify, signed) {
        (Some(key), true) => {
            let payload = crate::sign::open(&envelope, key).map_err(|e| MergeError::Signature {
                path: envelope.clone(),
                why: e.to_string(),
                hint: "merge only shards signed by the key you pass with --verify-key".into(),
            })?;
            if payload != bytes {
                return Err(MergeError::Signature {
                    path: record_path,
                    why: "differs from the record its envelope signs".into(),
                    hint: "the shard's run.json was changed after the run; take the shard's reports as it wrote them"
                        .into(),
                });
            }
        }
        (Some(_), false) => {
            return Err(MergeError::Signature {
                path: record_path,
                why: "is not signed (no run.intoto.json beside it), and --verify-key demands it".into(),
                hint: "run every shard with --sign-key".into(),
            })
        }
        (None, true) => {
            return Err(MergeError::Signature {
                path: envelope,
                why: "this shard's record is signed, and a signature that is not checked is worth nothing".into(),
                hint: "pass --verify-key with the signer's public key (and --sign-key to sign the merged record)"
                    .into(),
            })
        }
        (None, false) => {}
    }
    let record: RunRecord = serde_json::from_slice(&bytes)
        .map_err(|e| MergeError::Parse { path: record_path.clone(), why: e.to_string() })?;
    record.check_claims().map_err(|why| MergeError::Parse { path: record_path.clone(), why })?;
    let junit_path = dir.join("junit.xml");
    let junit = String::from_utf8(read(junit_path.clone())?)
        .map_err(|_| MergeError::Parse { path: junit_path.clone(), why: "not UTF-8".into() })?;
    agree(&record, &junit).map_err(|why| MergeError::Disagree { junit: junit_path, record: record_path, why })?;
    Ok(Part { dir: dir.to_path_buf(), record, bytes, junit, signed })
}

/// Whether a shard's JUnit file says what its record says, scenario by scenario: the
/// merged JUnit is built from the one and its verdict from the other, so a shard whose
/// run.json was edited to "passed" would otherwise leave a `<failure>` under a green
/// verdict. Each scenario the shard ran must have one testcase of its name whose status
/// the record's allows (`junit::CaseStatus::fits`), and no testcase may be left over
/// (but the one an interrupted run adds).
pub(super) fn agree(record: &RunRecord, junit: &str) -> Result<(), String> {
    let mut cases = junit::case_statuses(junit)?;
    let ft = &record.predicate.ft;
    for s in &ft.scenarios {
        if matches!(s.status, ScenarioStatus::OtherShard | ScenarioStatus::NotSelected) {
            continue;
        }
        let named: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].0 == s.name).collect();
        match named.iter().find(|&&i| cases[i].1.fits(s.status, s.quarantine.is_some())) {
            Some(&i) => {
                cases.swap_remove(i);
            }
            None => {
                let found = named.first().map_or("no testcase".to_string(), |&i| format!("{}", cases[i].1));
                return Err(format!(
                    "\"{}\" is {} in the record, {found} in the JUnit file",
                    crate::shared::terminal::escape_line(&s.name),
                    ScenarioStatus::label(s.status)
                ));
            }
        }
    }
    cases.retain(|(name, status)| {
        !(ft.interrupted && name == super::junit::RUN_INTERRUPTED && *status == junit::CaseStatus::Error)
    });
    match cases.first() {
        None => Ok(()),
        Some((name, status)) => Err(format!(
            "the JUnit file has a testcase \"{}\" ({status}) the record does not list as run",
            crate::shared::terminal::escape_line(name)
        )),
    }
}

/// A shard's scenarios by (name, location): their position in its record and status,
/// so that looking one up is not a scan (a merge of big suites stays linear).
fn by_scenario(p: &Part) -> std::collections::HashMap<(&str, &str), (usize, ScenarioStatus)> {
    let scenarios = &p.record.predicate.ft.scenarios;
    scenarios.iter().enumerate().map(|(i, o)| ((o.name.as_str(), o.location.as_str()), (i, o.status))).collect()
}

/// `file:line` as (file, line), so that line 10 comes after line 9.
fn spec_position(location: &str) -> (String, u64) {
    match location.rsplit_once(':') {
        Some((file, line)) => (file.to_string(), line.parse().unwrap_or(u64::MAX)),
        None => (location.to_string(), u64::MAX),
    }
}

fn not_whole(why: String) -> MergeError {
    MergeError::NotWhole {
        why,
        hint: "pass the reports folder of every shard of one run (--shard 1/N … N/N, same commit, specs and flags)"
            .into(),
    }
}

/// The one record of the whole run, after checking the parts make exactly one run.
fn merge_records(parts: &[Part]) -> Result<RunRecord, MergeError> {
    let Some(first) = parts.first() else { return Err(not_whole("no shard given".into())) };
    let mut seen: BTreeMap<usize, &Path> = BTreeMap::new();
    let mut total = None;
    for p in parts {
        let ft = &p.record.predicate.ft;
        let Some(shard) = ft.shard else {
            return Err(not_whole(format!("{} is not a shard's record (made without --shard)", p.dir.display())));
        };
        if *total.get_or_insert(shard.total) != shard.total {
            return Err(not_whole(format!(
                "{} is shard {shard}, but another is of {} shards",
                p.dir.display(),
                total.unwrap_or(0)
            )));
        }
        if let Some(other) = seen.insert(shard.index, &p.dir) {
            return Err(not_whole(format!(
                "shard {shard} is given twice ({} and {})",
                other.display(),
                p.dir.display()
            )));
        }
    }
    let total = total.unwrap_or(0);
    let missing: Vec<String> = (1..=total).filter(|i| !seen.contains_key(i)).map(|i| format!("{i}/{total}")).collect();
    if !missing.is_empty() {
        return Err(not_whole(format!("shard {} missing", missing.join(", "))));
    }
    let base = &first.record.predicate.ft;
    // What must be the same in every part for them to be one run.
    for p in &parts[1..] {
        let ft = &p.record.predicate.ft;
        let differs = |what: &str, a: String, b: String| {
            not_whole(format!("{what} differs: {a} in {}, {b} in {}", first.dir.display(), p.dir.display()))
        };
        let show = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
        if ft.commit != base.commit {
            return Err(differs("the commit", show(&base.commit), show(&ft.commit)));
        }
        if ft.dirty_paths != base.dirty_paths {
            return Err(differs("the work tree", format!("{:?}", base.dirty_paths), format!("{:?}", ft.dirty_paths)));
        }
        if ft.spec_digest != base.spec_digest
            || p.record.predicate.configuration != first.record.predicate.configuration
        {
            return Err(differs("the spec set", base.spec_digest.clone(), ft.spec_digest.clone()));
        }
        if ft.target_url != base.target_url || ft.embedded_target != base.embedded_target {
            return Err(differs("the target", base.target.clone(), ft.target.clone()));
        }
        if ft.stage != base.stage {
            return Err(differs("the stage", show(&base.stage), show(&ft.stage)));
        }
        if ft.flaky_accepted != base.flaky_accepted {
            return Err(differs(
                "--fail-on-flaky",
                (!base.flaky_accepted).to_string(),
                (!ft.flaky_accepted).to_string(),
            ));
        }
        if ft.trust != base.trust {
            return Err(differs("the certificates trusted", format!("{:?}", base.trust), format!("{:?}", ft.trust)));
        }
        if ft.browser != base.browser {
            return Err(differs("the browser", show(&base.browser), show(&ft.browser)));
        }
        if ft.shard_split.as_ref().map(|s| &s.sha256) != base.shard_split.as_ref().map(|s| &s.sha256) {
            let how = |s: &Option<super::record::ShardSplit>| match s {
                Some(s) => format!("by {} ({})", s.by, crate::shared::text::short_hash(&s.sha256)),
                None => "unknown".into(),
            };
            return Err(MergeError::NotWhole {
                why: format!(
                    "the shards split the selection differently: {} in {}, {} in {}",
                    how(&base.shard_split),
                    first.dir.display(),
                    how(&ft.shard_split),
                    p.dir.display()
                ),
                hint: "shards balance by the history.jsonl in their --reports folder: give every shard the same one (e.g. the merged run's) or none".into(),
            });
        }
        if ft.ft_version != base.ft_version {
            return Err(differs("ft's version", base.ft_version.clone(), ft.ft_version.clone()));
        }
        let names = |r: &RunRecord| -> Vec<(String, String)> {
            let mut v: Vec<(String, String)> =
                r.predicate.ft.scenarios.iter().map(|s| (s.name.clone(), s.location.clone())).collect();
            v.sort();
            v
        };
        if names(&p.record) != names(&first.record) {
            return Err(not_whole(format!("{} and {} list different scenarios", first.dir.display(), p.dir.display())));
        }
    }
    // Each scenario: run by exactly one shard, or left out by all alike; in spec order.
    let indexes: Vec<_> = parts.iter().map(by_scenario).collect();
    let mut order: Vec<&ScenarioRecord> = base.scenarios.iter().collect();
    order.sort_by_key(|s| spec_position(&s.location));
    let mut scenarios = Vec::new();
    for s in order {
        let statuses: Vec<ScenarioStatus> = indexes
            .iter()
            .filter_map(|ix| ix.get(&(s.name.as_str(), s.location.as_str())).map(|(_, st)| *st))
            .collect();
        let ran: Vec<ScenarioStatus> = statuses
            .iter()
            .copied()
            .filter(|st| !matches!(st, ScenarioStatus::OtherShard | ScenarioStatus::NotSelected))
            .collect();
        let not_selected = statuses.iter().filter(|st| **st == ScenarioStatus::NotSelected).count();
        let status = match (ran.as_slice(), not_selected) {
            ([one], 0) => *one,
            ([], n) if n == parts.len() => ScenarioStatus::NotSelected,
            ([], _) => return Err(not_whole(format!("no shard ran \"{}\" ({})", s.name, s.location))),
            (_, 0) => return Err(not_whole(format!("\"{}\" ({}) ran in more than one shard", s.name, s.location))),
            _ => return Err(not_whole(format!("the shards selected differently (\"{}\")", s.name))),
        };
        scenarios.push(ScenarioRecord {
            name: s.name.clone(),
            location: s.location.clone(),
            status,
            quarantine: s.quarantine.clone(),
        });
    }
    let mut record = first.record.clone();
    let sum =
        |f: fn(&super::record::FtDetails) -> usize| parts.iter().map(|p| f(&p.record.predicate.ft)).sum::<usize>();
    {
        let ft = &mut record.predicate.ft;
        ft.total = sum(|f| f.total);
        ft.passed = sum(|f| f.passed);
        ft.flaky = sum(|f| f.flaky);
        ft.failed = sum(|f| f.failed);
        ft.errors = sum(|f| f.errors);
        ft.not_run = sum(|f| f.not_run);
        ft.quarantined_failed = sum(|f| f.quarantined_failed);
        ft.workers = sum(|f| f.workers);
        ft.complete = parts.iter().all(|p| p.record.predicate.ft.complete);
        ft.interrupted = parts.iter().any(|p| p.record.predicate.ft.interrupted);
        ft.started_at = parts.iter().map(|p| p.record.predicate.ft.started_at).min().unwrap_or(ft.started_at);
        ft.finished_at = parts.iter().map(|p| p.record.predicate.ft.finished_at).max().unwrap_or(ft.finished_at);
        ft.scenarios = scenarios;
        ft.shard = None;
        ft.shard_split = None;
        let mut shards: Vec<MergedShard> = parts
            .iter()
            .map(|p| MergedShard {
                shard: p.record.predicate.ft.shard.expect("checked above"),
                record_sha256: crate::spec::sha256_hex(&p.bytes),
                verdict: p.record.predicate.ft.verdict,
                signature_verified: p.signed,
            })
            .collect();
        shards.sort_by_key(|s| s.shard.index);
        ft.merged = Some(Merged { shards });
        let policy = if ft.flaky_accepted { FlakyPolicy::Accept } else { FlakyPolicy::Reject };
        ft.verdict = Verdict::from_counts(&ft.counts());
        ft.green = ft.verdict.is_green(policy);
    }
    let ft = &record.predicate.ft;
    // Each shard's own lists (a quarantined failure is a warning there), in spec order.
    let position: BTreeMap<&str, usize> = ft.scenarios.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let union = |list: fn(&RunRecord) -> &Vec<String>| -> Vec<String> {
        let mut all: Vec<String> = parts.iter().flat_map(|p| list(&p.record).iter().cloned()).collect();
        all.sort_by_key(|n| position.get(n.as_str()).copied().unwrap_or(usize::MAX));
        all
    };
    record.predicate.passed_tests = union(|r| &r.predicate.passed_tests);
    record.predicate.warned_tests = union(|r| &r.predicate.warned_tests);
    record.predicate.failed_tests = union(|r| &r.predicate.failed_tests);
    record.predicate.result = match ft.verdict.test_result() {
        "PASSED" if ft.quarantined_failed > 0 => "WARNED".into(),
        word => word.into(),
    };
    record.predicate.url = super::record::ci_job_url(|name| std::env::var(name).ok());
    Ok(record)
}
