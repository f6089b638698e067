//! The `ft run` job, shared by `ft run` and the deploy gate's stages:
//! specs → selection → reports folder check → target → preflight → runner → reports.

use std::collections::HashMap;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::report::{Console, ReportError, Reports, RunInfo};
use crate::runner::{self, RunConfig, RunError, RunSummary};
use crate::settings::Settings;
use crate::spec::{self, Selection, SelectorOverrides, SpecErrors, SpecSource};
use crate::target::{self, TargetError};
use crate::verdict::Verdict;

/// One `ft run`: which scenarios, against what, and how.
#[derive(Clone, Debug)]
pub struct JobOptions {
    pub specs: SpecSource,
    pub selectors: SelectorOverrides,
    pub selection: Selection,
    /// `None`: the embedded superlists app.
    pub liveserver: Option<String>,
    /// The pipeline stage (`staging`, `live`) when run by `ft deploy`.
    pub stage: Option<String>,
    pub settings: Settings,
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

/// A finished run: what happened to each scenario, and the verdict computed once from it.
#[derive(Debug)]
pub struct JobResult {
    pub summary: RunSummary,
    pub verdict: Verdict,
    pub info: RunInfo,
    /// Scenario names by the index the results use.
    pub names: Vec<String>,
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
    let settings = &options.settings;
    settings.paths.check_writable().map_err(JobError::Reports)?;
    let target = target::start(options.liveserver.as_deref()).await.map_err(JobError::Target)?;
    let skip = match sensitive_skips(options, &target.url(), &scenarios) {
        Ok(skip) => skip,
        Err(e) => {
            target.stop().await;
            return Err(e);
        }
    };
    if let Err(err) = target::preflight(&target.url(), settings.preflight_timeout).await {
        target.stop().await;
        return Err(JobError::Target(err));
    }
    let info = RunInfo {
        target: target.display(),
        specs: options.specs.to_string(),
        spec_digest: suite.digest.clone(),
        workers: settings.workers.clamp(1, scenarios.len()),
        fresh_session: settings.fresh_session,
        patience: settings.patience,
        started_at: Utc::now(),
        commit: crate::git::head(std::path::Path::new(".")).await.ok(),
        stage: options.stage.clone(),
    };
    let mut reports = Reports::new(settings.paths.clone(), console, info.clone(), scenarios.clone());
    reports.sign_with(settings.sign_key.clone());
    reports.start();
    let config = RunConfig { base_url: target.url(), skip, settings: settings.clone() };
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
    let verdict = Verdict::of(&summary);
    reports.finish(&summary, verdict, settings.flaky).map_err(JobError::Reports)?;
    Ok(JobResult { summary, verdict, info, names })
}

/// On a sensitive target, the scenarios without the safe tag, with the reason they are
/// skipped. A selection with nothing safe in it is refused: zero scenarios is never a pass.
fn sensitive_skips(
    options: &JobOptions,
    url: &str,
    scenarios: &[spec::Scenario],
) -> Result<HashMap<usize, String>, JobError> {
    let Some(re) = &options.settings.sensitive else { return Ok(HashMap::new()) };
    if !re.is_match(url) {
        return Ok(HashMap::new());
    }
    let reason = format!(
        "{} matches --sensitive-url /{}/: only scenarios tagged `{}` run there",
        crate::shared::redact::redact(url),
        re.as_str(),
        options.settings.safe_tag
    );
    let skip: HashMap<usize, String> = scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.has_tag(&options.settings.safe_tag))
        .map(|(i, _)| (i, reason.clone()))
        .collect();
    if skip.len() == scenarios.len() {
        return Err(JobError::NothingSafe { reason });
    }
    Ok(skip)
}
