//! A worker: takes scenarios off the shared queue and runs them in its own browser
//! session, attempt by attempt (retries, the scenario deadline, evidence, and a new
//! visitor or a new session between attempts; with `--fresh-session`, the next session
//! started while the attempt runs: `ahead`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;

use super::ahead::Spares;
use super::browsers::{Browsers, Ready};
use super::filmstrip::Filmstrip;
use super::queue::Queue;
use super::steps::run_step;
use super::{Attempt, Failure, Outcome, RunConfig, RunEvent, ScenarioResult, ScenarioState, StepError, StepLog};
use crate::browser::{BrowserError, Evidence, Isolation, Session};
use crate::spec::values::Values;
use crate::spec::{Action, Scenario, Step, StepKind};

/// What a worker tells the dispatcher.
pub(super) enum WorkerMsg {
    /// Boxed: a finished scenario carries its evidence, far larger than the other message.
    Event(Box<RunEvent>),
    SessionFailed(usize, BrowserError),
}

/// Run scenarios from `queue` until it is empty, then give the session back to
/// `browsers` for the next run, if there is one (`ft watch`). Without a browser the worker
/// gives its scenario back and stops; the others go on.
pub(super) async fn work(
    worker: usize,
    browsers: Arc<Browsers>,
    scenarios: Arc<Vec<Scenario>>,
    queue: Arc<Mutex<Queue>>,
    config: Arc<RunConfig>,
    run_id: Arc<str>,
    tx: mpsc::UnboundedSender<WorkerMsg>,
) {
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let mut held: Option<Ready> = None;
    let ahead = ahead(&scenarios);
    let fresh = config.settings.fresh_session;
    let mut spares = Spares::new(&browsers, if fresh { FRESH_AHEAD } else { 0 });
    while let Some(index) = next() {
        let mut earlier: Vec<Attempt> = Vec::new();
        let scenario = &scenarios[index];
        // A scenario that starts with a visit navigates anyway: no blank page before it
        // (its before_each hooks, which act on no browser, may come first).
        let first = scenario.steps.iter().find(|s| !s.is_hook());
        let blank = !matches!(first.map(|s| &s.kind), Some(StepKind::Act(Action::Visit(_))));
        let result = loop {
            if held.is_none() {
                held = spares.next().await;
            }
            let ready = match ready(&browsers, held.take(), blank).await {
                Ok(ready) => ready,
                Err(err) if earlier.is_empty() => {
                    // Give the scenario back for a worker that has a browser.
                    if let Ok(mut q) = queue.lock() {
                        q.push_front(index);
                    }
                    spares.give_back();
                    let _ = tx.send(WorkerMsg::SessionFailed(worker, err));
                    return;
                }
                Err(err) => {
                    let failure = Failure {
                        step: None,
                        message: format!("no browser for the retry: {err}"),
                        last_seen: None,
                        evidence: Evidence::default(),
                    };
                    let attempt = Attempt::new(Outcome::Error(failure), Utc::now(), Duration::ZERO, Vec::new());
                    break ScenarioResult::new(index, worker, attempt, earlier);
                }
            };
            let mut ready = ready;
            if let Some(took) = ready.took.take() {
                let isolation =
                    if config.settings.fresh_session { Isolation::FreshSession } else { ready.session.isolation() };
                let visitors = ready.session.visitors_are();
                let browser = ready.session.browser.clone();
                let ev = RunEvent::SessionStarted { worker, browser, took, isolation, visitors };
                let _ = tx.send(WorkerMsg::Event(Box::new(ev)));
            }
            if earlier.is_empty() {
                let _ = tx.send(WorkerMsg::Event(Box::new(RunEvent::ScenarioStarted { index, worker })));
            }
            // The next visitor's tab is made while this attempt runs: off the critical path
            // (and the tabs of the visitors a scenario starts, before they are named).
            ready.session.visitors_ahead(ahead);
            // With --fresh-session, the next attempt's browser starts meanwhile: this
            // scenario's retries and the scenarios still queued may each want one.
            let retries_left = (config.settings.retries as usize).saturating_sub(earlier.len());
            spares.top_up(retries_left + queue.lock().map_or(0, |q| q.len()));
            let attempt = async {
                let finished = tokio::sync::Notify::new();
                let attempt = async {
                    let ran = run_attempt(scenario, &ready.session, &config, &run_id, earlier.len() + 1).await;
                    finished.notify_one();
                    ran
                };
                let ((attempt, healthy), ()) =
                    tokio::join!(attempt, ready.session.prepare_visitors(finished.notified()));
                // The attempt's other visitors end with it, whatever its outcome.
                ready.session.end_visitors().await;
                // Isolation: the next attempt or scenario starts as a new visitor (made when
                // it starts, so nothing runs after the last one); a lost or wedged browser,
                // or any with --fresh-session, is replaced.
                if healthy && !fresh {
                    ready.used = true;
                    (attempt, Some(ready))
                } else if healthy {
                    ready.session.quit().await;
                    (attempt, None)
                } else {
                    // A wedged or lost browser is not waited for (a polite end of a page
                    // stuck in a script took chromedriver 10 s, the page spinning all along).
                    ready.session.abandon();
                    (attempt, None)
                }
            };
            let (attempt, kept) = spares.beside(attempt).await;
            held = kept;
            let failed = !matches!(attempt.outcome, Outcome::Passed);
            if failed && earlier.len() < config.settings.retries as usize {
                let number = earlier.len() + 1;
                let _ = tx.send(WorkerMsg::Event(Box::new(RunEvent::AttemptFailed {
                    index,
                    worker,
                    number,
                    attempt: attempt.clone(),
                })));
                earlier.push(attempt);
                continue;
            }
            break ScenarioResult::new(index, worker, attempt, earlier);
        };
        if result.outcome.counts_against_run(config.quarantines(scenario)) {
            if let Ok(mut q) = queue.lock() {
                q.failed();
            }
        }
        let _ = tx.send(WorkerMsg::Event(Box::new(RunEvent::ScenarioFinished(result))));
    }
    // Kept for the next run (a new visitor when it starts), or ended with the browsers.
    if let Some(ready) = held.take() {
        browsers.give_back(ready);
    }
    spares.give_back();
}

