//! The run record (`run.json`): what ran, against what, from which commit and specs,
//! and how it ended, as an in-toto Statement v1 with the test-result predicate v0.1
//! (valid for the reference implementation, PyPI `in-toto-attestation`), plus ft's own
//! details under a key no predicate field can ever take (`ft.run/v1`: protobuf field
//! names cannot hold `.` or `/`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RunInfo;
use crate::runner::RunSummary;
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// Where ft's own fields live inside the predicate.

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The commit tested; outside a git work tree, the spec set (never gate-able).
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: TestResult,
}

/// In-toto's ResourceDescriptor (the fields ft uses).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResourceDescriptor {
    pub name: String,
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ResourceDescriptor {
    fn new(name: &str, algorithm: &str, hex: &str) -> ResourceDescriptor {
        let digest = std::iter::once((algorithm.to_string(), hex.to_string())).collect();
        ResourceDescriptor { name: name.to_string(), digest, annotations: None }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// In-toto's word for the verdict (`Verdict::test_result`): PASSED; WARNED when green
    /// only thanks to retries (flaky scenarios); FAILED otherwise. ft reads its verdict.
    pub result: String,
    /// Each spec file (its sha256 is what `sha256sum FILE` prints) and, when any, the
    /// selector overrides as their own descriptor.
    pub configuration: Vec<ResourceDescriptor>,
    /// The CI job that made the record, when ft could tell (GitHub Actions, GitLab CI, Jenkins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Passed at the first attempt.
    pub passed_tests: Vec<String>,
    /// Passed only on a retry (flaky).
    pub warned_tests: Vec<String>,
    /// Failed or errored.
    pub failed_tests: Vec<String>,
    #[serde(rename = "ft.run/v1")]
    pub ft: FtDetails,
}

pub use crate::runner::ScenarioStatus;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRecord {
    pub name: String,
    /// `file:line`.
    pub location: String,
    pub status: ScenarioStatus,
    /// The spec's `quarantine` reason, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct FtDetails {
    pub ft_version: String,
    /// How the run ended, computed once (`Verdict::of`); what `ft gate` reads.
    pub verdict: Verdict,
    /// Whether the run itself counted as green (a flaky run with `--fail-on-flaky` did not).
    pub green: bool,
    /// Whether the run accepted flaky scenarios as green (no `--fail-on-flaky`).
    pub flaky_accepted: bool,
    pub commit: Option<String>,
    /// Tracked files with uncommitted changes when the run started (None outside git):
    /// the commit named is then not what was tested.
    pub dirty_paths: Option<Vec<String>>,
    /// The target as shown to people (credentials hidden).
    pub target: String,
    /// The target's URL without user info or secret parameters, for `ft gate --target`.
    pub target_url: String,
    /// True when no target was given and ft tested its own embedded superlists app.
    pub embedded_target: bool,
    pub stage: Option<String>,
    pub specs: String,
    pub spec_digest: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    /// How each scenario was kept from the state of the one before it on its worker
    /// (the run's weakest): `user-context`, `fresh-session` or `reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    pub workers: usize,
    pub total: usize,
    /// Passed, at the first attempt or on a retry.
    pub passed: usize,
    /// Passed only on a retry (counted in `passed` too).
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
    pub not_run: usize,
    /// Quarantined scenarios that failed or errored: in neither `failed` nor `errors`.
    #[serde(default)]
    pub quarantined_failed: usize,
    /// False when the run was interrupted or some scenario did not run.
    pub complete: bool,
    /// Ctrl-C or SIGTERM stopped the run.
    pub interrupted: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Every scenario of the spec set, selected or not, with what became of it.
    pub scenarios: Vec<ScenarioRecord>,
    /// `--shard I/N`: this record is one part of a run; `ft gate` takes only their merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// `--shard`: the sha256 of the split (which shard runs which scenario) and how it was
    /// made; every shard of one run has the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_split: Option<ShardSplit>,
    /// `ft merge`: the shards' records this one was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    /// How the run trusted the target's HTTPS certificates. Required: a record that does
    /// not say is not read as one that checked them.
    pub trust: TrustRecord,
}

/// How a run trusted HTTPS certificates: facts a gate may refuse a run for.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TrustRecord {
    /// `--insecure-certs`: no certificate was checked, so the run may not have been of the
    /// server it names.
    pub insecure_certs: bool,
    /// `--ca-cert`: the certificates trusted besides the system's roots, as the sha256
    /// pins of their public keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certs: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShardSplit {
    pub sha256: String,
    /// "durations" (balanced by the history's times) or "spec order".
    pub by: String,
}

/// What `ft merge` made a record of: N shard records, each named by its bytes' sha256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Merged {
    pub shards: Vec<MergedShard>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MergedShard {
    pub shard: crate::shard::Shard,
    /// sha256 of the shard's `run.json` as read.
    pub record_sha256: String,
    pub verdict: Verdict,
    /// Whether the shard's record came with a signature `ft merge` verified.
    pub signature_verified: bool,
}

