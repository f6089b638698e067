//! `ft deploy`: the gated release. A green staging run opens the gate, the live deploy
//! goes through it, live is verified, and the release is tagged (or rolled back). It
//! composes runs (through `job`), shell commands and git, and asks `gate` what a
//! record may not be; it never drives a browser itself.

mod bake;
mod events;
mod history;
mod shell;
mod version;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::git;
use crate::job::{self, JobError, JobOptions, JobResult};
use crate::report::{Console, ReportPaths, RunLock};
use crate::runner::Outcome;
use crate::shared::redact::redact;
use crate::spec::Selection;
use crate::target;
use crate::verdict::{Counts, FlakyPolicy, Verdict};
use crate::wait::{self, Check, Patience};

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

    /// Run the deploy (and restart) command for one target. A signal lets the command
    /// under way finish, then stops the pipeline at once: nothing more runs, and nothing
    /// waits (a target's --up-timeout is no reason to keep ft alive).
    async fn deploy_to(&mut self, stage: &str, url: &str, commit: &str) -> Result<(), (DeployOutcome, String)> {
        let mut commands = vec![("deploy", self.opts.deploy_cmd.clone())];
        if let Some(r) = &self.opts.restart_cmd {
            commands.push(("restart", r.clone()));
        }
        for (kind, command) in commands {
            let resolved = self.resolve(&command, url);
            let env =
                vec![("FT_COMMIT", commit.to_string()), ("FT_HOST", host_of(url)), ("FT_STAGE", stage.to_string())];
            let ran = self.run_command(stage, kind, &resolved, &env).await;
            if self.interrupted() {
                let how = if ran.is_ok() { "finished" } else { "failed" };
                return Err((
                    DeployOutcome::Interrupted,
                    format!("interrupted during the {stage} {kind}: the command {how}, and nothing ran after it; {stage} runs what the command left, untested"),
                ));
            }
            ran.map_err(|reason| (DeployOutcome::DeployFailed, reason))?;
        }
        Ok(())
    }

    async fn run_command(
        &mut self,
        stage: &str,
        kind: &str,
        command: &str,
        env: &[(&str, String)],
    ) -> Result<(), String> {
        let name = format!("{stage} {kind}");
        let log = self.stage_dir(stage).join(format!("{kind}.log"));
        let timer = self.start(&name, command, Some(&log));
        let run = shell::run(command, env, &log, self.opts.command_timeout, self.out, self.interrupts.clone()).await;
        let (ok, detail) = match &run {
            Ok(r) if r.ok() => (true, format!("succeeded in {:.1}s", r.took.as_secs_f64())),
            Ok(r) => (false, format!("`{command}` failed: {} (log: {})", r.ended, r.log.display())),
            Err(e) => (false, format!("{e}")),
        };
        self.finish(timer, ok, &detail);
        if ok {
            Ok(())
        } else {
            Err(format!("{name} failed: {detail}"))
        }
    }

    /// Wait until `url` answers HTTP below 500, bounded by `up_timeout`.
    async fn wait_up(&mut self, stage: &str, url: &str) -> Result<(), String> {
        let shown = redact(url);
        let what = format!("waiting for {shown} to answer (up to {:?})", self.opts.up_timeout);
        let timer = self.start(&format!("{stage} up"), &what, None);
        let patience = Patience { max_wait: self.opts.up_timeout, poll: Duration::from_millis(250) };
        let trust = &self.opts.job.settings.trust;
        let waiting = wait::until(patience, || async {
            match target::preflight(url, Duration::from_secs(5), trust).await {
                Ok(_landed) => Ok::<_, std::convert::Infallible>(Check::Done(())),
                Err(e) => Ok(Check::NotYet(e.to_string().lines().next().unwrap_or("").to_string())),
            }
        });
        // A signal ends the wait: the pipeline stops anyway, and nothing is worth waiting
        // out --up-timeout for (120 s by default) once it has been asked to stop.
        let mut interrupts = self.interrupts.clone();
        let answered = tokio::select! {
            answered = waiting => answered,
            Ok(_) = interrupts.wait_for(|n| *n > 0) => {
                let detail = format!("interrupted while waiting for {shown} to answer");
                self.finish(timer, false, &detail);
                return Err(detail);
            }
        };
        match answered {
            Ok(()) => {
                let detail = format!("answered after {:.1}s", timer.elapsed().as_secs_f64());
                self.finish(timer, true, &detail);
                Ok(())
            }
            Err(wait::WaitError::TimedOut(t)) => {
                let detail = format!("{shown} did not answer within {:?}: {}", self.opts.up_timeout, t.last_seen);
                self.finish(timer, false, &detail);
                Err(detail)
            }
            Err(wait::WaitError::Fatal(never)) => match never {},
        }
    }

    /// Run scenarios against a target as one stage, with its own reports folder.
    async fn suite(&mut self, stage: &str, folder: &str, url: &str, selection: Selection) -> StageResult {
        let dir = self.stage_dir(folder);
        let mut job = self.opts.job.clone();
        job.liveserver = Some(url.to_string());
        job.selection = selection;
        job.stage = Some(stage.to_string());
        if url == self.live_url {
            // Live is precious whatever the flags say: only smoke scenarios run there.
            let exact = format!("^{}", regex::escape(url));
            job.settings.sensitive = job.settings.sensitive.or_else(|| regex::Regex::new(&exact).ok());
            job.settings.safe_tag = self.opts.smoke_tag.clone();
            // Whatever ft does on live is synthetic traffic, and says so to the app.
            job.settings.mark_synthetic();
        }
        // A stage opens the gate only when green under the pipeline's flaky policy; its
        // reports say so too.
        job.settings.flaky = FlakyPolicy::accept_if(self.opts.allow_flaky);
        job.settings.paths = ReportPaths::in_dir(dir.clone());
        // Held from the first stage that uses the folder to the pipeline's end.
        job.folder_lock = match self.folders.iter().find(|l| l.holds(&dir)) {
            Some(held) => Some(held.clone()),
            None => match RunLock::acquire(&dir) {
                Ok(lock) => {
                    let lock = Arc::new(lock);
                    self.folders.push(lock.clone());
                    Some(lock)
                }
                Err(e) => {
                    let why = with_causes(&e);
                    let timer = self.start(&format!("{stage} tests"), &redact(url), None);
                    self.finish(timer, false, &why);
                    return StageResult::Broken(why);
                }
            },
        };
        let report = dir.join("junit.xml");
        let timer = self.start(&format!("{stage} tests"), &redact(url), Some(&report));
        let result = job::run(&job, Console::for_run(&job.settings), self.interrupts.clone()).await;
        let (mut stage_result, mut ok, mut detail) = judge(&result, job.settings.flaky);
        // The staging run opens the gate for the whole spec set, as `ft gate` demands.
        if let (true, "staging", Ok(done)) = (ok, stage, &result) {
            let insecure = crate::gate::insecure_reason(&done.info.trust, self.opts.allow_insecure);
            if let Some(why) = partial(done).filter(|_| !self.opts.allow_partial).or(insecure) {
                (stage_result, ok, detail) = (StageResult::Red(why.clone()), false, why);
            }
        }
        self.finish(timer, ok, &detail);
        stage_result
    }

    /// Live up, serving `commit` (when known, with --version-path) and smoke-tested; on
    /// failure, the kind of failure and why.
    async fn verify_live(&mut self, folder: &str, commit: Option<&str>) -> Result<(), (DeployOutcome, String)> {
        let live = self.live_url.clone();
        if let Err(why) = self.wait_up("live", &live).await {
            let outcome = if self.interrupted() { DeployOutcome::Interrupted } else { DeployOutcome::LiveDown };
            return Err((outcome, why));
        }
        if let Some(commit) = commit {
            if let Err(why) = self.check_version("live", &live, commit).await {
                return Err((DeployOutcome::WrongVersion, why));
            }
        }
        let mut smoke = self.opts.job.selection.clone();
        smoke.tags = vec![self.opts.smoke_tag.clone()];
        match self.suite("live", folder, &live, smoke).await {
            StageResult::Green => Ok(()),
            StageResult::Red(r) | StageResult::Broken(r) => Err((DeployOutcome::LiveBroken, r)),
            StageResult::Interrupted => {
                Err((DeployOutcome::Interrupted, "interrupted during live verification".into()))
            }
        }
    }

    /// Live failed verification: roll back when we can, verify again, never move LIVE.
    async fn after_failed_live(
        &mut self,
        kind: DeployOutcome,
        why: String,
        previous_live: Option<String>,
    ) -> (DeployOutcome, String) {
        let Some(rollback) = self.opts.rollback_cmd.clone() else {
            let state = match kind {
                DeployOutcome::LiveDown => "live is not answering with the new release",
                DeployOutcome::WrongVersion => "live is not serving the new release",
                _ => "live is failing with the new release",
            };
            return (
                kind,
                format!("live verification failed ({why}); no --rollback-cmd was given: {state}; LIVE was not moved"),
            );
        };
        let live = self.live_url.clone();
        let to = previous_live.clone().unwrap_or_default();
        if previous_live.is_none() {
            self.say("warning: there is no LIVE tag, so FT_ROLLBACK_TO is empty");
        }
        let env = vec![
            ("FT_COMMIT", self.record.commit.clone()),
            ("FT_HOST", host_of(&live)),
            ("FT_STAGE", "live".to_string()),
            ("FT_ROLLBACK_TO", to.clone()),
        ];
        let resolved = self.resolve(&rollback, &live);
        if let Err(e) = self.run_command("live", "rollback", &resolved, &env).await {
            return (
                DeployOutcome::LiveBroken,
                format!("live verification failed ({why}) and the rollback failed ({e}): live is in an unknown, probably broken state; LIVE was not moved"),
            );
        }
        self.record.rolled_back_to = previous_live;
        if self.interrupted() {
            return (
                DeployOutcome::Interrupted,
                format!("live verification failed ({why}); rolled back to {}, then interrupted: live was not verified again; LIVE was not moved", short(&to)),
            );
        }
        // After a rollback live must serve the commit it was rolled back to, when known.
        let back_to = Some(to.as_str()).filter(|c| !c.is_empty());
        match self.verify_live("live-after-rollback", back_to).await {
            Ok(()) => (
                DeployOutcome::RolledBack,
                format!("live verification failed ({why}); rolled back to {} and live passed verification again; LIVE was not moved", short(&to)),
            ),
            Err((_, again)) => (
                DeployOutcome::LiveBroken,
                format!("live verification failed ({why}); after the rollback to {} live still fails ({again}): live is BROKEN; LIVE was not moved", short(&to)),
            ),
        }
    }

    async fn tag(&mut self, commit: &str) -> (DeployOutcome, String) {
        let repo = self.opts.repo.clone();
        let deployed = deployed_tag(Utc::now());
        match git::tag_commit(&repo, &deployed).await {
            Ok(Some(existing)) if existing != commit => {
                return (
                    DeployOutcome::PushFailed,
                    format!("live is released and verified, but tag {deployed} already names {} (two releases in one minute?); LIVE was not moved", short(&existing)),
                )
            }
            _ => {}
        }
        for (name, force) in [("LIVE", true), (deployed.as_str(), false)] {
            if let Err(e) = git::tag(&repo, name, commit, force).await {
                return (DeployOutcome::PushFailed, format!("live is released and verified, but tagging failed: {e}"));
            }
            self.record.tags.push(name.to_string());
        }
        self.say(&format!("tags: LIVE and {deployed} (UTC) -> {}", short(commit)));
        if let Some(remote) = self.opts.push.clone() {
            for (name, force) in [("LIVE", true), (deployed.as_str(), false)] {
                if let Err(e) = git::push_tag(&repo, &remote, name, force).await {
                    return (
                        DeployOutcome::PushFailed,
                        format!("live is released and verified and tagged locally, but pushing {name} to {remote} failed: {e}; push the tags by hand"),
                    );
                }
            }
            self.record.pushed_to = Some(redact(&remote));
            self.say(&format!("pushed LIVE and {deployed} to {remote}"));
        }
        (
            DeployOutcome::Released,
            format!("released {} to {}: verified and tagged {deployed}", short(commit), redact(&self.live_url)),
        )
    }
}

