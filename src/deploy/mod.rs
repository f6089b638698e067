//! `ft deploy`: the gated release. A green staging run opens the gate, the live deploy
//! goes through it, live is verified, and the release is tagged (or rolled back). It
//! composes runs (through `job`), shell commands and git, and asks `gate` what a
//! record may not be; it never drives a browser itself. Here the pipeline: its options,
//! how it ends, and the order of its stages (`Pipeline::run`); each stage is in `stages`
//! (and `version`, `bake`).

mod bake;
mod events;
mod history;
mod shell;
mod stages;
mod version;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::git;
use crate::job::JobOptions;
use crate::report::RunLock;
use crate::shared::redact::redact;
use crate::target;

pub use bake::Bake;
use events::Stage;
pub use events::{ConsoleSink, DeployEvent};
pub use history::DeployRecord;

#[derive(Clone, Debug)]
pub struct DeployOptions {
    /// The git work tree whose HEAD is released.
    pub repo: PathBuf,
    pub staging: String,
    pub live: String,
    pub deploy_cmd: String,
    pub restart_cmd: Option<String>,
    pub rollback_cmd: Option<String>,
    /// Deploy to staging too before testing it.
    pub staging_deploy: bool,
    pub smoke_tag: String,
    /// Push the tags to this remote.
    pub push: Option<String>,
    pub dry_run: bool,
    /// How long a target may take to answer after a deploy.
    pub up_timeout: Duration,
    /// Upper bound for each deploy, restart or rollback command.
    pub command_timeout: Duration,
    /// The targets' version page: staging before its tests and live after its deploy must
    /// show the released commit there (`--version-path`).
    pub version_path: Option<String>,
    /// How the version page must show the commit (`--version-match`).
    pub version_match: crate::target::version::VersionMatch,
    /// The run settings shared by every stage (specs, browser, waits, reports folder).
    pub job: JobOptions,
    /// Let a stage whose scenarios passed only on a retry count as green.
    pub allow_flaky: bool,
    /// Let a staging run that left scenarios of the specs out (--filter, --tag) open the gate.
    pub allow_partial: bool,
    /// Let a staging run made with --insecure-certs open the gate (as `ft gate --allow-insecure`).
    pub allow_insecure: bool,
    /// `--bake`: keep running the smoke scenarios against live after its verification.
    pub bake: Option<Bake>,
}

/// How a pipeline ended; each has one exit code (README, "ft deploy").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployOutcome {
    /// Live verified and tagged (and pushed when asked).
    Released,
    /// Dry run: the plan was printed.
    Planned,
    /// Preconditions failed (not a git work tree, uncommitted changes, bad target).
    Refused,
    /// A staging scenario failed: the gate stayed shut.
    StagingFailed,
    /// Staging could not be tested (unreachable, no browser...): the gate stayed shut.
    StagingBroken,
    /// A deploy or restart command failed.
    DeployFailed,
    /// Live did not answer after the deploy.
    LiveDown,
    /// A target's version page did not show the released commit (`--version-path`).
    WrongVersion,
    /// Live failed verification; rolled back and verified again.
    RolledBack,
    /// Live failed verification and is still failing (no rollback, or it did not help).
    LiveBroken,
    /// Released and tagged locally, but pushing the tags failed.
    PushFailed,
    Interrupted,
}

impl DeployOutcome {
    /// How `ft deploy` exits for this outcome (docs/releasing.md, "Exit codes and outcomes").
    pub fn exit_code(self) -> u8 {
        use crate::exit::{FAILED, INFRA, PASSED, SIGINT, USAGE};
        match self {
            DeployOutcome::Released | DeployOutcome::Planned => PASSED,
            DeployOutcome::StagingFailed | DeployOutcome::RolledBack | DeployOutcome::LiveBroken => FAILED,
            DeployOutcome::Refused => USAGE,
            DeployOutcome::StagingBroken
            | DeployOutcome::DeployFailed
            | DeployOutcome::LiveDown
            | DeployOutcome::WrongVersion
            | DeployOutcome::PushFailed => INFRA,
            DeployOutcome::Interrupted => SIGINT,
        }
    }

    /// What `ft deploy` exits with: the signal's code when one reached it (the pipeline
    /// stopped for it, whatever the outcome says), else the outcome's. Its history line
    /// says the same.
    pub fn exit_code_after(self, signal: Option<crate::interrupts::StopSignal>) -> u8 {
        signal.map_or_else(|| self.exit_code(), crate::interrupts::StopSignal::exit_code)
    }
}

