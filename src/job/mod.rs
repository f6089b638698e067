//! The `ft run` job, shared by `ft run` and the deploy gate's stages:
//! specs → selection → reports folder check → target → preflight → runner → reports.
//! What can be known before any browser starts (specs, selection, shards) is `plan`.

mod error;
mod options;
mod plan;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::browser::BrowserConfig;
use crate::git;
use crate::interrupts;
use crate::report::{self, record, Console, Reports, RunInfo};
use crate::runner::{self, Browsers, RunConfig, RunError, RunSummary};
use crate::settings::Settings;
use crate::shared::redact::without_userinfo;
use crate::spec;
use crate::target::{self, TargetError};
use crate::verdict::Verdict;

pub use error::JobError;
pub use options::JobOptions;
use plan::check_inbox;
pub use plan::{plan, Plan};

/// How often the progress line is redrawn for its clock.
const PROGRESS_TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// A finished run: what happened to each scenario, and the verdict computed once from it.
#[derive(Debug)]
pub struct JobResult {
    pub summary: RunSummary,
    pub verdict: Verdict,
    pub info: RunInfo,
    /// Scenario names by the index the results use.
    pub names: Vec<String>,
}

pub async fn run(
    options: &JobOptions,
    console: Console,
    interrupts: watch::Receiver<u32>,
) -> Result<JobResult, JobError> {
    run_keeping(options, console, interrupts, None).await
}

