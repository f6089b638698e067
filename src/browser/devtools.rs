//! Signals over the Chrome DevTools Protocol, for a Chromium whose chromedriver ft started
//! itself: the DevTools endpoint chromedriver opened for its own use
//! (`goog:chromeOptions.debuggerAddress`) reports console entries, exceptions and network
//! outcomes as BiDi does, without BiDi's price. Asked for `webSocketUrl`, chromedriver
//! starts its BiDi mapper (a hidden tab that translates BiDi to DevTools) inside New
//! Session: 0.7 s of every session start on this machine, and every event then goes
//! through that tab (BENCHMARKS.md, "Signals for free"). A Grid's Chromium, Firefox and
//! a session that needs BiDi anyway (user contexts, visitors) keep `bidi`.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use thirtyfour::WebDriver;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::signals::{Kept, Signal, SignalKind, Signals};
use crate::shared::redact::{redact, redact_text};

/// What `Signals.source` says for signals collected here.
pub(super) const SOURCE: &str = "devtools";

/// The most requests tracked as in flight (see `bidi::IN_FLIGHT_MAX`).
const IN_FLIGHT_MAX: usize = 1000;

/// A session's signal collection over DevTools: the socket's writer, the task that reads
/// it, and what the current attempt reported so far.
pub(super) struct Devtools {
    outbox: Outbox,
    answers: Answers,
    state: Arc<Mutex<State>>,
    /// Told whenever a request ends.
    ended: Arc<Notify>,
    tasks: [JoinHandle<()>; 2],
}

/// The commands sent and not answered yet, by id.
type Answers = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// Where commands go out, each with an id of its own (see the module's doc): shared by
/// `Devtools::send` and the reading task, which sets up the targets itself.
#[derive(Clone)]
struct Outbox {
    out: mpsc::UnboundedSender<String>,
    next_id: Arc<AtomicU64>,
}

impl Outbox {
    fn new(out: mpsc::UnboundedSender<String>) -> Outbox {
        Outbox { out, next_id: Arc::new(AtomicU64::new(1)) }
    }