fn short(commit: &str) -> &str {
    if commit.is_empty() {
        "(no LIVE tag)"
    } else {
        crate::shared::text::short_hash(commit)
    }
}

enum StageResult {
    Green,
    Red(String),
    Broken(String),
    Interrupted,
}

/// Whether a stage's run opens the gate: its verdict, green under the pipeline's flaky
/// policy (`Verdict::is_green`); this only words the answer.
fn judge(result: &Result<JobResult, JobError>, flaky: FlakyPolicy) -> (StageResult, bool, String) {
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            let why = with_causes(e);
            return (StageResult::Broken(why.clone()), false, why);
        }
    };
    let counts = Counts::of(&r.summary);
    if r.verdict.is_green(flaky) {
        let flaky = if counts.flaky > 0 { format!(" ({} flaky, accepted)", counts.flaky) } else { String::new() };
        return (StageResult::Green, true, format!("green: {} passed{flaky}", counts.passed));
    }
    match r.verdict {
        Verdict::Interrupted => (StageResult::Interrupted, false, "interrupted".into()),
        Verdict::Flaky => {
            let flaky: Vec<String> = r
                .summary
                .results
                .iter()
                .filter(|x| x.is_flaky())
                .map(|x| r.names.get(x.index).cloned().unwrap_or_default())
                .collect();
            let why =
                format!("flaky, not green: passed only on a retry: {} (--allow-flaky accepts that)", flaky.join(", "));
            (StageResult::Red(why.clone()), false, why)
        }
        Verdict::Failed => {
            let names = failed_names(r);
            let why = format!("{} of {} scenarios failed: {}", counts.failed, counts.total, names.join(", "));
            (StageResult::Red(why.clone()), false, why)
        }
        Verdict::Broken | Verdict::NothingRan | Verdict::Green => {
            let names = failed_names(r);
            let why =
                format!("not green ({}): {} scenarios did not pass: {}", r.verdict, names.len(), names.join(", "));
            (StageResult::Broken(why.clone()), false, why)
        }
    }
}

/// An error and every cause under it, as one line: "failed to run the scenarios" alone
/// says nothing of which driver or browser failed how, on the console or in the history.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!("; caused by: {cause}"));
        source = cause.source();
    }
    // Each message may add a hint on lines of its own: one line for the stage.
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Why a run did not cover the whole spec set, if it did not.
fn partial(r: &JobResult) -> Option<String> {
    let skipped = Counts::of(&r.summary).skipped;
    let not_selected = r.info.not_selected.len();
    (skipped + not_selected > 0).then(|| {
        format!(
            "partial, not green: {not_selected} scenarios of the specs not selected and {skipped} skipped as unsafe (--allow-partial accepts that)"
        )
    })
}

fn failed_names(r: &JobResult) -> Vec<String> {
    r.summary
        .results
        .iter()
        .filter(|x| !matches!(x.outcome, Outcome::Passed))
        .map(|x| {
            let name = r.names.get(x.index).cloned().unwrap_or_else(|| format!("#{}", x.index));
            format!("{name} ({})", x.outcome.label())
        })
        .collect()
}