/// `run`, with `kept` holding the browsers from one run to the next (`ft watch`): taken
/// when they fit this run's settings, and put back afterwards, the sessions in them to be
/// reset when next used. Without `kept` the browsers are stopped at the end of the run.
pub async fn run_keeping(
    options: &JobOptions,
    console: Console,
    interrupts: watch::Receiver<u32>,
    kept: Option<&mut Option<Arc<Browsers>>>,
) -> Result<JobResult, JobError> {
    let settings = &options.settings;
    // Spec problems are found without touching the disk; but wherever a reports folder
    // is already there, no earlier run's record may outlive this refused run as its own.
    let planned = plan(options);
    // The folder made this run's: its lock taken (held until this function returns: the
    // whole run, reports included), or the one the caller holds used.
    let take_folder = || match options.folder_lock.as_deref() {
        Some(held) => report::prepare_held(&settings.paths, held).map(|()| None),
        None => report::prepare(&settings.paths).map(Some),
    };
    if planned.is_err() && settings.paths.dir.is_dir() {
        // Best effort: a folder another run holds is left alone, and the spec error is
        // what this run reports.
        let _ = take_folder();
    }
    let Plan { suite, scenarios, other_shards, split, split_by, left_out } = planned?;
    check_inbox(options, &scenarios)?;
    settings.paths.check_writable().map_err(JobError::Reports)?;
    let _lock = take_folder().map_err(JobError::Folder)?;
    // Visitors beyond the first are user contexts where the browser has BiDi, and the guard
    // reads the page behind a dialog over it: a suite that needs it asks for it even with
    // --no-signals (`BrowserConfig::visitors`).
    let bidi = runner::needs_bidi(&scenarios, settings.sensitive.is_some());
    let workers = settings.workers.clamp(1, scenarios.len().max(1));
    let browser = BrowserConfig { visitors: bidi, ..settings.browser.clone() };
    let mut kept = kept;
    let reuse = kept.as_deref_mut().and_then(Option::take);
    let (reuse, stale) = match reuse {
        Some(b) if b.fits(&browser) => (Some(b), None),
        other => (None, other),
    };
    if let Some(stale) = stale.and_then(|b| Arc::try_unwrap(b).ok()) {
        stale.stop().await;
    }
    // The browser starts while the target starts and the preflight runs: its sessions are
    // made without the preflight's pin, and replaced if one comes (`Browsers::trust`).
    let failed = tokio::sync::Notify::new();
    let starting = async {
        let browsers = match reuse {
            Some(b) => b,
            None => Arc::new(Browsers::start(&browser, runner::page_load_limit(settings.patience)).await?),
        };
        // A failed preflight or a second signal stops the sessions' start at once; what it
        // started ends with the driver (`stop` below), before ft exits.
        let warm = browsers.warm(workers.saturating_sub(browsers.idle()));
        tokio::select! {
            _ = interrupts::unless_stopped(&interrupts, warm) => {}
            () = failed.notified() => {}
        }
        Ok::<_, crate::browser::BrowserError>(browsers)
    };
    let preparing = async {
        let prepared = prepare(options, &scenarios, &suite.before_all, &interrupts).await;
        if prepared.is_err() {
            failed.notify_one();
        }
        prepared
    };
    let (prepared, browsers) = tokio::join!(preparing, starting);
    let ((target, reached, skip, mut notes), browsers) = match (prepared, browsers) {
        (Ok(prepared), Ok(browsers)) => {
            if let Some(kept) = kept.as_deref_mut() {
                *kept = Some(browsers.clone());
            }
            (prepared, browsers)
        }
        (Ok((target, _, _, _)), Err(err)) => {
            target.stop().await;
            return Err(JobError::Run(RunError::Driver(err)));
        }
        (Err(err), browsers) => {
            let browsers = browsers.ok();
            match kept {
                // The watcher keeps its browser through the target's outage.
                Some(kept) => *kept = browsers,
                None => stop(browsers).await,
            }
            return Err(err);
        }
    };
    if let Some(warning) = spec::fixture::before_each_warning(&scenarios, workers) {
        notes.push(warning);
    }
    notes.extend(left_out);
    let here = std::path::Path::new(".");
    let commit = git::head(here).await.ok();
    let info = RunInfo {
        notes,
        trust: record::TrustRecord {
            insecure_certs: settings.trust.insecure,
            ca_certs: settings.trust.ca.as_ref().map(|ca| ca.pins()).unwrap_or_default(),
        },
        target: target.display(),
        specs: options.specs.to_string(),
        spec_digest: suite.digest.clone(),
        workers: settings.workers.clamp(1, scenarios.len()),
        fresh_session: settings.fresh_session,
        patience: settings.patience,
        started_at: Utc::now(),
        commit: commit.clone(),
        stage: options.stage.clone(),
        target_url: without_userinfo(&target.url()),
        embedded_target: target.is_embedded(),
        spec_files: suite.files.clone(),
        overrides: suite.overrides.clone(),
        not_selected: suite
            .scenarios
            .iter()
            .filter(|s| !scenarios.iter().chain(&other_shards).any(|sel| sel.file == s.file && sel.line == s.line))
            .map(|s| (s.name.clone(), s.location()))
            .collect(),
        shard: options.shard,
        shard_split: split.zip(split_by),
        other_shards: other_shards.iter().map(|s| (s.name.clone(), s.location())).collect(),
        dirty_paths: match &commit {
            Some(_) => git::dirty_files(here).await.ok(),
            None => None,
        },
        ci_url: record::ci_job_url(|name| std::env::var(name).ok()),
    };
    let mut reports = Reports::new(settings.paths.clone(), console, info.clone(), scenarios.clone());
    reports.sign_with(settings.sign_key.clone());
    if settings.json_events {
        reports.stream_to(report::EventStream::new(Box::new(std::io::stdout())));
    }
    reports.start();
    let mut run_settings = settings.clone();
    run_settings.browser = browser.clone();
    // The browser trusts the certificate the preflight verified (see `target::Reached::pin`).
    run_settings.browser.trusted_keys.extend(reached.pin);
    browsers.trust(&run_settings.browser).await;
    // The embedded app's emails are read from its outbox, unless --inbox says otherwise.
    if run_settings.inbox.is_none() {
        run_settings.inbox = target.outbox().map(|outbox| crate::mail::Inbox::maildir(outbox.to_path_buf()));
    }
    let config = RunConfig { base_url: target.url(), skip, settings: run_settings, places: places(&target) };
    let names = scenarios.iter().map(|s| s.name.clone()).collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let running = runner::run_in(browsers.clone(), scenarios, config, tx, interrupts);
    let consuming = async {
        // The progress line's clock moves between events too.
        let mut clock = tokio::time::interval(PROGRESS_TICK);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => reports.event(&event),
                    None => break,
                },
                _ = clock.tick(), if reports.console.has_progress() => reports.console.tick(),
            }
        }
        // The runner is done: whatever comes next (the summary, an error) gets a clean line.
        reports.console.end_progress();
    };
    let (outcome, ()) = tokio::join!(running, consuming);
    target.stop().await;
    match kept {
        // Browsers that could not give this run a session are not kept: the next run
        // starts its own (a driver that keeps dying is restarted only so often).
        Some(kept) if outcome.is_err() => {
            kept.take();
            stop(Some(browsers)).await;
        }
        Some(_) => {}
        None => stop(Some(browsers)).await,
    }
    let summary = outcome.map_err(JobError::Run)?;
    let verdict = Verdict::of(&summary);
    // A report that could not be written was a warning; the verdict still decides.
    reports.finish(&summary, verdict, settings.flaky);
    Ok(JobResult { summary, verdict, info, names })
}

