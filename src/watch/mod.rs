//! `ft watch`: the safe scenarios against live on a schedule, each run a whole `job::run`
//! into a rotating reports folder; one alert after N failed runs in a row and one
//! "recovered" when a run passes again; metrics for a scraper.

pub mod alert;
pub mod metrics;
pub mod rotate;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::job::{self, JobError, JobOptions, JobResult};
use crate::report::{Console, ReportPaths, RunLock};
use crate::runner::Browsers;
use crate::runner::Outcome;
use crate::shared::redact::{redact, redact_text};
use crate::verdict::{FlakyPolicy, Verdict};
use alert::{Alerts, Failing, Message, RunOutcome};

/// What `ft watch` runs, how often, and whom it tells.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// The run settings of every scheduled run; `liveserver` is the watched target, and
    /// `settings.paths.dir` the folder the runs' folders rotate in.
    pub job: JobOptions,
    pub every: Duration,
    /// Failed runs in a row before the one alert.
    pub alert_after: u32,
    /// Where alerts and recoveries are POSTed as JSON.
    pub webhook: Option<String>,
    /// Serve Prometheus metrics here.
    pub metrics: Option<SocketAddr>,
    /// Runs kept (and failed runs kept until this many newer ones failed).
    pub keep: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("failed to listen for metrics on {addr}")]
    Metrics {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The folder is another watcher's (or run's).
    #[error(transparent)]
    Folder(crate::report::ReportError),
    /// Checked before the first run: specs, selection.
    #[error(transparent)]
    Job(JobError),
}

/// Messages kept for a webhook that does not take them.
const MAX_UNSENT: usize = 20;