/// How many sessions a worker keeps started ahead with `--fresh-session`.
const FRESH_AHEAD: usize = 1;

/// A session ready for a scenario as a new visitor: the worker's own, else an idle one,
/// else a new one. A used session becomes a new visitor first (with `blank`, on a blank
/// page), and so does a new one with user contexts (its first window is never a
/// scenario's: see `Contexts`); one that cannot is ended and replaced.
async fn ready(browsers: &Browsers, held: Option<Ready>, blank: bool) -> Result<Ready, BrowserError> {
    let mut candidate = held.or_else(|| browsers.take());
    while let Some(ready) = candidate {
        if let Ok(ready) = as_new_visitor(ready, blank).await {
            return Ok(ready);
        }
        candidate = browsers.take();
    }
    as_new_visitor(browsers.new_session().await?, blank).await
}

/// `ready` as a new visitor, or ended.
async fn as_new_visitor(mut ready: Ready, blank: bool) -> Result<Ready, BrowserError> {
    let unused = !ready.used && ready.session.isolation() != Isolation::UserContext;
    if !unused {
        if let Err(err) = ready.session.new_visitor(blank).await {
            ready.session.quit().await;
            return Err(err);
        }
    }
    ready.used = false;
    Ok(ready)
}

/// Whether the browser must offer WebDriver BiDi for `scenarios` whatever the signals
/// (`BrowserConfig::visitors`): a scenario starts a visitor beyond the one it starts as,
/// or, with a sensitive regex (`guarded`), answers a dialog (the guard reads its page).
pub fn needs_bidi(scenarios: &[Scenario], guarded: bool) -> bool {
    let dialog = |s: &Step| matches!(s.kind, StepKind::Act(Action::AcceptDialog { .. } | Action::DismissDialog { .. }));
    ahead(scenarios) > 1 || (guarded && scenarios.iter().any(|s| s.steps.iter().any(dialog)))
}

/// How many visitors to keep made ahead for `scenarios`: the next attempt's, and one for
/// each visitor a scenario starts beyond its first (at most four).
fn ahead(scenarios: &[Scenario]) -> usize {
    let started = |s: &Scenario| {
        let mut names: Vec<&str> = Vec::new();
        for step in &s.steps {
            if let StepKind::Act(Action::Visitor(who)) = &step.kind {
                if !names.contains(&who.as_str()) {
                    names.push(who);
                }
            }
        }
        // A first step names the visitor the scenario starts as: that one is not started.
        let first = s.steps.iter().find(|st| !st.is_hook());
        let named_first = matches!(first.map(|st| &st.kind), Some(StepKind::Act(Action::Visitor(_))));
        names.len() - usize::from(named_first && !names.is_empty())
    };
    1 + scenarios.iter().map(started).max().unwrap_or(0).min(3)
}