/// Start the target, run the preflight, decide what a sensitive target skips and check
/// the version: everything before the first scenario, stopping the target on failure.
async fn prepare(
    options: &JobOptions,
    scenarios: &[spec::Scenario],
    before: &[spec::BeforeAll],
    interrupts: &watch::Receiver<u32>,
) -> Result<(target::Target, target::Reached, HashMap<usize, String>, Vec<String>), JobError> {
    let target = target::start(options.liveserver.as_deref()).await.map_err(JobError::Target)?;
    let checked = match checks(&target, options, scenarios, interrupts).await {
        Ok(checked) => checked,
        Err(e) => {
            target.stop().await;
            return Err(e);
        }
    };
    let sensitive = sensitive_reason(&options.settings, &target.url(), &checked.0.landed);
    let places = places(&target);
    // A hook's stderr never shows the inbox password (the attempts' values hide it too).
    let secrets: Vec<String> =
        options.settings.inbox.as_ref().and_then(|i| i.password_to_hide()).map(str::to_string).into_iter().collect();
    let hooks = runner::fixtures::before_all(before, &places, sensitive.as_deref(), &secrets);
    match interrupts::unless_stopped(interrupts, hooks).await {
        Some(Ok(notes)) => Ok((target, checked.0, checked.1, notes)),
        Some(Err((at, message))) => {
            target.stop().await;
            Err(JobError::BeforeAll { at, message })
        }
        None => {
            target.stop().await;
            Err(JobError::Interrupted { during: "the before_all hooks".into() })
        }
    }
}

/// What a fixture's target placeholders stand for on `target`.
fn places(target: &target::Target) -> runner::fixtures::Places {
    runner::fixtures::Places { url: target.url(), db: target.database().map(std::path::Path::to_path_buf) }
}

/// The preflight, the sensitive target's skips and the version check of a started target.
async fn checks(
    target: &target::Target,
    options: &JobOptions,
    scenarios: &[spec::Scenario],
    interrupts: &watch::Receiver<u32>,
) -> Result<(target::Reached, HashMap<usize, String>), JobError> {
    let settings = &options.settings;
    // A first signal lets the preflight finish (the runner then starts nothing); a second
    // stops it at once, however long it would have waited.
    let url = target.url();
    let shown = without_userinfo(&url);
    let interrupted = |during: &str| JobError::Interrupted { during: format!("{during} of {shown}") };
    let preflight = target::preflight(&url, settings.preflight_timeout, &settings.trust);
    let reached = interrupts::unless_stopped(interrupts, preflight)
        .await
        .ok_or_else(|| interrupted("the preflight"))?
        .map_err(JobError::Target)?;
    let skip = sensitive_skips(settings, &url, &reached.landed, scenarios)?;
    interrupts::unless_stopped(interrupts, check_version(&url, settings))
        .await
        .ok_or_else(|| interrupted("the version check"))?
        .map_err(JobError::Target)?;
    Ok((reached, skip))
}

