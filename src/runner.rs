//! Schedules scenarios over workers, runs their steps through the browser and the
//! wait primitive, and emits `RunEvent`s. It never prints or writes files: a failing
//! scenario is data (`Outcome::Failed`), not an `Err`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::browser::{BrowserConfig, BrowserError, BrowserInfo, Driver, Evidence, Inspection, Session};
use crate::spec::{Action, Expectation, Scenario, Selector, Step, StepKind};
use crate::wait::{self, Check, Patience, WaitError};

#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The target's base URL, without a trailing slash.
    pub base_url: String,
    pub workers: usize,
    /// A new browser for every scenario instead of one per worker.
    pub fresh_session: bool,
    pub patience: Patience,
    pub browser: BrowserConfig,
    /// After the first interrupt, how long running scenarios may take to finish.
    pub grace: Duration,
    /// Whole new attempts for a failed scenario.
    pub retries: u32,
    /// The most one attempt at a scenario may take.
    pub scenario_timeout: Duration,
    /// Scenarios (by index) not to run, with the reason they are skipped.
    pub skip: HashMap<usize, String>,
}

/// Everything the reporters hear about a run, in order.
#[derive(Clone, Debug)]
pub enum RunEvent {
    /// A browser session is ready (the first one names the browser for the reports).
    SessionStarted {
        worker: usize,
        browser: BrowserInfo,
        took: Duration,
    },
    ScenarioStarted {
        index: usize,
        worker: usize,
    },
    /// An attempt failed and the scenario will run again (`--retries`); `number` is 1-based.
    AttemptFailed {
        index: usize,
        worker: usize,
        number: usize,
        attempt: Attempt,
    },
    ScenarioFinished(ScenarioResult),
    /// The first interrupt: nothing new is scheduled.
    Interrupted {
        signal_count: u32,
    },
    /// A worker could not get a browser and stopped; the others go on.
    WorkerStopped {
        worker: usize,
        reason: String,
    },
}

/// A scenario's result: its last attempt, and the failed attempts before it.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// Index into the scenarios given to `run`.
    pub index: usize,
    pub worker: usize,
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub log: Vec<StepLog>,
    /// Failed attempts before the last one (with `--retries`), oldest first.
    pub earlier: Vec<Attempt>,
}

impl ScenarioResult {
    fn new(index: usize, worker: usize, last: Attempt, earlier: Vec<Attempt>) -> ScenarioResult {
        ScenarioResult {
            index,
            worker,
            outcome: last.outcome,
            started_at: last.started_at,
            duration: last.duration,
            log: last.log,
            earlier,
        }
    }

    fn not_run(index: usize, worker: usize, why: &str, started_at: DateTime<Utc>, duration: Duration) -> Self {
        let attempt = Attempt::new(Outcome::NotRun(why.to_string()), started_at, duration, Vec::new());
        ScenarioResult::new(index, worker, attempt, Vec::new())
    }

    /// Passed, but only after failing: not to be trusted as green without saying so.
    pub fn is_flaky(&self) -> bool {
        matches!(self.outcome, Outcome::Passed) && !self.earlier.is_empty()
    }
}

/// One run of a scenario's steps.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub log: Vec<StepLog>,
}

impl Attempt {
    fn new(outcome: Outcome, started_at: DateTime<Utc>, duration: Duration, log: Vec<StepLog>) -> Attempt {
        Attempt { outcome, started_at, duration, log }
    }
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Passed,
    /// The app did not behave as the scenario expects.
    Failed(Failure),
    /// ft could not run the scenario (browser or driver trouble): not the app's fault.
    Error(Failure),
    /// Not run, with the reason (interrupted, no browser): the run is incomplete.
    NotRun(String),
    /// Deliberately not run, with the reason (e.g. not safe on a sensitive target): the
    /// run is still complete.
    Skipped(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed(_) => "FAIL",
            Outcome::Error(_) => "ERROR",
            Outcome::NotRun(_) => "NOT RUN",
            Outcome::Skipped(_) => "SKIP",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Failure {
    /// The failing step (line, column, description), when a step failed.
    pub step: Option<(usize, usize, String)>,
    /// What went wrong, in one line.
    pub message: String,
    /// What the page showed at the last check.
    pub last_seen: Option<String>,
    pub evidence: Evidence,
}

#[derive(Clone, Debug)]
pub struct StepLog {
    pub line: usize,
    pub description: String,
    pub took: Duration,
    pub ok: bool,
}

/// The run as a whole.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub results: Vec<ScenarioResult>,
    pub browser: Option<BrowserInfo>,
    pub interrupted: bool,
    pub wall: Duration,
}

impl RunSummary {
    /// How many scenarios ended in an outcome `pred` accepts.
    pub fn count(&self, pred: fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| pred(&r.outcome)).count()
    }