    /// A new command's id.
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Send command `id`, `method`, to the DevTools `session` (or the browser); false once
    /// the socket closed.
    fn send_as(&self, id: u64, session: Option<&str>, method: &str, params: Value) -> bool {
        let mut frame = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            frame["sessionId"] = json!(session);
        }
        self.out.send(frame.to_string()).is_ok()
    }

    /// Send `method` to `session` without waiting for its answer: its id, if it went.
    fn send(&self, session: Option<&str>, method: &str, params: Value) -> Option<u64> {
        let id = self.id();
        self.send_as(id, session, method, params).then_some(id)
    }
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
        let url = version["webSocketDebuggerUrl"]
            .as_str()
            .ok_or_else(|| format!("{address} named no DevTools WebSocket: {version}"))?;
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("failed to connect to the DevTools WebSocket: {e}"))?;
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
        let outbox = Outbox::new(out);
        let writer = tokio::spawn(async move {
            while let Some(text) = outgoing.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let state = Arc::new(Mutex::new(State { kept: Kept::starting_now(), ..State::default() }));
        let ended = Arc::new(Notify::new());
        let answers: Answers = Arc::default();
        let reader = {
            let (state, ended, answers, outbox) =
                (Arc::clone(&state), Arc::clone(&ended), Arc::clone(&answers), outbox.clone());
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else { continue };
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                    match frame["id"].as_u64() {
                        Some(id) => {
                            let waiting = answers.lock().ok().and_then(|mut a| a.remove(&id));
                            match waiting {
                                Some(tx) => {
                                    let _ = tx.send(frame);
                                }
                                None => answered(&state, id, &frame),
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
                if let Ok(mut a) = answers.lock() {
                    a.clear();
                }
            })
        };
        let devtools = Devtools { outbox, answers, state, ended, tasks: [reader, writer] };
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
        let (tx, rx) = oneshot::channel();
        // The answer's place is ready before the command leaves: the answer may come first.
        let id = self.outbox.id();
        if let Ok(mut a) = self.answers.lock() {
            a.insert(id, tx);
        }
        if !self.outbox.send_as(id, session, method, params) {
            return Err(format!("{method}: the DevTools WebSocket closed"));
        }
        let answer = rx.await.map_err(|_| format!("{method}: the DevTools WebSocket closed"))?;
        match answer.get("error") {
            Some(e) => Err(format!("{method}: {}", e["message"].as_str().unwrap_or("failed"))),
            None => Ok(answer["result"].clone()),
        }
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
        let asked = self.send(None, "Target.getTargetInfo", json!({ "targetId": tab }));
        let info = match tokio::time::timeout(limit, asked).await {
            Ok(answer) => answer?,
            Err(_) => return Err(format!("Target.getTargetInfo: no answer within {limit:?}")),
        };
        info["targetInfo"]["url"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("Target.getTargetInfo named no URL: {info}"))
    }

    /// True once the socket closed (the browser went away).
    pub(super) fn closed(&self) -> bool {
        self.state.lock().map_or(true, |s| s.closed)
    }
}

impl Drop for Devtools {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// File one event. A page, frame or worker attached gets its domains turned on (and a
/// page or frame, the attaching of its own frames and workers), then is let run (see the
/// module's doc). The reading task sends these itself and does not wait: the answers come
/// to it (`answered`).
fn file(state: &Mutex<State>, frame: &Value, outbox: &Outbox) {
    let Ok(mut guard) = state.lock() else { return };
    let s = &mut *guard;
    let params = &frame["params"];
    let session = frame["sessionId"].as_str().unwrap_or_default();
    match frame["method"].as_str().unwrap_or_default() {
        "Target.attachedToTarget" => {
            let child = params["sessionId"].as_str().unwrap_or_default().to_string();
            let info = &params["targetInfo"];
            let kind = info["type"].as_str().unwrap_or_default();
            // A dedicated worker's errors and requests are its page's, as BiDi reports them.
            let methods: &[&'static str] = match kind {
                "page" | "iframe" => &["Runtime.enable", "Network.enable", "Target.setAutoAttach"],
                "worker" => &["Runtime.enable", "Network.enable"],
                _ => &[],
            };
            if kind == "page" {
                let target = info["targetId"].as_str().unwrap_or_default().to_string();
                s.tab_opened |= s.started && !s.first_pages.contains(&target);
                s.pages.insert(target, child.clone());
            }
            let target = format!("a {kind} ({})", redact(info["url"].as_str().unwrap_or_default()));
            for &method in methods {
                let params = match method {
                    "Target.setAutoAttach" => {
                        json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true })
                    }
                    _ => json!({}),
                };
                if let Some(id) = outbox.send(Some(&child), method, params) {
                    s.setup.insert(id, Setup { session: child.clone(), method, target: target.clone() });
                }
            }
            if !methods.is_empty() {
                s.observed.insert(child.clone());
            }
            let _ = outbox.send(Some(&child), "Runtime.runIfWaitingForDebugger", json!({}));
        }
        "Target.detachedFromTarget" => {
            let child = params["sessionId"].as_str().unwrap_or_default();
            s.pages.retain(|_, page| page != child);
            s.observed.remove(child);
            s.setup.retain(|_, setup| setup.session != child);
            s.in_flight.retain(|_, request| request.session != child);
            if let Some(why) = s.unobserved.remove(child) {
                s.lost = Some(why);
            }
        }
        "Network.requestWillBeSent" => {
            if s.in_flight.len() >= IN_FLIGHT_MAX {
                s.in_flight.clear();
            }
            let request = Request {
                session: session.to_string(),
                method: params["request"]["method"].as_str().map(str::to_string),
                url: params["request"]["url"].as_str().map(redact),
                resource: params["type"].as_str().map(resource),
                reported: false,
            };
            s.in_flight.insert(key(params), request);
        }
        "Network.responseReceived" => {
            let status = params["response"]["status"].as_u64().and_then(|v| u16::try_from(v).ok());
            let Some(status) = status.filter(|s| *s >= 400) else { return };
            let at_ms = s.kept.since_ms;
            let Some(request) = s.in_flight.get_mut(&key(params)) else { return };
            request.reported = true;
            let signal = Signal { status: Some(status), ..failed(request, String::new(), at_ms) };
            s.kept.push(signal);
        }
        "Network.loadingFinished" => {
            s.in_flight.remove(&key(params));
        }
        "Network.loadingFailed" => {
            let Some(request) = s.in_flight.remove(&key(params)) else { return };
            let text = params["errorText"].as_str().unwrap_or("").to_string();
            // A request the browser itself abandoned (the page navigated away) is no
            // failure of the app.
            if request.reported || params["canceled"].as_bool() == Some(true) || text.contains("ERR_ABORTED") {
                return;
            }
            let at_ms = s.kept.since_ms;
            let signal = failed(&request, text, at_ms);
            s.kept.push(signal);
        }
        "Runtime.consoleAPICalled" => {
            let kind = match params["type"].as_str() {
                Some("error" | "assert") => SignalKind::ConsoleError,
                Some("warning") => SignalKind::ConsoleWarning,
                _ => return,
            };
            let args = params["args"].as_array().map(Vec::as_slice).unwrap_or_default();
            let text = args.iter().map(value_text).collect::<Vec<_>>().join(" ");
            let signal = Signal {
                kind,
                at_ms: since(params, s.kept.since_ms),
                text: redact_text(&text),
                method: None,
                url: origin(&params["stackTrace"], None),
                status: None,
                resource: None,
            };
            s.kept.push(signal);
        }
        "Runtime.exceptionThrown" => {
            let details = &params["exceptionDetails"];
            let thrown = &details["exception"];
            let text = match thrown.get("description").and_then(Value::as_str) {
                Some(d) => d.lines().next().unwrap_or_default().to_string(),
                None if !thrown.is_null() => value_text(thrown),
                None => details["text"].as_str().unwrap_or_default().to_string(),
            };
            let signal = Signal {
                kind: SignalKind::Exception,
                at_ms: since(params, s.kept.since_ms),
                text: redact_text(&text),
                method: None,
                url: origin(&details["stackTrace"], Some(details)),
                status: None,
                resource: None,
            };
            s.kept.push(signal);
        }
        _ => {}
    }
}

