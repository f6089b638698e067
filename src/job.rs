//! The `ft run` job, shared by `ft run` and the deploy gate's stages:
//! specs → selection → reports folder check → target → preflight → runner → reports.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::browser::BrowserConfig;
use crate::report::{Console, ReportError, ReportPaths, Reports, RunInfo};
use crate::runner::{self, Outcome, RunConfig, RunError, RunSummary};
use crate::spec::{self, Selection, SelectorOverrides, SpecErrors, SpecSource};
use crate::target::{self, TargetError};
use crate::wait::Patience;

#[derive(Clone, Debug)]
pub struct JobOptions {
    pub specs: SpecSource,
    pub selectors: SelectorOverrides,
    pub selection: Selection,
    /// `None`: the embedded superlists app.
    pub liveserver: Option<String>,
    pub workers: usize,
    pub fresh_session: bool,
    pub patience: Patience,
    pub browser: BrowserConfig,
    pub paths: ReportPaths,
    pub stage: Option<String>,
    pub preflight_timeout: Duration,
    pub grace: Duration,
    pub retries: u32,
    pub scenario_timeout: Duration,
    /// Targets whose URL matches are precious (live): only scenarios tagged `safe_tag` run there.
    pub sensitive: Option<regex::Regex>,
    pub safe_tag: String,
    /// Count a flaky scenario (passed on a retry) as a failure.
    pub fail_on_flaky: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Spec(SpecErrors),
    #[error(
        "no scenario matches {selection} (of {total} in {specs})\n  hint: `ft list` shows the scenarios and their tags"
    )]
    NothingSelected { selection: String, total: usize, specs: String },
    #[error("the reports folder is not writable")]
    Reports(#[source] ReportError),
    #[error(
        "no selected scenario may run: {reason}\n  hint: select scenarios tagged as safe, or check --sensitive-url"
    )]
    NothingSafe { reason: String },
    #[error(transparent)]
    Target(TargetError),
    #[error("failed to run the scenarios")]
    Run(#[source] RunError),
}

impl JobError {
    /// Usage and spec problems are 2, infrastructure 3 (README, "Exit codes").
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Spec(_)
            | JobError::NothingSelected { .. }
            | JobError::NothingSafe { .. }
            | JobError::Reports(_) => crate::exit::USAGE,
            JobError::Target(TargetError::Invalid { .. }) => crate::exit::USAGE,
            JobError::Target(_) | JobError::Run(_) => crate::exit::INFRA,
        }
    }
}

/// How the run ended, as the exit code sees it.
#[derive(Debug)]
pub struct JobResult {
    pub summary: RunSummary,
    pub info: RunInfo,
    /// Scenario names by the index the results use.
    pub names: Vec<String>,
    pub fail_on_flaky: bool,
}

impl JobResult {
    /// Every selected scenario passed (perhaps on a retry) or was skipped on purpose, and
    /// at least one ran.
    pub fn green(&self) -> bool {
        !self.summary.interrupted
            && self.summary.results.iter().any(|r| matches!(r.outcome, Outcome::Passed))
            && self.summary.results.iter().all(|r| matches!(r.outcome, Outcome::Passed | Outcome::Skipped(_)))
    }

    /// 0 all passed, 1 a scenario failed (or was flaky, with --fail-on-flaky),
    /// 3 only infrastructure errors / nothing ran.
    pub fn exit_code(&self) -> u8 {
        use crate::exit;
        if self.green() && !(self.fail_on_flaky && self.summary.flaky() > 0) {
            exit::PASSED
        } else if self.green() || self.summary.count(|o| matches!(o, Outcome::Failed(_))) > 0 {
            exit::FAILED
        } else {
            exit::INFRA
        }
    }
}