/// One attempt at a scenario, bounded by the scenario deadline. Also says whether the
/// session is still fit for the next scenario.
async fn run_attempt(
    scenario: &Scenario,
    session: &Session,
    config: &RunConfig,
    run_id: &str,
    number: usize,
) -> (Attempt, bool) {
    let started_at = Utc::now();
    let t0 = Instant::now();
    session.mark_signals();
    let mut log = Vec::new();
    let mut strip = Filmstrip::new(config.settings.filmstrip);
    let mut values = Values::for_attempt(run_id, &scenario.name, number);
    if let Some(password) = config.settings.inbox.as_ref().and_then(|inbox| inbox.password_to_hide()) {
        values.hide(password);
    }
    values.set_suite_values(&scenario.values);
    let mut state = ScenarioState::new(scenario, config, values);
    // Updated as the steps use them, so a scenario cut short by its deadline is redacted too.
    let mut secrets = Vec::new();
    let steps = run_steps(scenario, session, config, &mut state, &mut log, &mut strip, &mut secrets);
    let mut outcome = match tokio::time::timeout(config.settings.scenario_timeout, steps).await {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err((step, err))) => {
            let evidence = evidence(session).await;
            let (line, col) = step.site();
            let at = Some((line, col, step.described()));
            match err {
                StepError::Failed { message, last_seen } => {
                    Outcome::Failed(Failure { step: at, message, last_seen, evidence })
                }
                StepError::Browser(e) => {
                    Outcome::Error(Failure { step: at, message: e.to_string(), last_seen: None, evidence })
                }
                StepError::Refused { message } => {
                    Outcome::Error(Failure { step: at, message, last_seen: None, evidence })
                }
            }
        }
        Err(_) => {
            // The step that was running is the one after the last logged.
            let at = scenario.steps.get(log.len()).map(|st| {
                let (line, col) = st.site();
                (line, col, st.described())
            });
            let message = format!(
                "the scenario did not finish within --scenario-timeout {:?}: the browser or the page is stuck",
                config.settings.scenario_timeout
            );
            Outcome::Failed(Failure { step: at, message, last_seen: None, evidence: evidence(session).await })
        }
    };
    // Only a failed attempt's frames are handed over; a passing one's go with `strip`.
    if let Outcome::Failed(f) | Outcome::Error(f) = &mut outcome {
        f.evidence.filmstrip = strip.into_frames();
    }
    let timed_out = t0.elapsed() >= config.settings.scenario_timeout;
    let healthy = !matches!(outcome, Outcome::Error(_)) && !timed_out;
    let mut attempt = Attempt::new(outcome, started_at, t0.elapsed(), log);
    attempt.redact(&secrets);
    (attempt, healthy)
}

/// A failure's evidence, bounded: a wedged browser must not hold the run up for long.
/// The signals come first: what the attempt reported up to the failure.
async fn evidence(session: &Session) -> Evidence {
    let gathered = async {
        let signals = session.signals().await;
        Evidence { signals, ..session.evidence().await }
    };
    let mut evidence = tokio::time::timeout(EVIDENCE_TIMEOUT, gathered).await.unwrap_or_default();
    // The other visitors' pages (a scenario with several), bounded on their own: the
    // failing visitor's page comes first and is never lost to theirs.
    evidence.visitors = tokio::time::timeout(EVIDENCE_TIMEOUT, session.other_visitors()).await.unwrap_or_default();
    evidence
}

const EVIDENCE_TIMEOUT: Duration = Duration::from_secs(5);

/// The attempt's steps in order, each with its values filled in just before it runs.
async fn run_steps(
    scenario: &Scenario,
    session: &Session,
    config: &RunConfig,
    state: &mut ScenarioState,
    log: &mut Vec<StepLog>,
    strip: &mut Filmstrip,
    secrets: &mut Vec<String>,
) -> Result<(), (Step, StepError)> {
    for (at, written) in scenario.steps.iter().enumerate() {
        state.at = at;
        let resolved = state.resolve(written);
        secrets.clone_from(&state.values.secrets().to_vec());
        let step = match resolved {
            Ok(step) => step,
            Err(message) => {
                log.push(step_log(written, std::time::Duration::ZERO, false));
                return Err((written.clone(), StepError::Failed { message, last_seen: None }));
            }
        };
        // Outside the steps' times: a frame is the filmstrip's cost, not a step's. A
        // frame the browser cannot give is only a gap in the strip, never a failure.
        if strip.due_before(&step) {
            let png = tokio::time::timeout(FRAME_TIMEOUT, session.screenshot()).await;
            strip.take(png.ok().and_then(Result::ok));
        }
        let ts = Instant::now();
        let result = run_step(&step, session, config, state).await;
        secrets.clone_from(&state.values.secrets().to_vec());
        log.push(step_log(&step, ts.elapsed(), result.is_ok()));
        if let Err(e) = result {
            return Err((step, e));
        }
        strip.passed(&step);
    }
    Ok(())
}

fn step_log(step: &Step, took: Duration, ok: bool) -> StepLog {
    StepLog { line: step.site().0, description: step.described(), took, ok, calls: step.calls.clone() }
}

/// How long one filmstrip frame may take: a slow screenshot must not hold a scenario up.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
