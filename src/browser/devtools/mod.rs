//! Signals over the Chrome DevTools Protocol, for a Chromium whose chromedriver ft started
//! itself: the DevTools endpoint chromedriver opened for its own use
//! (`goog:chromeOptions.debuggerAddress`) reports console entries, exceptions and network
//! outcomes as BiDi does, without BiDi's price. Asked for `webSocketUrl`, chromedriver
//! starts its BiDi mapper (a hidden tab that translates BiDi to DevTools) inside New
//! Session: 0.7 s of every session start on this machine, and every event then goes
//! through that tab (BENCHMARKS.md, "Signals for free"). A Grid's Chromium and Firefox
//! keep `bidi`; a local Chromium's user contexts are made over DevTools too (`Link`,
//! `contexts::Maker`), so nothing there needs BiDi.
//!
//! One WebSocket to the browser; every page, frame and worker is attached as it appears
//! (`Target.setAutoAttach`, flat sessions) and held at its start; its domains are turned
//! on and then it is let run, in one go: a target runs its commands in order, so its first
//! request and its first script's errors are reported. (Waiting for the answers first
//! would hang: a new tab answers `Runtime.enable` only once it runs.) Every command has an
//! id of its own: the browser refuses a command whose id is still waiting for its answer
//! on that target ("Duplicate `id`"), and a page whose `Network.enable` was refused so
//! reported none of its requests after its next navigation (the cross-site frame's 404
//! missed under load, issue 22). A domain that fails to turn on is said, never taken for
//! a quiet page. The task that reads the socket
//! files each event before it hands out the answer of a later command: an answer is a
//! barrier by itself, for the target it was sent to.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use thirtyfour::WebDriver;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::signals::{Kept, Signal, SignalKind, Signals};
use crate::shared::redact::{redact, redact_text};
use events::{answered, file};

/// What `Signals.source` says for signals collected here.
pub(super) const SOURCE: &str = "devtools";

/// The most requests tracked as in flight (see `bidi::IN_FLIGHT_MAX`).
const IN_FLIGHT_MAX: usize = 1000;

/// A session's signal collection over DevTools: the socket's writer, the task that reads
/// it, and what the current attempt reported so far.
pub(super) struct Devtools {
    outbox: Outbox,
    state: Arc<Mutex<State>>,
    /// Told whenever a request ends.
    ended: Arc<Notify>,
    tasks: [JoinHandle<()>; 2],
}

/// A command the reading task sent to set up a target, for its answer.
struct Setup {
    session: String,
    method: &'static str,
    /// The target in a few words, for a failure: "a worker (URL)".
    target: String,
}

#[derive(Default)]
struct State {
    /// What the current attempt reported.
    kept: Kept,
    /// The requests sent and not yet finished or failed, by request id: the browser's ids
    /// are unique across targets, and a worker's script is asked for on its page's session
    /// and answered on the worker's.
    in_flight: HashMap<String, Request>,
    /// The DevTools sessions of the top-level pages, by target id.
    pages: HashMap<String, String>,
    /// The sessions whose domains are on: pages, frames, workers (where the barrier runs).
    observed: HashSet<String>,
    /// The setup commands not answered yet, by id.
    setup: HashMap<u64, Setup>,
    /// The sessions whose domains failed to turn on, with why: what they report is lost.
    unobserved: HashMap<String, String>,
    /// Why the attempt missed what a target reported that went away unobserved.
    lost: Option<String>,
    /// The pages there were when collection started: not tabs a page opened.
    first_pages: HashSet<String>,
    /// Collection started: a page attached from now on was opened.
    started: bool,
    /// A tab was opened since `take_tab_opened`.
    tab_opened: bool,
    /// The socket closed: what the browser reports from then on is lost.
    closed: bool,
}

impl State {
    fn start_attempt(&mut self) {
        self.kept = Kept::starting_now();
        self.lost = None;
    }

    /// See `Devtools::blind`.
    fn blind(&self) -> Option<String> {
        self.unobserved.values().min().cloned().or_else(|| self.lost.clone())
    }
}

/// What a request in flight was, for the signal its failure becomes.
struct Request {
    /// The DevTools session that reported it first (its target's going ends it).
    session: String,
    method: Option<String>,
    url: Option<String>,
    resource: Option<String>,
    /// Its status was ≥ 400 and is reported: its end is no second signal.
    reported: bool,
}

impl Devtools {
    /// Connect to the browser's DevTools endpoint and attach to its pages, within
    /// `limit`. An error says why (a Grid's browser, an old chromedriver).
    pub(super) async fn start(wd: &WebDriver, limit: Duration) -> Result<Devtools, String> {
        match tokio::time::timeout(limit, Devtools::connect(wd)).await {
            Ok(r) => r,
            Err(_) => Err(format!("the browser's DevTools endpoint did not answer within {limit:?}")),
        }
    }

