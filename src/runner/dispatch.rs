//! The dispatcher: starts the driver and the workers, owns the run's state, and selects
//! over worker messages, interrupts and the grace deadline until the run is over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::browsers::Browsers;
use super::queue::Queue;
use super::worker::{work, WorkerMsg};
use super::{
    Attempt, Failure, Outcome, RunConfig, RunError, RunEvent, RunSummary, ScenarioResult, INTERRUPTED_WHILE_RUNNING,
};
use crate::browser::{Evidence, Isolation};
use crate::spec::Scenario;

/// How the reason of a scenario never started because `--max-failures` was reached begins.
pub const STOPPED_EARLY: &str = "stopped early";

/// Run `scenarios` in `browsers` (already started, perhaps with sessions in them from an
/// earlier run or made while the target started) and send every event to `events`.
/// `interrupts` counts Ctrl-C / SIGTERM: at 1 nothing new starts and running scenarios
/// get `config.settings.grace` to finish; at 2 everything still running stops at once
/// and is reported as not run. The sessions the workers end with are given back
/// to `browsers`, to be reset when next used; the caller stops the browsers.
pub async fn run_in(
    browsers: Arc<Browsers>,
    scenarios: Vec<Scenario>,
    config: RunConfig,
    events: mpsc::UnboundedSender<RunEvent>,
    mut interrupts: watch::Receiver<u32>,
) -> Result<RunSummary, RunError> {
    let start = Instant::now();
    let scenarios = Arc::new(scenarios);
    // Longest first (by step count): the last scenario to start is a short one.
    let mut order: Vec<usize> = (0..scenarios.len()).filter(|i| !config.skip.contains_key(i)).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scenarios[i].steps.len()));
    let runnable = order.len();
    let queue = Arc::new(Mutex::new(Queue::new(order, config.settings.max_failures)));
    let config = Arc::new(config);
    // `${run.id}`: one for every scenario of this run.
    let run_id: Arc<str> = crate::spec::values::run_id().into();
    let workers = config.settings.workers.clamp(1, runnable.max(1));
    let (tx, mut rx) = mpsc::unbounded_channel::<WorkerMsg>();
    let mut set = JoinSet::new();
    let mut task_worker = HashMap::new();
    for worker in 0..workers {
        let handle = set.spawn(work(
            worker,
            browsers.clone(),
            scenarios.clone(),
            queue.clone(),
            config.clone(),
            run_id.clone(),
            tx.clone(),
        ));
        task_worker.insert(handle.id(), worker);
    }
    drop(tx);

    let mut results: HashMap<usize, ScenarioResult> = HashMap::new();
    for (&index, why) in &config.skip {
        let attempt = Attempt::new(Outcome::Skipped(why.clone()), Utc::now(), Duration::ZERO, Vec::new());
        let r = ScenarioResult::new(index, 0, attempt, Vec::new());
        let _ = events.send(RunEvent::ScenarioFinished(r.clone()));
        results.insert(index, r);
    }
    let mut running: HashMap<usize, (usize, DateTime<Utc>, Instant)> = HashMap::new();
    let mut browser = None;
    let mut session_error = None;
    let mut interrupted = false;
    let mut stopped_early: Option<String> = None;
    let mut grace_deadline: Option<tokio::time::Instant> = None;
    loop {
        let grace = async {
            match grace_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(WorkerMsg::Event(ev)) => {
                    let ev = *ev;
                    match &ev {
                        RunEvent::SessionStarted { browser: b, .. } => { browser.get_or_insert_with(|| b.clone()); }
                        RunEvent::ScenarioStarted { index, worker } => { running.insert(*index, (*worker, Utc::now(), Instant::now())); }
                        RunEvent::ScenarioFinished(r) => {
                            running.remove(&r.index);
                            results.insert(r.index, r.clone());
                            // The worker counted it and emptied the queue; this names why.
                            let stopped_at = queue.lock().ok().and_then(|q| q.stopped_at());
                            if let Some(max) = stopped_at.filter(|_| stopped_early.is_none()) {
                                stopped_early = Some(format!(
                                    "{STOPPED_EARLY} after {max} failed scenario{} (--max-failures {max})",
                                    if max == 1 { "" } else { "s" }
                                ));
                            }
                        }
                        RunEvent::Interrupted { .. } | RunEvent::AttemptFailed { .. } | RunEvent::WorkerStopped { .. } => {}
                    }
                    let _ = events.send(ev);
                }
                Some(WorkerMsg::SessionFailed(worker, err)) => {
                    let _ = events.send(RunEvent::WorkerStopped { worker, reason: err.to_string() });
                    session_error.get_or_insert(err);
                }
                None => break,
            },
            changed = interrupts.changed() => {
                let count = if changed.is_ok() { *interrupts.borrow_and_update() } else { 0 };
                if count == 0 { continue; }
                if !interrupted {
                    interrupted = true;
                    queue.lock().map(|mut q| q.clear()).ok();
                    grace_deadline = Some(tokio::time::Instant::now() + config.settings.grace);
                    let _ = events.send(RunEvent::Interrupted { signal_count: count });
                }
                if count >= 2 { set.abort_all(); break; }
            }
            _ = grace => { set.abort_all(); break; }
        }
    }
    // Workers give their sessions back on the normal path; after an abort, stopping the
    // driver's process group (`Browsers::stop`) takes the browsers with it.
    let mut panicked: HashMap<usize, String> = HashMap::new();
    while let Some(joined) = set.join_next().await {
        if let Err(err) = joined {
            if let (true, Some(worker)) = (err.is_panic(), task_worker.get(&err.id()).copied()) {
                panicked.insert(worker, panic_message(err.into_panic()));
            }
        }
    }
    for (index, (worker, started_at, t0)) in running {
        let outcome = match panicked.get(&worker) {
            Some(msg) => Outcome::Error(Failure {
                step: None,
                message: format!("ft's worker panicked (a bug in ft, please report it): {msg}"),
                last_seen: None,
                evidence: Evidence::default(),
            }),
            None => Outcome::NotRun(INTERRUPTED_WHILE_RUNNING.into()),
        };
        let attempt = Attempt::new(outcome, started_at, t0.elapsed(), Vec::new());
        let r = ScenarioResult::new(index, worker, attempt, Vec::new());
        let _ = events.send(RunEvent::ScenarioFinished(r.clone()));
        results.insert(index, r);
    }
    if results.is_empty() && !interrupted {
        if let Some(err) = session_error {
            return Err(RunError::NoSession(err));
        }
    }
    for index in 0..scenarios.len() {
        if let std::collections::hash_map::Entry::Vacant(slot) = results.entry(index) {
            let reason = match &stopped_early {
                _ if interrupted => "interrupted before it started",
                Some(why) => why.as_str(),
                None => "no browser session could be started",
            };
            let r = ScenarioResult::not_run(index, 0, reason, Utc::now(), Duration::ZERO);
            let _ = events.send(RunEvent::ScenarioFinished(r.clone()));
            slot.insert(r);
        }
    }
    let mut results: Vec<ScenarioResult> = results.into_values().collect();
    results.sort_by_key(|r| r.index);
    let quarantined = scenarios.iter().enumerate().filter(|(_, s)| config.quarantines(s)).map(|(i, _)| i).collect();
    let browser = browser.or_else(|| browsers.browser());
    let isolation = if config.settings.fresh_session { Some(Isolation::FreshSession) } else { browsers.isolation() };
    Ok(RunSummary { results, browser, isolation, interrupted, wall: start.elapsed(), quarantined })
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