    /// How many passed only on a retry.
    pub fn flaky(&self) -> usize {
        self.results.iter().filter(|r| r.is_flaky()).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to start the browser driver")]
    Driver(#[source] BrowserError),
    #[error("failed to start any browser session")]
    NoSession(#[source] BrowserError),
}

/// Run `scenarios` and send every event to `events`. `interrupts` counts Ctrl-C /
/// SIGTERM: at 1 nothing new starts and running scenarios get `config.grace` to
/// finish; at 2 everything still running stops at once and is reported as not run.
pub async fn run(
    scenarios: Vec<Scenario>,
    config: RunConfig,
    events: mpsc::UnboundedSender<RunEvent>,
    mut interrupts: watch::Receiver<u32>,
) -> Result<RunSummary, RunError> {
    let start = Instant::now();
    let driver = Arc::new(Driver::start(&config.browser).await.map_err(RunError::Driver)?);
    let scenarios = Arc::new(scenarios);
    // Longest first (by step count): the last scenario to start is a short one.
    let mut order: Vec<usize> = (0..scenarios.len()).filter(|i| !config.skip.contains_key(i)).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scenarios[i].steps.len()));
    let runnable = order.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(order)));
    let config = Arc::new(config);
    let workers = config.workers.clamp(1, runnable.max(1));
    let (tx, mut rx) = mpsc::unbounded_channel::<WorkerMsg>();
    let mut set = JoinSet::new();
    let mut task_worker = HashMap::new();
    for worker in 0..workers {
        let handle =
            set.spawn(work(worker, driver.clone(), scenarios.clone(), queue.clone(), config.clone(), tx.clone()));
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
                    match &ev {
                        RunEvent::SessionStarted { browser: b, .. } => { browser.get_or_insert_with(|| b.clone()); }
                        RunEvent::ScenarioStarted { index, worker } => { running.insert(*index, (*worker, Utc::now(), Instant::now())); }
                        RunEvent::ScenarioFinished(r) => { running.remove(&r.index); results.insert(r.index, r.clone()); }
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
                    grace_deadline = Some(tokio::time::Instant::now() + config.grace);
                    let _ = events.send(RunEvent::Interrupted { signal_count: count });
                }
                if count >= 2 { set.abort_all(); break; }
            }
            _ = grace => { set.abort_all(); break; }
        }
    }
    // Workers quit their sessions on the normal path; after an abort, stopping the
    // driver's process group takes the browsers with it.
    let mut panicked: HashMap<usize, String> = HashMap::new();
    while let Some(joined) = set.join_next().await {
        if let Err(err) = joined {
            if let (true, Some(worker)) = (err.is_panic(), task_worker.get(&err.id()).copied()) {
                panicked.insert(worker, panic_message(err.into_panic()));
            }
        }
    }
    if let Ok(driver) = Arc::try_unwrap(driver) {
        driver.stop().await;
    }
    for (index, (worker, started_at, t0)) in running {
        let outcome = match panicked.get(&worker) {
            Some(msg) => Outcome::Error(Failure {
                step: None,
                message: format!("ft's worker panicked (a bug in ft, please report it): {msg}"),
                last_seen: None,
                evidence: Evidence::default(),
            }),
            None => Outcome::NotRun("interrupted while running".into()),
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
            let reason =
                if interrupted { "interrupted before it started" } else { "no browser session could be started" };
            let r = ScenarioResult::not_run(index, 0, reason, Utc::now(), Duration::ZERO);
            let _ = events.send(RunEvent::ScenarioFinished(r.clone()));
            slot.insert(r);
        }
    }
    let mut results: Vec<ScenarioResult> = results.into_values().collect();
    results.sort_by_key(|r| r.index);
    Ok(RunSummary { results, browser, interrupted, wall: start.elapsed() })
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