/// Stop browsers no run keeps.
async fn stop(browsers: Option<Arc<Browsers>>) {
    if let Some(browsers) = browsers.and_then(|b| Arc::try_unwrap(b).ok()) {
        browsers.stop().await;
    }
}

/// `--expect-version`: the target must be running the release we mean, before any scenario
/// runs. One look, no waiting: nothing was just deployed.
async fn check_version(url: &str, settings: &Settings) -> Result<(), TargetError> {
    let Some(expected) = &settings.expect_version else { return Ok(()) };
    let once = crate::wait::Patience { max_wait: std::time::Duration::ZERO, ..settings.patience };
    Ok(target::version::wait_for(url, expected, once, settings.preflight_timeout, &settings.trust).await?)
}

/// Why the target is sensitive, if it is: the URL given or the one its preflight landed on
/// (after redirects) matches `--sensitive-url`.
fn sensitive_reason(settings: &Settings, given: &str, landed: &str) -> Option<String> {
    use crate::shared::redact::redact;
    let re = settings.sensitive.as_ref()?;
    let matched = if re.is_match(given) {
        redact(given)
    } else if re.is_match(landed) {
        format!("{} redirects to {}, which", redact(given), redact(landed))
    } else {
        return None;
    };
    Some(format!("{matched} matches --sensitive-url /{}/", re.as_str()))
}

/// On a sensitive target, the scenarios without the safe tag, with the reason they are
/// skipped. The target is sensitive when the URL given or the one its preflight landed on
/// (after redirects) matches. A selection with nothing safe in it is refused: zero
/// scenarios is never a pass.
fn sensitive_skips(
    settings: &Settings,
    given: &str,
    landed: &str,
    scenarios: &[spec::Scenario],
) -> Result<HashMap<usize, String>, JobError> {
    let Some(reason) = sensitive_reason(settings, given, landed) else { return Ok(HashMap::new()) };
    let reason = format!("{reason}: only scenarios tagged `{}` run there", settings.safe_tag);
    let skip: HashMap<usize, String> = scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.has_tag(&settings.safe_tag))
        .map(|(i, _)| (i, reason.clone()))
        .collect();
    if skip.len() == scenarios.len() {
        return Err(JobError::NothingSafe { reason });
    }
    Ok(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenarios() -> Vec<spec::Scenario> {
        let scenario = |name: &str, tag: &str| spec::Scenario {
            name: name.into(),
            tags: vec![tag.into()],
            group: "g".into(),
            file: "g.toml".into(),
            line: 1,
            steps: Vec::new(),
            quarantine: None,
            values: Vec::new(),
        };
        vec![scenario("home", "smoke"), scenario("writes", "validation")]
    }

    fn sensitive(re: &str) -> Settings {
        Settings { sensitive: Some(regex::Regex::new(re).expect("regex")), ..Settings::default() }
    }

    #[test]
    fn a_target_redirecting_to_a_sensitive_url_is_sensitive_and_the_reason_names_both() {
        let settings = sensitive("^https://live\\.example");
        let skip = sensitive_skips(&settings, "http://u:pw@staging", "https://live.example/", &scenarios())
            .expect("one safe scenario");
        assert_eq!(skip.keys().collect::<Vec<_>>(), [&1]);
        assert_eq!(
            skip[&1],
            "http://***@staging redirects to https://live.example/, which matches --sensitive-url \
             /^https://live\\.example/: only scenarios tagged `smoke` run there"
        );
    }

    #[test]
    fn the_given_url_alone_makes_a_target_sensitive_and_neither_matching_skips_nothing() {
        let settings = sensitive("staging");
        let skip = sensitive_skips(&settings, "http://staging", "http://elsewhere/", &scenarios()).expect("safe");
        assert!(skip[&1].starts_with("http://staging matches --sensitive-url /staging/"), "{skip:?}");
        let none = sensitive_skips(&settings, "http://dev", "http://dev/", &scenarios()).expect("safe");
        assert!(none.is_empty());
        assert!(sensitive_skips(&Settings::default(), "http://staging", "http://staging/", &scenarios())
            .expect("no regex")
            .is_empty());
    }
}