/// The result of `deploy`: the outcome and why (its history line is appended by then).
#[derive(Debug)]
pub struct DeployReport {
    pub outcome: DeployOutcome,
    pub reason: String,
}

/// `{host}` in commands: the host (and port) of a target as given, without scheme.
pub fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// Refuse what would make the release unsafe before anything runs: staging and live naming
/// one server (the whole data-writing suite would run against live), and a `{host}` that
/// is not a plain host[:port] (it is put into a shell command).
fn check_targets(opts: &DeployOptions, staging: &str, live: &str) -> Result<(), String> {
    if crate::target::same_server(staging, live) {
        return Err(format!(
            "--staging and --live name the same server ({}): the whole suite would run against live; give the staging server",
            redact(live)
        ));
    }
    let commands = [Some(&opts.deploy_cmd), opts.restart_cmd.as_ref(), opts.rollback_cmd.as_ref()];
    if commands.iter().flatten().any(|c| c.contains("{host}")) {
        for url in [staging, live] {
            let host = host_of(url);
            if !is_plain_host(&host) {
                return Err(format!(
                    "{{host}} would put {host:?} into a shell command, and it is not a plain host[:port]; use \"$FT_HOST\" in the command instead"
                ));
            }
        }
    }
    Ok(())
}

/// Letters, digits, `.`, `-`, `:`, `[`, `]`: safe to put into `sh -c` unquoted.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The book's release tag: `DEPLOYED-YYYY-MM-DD/HHMM`, in UTC so every machine that
/// runs the pipeline names the same minute the same way.
pub fn deployed_tag(at: DateTime<Utc>) -> String {
    format!("DEPLOYED-{}", at.format("%Y-%m-%d/%H%M"))
}

/// How a stage's run ended, as the pipeline acts on it (`stages::judge` decides).
enum StageResult {
    Green,
    Red(String),
    Broken(String),
    Interrupted,
}

struct Pipeline<'a> {
    opts: &'a DeployOptions,
    out: &'a mut dyn Write,
    interrupts: watch::Receiver<u32>,
    record: DeployRecord,
    staging_url: String,
    live_url: String,
    /// The stages' reports folders' locks, held until the pipeline ends.
    folders: Vec<Arc<RunLock>>,
}

/// The reports folder's lock and its `staging` and `live` folders' locks.
fn lock_folders(dir: &std::path::Path) -> Result<(RunLock, Vec<Arc<RunLock>>), crate::report::ReportError> {
    let main = RunLock::acquire(dir)?;
    let stages =
        ["staging", "live"].iter().map(|s| RunLock::acquire(&dir.join(s)).map(Arc::new)).collect::<Result<_, _>>()?;
    Ok((main, stages))
}

/// Run the whole release: preconditions, (staging deploy), staging suite, live deploy,
/// live up, live smoke, tags (or rollback). One history line is appended whatever happens
/// (except for a dry run).
pub async fn deploy(
    opts: &DeployOptions,
    out: &mut dyn Write,
    interrupts: watch::Receiver<u32>,
    signal: crate::interrupts::FirstSignal,
) -> DeployReport {
    let started = Utc::now();
    let mut record = DeployRecord::new(started);
    let urls =
        target::resolve_as(&opts.staging, "--staging").and_then(|s| Ok((s, target::resolve_as(&opts.live, "--live")?)));
    let (staging_url, live_url) = match urls {
        Ok(u) => u,
        Err(e) => return DeployReport { outcome: DeployOutcome::Refused, reason: e.to_string() },
    };
    if let Err(reason) = check_targets(opts, &staging_url, &live_url) {
        return DeployReport { outcome: DeployOutcome::Refused, reason };
    }
    record.staging = redact(&staging_url);
    record.live = redact(&live_url);
    let history_path = opts.job.settings.paths.dir.join("deploys.jsonl");
    // One pipeline at a time per reports folder, for its whole length (a dry run writes
    // nothing); and its stages' folders with it, so that no `ft run --reports R/staging`
    // can clear staging's record and evidence between the staging run and the live deploy.
    let locks = match opts.dry_run {
        true => None,
        false => match lock_folders(&opts.job.settings.paths.dir) {
            Ok(locks) => Some(locks),
            Err(e) => {
                // The attempt is history too: appends are safe without the folder's lock,
                // so N concurrent deploys always leave N lines.
                let reason = e.to_string();
                record.finish(DeployOutcome::Refused, &reason, signal.get());
                if let Err(e) = history::append(&history_path, &record) {
                    let _ = writeln!(out, "warning: {e}: this attempt is missing from the history");
                }
                return DeployReport { outcome: DeployOutcome::Refused, reason };
            }
        },
    };
    let (_lock, folders) = locks.unzip();
    let folders = folders.unwrap_or_default();
    let mut p = Pipeline { opts, out, interrupts, record, staging_url, live_url, folders };
    let (mut outcome, reason) = p.run().await;
    // A second signal stops whatever was running (a command, a preflight): what failed
    // then failed because of it.
    if *p.interrupts.borrow() >= 2 && !matches!(outcome, DeployOutcome::Released | DeployOutcome::Planned) {
        outcome = DeployOutcome::Interrupted;
    }
    p.record.finish(outcome, &reason, signal.get());
    if outcome == DeployOutcome::Planned {
        return DeployReport { outcome, reason };
    }
    match history::append(&history_path, &p.record) {
        Err(e) => p.say(&format!("warning: {e}: this pipeline is missing from the history")),
        Ok(()) => p.say(&format!("history: {}", history_path.display())),
    }
    DeployReport { outcome, reason }
}