enum WorkerMsg {
    Event(RunEvent),
    SessionFailed(usize, BrowserError),
}

async fn work(
    worker: usize,
    driver: Arc<Driver>,
    scenarios: Arc<Vec<Scenario>>,
    queue: Arc<Mutex<VecDeque<usize>>>,
    config: Arc<RunConfig>,
    tx: mpsc::UnboundedSender<WorkerMsg>,
) {
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let mut session: Option<Session> = None;
    while let Some(index) = next() {
        let mut earlier: Vec<Attempt> = Vec::new();
        let result = loop {
            if session.is_none() {
                let t0 = Instant::now();
                match driver.session().await {
                    Ok(s) => {
                        let ev = RunEvent::SessionStarted { worker, browser: s.browser.clone(), took: t0.elapsed() };
                        let _ = tx.send(WorkerMsg::Event(ev));
                        session = Some(s);
                    }
                    Err(err) if earlier.is_empty() => {
                        // Give the scenario back for a worker that has a browser.
                        if let Ok(mut q) = queue.lock() {
                            q.push_front(index);
                        }
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
                }
            }
            let Some(s) = session.as_ref() else { return };
            if earlier.is_empty() {
                let _ = tx.send(WorkerMsg::Event(RunEvent::ScenarioStarted { index, worker }));
            }
            let (attempt, healthy) = run_attempt(&scenarios[index], s, &config).await;
            // Isolation: the next attempt or scenario starts as a new visitor on a blank
            // page; a lost, wedged or un-resettable browser is replaced.
            let keep = healthy && !config.fresh_session && s.reset().await.is_ok();
            if !keep {
                if let Some(s) = session.take() {
                    s.quit().await;
                }
            }
            let failed = !matches!(attempt.outcome, Outcome::Passed);
            if failed && earlier.len() < config.retries as usize {
                let number = earlier.len() + 1;
                let _ = tx.send(WorkerMsg::Event(RunEvent::AttemptFailed {
                    index,
                    worker,
                    number,
                    attempt: attempt.clone(),
                }));
                earlier.push(attempt);
                continue;
            }
            break ScenarioResult::new(index, worker, attempt, earlier);
        };
        let _ = tx.send(WorkerMsg::Event(RunEvent::ScenarioFinished(result)));
    }
    if let Some(s) = session.take() {
        s.quit().await;
    }
}

/// Per-scenario state that steps share.
#[derive(Default)]
struct ScenarioState {
    urls: HashMap<String, String>,
}

/// One attempt at a scenario, bounded by the scenario deadline. Also says whether the
/// session is still fit for the next scenario.
async fn run_attempt(scenario: &Scenario, session: &Session, config: &RunConfig) -> (Attempt, bool) {
    let started_at = Utc::now();
    let t0 = Instant::now();
    let mut log = Vec::new();
    let steps = run_steps(scenario, session, config, &mut log);
    let outcome = match tokio::time::timeout(config.scenario_timeout, steps).await {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err((step, err))) => {
            let evidence = evidence(session).await;
            let at = Some((step.line, step.col, step.kind.to_string()));
            match err {
                StepError::Failed { message, last_seen } => {
                    Outcome::Failed(Failure { step: at, message, last_seen, evidence })
                }
                StepError::Browser(e) => {
                    Outcome::Error(Failure { step: at, message: e.to_string(), last_seen: None, evidence })
                }
            }
        }
        Err(_) => {
            // The step that was running is the one after the last logged.
            let at = scenario.steps.get(log.len()).map(|st| (st.line, st.col, st.kind.to_string()));
            let message = format!(
                "the scenario did not finish within --scenario-timeout {:?}: the browser or the page is stuck",
                config.scenario_timeout
            );
            Outcome::Failed(Failure { step: at, message, last_seen: None, evidence: evidence(session).await })
        }
    };
    let timed_out = t0.elapsed() >= config.scenario_timeout;
    let healthy = !matches!(outcome, Outcome::Error(_)) && !timed_out;
    (Attempt::new(outcome, started_at, t0.elapsed(), log), healthy)
}

/// A failure's evidence, bounded: a wedged browser must not hold the run up for long.
async fn evidence(session: &Session) -> Evidence {
    tokio::time::timeout(EVIDENCE_TIMEOUT, session.evidence()).await.unwrap_or_default()
}