impl RunRecord {
    pub fn new(
        info: &RunInfo,
        scenarios: &[Scenario],
        summary: &RunSummary,
        verdict: Verdict,
        flaky_policy: FlakyPolicy,
        finished_at: DateTime<Utc>,
    ) -> RunRecord {
        let mut records = Vec::new();
        let (mut passed, mut warned, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        for r in &summary.results {
            let Some(scenario) = scenarios.get(r.index) else { continue };
            let name = scenario.name.clone();
            let status = ScenarioStatus::of(r);
            let quarantined = summary.quarantined.contains(&r.index);
            match status {
                ScenarioStatus::Passed => passed.push(name.clone()),
                ScenarioStatus::Flaky => warned.push(name.clone()),
                // A quarantined failure does not fail the run: in-toto's word for it is a warning.
                ScenarioStatus::Failed | ScenarioStatus::Error if quarantined => warned.push(name.clone()),
                ScenarioStatus::Failed | ScenarioStatus::Error => failed.push(name.clone()),
                _ => {}
            }
            records.push(ScenarioRecord {
                name,
                location: scenario.location(),
                status,
                quarantine: scenario.quarantine.clone(),
            });
        }
        for (name, location) in &info.other_shards {
            records.push(ScenarioRecord {
                name: name.clone(),
                location: location.clone(),
                status: ScenarioStatus::OtherShard,
                quarantine: None,
            });
        }
        for (name, location) in &info.not_selected {
            records.push(ScenarioRecord {
                name: name.clone(),
                location: location.clone(),
                status: ScenarioStatus::NotSelected,
                quarantine: None,
            });
        }
        let counts = Counts::of(summary);
        let subject = match &info.commit {
            Some(c) => vec![ResourceDescriptor::new("git commit", "gitCommit", c)],
            // A Statement needs a subject. Outside a work tree the only thing the run can
            // name is the spec set; with no commit, `ft gate` never opens for it.
            None => vec![ResourceDescriptor::new("ft spec set", "sha256", &info.spec_digest)],
        };
        let mut configuration: Vec<ResourceDescriptor> =
            info.spec_files.iter().map(|(name, sha)| ResourceDescriptor::new(name, "sha256", sha)).collect();
        if !info.overrides.is_empty() {
            let text: String = info.overrides.iter().map(|(n, css)| format!("{n}={css}\n")).collect();
            let mut d =
                ResourceDescriptor::new("ft selector overrides", "sha256", &crate::spec::sha256_hex(text.as_bytes()));
            d.annotations = Some(info.overrides.clone().into_iter().collect());
            configuration.push(d);
        }
        RunRecord {
            statement_type: STATEMENT_TYPE.into(),
            subject,
            predicate_type: PREDICATE_TYPE.into(),
            predicate: TestResult {
                result: match verdict.test_result() {
                    "PASSED" if counts.quarantined_failed > 0 => "WARNED".into(),
                    word => word.into(),
                },
                configuration,
                url: info.ci_url.clone(),
                passed_tests: passed,
                warned_tests: warned,
                failed_tests: failed,
                ft: FtDetails {
                    ft_version: env!("CARGO_PKG_VERSION").into(),
                    verdict,
                    green: verdict.is_green(flaky_policy),
                    flaky_accepted: flaky_policy == FlakyPolicy::Accept,
                    commit: info.commit.clone(),
                    dirty_paths: info.dirty_paths.clone(),
                    target: info.target.clone(),
                    target_url: info.target_url.clone(),
                    embedded_target: info.embedded_target,
                    stage: info.stage.clone(),
                    specs: info.specs.clone(),
                    spec_digest: info.spec_digest.clone(),
                    browser: summary.browser.as_ref().map(|b| b.name.clone()),
                    browser_version: summary.browser.as_ref().map(|b| b.version.clone()),
                    isolation: summary.isolation.as_ref().map(|i| i.name().to_string()),
                    workers: info.workers,
                    total: counts.total,
                    passed: counts.passed,
                    flaky: counts.flaky,
                    failed: counts.failed,
                    errors: counts.errors,
                    not_run: counts.not_run,
                    quarantined_failed: counts.quarantined_failed,
                    complete: counts.complete(),
                    interrupted: counts.interrupted,
                    started_at: info.started_at,
                    finished_at,
                    scenarios: records,
                    shard: info.shard,
                    shard_split: info
                        .shard_split
                        .as_ref()
                        .map(|(sha256, by)| ShardSplit { sha256: sha256.clone(), by: by.to_string() }),
                    merged: None,
                    trust: info.trust.clone(),
                },
            },
        }
    }
}

impl RunRecord {
    /// What a record may claim at all, checked before anything trusts its numbers: a
    /// record is read from a file anyone can write, and a shard total of 10^12 made
    /// `ft merge` allocate for every shard it named, one of 2^62 made `ft gate` panic.
    /// Bounds follow what ft itself writes: a shard total is at most the scenarios
    /// listed (`--shard` refuses more shards than scenarios), so is every count, and the
    /// digests are hex. `Err` says why it is not a run record. That the counts agree with
    /// the list is the gate's to judge (a record that contradicts itself shuts it).
    pub fn check_claims(&self) -> Result<(), String> {
        if self.statement_type != STATEMENT_TYPE || self.predicate_type != PREDICATE_TYPE {
            return Err(format!("statement {} / predicate {}", self.statement_type, self.predicate_type));
        }
        let ft = &self.predicate.ft;
        let listed = ft.scenarios.len();
        let fits = |what: &str, shard: &crate::shard::Shard| {
            if shard.index == 0 || shard.index > shard.total || shard.total > listed.max(1) {
                return Err(format!(
                    "{what} claims shard {}/{}, but a shard is I/N with 1 <= I <= N <= the {listed} scenarios it lists",
                    shard.index, shard.total
                ));
            }
            Ok(())
        };
        if let Some(shard) = &ft.shard {
            fits("it", shard)?;
        }
        if let Some(merged) = &ft.merged {
            if merged.shards.len() > listed.max(1) {
                return Err(format!(
                    "it claims to merge {} shards, more than the {listed} scenarios it lists",
                    merged.shards.len()
                ));
            }
            for s in &merged.shards {
                fits("a merged shard", &s.shard)?;
                hex("a merged shard's record_sha256", &s.record_sha256)?;
            }
        }
        let counts = [
            ("total", ft.total),
            ("passed", ft.passed),
            ("flaky", ft.flaky),
            ("failed", ft.failed),
            ("errors", ft.errors),
            ("not_run", ft.not_run),
            ("quarantined_failed", ft.quarantined_failed),
        ];
        for (name, n) in counts {
            if n > listed {
                return Err(format!("it counts {n} {name}, more than the {listed} scenarios it lists"));
            }
        }
        hex("its spec_digest", &ft.spec_digest)?;
        if let Some(commit) = &ft.commit {
            hex("its commit", commit)?;
        }
        for d in &self.subject {
            if let Some(c) = d.digest.get("gitCommit") {
                hex("its subject's gitCommit", c)?;
            }
        }
        if let Some(split) = &ft.shard_split {
            hex("its shard_split sha256", &split.sha256)?;
        }
        Ok(())
    }
}

/// A digest as ft writes one: hex, of a length a digest has (a git commit is 40 or 64).
fn hex(what: &str, s: &str) -> Result<(), String> {
    if s.len() < 40 || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{what} is not a hex digest ({:?})", s.chars().take(80).collect::<String>()));
    }
    Ok(())
}