/// Watch until interrupted. Returns when a signal came; the caller picks the exit code.
pub async fn watch(
    opts: &WatchOptions,
    out: &mut dyn Write,
    interrupts: watch::Receiver<u32>,
) -> Result<(), WatchError> {
    // Spec and selection problems are the user's, and found before anything is scheduled.
    let plan = job::plan(&opts.job).map_err(WatchError::Job)?;
    let target = redact(opts.job.liveserver.as_deref().unwrap_or(""));
    let safe = &opts.job.settings.safe_tag;
    if !plan.scenarios.iter().any(|s| s.has_tag(safe)) {
        return Err(WatchError::Job(JobError::NothingSafe {
            reason: format!(
                "ft watch treats {target} as live: only scenarios tagged `{safe}` run there, and none is selected"
            ),
        }));
    }
    let root = opts.job.settings.paths.dir.join("watch");
    std::fs::create_dir_all(&root)
        .map_err(|e| WatchError::Folder(crate::report::ReportError::Write { path: root.clone(), source: e }))?;
    // One watcher per folder: two would rotate each other's runs away.
    let _lock = RunLock::acquire(&root).map_err(WatchError::Folder)?;
    let metrics: metrics::Shared = Arc::new(Mutex::new(metrics::Metrics::new(&target)));
    let listener = match opts.metrics {
        Some(addr) => Some(metrics::bind(addr).await.map_err(|source| WatchError::Metrics { addr, source })?),
        None => None,
    };
    if let Some(l) = &listener {
        say(
            out,
            &format!(
                "ft watch: metrics on http://{}/metrics",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default()
            ),
        );
    }
    let serving = async {
        match listener {
            Some(l) => match metrics::serve(l, metrics.clone()).await {},
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = schedule(opts, &root, &target, &metrics, out, interrupts) => {}
        () = serving => {}
    }
    Ok(())
}

/// The runs, one every `every` (from one start to the next), until a signal. One
/// driver and browser serve every run while they work (see `job::run_keeping`); they are
/// stopped when the watch stops.
async fn schedule(
    opts: &WatchOptions,
    root: &Path,
    target: &str,
    metrics: &metrics::Shared,
    out: &mut dyn Write,
    interrupts: watch::Receiver<u32>,
) {
    let mut kept: Option<Arc<Browsers>> = None;
    runs(opts, root, target, metrics, out, interrupts, &mut kept).await;
    if let Some(browsers) = kept.and_then(|b| Arc::try_unwrap(b).ok()) {
        browsers.stop().await;
    }
}

async fn runs(
    opts: &WatchOptions,
    root: &Path,
    target: &str,
    metrics: &metrics::Shared,
    out: &mut dyn Write,
    mut interrupts: watch::Receiver<u32>,
    kept: &mut Option<Arc<Browsers>>,
) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok();
    let mut alerts = Alerts::new(target, opts.alert_after);
    let mut seq = rotate::next_seq(root);
    let mut unsent: Vec<Message> = Vec::new();
    say(
        out,
        &format!(
            "ft watch: the `{}` scenarios against {target} every {:?}; alert after {} failed runs in a row{}",
            opts.job.settings.safe_tag,
            opts.every,
            opts.alert_after,
            opts.webhook.as_deref().map(|w| format!(" to {}", redact(w))).unwrap_or_default()
        ),
    );
    loop {
        let started = Instant::now();
        let dir = rotate::run_dir(root, seq);
        let mut job = opts.job.clone();
        job.settings.paths = ReportPaths::in_dir(dir.clone());
        let before = kept.as_ref().map(|b| (Arc::as_ptr(b), b.sessions_started()));
        let result = job::run_keeping(&job, Console::for_run(&job.settings), interrupts.clone(), Some(kept)).await;
        // Whether this run had the browser of the run before: a user can see the watcher
        // is not starting a browser for every run.
        let reused = match (before, kept.as_ref()) {
            (Some((was, started)), Some(now)) => Arc::as_ptr(now) == was && now.sessions_started() == started,
            _ => false,
        };
        if *interrupts.borrow() > 0 {
            say(out, "ft watch: interrupted; stopped");
            return;
        }
        let outcome = classify(&result, &dir, job.settings.flaky);
        let at = Utc::now();
        let _ = std::fs::write(dir.join(rotate::OUTCOME_FILE), format!("{}\n", outcome.word()));
        // The runs' folders rotate away; their history lines stay, in one file for `ft flakes`.
        let run_history = std::fs::read_to_string(dir.join(crate::report::HISTORY_FILE)).unwrap_or_default();
        let lines: Vec<String> = run_history.lines().map(str::to_string).collect();
        if let Err(e) = crate::report::jsonl::append(&root.join(crate::report::HISTORY_FILE), &lines) {
            say(out, &format!("warning: {e}: run {seq} is missing from the watch's history"));
        }
        for w in rotate::prune(root, opts.keep) {
            say(out, &format!("warning: {w}"));
        }
        let messages = alerts.observe(&outcome, at, &dir.display().to_string());
        if let Ok(mut m) = metrics.lock() {
            let unix = at.timestamp_millis() as f64 / 1000.0;
            m.run(outcome.word(), unix, started.elapsed().as_secs_f64(), alerts.consecutive_failures());
            if let Ok(r) = &result {
                for s in &r.summary.results {
                    let name = r.names.get(s.index).cloned().unwrap_or_default();
                    let end = s.started_at + chrono::Duration::from_std(s.duration).unwrap_or_default();
                    let passed = matches!(s.outcome, Outcome::Passed);
                    if !matches!(s.outcome, Outcome::Skipped(_) | Outcome::NotRun(_)) {
                        m.scenario(&name, passed, end.timestamp_millis() as f64 / 1000.0, s.duration.as_secs_f64());
                    }
                }
            }
            if let Err(JobError::Target(_)) = &result {
                // A target that does not answer fails every scenario on it.
                m.target_down(unix);
            }
        }
        say(out, &format!("ft watch: run {seq}: {} ({})", describe(&outcome), dir.display()));
        if reused {
            say(out, &format!("ft watch: run {seq} reused the browser of the run before"));
        }
        for message in &messages {
            say(out, &message.line());
        }
        // A message the webhook did not take is tried again after the next run, in order;
        // the oldest go first when too many wait (a webhook down for days).
        if opts.webhook.is_some() {
            unsent.extend(messages);
            let over = unsent.len().saturating_sub(MAX_UNSENT);
            unsent.drain(..over);
            while let Some(message) = unsent.first() {
                if !send(client.as_ref(), opts.webhook.as_deref(), message, out).await {
                    say(out, &format!("ft watch: {} message(s) to send after the next run", unsent.len()));
                    break;
                }
                if let Ok(mut m) = metrics.lock() {
                    m.alert_sent(message.kind());
                }
                unsent.remove(0);
            }
        }
        seq += 1;
        // A timer, not a wait for a condition: the schedule is the point.
        tokio::select! {
            () = tokio::time::sleep_until(started + opts.every) => {}
            _ = interrupts.wait_for(|n| *n > 0) => {
                say(out, "ft watch: interrupted; stopped");
                return;
            }
        }
    }
}