impl Pipeline<'_> {
    /// Every event goes to both sinks: the console and the history line.
    fn emit(&mut self, event: DeployEvent) {
        ConsoleSink { out: &mut *self.out }.event(&event);
        self.record.event(&event);
    }

    fn say(&mut self, line: &str) {
        self.emit(DeployEvent::Note(line.to_string()));
    }

    fn start(&mut self, name: &str, what: &str, file: Option<&std::path::Path>) -> Stage {
        let (stage, event) = Stage::start(name, what, file);
        self.emit(event);
        stage
    }

    fn finish(&mut self, stage: Stage, ok: bool, detail: &str) {
        let event = stage.finish(ok, detail);
        self.emit(event);
    }

    fn interrupted(&self) -> bool {
        *self.interrupts.borrow() > 0
    }

    async fn run(&mut self) -> (DeployOutcome, String) {
        let repo = self.opts.repo.clone();
        // 1. The commit tested must be the commit deployed.
        let commit = match git::head(&repo).await {
            Ok(c) => c,
            Err(e) => {
                return (
                    DeployOutcome::Refused,
                    format!("not a git work tree with a commit ({e}); run ft deploy from your project's checkout"),
                )
            }
        };
        match git::dirty_files(&repo).await {
            Ok(files) if !files.is_empty() => {
                let shown: Vec<&str> = files.iter().take(10).map(String::as_str).collect();
                return (
                    DeployOutcome::Refused,
                    format!(
                        "uncommitted changes to tracked files ({}): the commit tested must be the commit deployed; commit or stash them first",
                        shown.join(", ")
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => return (DeployOutcome::Refused, format!("failed to check the work tree: {e}")),
        }
        self.record.commit = commit.clone();
        let previous_live = git::tag_commit(&repo, "LIVE").await.ok().flatten();
        self.record.previous_live = previous_live.clone();
        let short = crate::shared::text::short_hash(&commit);
        let (staging_shown, live_shown) = (redact(&self.staging_url), redact(&self.live_url));
        self.say(&format!("ft deploy: commit {short}, staging {staging_shown}, live {live_shown}"));
        if self.opts.dry_run {
            self.print_plan(&commit, previous_live.as_deref());
            return (DeployOutcome::Planned, "dry run: nothing was run".into());
        }

        // 2. Staging deploy, when asked.
        if self.opts.staging_deploy {
            let staging = self.staging_url.clone();
            if let Err(stopped) = self.deploy_to("staging", &staging, &commit).await {
                return stopped;
            }
            if let Err(reason) = self.wait_up("staging", &staging).await {
                let outcome = if self.interrupted() { DeployOutcome::Interrupted } else { DeployOutcome::DeployFailed };
                return (outcome, reason);
            }
        }
        if self.interrupted() {
            return (DeployOutcome::Interrupted, "interrupted before the staging run".into());
        }
        // What staging runs, deployed by us or not, must be the commit about to be released.
        let staging = self.staging_url.clone();
        if let Err(reason) = self.check_version("staging", &staging, &commit).await {
            return (DeployOutcome::WrongVersion, format!("the gate stayed shut: {reason}"));
        }

        // 3. The full suite against staging opens the gate, or not.
        let staging = self.staging_url.clone();
        let selection = self.opts.job.selection.clone();
        match self.suite("staging", "staging", &staging, selection).await {
            StageResult::Green => {}
            StageResult::Red(r) => return (DeployOutcome::StagingFailed, format!("the gate stayed shut: {r}")),
            StageResult::Broken(r) => return (DeployOutcome::StagingBroken, format!("the gate stayed shut: {r}")),
            StageResult::Interrupted => {
                return (DeployOutcome::Interrupted, "interrupted during the staging run".into())
            }
        }
        if self.interrupted() {
            return (DeployOutcome::Interrupted, "interrupted before the live deploy".into());
        }

        // 4. Live deploy.
        let live = self.live_url.clone();
        if let Err((outcome, reason)) = self.deploy_to("live", &live, &commit).await {
            return (outcome, format!("{reason}; no tag was written"));
        }

        // 5. Live up, then the smoke scenarios only (live holds real users' data).
        let verified = self.verify_live("live", Some(&commit)).await;
        match verified {
            Ok(()) => {}
            Err((kind, why)) => return self.after_failed_live(kind, why, previous_live).await,
        }

        // 6. The bake window, when asked; then tags on the tested commit (after the bake:
        // LIVE names a release that held, README "The bake window").
        self.bake_then_tag(&commit, previous_live).await
    }

    fn print_plan(&mut self, commit: &str, previous_live: Option<&str>) {
        let env = |stage: &str, url: &str| format!("FT_COMMIT={commit} FT_HOST={} FT_STAGE={stage}", host_of(url));
        let (staging, live) = (self.staging_url.clone(), self.live_url.clone());
        let mut steps = Vec::new();
        if self.opts.staging_deploy {
            steps.push(format!(
                "staging deploy: {}  [{}]",
                self.resolve(&self.opts.deploy_cmd, &staging),
                env("staging", &staging)
            ));
            if let Some(r) = &self.opts.restart_cmd {
                steps.push(format!("staging restart: {}", self.resolve(r, &staging)));
            }
            steps.push(format!("wait until {} answers (up to {:?})", redact(&staging), self.opts.up_timeout));
        }
        steps.extend(self.plan_version(&staging, commit));
        steps.push(format!(
            "run the suite against {} (reports in {})",
            redact(&staging),
            self.stage_dir("staging").display()
        ));
        steps.push(format!("live deploy: {}  [{}]", self.resolve(&self.opts.deploy_cmd, &live), env("live", &live)));
        if let Some(r) = &self.opts.restart_cmd {
            steps.push(format!("live restart: {}", self.resolve(r, &live)));
        }
        steps.push(format!("wait until {} answers (up to {:?})", redact(&live), self.opts.up_timeout));
        steps.extend(self.plan_version(&live, commit));
        steps.push(format!("run the scenarios tagged `{}` against {}", self.opts.smoke_tag, redact(&live)));
        if let Some(b) = &self.opts.bake {
            steps.push(format!(
                "bake: the `{}` scenarios against {} every {:?} for {:?}; {} failed runs in a row take the failure path below",
                self.opts.smoke_tag,
                redact(&live),
                b.every,
                b.window,
                b.failures
            ));
        }
        steps.push(format!(
            "on success: git tag -f LIVE {commit}; git tag {} {commit}{}",
            deployed_tag(Utc::now()),
            self.opts.push.as_ref().map(|r| format!("; git push {r} the tags (LIVE forced)")).unwrap_or_default()
        ));
        match &self.opts.rollback_cmd {
            Some(r) => steps.push(format!(
                "on live failure: {}  [FT_ROLLBACK_TO={}], then verify live again; LIVE stays where it is",
                self.resolve(r, &live),
                previous_live.unwrap_or("(no LIVE tag yet)")
            )),
            None => steps.push("on live failure: no rollback command; LIVE stays where it is".into()),
        }
        self.say("plan (dry run, nothing is run):");
        for (i, s) in steps.iter().enumerate() {
            self.say(&format!("  {}. {s}", i + 1));
        }
    }

    fn resolve(&self, command: &str, url: &str) -> String {
        command.replace("{host}", &host_of(url))
    }

    fn stage_dir(&self, stage: &str) -> PathBuf {
        self.opts.job.settings.paths.dir.join(stage)
    }
}