const EVIDENCE_TIMEOUT: Duration = Duration::from_secs(5);

async fn run_steps<'s>(
    scenario: &'s Scenario,
    session: &Session,
    config: &RunConfig,
    log: &mut Vec<StepLog>,
) -> Result<(), (&'s Step, StepError)> {
    let mut state = ScenarioState::default();
    for step in &scenario.steps {
        let ts = Instant::now();
        let result = run_step(step, session, config, &mut state).await;
        log.push(StepLog {
            line: step.line,
            description: step.kind.to_string(),
            took: ts.elapsed(),
            ok: result.is_ok(),
        });
        result.map_err(|e| (step, e))?;
    }
    Ok(())
}

enum StepError {
    /// The app did not do what the step expects.
    Failed { message: String, last_seen: Option<String> },
    /// The browser could not be used.
    Browser(BrowserError),
}

impl From<WaitError<BrowserError>> for StepError {
    fn from(e: WaitError<BrowserError>) -> Self {
        match e {
            WaitError::Fatal(e) if e.is_session_lost() => StepError::Browser(e),
            WaitError::Fatal(e) => StepError::Failed { message: e.to_string(), last_seen: None },
            WaitError::TimedOut(t) => StepError::Failed {
                message: format!("still not true after {:.1}s ({} checks)", t.waited.as_secs_f64(), t.checks),
                last_seen: Some(t.last_seen),
            },
        }
    }
}

fn quote_list(texts: &[String]) -> String {
    let shown: Vec<String> = texts.iter().take(20).map(|t| format!("{t:?}")).collect();
    let more = if texts.len() > 20 { format!(" and {} more", texts.len() - 20) } else { String::new() };
    format!("[{}]{more}", shown.join(", "))
}

fn no_match(sel: &Selector, seen: &Inspection) -> String {
    let status = seen.status.filter(|s| *s >= 400).map(|s| format!("HTTP {s}, ")).unwrap_or_default();
    format!("no element matches {sel} on {} ({status}title {:?})", seen.url, seen.title)
}

/// One inspection of `css` (or, with `None`, of the page): what was seen, or why there
/// is nothing to judge yet (the page may be changing). A lost session or an invalid
/// selector is fatal: re-checking cannot mend either.
async fn look(
    session: &Session,
    css: Option<&str>,
    attr: Option<&str>,
    all: bool,
) -> Result<Result<Inspection, String>, BrowserError> {
    match session.inspect(css, attr, all).await {
        Ok(seen) => match (&seen.error, css) {
            (Some(err), Some(css)) => Err(BrowserError::WebDriver(format!("invalid selector {css:?}: {err}"))),
            _ => Ok(Ok(seen)),
        },
        Err(e) if e.is_session_lost() => Err(e),
        Err(e) => Ok(Err(format!("the browser said: {e}"))),
    }
}

/// Inspect `css` (or the page: title, URL and, with `all`, its text) until `judge`
/// accepts what is seen.
async fn expect(
    session: &Session,
    patience: Patience,
    css: Option<&str>,
    attr: Option<&str>,
    all: bool,
    judge: impl Fn(&Inspection) -> Result<(), String>,
) -> Result<(), StepError> {
    wait::until(patience, || async {
        Ok(match look(session, css, attr, all).await? {
            Ok(seen) => match judge(&seen) {
                Ok(()) => Check::Done(()),
                Err(why) => Check::NotYet(why),
            },
            Err(why) => Check::NotYet(why),
        })
    })
    .await
    .map_err(StepError::from)
}