impl FtDetails {
    /// The counts as recorded, for re-checking the recorded verdict against them.
    pub fn counts(&self) -> Counts {
        let status = |s: ScenarioStatus| self.scenarios.iter().filter(|r| r.status == s).count();
        Counts {
            total: self.total,
            passed: self.passed,
            flaky: self.flaky,
            failed: self.failed,
            errors: self.errors,
            not_run: self.not_run,
            skipped: status(ScenarioStatus::SkippedUnsafe),
            quarantined_failed: self.quarantined_failed,
            // An incomplete run with every scenario run can only have been interrupted.
            interrupted: self.interrupted || (!self.complete && self.not_run == 0),
        }
    }

    /// Scenarios of the spec set with this status.
    pub fn named(&self, status: ScenarioStatus) -> Vec<&str> {
        self.scenarios.iter().filter(|r| r.status == status).map(|r| r.name.as_str()).collect()
    }
}

/// The CI job running ft, from the variables GitHub Actions, GitLab CI and Jenkins set.
pub fn ci_job_url(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let (Some(server), Some(repo), Some(run)) =
        (set("GITHUB_SERVER_URL"), set("GITHUB_REPOSITORY"), set("GITHUB_RUN_ID"))
    {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    set("CI_JOB_URL").or_else(|| set("BUILD_URL")).map(|u| crate::shared::redact::redact(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_job_url_comes_from_the_ci_servers_own_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        const GITHUB: &[(&str, &str)] =
            &[("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "42")];
        assert_eq!(ci_job_url(env(GITHUB)).as_deref(), Some("https://github.com/o/r/actions/runs/42"));
        assert_eq!(
            ci_job_url(env(&[("CI_JOB_URL", "https://gitlab.example/o/r/-/jobs/7")])).as_deref(),
            Some("https://gitlab.example/o/r/-/jobs/7")
        );
        assert_eq!(
            ci_job_url(env(&[("BUILD_URL", "https://jenkins.example/job/ft/3/")])).as_deref(),
            Some("https://jenkins.example/job/ft/3/")
        );
        assert_eq!(ci_job_url(env(&[("CI_JOB_URL", " ")])), None);
    }
}