/// A request's key: its id.
fn key(params: &Value) -> String {
    params["requestId"].as_str().unwrap_or_default().to_string()
}

/// File the answer to a setup command `file` sent. A domain refused on a target that is
/// still there leaves it unheard: said by `Devtools::blind`, never taken for a quiet page.
fn answered(state: &Mutex<State>, id: u64, frame: &Value) {
    let Ok(mut s) = state.lock() else { return };
    let Some(setup) = s.setup.remove(&id) else { return };
    if let Some(error) = frame.get("error") {
        let message = error["message"].as_str().unwrap_or("refused");
        let why = format!("failed to turn on {} for {}: {message}", setup.method, setup.target);
        s.unobserved.entry(setup.session).or_insert(why);
    }
}

/// A failed request as a signal, at the time ft learnt of it (a network event's own clock
/// is the browser's monotonic one, not the wall clock the attempt started by).
fn failed(request: &Request, text: String, since_ms: u64) -> Signal {
    Signal {
        kind: SignalKind::FailedRequest,
        at_ms: super::signals::now_ms().saturating_sub(since_ms),
        text,
        method: request.method.clone(),
        url: request.url.clone(),
        status: None,
        resource: request.resource.clone(),
    }
}

/// DevTools' resource type in BiDi's words (`Image` → `image`, `XHR` → `xmlhttprequest`).
fn resource(kind: &str) -> String {
    match kind {
        "XHR" => "xmlhttprequest".to_string(),
        "Stylesheet" => "style".to_string(),
        other => other.to_lowercase(),
    }
}

/// Milliseconds from the attempt's start to an event's own wall-clock `timestamp`.
fn since(params: &Value, since_ms: u64) -> u64 {
    (params["timestamp"].as_f64().unwrap_or(0.0) as u64).saturating_sub(since_ms)
}

/// A console argument as the console shows it: a string as it is, else its description.
fn value_text(v: &Value) -> String {
    match &v["value"] {
        Value::String(s) => s.clone(),
        Value::Null => v["description"].as_str().or(v["type"].as_str()).unwrap_or_default().to_string(),
        other => other.to_string(),
    }
}

