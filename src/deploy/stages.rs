//! The pipeline's steps, each one stage of `ft deploy`: a deploy (and restart) command run
//! for a target, the wait until it answers, a suite run as a stage and how its verdict
//! opens the gate (`judge`), live's verification, the rollback after a failed one, and the
//! tags on the released commit.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::git;
use crate::job::{self, JobError, JobResult};
use crate::report::{Console, ReportPaths, RunLock};
use crate::runner::Outcome;
use crate::shared::redact::redact;
use crate::spec::Selection;
use crate::target;
use crate::verdict::{Counts, FlakyPolicy, Verdict};
use crate::wait::{self, Check, Patience};

use super::shell;
use super::{deployed_tag, host_of, DeployOutcome, Pipeline, StageResult};

impl Pipeline<'_> {
    /// Run the deploy (and restart) command for one target. A signal lets the command
    /// under way finish, then stops the pipeline at once: nothing more runs, and nothing
    /// waits (a target's --up-timeout is no reason to keep ft alive).
    pub(super) async fn deploy_to(
        &mut self,
        stage: &str,
        url: &str,
        commit: &str,
    ) -> Result<(), (DeployOutcome, String)> {
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

    pub(super) async fn run_command(
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
    pub(super) async fn wait_up(&mut self, stage: &str, url: &str) -> Result<(), String> {
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
    pub(super) async fn suite(&mut self, stage: &str, folder: &str, url: &str, selection: Selection) -> StageResult {
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
    pub(super) async fn verify_live(
        &mut self,
        folder: &str,
        commit: Option<&str>,
    ) -> Result<(), (DeployOutcome, String)> {
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
    pub(super) async fn after_failed_live(
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

    pub(super) async fn tag(&mut self, commit: &str) -> (DeployOutcome, String) {
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

pub(super) fn short(commit: &str) -> &str {
    if commit.is_empty() {
        "(no LIVE tag)"
    } else {
        crate::shared::text::short_hash(commit)
    }
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