    async fn connect(wd: &WebDriver) -> Result<Devtools, String> {
        let (outbox, mut frames, writer) = link::connect(&websocket_url(wd).await?).await?;
        let state = Arc::new(Mutex::new(State { kept: Kept::starting_now(), ..State::default() }));
        let ended = Arc::new(Notify::new());
        let reader = {
            let (state, ended, outbox) = (Arc::clone(&state), Arc::clone(&ended), outbox.clone());
            tokio::spawn(async move {
                while let Some(frame) = link::next_frame(&mut frames).await {
                    match frame["id"].as_u64() {
                        // An answer nobody waits for: a setup command's.
                        Some(id) => {
                            if let Some(frame) = outbox.deliver(id, frame) {
                                answered(&state, id, &frame);
                            }
                        }
                        None => {
                            file(&state, &frame, &outbox);
                            ended.notify_waiters();
                        }
                    }
                }
                if let Ok(mut s) = state.lock() {
                    s.closed = true;
                    s.in_flight.clear();
                }
                ended.notify_waiters();
                outbox.closed();
            })
        };
        let devtools = Devtools { outbox, state, ended, tasks: [reader, writer] };
        // Every page there is and will be, held at its start until its domains are on.
        let attach = json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true });
        devtools.send(None, "Target.setAutoAttach", attach).await?;
        if let Ok(mut s) = devtools.state.lock() {
            s.first_pages = s.pages.keys().cloned().collect();
            s.started = true;
        }
        Ok(devtools)
    }

    /// Send `method` (to the DevTools `session`, or the browser) and wait for its answer.
    async fn send(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        self.outbox.call(session, method, params, None).await
    }

    /// Whether a tab was opened since the last call; a closed socket cannot tell.
    pub(super) fn take_tab_opened(&self) -> Option<bool> {
        let mut s = self.state.lock().ok()?;
        if s.closed {
            return None;
        }
        Some(std::mem::take(&mut s.tab_opened))
    }

    /// Forget what was reported so far: a new attempt starts.
    pub(super) fn mark(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.start_attempt();
        }
    }

    /// Why what the browser reports is not all heard: a target whose domains failed to
    /// turn on (still there, or gone during this attempt).
    pub(super) fn blind(&self) -> Option<String> {
        self.state.lock().ok()?.blind()
    }

    /// What the attempt reported up to now. A barrier first: an evaluation in each page,
    /// frame and worker, whose answer comes after every event that target reported before
    /// it (see the module's doc); then the requests in flight at that moment are waited
    /// for, as over BiDi (`Collector::signals`). Bounded by `limit`; past it, what had
    /// arrived is returned.
    pub(super) async fn signals(&self, limit: Duration) -> Signals {
        let barrier = async {
            let targets: Vec<String> =
                self.state.lock().map(|s| s.observed.iter().cloned().collect()).unwrap_or_default();
            let evaluated = targets.iter().map(|target| {
                self.send(Some(target), "Runtime.evaluate", json!({ "expression": "0", "returnByValue": true }))
            });
            futures_util::future::join_all(evaluated).await;
            let pending: HashSet<String> =
                self.state.lock().map(|s| s.in_flight.keys().cloned().collect()).unwrap_or_default();
            loop {
                let ended = self.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                if self.state.lock().map_or(true, |s| !s.in_flight.keys().any(|k| pending.contains(k))) {
                    break;
                }
                ended.await;
            }
        };
        let _ = tokio::time::timeout(limit, barrier).await;
        let Ok(s) = self.state.lock() else { return Signals::default() };
        let blind = s.blind().is_some();
        // After the socket closed, or with a target unheard, "nothing more" proves
        // nothing: no source then.
        let source = (!s.closed && !blind).then(|| SOURCE.to_string());
        s.kept.signals(source)
    }

    /// The URL of the page in `tab` (its target id is its window handle), over DevTools:
    /// readable while a dialog blocks WebDriver's own commands.
    pub(super) async fn page_url(&self, tab: &str, limit: Duration) -> Result<String, String> {
        link::page_url(&self.outbox, tab, Some(limit)).await
    }

    /// True once the socket closed (the browser went away).
    pub(super) fn closed(&self) -> bool {
        self.state.lock().map_or(true, |s| s.closed)
    }
}

/// The browser's DevTools WebSocket, as the endpoint chromedriver opened
/// (`goog:chromeOptions.debuggerAddress`) names it: the signals' connection and the
/// visitors' (`Link`) both open one.
async fn websocket_url(wd: &WebDriver) -> Result<String, String> {
    let caps = wd.capabilities();
    let address = caps
        .get("goog:chromeOptions")
        .and_then(|o| o.get("debuggerAddress"))
        .and_then(Value::as_str)
        .ok_or("chromedriver named no DevTools endpoint (no goog:chromeOptions.debuggerAddress)")?
        .to_string();
    let version: Value = reqwest::get(format!("http://{address}/json/version"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("failed to ask {address} for its DevTools WebSocket: {e}"))?
        .text()
        .await
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| format!("failed to read {address}'s DevTools version"))?;
    version["webSocketDebuggerUrl"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{address} named no DevTools WebSocket: {version}"))
}

impl Drop for Devtools {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

mod events;
mod in_page;
mod link;

pub(super) use in_page::{InPage, Waited};
pub(super) use link::Link;
use link::Outbox;
#[cfg(test)]
mod tests;