/// Where an entry came from: the top stack frame's `URL:line:col` (1-based), else the
/// exception's own place.
fn origin(stack: &Value, details: Option<&Value>) -> Option<String> {
    let frame = &stack["callFrames"][0];
    let place = if frame["url"].as_str().is_some_and(|u| !u.is_empty()) { frame } else { details? };
    let url = place["url"].as_str().filter(|u| !u.is_empty())?;
    let line = place["lineNumber"].as_u64().unwrap_or(0) + 1;
    let col = place["columnNumber"].as_u64().unwrap_or(0) + 1;
    Some(format!("{}:{line}:{col}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(events: &[Value]) -> (State, Vec<Value>) {
        let mut browser = Browser::new();
        for event in events {
            browser.tell(event);
        }
        let commands = browser.sent();
        (browser.state.into_inner().expect("state"), commands)
    }

    /// The reading task's side, with the commands it sent kept.
    struct Browser {
        state: Mutex<State>,
        outbox: Outbox,
        sent: mpsc::UnboundedReceiver<String>,
    }

    impl Browser {
        fn new() -> Browser {
            let (out, sent) = mpsc::unbounded_channel();
            Browser { state: Mutex::new(State::default()), outbox: Outbox::new(out), sent }
        }

        fn tell(&self, event: &Value) {
            file(&self.state, event, &self.outbox);
        }

        fn answer(&self, command: &Value, error: Option<&str>) {
            let id = command["id"].as_u64().expect("an id");
            let frame = match error {
                Some(message) => json!({ "id": id, "error": { "code": -32600, "message": message } }),
                None => json!({ "id": id, "result": {} }),
            };
            answered(&self.state, id, &frame);
        }

        /// The commands sent since the last call.
        fn sent(&mut self) -> Vec<Value> {
            let mut commands = Vec::new();
            while let Ok(c) = self.sent.try_recv() {
                commands.push(serde_json::from_str(&c).expect("json"));
            }
            commands
        }
    }

    fn attached(session: &str, target: &str, kind: &str, waiting: bool) -> Value {
        json!({ "method": "Target.attachedToTarget", "params": { "sessionId": session, "waitingForDebugger": waiting,
            "targetInfo": { "targetId": target, "type": kind, "url": "http://h/" } } })
    }

    #[test]
    fn console_errors_and_exceptions_keep_their_text_and_where_they_came_from() {
        let frame = json!({ "callFrames": [{ "url": "http://u:p@h/app.js", "lineNumber": 11, "columnNumber": 4 }] });
        let error = json!({ "method": "Runtime.consoleAPICalled", "params": { "type": "error", "timestamp": 1500.5,
            "args": [{ "type": "string", "value": "boom" }, { "type": "number", "value": 7 }], "stackTrace": frame } });
        let thrown = json!({ "method": "Runtime.exceptionThrown", "params": { "timestamp": 1600.0, "exceptionDetails": {
            "text": "Uncaught", "url": "http://h/", "lineNumber": 2, "columnNumber": 9,
            "exception": { "type": "object", "description": "Error: bang\n    at http://h/:3:10" } } } });
        let info = json!({ "method": "Runtime.consoleAPICalled", "params": { "type": "log", "args": [] } });
        let (state, _) = filed(&[error, thrown, info]);
        let signals = state.kept.signals(None);
        let s = &signals.entries[0];
        assert_eq!(
            (s.kind, s.text.as_str(), s.url.as_deref()),
            (SignalKind::ConsoleError, "boom 7", Some("http://***@h/app.js:12:5"))
        );
        let e = &signals.entries[1];
        assert_eq!(
            (e.kind, e.text.as_str(), e.url.as_deref()),
            (SignalKind::Exception, "Error: bang", Some("http://h/:3:10"))
        );
        assert_eq!(signals.entries.len(), 2, "a console.log is no signal");
    }

    #[test]
    fn a_response_of_400_or_more_and_a_refused_request_fail_and_an_abandoned_one_does_not() {
        let sent = |id: &str, url: &str, kind: &str| {
            json!({ "method": "Network.requestWillBeSent", "sessionId": "S",
            "params": { "requestId": id, "type": kind, "request": { "method": "GET", "url": url } } })
        };
        let answered = |id: &str, status: u64| {
            json!({ "method": "Network.responseReceived", "sessionId": "S",
            "params": { "requestId": id, "response": { "status": status } } })
        };
        let finished =
            |id: &str| json!({ "method": "Network.loadingFinished", "sessionId": "S", "params": { "requestId": id } });
        let failed = |id: &str, text: &str, canceled: bool| {
            json!({ "method": "Network.loadingFailed", "sessionId": "S",
            "params": { "requestId": id, "errorText": text, "canceled": canceled } })
        };
        let (state, _) = filed(&[
            sent("1", "http://h/ok", "Document"),
            answered("1", 200),
            finished("1"),
            sent("2", "http://h/x.png?token=s3cret", "Image"),
            answered("2", 404),
            failed("2", "net::ERR_HTTP_RESPONSE_CODE_FAILURE", false),
            sent("3", "http://h/api", "Fetch"),
            failed("3", "net::ERR_CONNECTION_REFUSED", false),
            sent("4", "http://h/gone", "Image"),
            failed("4", "net::ERR_ABORTED", true),
            sent("5", "http://h/slow", "XHR"),
        ]);
        let lines: Vec<(String, Option<String>)> =
            state.kept.signals(None).entries.iter().map(|s| (s.request_line(), s.resource.clone())).collect();
        assert_eq!(
            lines,
            vec![
                ("GET /x.png?token=*** → 404".to_string(), Some("image".to_string())),
                ("GET /api → failed (net::ERR_CONNECTION_REFUSED)".to_string(), Some("fetch".to_string())),
            ]
        );
        assert_eq!(state.in_flight.len(), 1, "only the request with no outcome yet is in flight");
    }

    #[test]
    fn a_page_attached_after_the_start_is_a_tab_opened() {
        let browser = Browser::new();
        browser.tell(&attached("A", "first", "page", false));
        if let Ok(mut s) = browser.state.lock() {
            s.first_pages = s.pages.keys().cloned().collect();
            s.started = true;
        }
        assert!(!browser.state.lock().expect("state").tab_opened, "the first window is no tab a page opened");
        browser.tell(&attached("W", "worker", "service_worker", true));
        assert!(!browser.state.lock().expect("state").tab_opened);
        browser.tell(&attached("B", "popup", "page", true));
        assert!(browser.state.lock().expect("state").tab_opened);
    }

    /// Issue 22: every setup command went out with id 0; the browser refused the ones
    /// whose id was still waiting ("Duplicate `id` in protocol request"), and under load a
    /// page's `Network.enable` was among them: its frame's 404 was never reported.
    #[test]
    fn a_target_is_let_run_after_its_domains_are_turned_on_each_command_with_an_id_of_its_own() {
        let mut browser = Browser::new();
        browser.tell(&attached("A", "page-a", "page", true));
        browser.tell(&attached("W", "worker-w", "worker", true));
        browser.tell(&attached("S", "service", "service_worker", true));
        let sent = browser.sent();
        let methods: Vec<(&str, &str)> =
            sent.iter().map(|c| (c["sessionId"].as_str().unwrap_or(""), c["method"].as_str().unwrap_or(""))).collect();
        assert_eq!(
            methods,
            [
                ("A", "Runtime.enable"),
                ("A", "Network.enable"),
                ("A", "Target.setAutoAttach"),
                ("A", "Runtime.runIfWaitingForDebugger"),
                ("W", "Runtime.enable"),
                ("W", "Network.enable"),
                ("W", "Runtime.runIfWaitingForDebugger"),
                ("S", "Runtime.runIfWaitingForDebugger"),
            ]
        );
        let ids: HashSet<u64> = sent.iter().filter_map(|c| c["id"].as_u64()).collect();
        assert_eq!(ids.len(), sent.len(), "no two commands share an id");
        for command in &sent {
            browser.answer(command, None);
        }
        assert_eq!(browser.state.lock().expect("state").blind(), None);
    }

    #[test]
    fn a_domain_the_browser_refused_makes_the_signals_say_they_were_not_all_heard() {
        let mut browser = Browser::new();
        browser.tell(&attached("A", "page-a", "page", true));
        let setup = browser.sent();
        assert_eq!(setup[3]["method"], "Runtime.runIfWaitingForDebugger", "never left hanging");
        browser.answer(&setup[0], None);
        browser.answer(&setup[1], Some("Duplicate `id` in protocol request"));
        browser.answer(&setup[2], None);
        let why = browser.state.lock().expect("state").blind();
        assert_eq!(
            why.as_deref(),
            Some("failed to turn on Network.enable for a page (http://h/): Duplicate `id` in protocol request")
        );
        browser.tell(&json!({ "method": "Target.detachedFromTarget", "params": { "sessionId": "A" } }));
        assert!(browser.state.lock().expect("state").blind().is_some(), "the attempt it ran in missed what it said");
        browser.state.lock().expect("state").start_attempt();
        assert_eq!(browser.state.lock().expect("state").blind(), None, "the next attempt hears every target");
    }

    #[test]
    fn a_worker_s_script_asked_for_by_its_page_and_answered_on_the_worker_s_target_is_no_longer_in_flight() {
        let (state, _) = filed(&[
            json!({ "method": "Network.requestWillBeSent", "sessionId": "PAGE",
                "params": { "requestId": "W1", "type": "Other", "request": { "method": "GET", "url": "blob:http://h/1" } } }),
            json!({ "method": "Network.loadingFinished", "sessionId": "WORKER", "params": { "requestId": "W1" } }),
        ]);
        assert!(state.in_flight.is_empty(), "the barrier would wait for it until its limit, every scenario");
    }
}