/// Load and select: everything that can be checked without a browser.
pub fn plan(options: &JobOptions) -> Result<(spec::Suite, Vec<spec::Scenario>), JobError> {
    let suite = spec::load(&options.specs, &options.selectors).map_err(JobError::Spec)?;
    let selected = suite.select(&options.selection);
    if selected.is_empty() {
        return Err(JobError::NothingSelected {
            selection: describe(&options.selection),
            total: suite.scenarios.len(),
            specs: options.specs.to_string(),
        });
    }
    Ok((suite, selected))
}

fn describe(sel: &Selection) -> String {
    let mut parts = Vec::new();
    if !sel.filters.is_empty() {
        parts.push(format!("--filter {}", sel.filters.join(" / ")));
    }
    if !sel.tags.is_empty() {
        parts.push(format!("--tag {}", sel.tags.join(" / ")));
    }
    if parts.is_empty() {
        "the selection".into()
    } else {
        parts.join(" and ")
    }
}

pub async fn run(
    options: &JobOptions,
    console: Console,
    interrupts: watch::Receiver<u32>,
) -> Result<JobResult, JobError> {
    let (suite, scenarios) = plan(options)?;
    options.paths.check_writable().map_err(JobError::Reports)?;
    let target = target::start(options.liveserver.as_deref()).await.map_err(JobError::Target)?;
    let skip = match sensitive_skips(options, &target.url(), &scenarios) {
        Ok(skip) => skip,
        Err(e) => {
            target.stop().await;
            return Err(e);
        }
    };
    if let Err(err) = target::preflight(&target.url(), options.preflight_timeout).await {
        target.stop().await;
        return Err(JobError::Target(err));
    }
    let info = RunInfo {
        target: target.display(),
        specs: options.specs.to_string(),
        spec_digest: suite.digest.clone(),
        workers: options.workers.clamp(1, scenarios.len()),
        fresh_session: options.fresh_session,
        patience: options.patience,
        started_at: Utc::now(),
        commit: crate::git::head(std::path::Path::new(".")).await.ok(),
        stage: options.stage.clone(),
    };
    let mut reports = Reports::new(options.paths.clone(), console, info.clone(), scenarios.clone());
    reports.start();
    let config = RunConfig {
        base_url: target.url(),
        workers: options.workers,
        fresh_session: options.fresh_session,
        patience: options.patience,
        browser: options.browser.clone(),
        grace: options.grace,
        retries: options.retries,
        scenario_timeout: options.scenario_timeout,
        skip,
    };
    let names = scenarios.iter().map(|s| s.name.clone()).collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let running = runner::run(scenarios, config, tx, interrupts);
    let consuming = async {
        while let Some(event) = rx.recv().await {
            reports.event(&event);
        }
    };
    let (outcome, ()) = tokio::join!(running, consuming);
    target.stop().await;
    let summary = outcome.map_err(JobError::Run)?;
    reports.finish(&summary).map_err(JobError::Reports)?;
    Ok(JobResult { summary, info, names, fail_on_flaky: options.fail_on_flaky })
}

/// On a sensitive target, the scenarios without the safe tag, with the reason they are
/// skipped. A selection with nothing safe in it is refused: zero scenarios is never a pass.
fn sensitive_skips(
    options: &JobOptions,
    url: &str,
    scenarios: &[spec::Scenario],
) -> Result<HashMap<usize, String>, JobError> {
    let Some(re) = &options.sensitive else { return Ok(HashMap::new()) };
    if !re.is_match(url) {
        return Ok(HashMap::new());
    }
    let reason = format!(
        "{} matches --sensitive-url /{}/: only scenarios tagged `{}` run there",
        crate::shared::redact::redact(url),
        re.as_str(),
        options.safe_tag
    );
    let skip: HashMap<usize, String> = scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.has_tag(&options.safe_tag))
        .map(|(i, _)| (i, reason.clone()))
        .collect();
    if skip.len() == scenarios.len() {
        return Err(JobError::NothingSafe { reason });
    }
    Ok(skip)
}