/// Wait for an element that can be acted on, then act. An action is retried only
/// when the browser says it did not happen (element gone or not interactable yet).
async fn act<'a, F, Fut>(session: &'a Session, patience: Patience, sel: &Selector, action: F) -> Result<(), StepError>
where
    F: Fn(&'a Session) -> Fut,
    Fut: std::future::Future<Output = Result<(), BrowserError>>,
{
    wait::until(patience, || async {
        let seen = match look(session, Some(&sel.css), None, false).await? {
            Ok(seen) => seen,
            Err(why) => return Ok(Check::NotYet(why)),
        };
        if seen.count == 0 {
            return Ok(Check::NotYet(no_match(sel, &seen)));
        }
        if seen.visible != Some(true) {
            return Ok(Check::NotYet(format!("{sel} is on the page but not visible")));
        }
        match action(session).await {
            Ok(()) => Ok(Check::Done(())),
            Err(e) if e.is_session_lost() => Err(e),
            Err(e) => Ok(Check::NotYet(format!("the browser said: {e}"))),
        }
    })
    .await
    .map_err(StepError::from)
}

async fn run_step(
    step: &Step,
    session: &Session,
    config: &RunConfig,
    state: &mut ScenarioState,
) -> Result<(), StepError> {
    let p = config.patience;
    // Test seam (debug builds only): lets tests prove that a panicking worker leaves no
    // browser behind and that its scenario is still reported.
    #[cfg(debug_assertions)]
    if std::env::var("FT_TEST_PANIC_AT_VERB").is_ok_and(|v| v == step.kind.verb()) {
        panic!("FT_TEST_PANIC_AT_VERB={}", step.kind.verb());
    }
    match &step.kind {
        StepKind::Act(Action::Visit(path)) => {
            let url = format!("{}{}", config.base_url, path);
            // Credentials in the target URL must never reach a report.
            let shown = crate::shared::redact::redact(&url);
            session.goto(&url).await.map_err(|e| match e {
                e if e.is_session_lost() => StepError::Browser(e),
                e => StepError::Failed { message: format!("failed to load {shown}: {e}"), last_seen: None },
            })?;
            // A page the browser could not load is its own error page: fail now with the
            // browser's reason (e.g. ERR_CONNECTION_REFUSED) instead of waiting on it.
            let seen = session.inspect(None, None, true).await.map_err(StepError::Browser)?;
            if let Some(status) = seen.status.filter(|s| *s >= 500) {
                let body = seen.texts.first().map(String::as_str).unwrap_or("");
                return Err(StepError::Failed {
                    message: format!("{shown} answered HTTP {status}: the server is failing"),
                    last_seen: Some(format!("title {:?}, text {:?}", seen.title, clip(body))),
                });
            }
            if seen.url.starts_with("chrome-error:") || seen.url.starts_with("about:neterror") {
                let body = seen.texts.first().map(String::as_str).unwrap_or("");
                let reason = body
                    .split_whitespace()
                    .find(|w| w.starts_with("ERR_") || w.starts_with("NS_ERROR"))
                    .unwrap_or("a network error");
                return Err(StepError::Failed {
                    message: format!("the browser could not load {shown}: {reason}"),
                    last_seen: Some(clip(body)),
                });
            }
            Ok(())
        }
        StepKind::Act(Action::Type { into, text }) => act(session, p, into, |s| s.type_text(&into.css, text)).await,
        StepKind::Act(Action::Press { key, on }) => act(session, p, on, |s| s.press(&on.css, *key)).await,
        StepKind::Act(Action::Click(sel)) => act(session, p, sel, |s| s.click(&sel.css)).await,
        StepKind::Act(Action::Clear(sel)) => act(session, p, sel, |s| s.clear(&sel.css)).await,
        StepKind::Act(Action::NewVisitor(_)) => session.reset().await.map_err(StepError::Browser),
        StepKind::Act(Action::WindowSize { width, height }) => {
            session.set_window_size(*width, *height).await.map_err(StepError::Browser)
        }
        StepKind::Act(Action::RememberUrl(name)) => {
            let url = session.current_url().await.map_err(StepError::Browser)?;
            state.urls.insert(name.clone(), url);
            Ok(())
        }
        StepKind::Expect(Expectation::Title(want)) => {
            expect(session, p, None, None, false, |seen| {
                if seen.title.contains(want.as_str()) {
                    Ok(())
                } else {
                    Err(format!("the title was {:?}", seen.title))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::Present(sel)) => {
            expect(session, p, Some(&sel.css), None, false, |seen| {
                if seen.count > 0 {
                    Ok(())
                } else {
                    Err(no_match(sel, seen))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::Absent(sel)) => {
            expect(session, p, Some(&sel.css), None, false, |seen| {
                if seen.count == 0 {
                    Ok(())
                } else {
                    Err(format!("{} element(s) match {sel}", seen.count))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::Text { of, equals }) => {
            expect(session, p, Some(&of.css), None, false, |seen| match &seen.text {
                Some(t) if t == equals => Ok(()),
                Some(t) => Err(format!("the text of {of} was {t:?}")),
                None => Err(no_match(of, seen)),
            })
            .await
        }
        StepKind::Expect(Expectation::TextContains { of, contains }) => {
            expect(session, p, Some(&of.css), None, false, |seen| match &seen.text {
                Some(t) if t.contains(contains.as_str()) => Ok(()),
                Some(t) => Err(format!("the text of {of} was {t:?}")),
                None => Err(no_match(of, seen)),
            })
            .await
        }
        StepKind::Expect(Expectation::Visible(sel)) => {
            expect(session, p, Some(&sel.css), None, false, |seen| match seen.visible {
                Some(true) => Ok(()),
                Some(false) => {
                    Err(format!("{sel} is on the page but hidden (text {:?})", seen.text.clone().unwrap_or_default()))
                }
                None => Err(no_match(sel, seen)),
            })
            .await
        }
        StepKind::Expect(Expectation::Hidden(sel)) => {
            expect(session, p, Some(&sel.css), None, false, |seen| match seen.visible {
                Some(false) => Ok(()),
                Some(true) => {
                    Err(format!("{sel} is still visible, showing {:?}", seen.text.clone().unwrap_or_default()))
                }
                None => Err(no_match(sel, seen)),
            })
            .await
        }
        StepKind::Expect(Expectation::Row { table, text }) => {
            let rows = format!(":is({}) tr", table.css);
            expect(session, p, Some(&rows), None, true, |seen| {
                if seen.texts.iter().any(|t| t == text) {
                    Ok(())
                } else if seen.count == 0 {
                    Err(format!("no rows in {table} on {} (title {:?})", seen.url, seen.title))
                } else {
                    Err(format!("the rows were {}", quote_list(&seen.texts)))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::PageText(want)) => {
            expect(session, p, None, None, true, |seen| {
                let body = seen.texts.first().map(String::as_str).unwrap_or("");
                if body.contains(want.as_str()) {
                    Ok(())
                } else {
                    Err(format!("the page text was {:?}", clip(body)))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::NoText(unwanted)) => {
            expect(session, p, None, None, true, |seen| {
                let body = seen.texts.first().map(String::as_str).unwrap_or("");
                if body.contains(unwanted.as_str()) {
                    Err(format!("the page still shows it: {:?}", clip(body)))
                } else {
                    Ok(())
                }
            })
            .await
        }
        StepKind::Expect(Expectation::Attribute { of, name, equals }) => {
            expect(session, p, Some(&of.css), Some(name), false, |seen| match (&seen.attr, seen.count) {
                (Some(v), _) if v == equals => Ok(()),
                (Some(v), _) => Err(format!("{name} of {of} was {v:?}")),
                (None, 0) => Err(no_match(of, seen)),
                (None, _) => Err(format!("{of} has no {name} attribute")),
            })
            .await
        }
        StepKind::Expect(Expectation::Url(re)) => {
            expect(session, p, None, None, false, |seen| {
                if re.is_match(&seen.url) {
                    Ok(())
                } else {
                    Err(format!("the URL was {}", seen.url))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::UrlDiffers(name)) => {
            let earlier = state.urls.get(name).cloned().unwrap_or_default();
            expect(session, p, None, None, false, |seen| {
                if seen.url != earlier {
                    Ok(())
                } else {
                    Err(format!("the URL is still {earlier}, the one remembered as {name:?}"))
                }
            })
            .await
        }
        StepKind::Expect(Expectation::Centred { of, at, tolerance }) => {
            expect(session, p, Some(&of.css), None, false, |seen| match seen.centre_x {
                Some(x) if (x - at).abs() <= *tolerance => Ok(()),
                Some(x) => Err(format!("the centre of {of} was at x={x:.1}, {:.1}px off", (x - at).abs())),
                None => Err(no_match(of, seen)),
            })
            .await
        }
    }
}

/// Long page texts are cut for messages; the page HTML is in the evidence.
fn clip(text: &str) -> String {
    const MAX: usize = 300;
    let flat = text.replace('\n', " ⏎ ");
    if flat.chars().count() <= MAX {
        flat
    } else {
        format!("{}…", flat.chars().take(MAX).collect::<String>())
    }
}