/// What a run says about the target. The target not answering is an outage; the
/// watcher's own browser or driver failing is not.
pub fn classify(result: &Result<JobResult, JobError>, dir: &Path, flaky: FlakyPolicy) -> RunOutcome {
    let r = match result {
        Ok(r) => r,
        // ft's own HTTP client could not be made: the watcher's trouble, not the app's.
        Err(e @ JobError::Target(crate::target::TargetError::Client { .. })) => {
            return RunOutcome::WatcherTrouble(redact_text(&crate::shared::errors::one_line(e)))
        }
        Err(JobError::Target(e)) => {
            let message = e.to_string().lines().next().unwrap_or("").to_string();
            return RunOutcome::Outage(vec![Failing {
                scenario: "(the target)".into(),
                message,
                evidence: Vec::new(),
            }]);
        }
        Err(e) => return RunOutcome::WatcherTrouble(redact_text(&crate::shared::errors::one_line(e))),
    };
    if r.verdict.is_green(flaky) {
        return RunOutcome::Passed;
    }
    match r.verdict {
        Verdict::Failed => {
            let evidence = files(&dir.join("artifacts"));
            let failing = r
                .summary
                .results
                .iter()
                .filter_map(|s| match &s.outcome {
                    Outcome::Failed(f) => {
                        let name = r.names.get(s.index).cloned().unwrap_or_default();
                        let slug = crate::report::slug(&name);
                        let mine: Vec<String> = evidence
                            .iter()
                            .filter(|p| {
                                p.parent().and_then(Path::file_name).is_some_and(|d| d.to_string_lossy() == slug)
                            })
                            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()).display().to_string())
                            .collect();
                        Some(Failing { scenario: name, message: redact_text(&failure_message(f)), evidence: mine })
                    }
                    _ => None,
                })
                .collect();
            RunOutcome::Outage(failing)
        }
        other => {
            let errors: Vec<String> = r
                .summary
                .results
                .iter()
                .filter_map(|s| match &s.outcome {
                    Outcome::Error(f) => Some(redact_text(&f.message)),
                    Outcome::NotRun(why) => Some(why.clone()),
                    _ => None,
                })
                .take(3)
                .collect();
            RunOutcome::WatcherTrouble(format!("verdict {other}: {}", errors.join("; ")))
        }
    }
}

/// The failing step and what went wrong, as a person reading the alert needs it.
fn failure_message(f: &crate::runner::Failure) -> String {
    let mut text = match &f.step {
        Some((line, _, step)) => format!("line {line}: {step}: {}", f.message),
        None => f.message.clone(),
    };
    if let Some(seen) = &f.last_seen {
        text.push_str(&format!(" (last seen: {})", seen.chars().take(200).collect::<String>()));
    }
    text
}

fn describe(outcome: &RunOutcome) -> String {
    match outcome {
        RunOutcome::Passed => "passed".into(),
        RunOutcome::Outage(f) => {
            let list: Vec<String> = f.iter().map(|f| format!("{}: {}", f.scenario, f.message)).collect();
            format!("FAILED: {}", list.join("; "))
        }
        RunOutcome::WatcherTrouble(m) => format!("watcher problem (not the app's): {m}"),
    }
}

/// Every file under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// POST the message as JSON; whether it was accepted (2xx). Without a webhook, the
/// console line was the message.
async fn send(client: Option<&reqwest::Client>, webhook: Option<&str>, message: &Message, out: &mut dyn Write) -> bool {
    let (Some(client), Some(url)) = (client, webhook) else { return false };
    let body = serde_json::to_vec(message).unwrap_or_default();
    let request = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    match request.send().await {
        Ok(r) if r.status().is_success() => true,
        Ok(r) => {
            say(
                out,
                &format!(
                    "warning: the webhook {} answered {} to the {} message",
                    redact(url),
                    r.status(),
                    message.kind()
                ),
            );
            false
        }
        Err(e) => {
            say(
                out,
                &format!(
                    "warning: failed to send the {} message to {}: {}",
                    message.kind(),
                    redact(url),
                    redact_text(&e.to_string())
                ),
            );
            false
        }
    }
}

fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{}", redact_text(line));
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::BrowserError;
    use crate::runner::RunError;
    use crate::target::TargetError;

    fn judged(result: Result<JobResult, JobError>) -> RunOutcome {
        classify(&result, Path::new("/nonexistent"), FlakyPolicy::Accept)
    }

    #[test]
    fn a_target_that_does_not_answer_or_answers_5xx_is_an_outage() {
        let down = TargetError::Down {
            url: "http://live".into(),
            cause: "connection refused".into(),
            hint: "is the server up?",
        };
        match judged(Err(JobError::Target(down))) {
            RunOutcome::Outage(f) => {
                assert_eq!(f[0].scenario, "(the target)");
                assert!(f[0].message.contains("http://live is unreachable: connection refused"), "{f:?}");
            }
            other => panic!("{other:?}"),
        }
        let failing = TargetError::ServerError { url: "http://live".into(), status: 502 };
        assert!(matches!(judged(Err(JobError::Target(failing))), RunOutcome::Outage(_)));
    }

    #[test]
    fn no_driver_is_the_watchers_trouble_with_its_cause() {
        let missing = BrowserError::DriverMissing {
            driver: "chromedriver",
            looked: "/x/chromedriver".into(),
            hint: "install it",
        };
        match judged(Err(JobError::Run(RunError::Driver(missing)))) {
            RunOutcome::WatcherTrouble(m) => {
                assert!(m.starts_with("failed to run the scenarios: failed to start the browser driver: failed to find chromedriver (looked for /x/chromedriver)"), "{m}");
                assert!(!m.contains('\n'), "one line: {m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
