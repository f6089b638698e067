//! Signals over WebDriver BiDi: at session start, one subscription to console entries,
//! exceptions and network events on the session's BiDi WebSocket; a task keeps what each
//! attempt reported (bounded) until the runner asks. No WebDriver HTTP command is added
//! per step: the events are pushed to ft, and the one round trip per read (a barrier) is
//! a BiDi message on the WebSocket.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use thirtyfour::bidi::{BiDi, RawEvent};
use thirtyfour::WebDriver;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::signals::{Kept, Signal, SignalKind, Signals};
use crate::shared::redact::{redact, redact_text};

/// What `Signals.source` says for signals collected here.
pub(super) const SOURCE: &str = "bidi";

/// The events subscribed to, once per session. `beforeRequestSent` tells which requests
/// are in flight, so that reading the signals can wait for their outcome.
/// `contextCreated` tells that a page opened a tab (a link with `target="_blank"`,
/// `window.open`), which the next visitor must not find (`Session::leave`).
const EVENTS: [&str; 5] = [
    "log.entryAdded",
    "network.beforeRequestSent",
    "network.responseCompleted",
    "network.fetchError",
    "browsingContext.contextCreated",
];

/// The most requests tracked as in flight; beyond it (requests that never end, such as
/// event streams) the oldest knowledge is dropped rather than memory grown.
const IN_FLIGHT_MAX: usize = 1000;

/// A session's signal collection: the BiDi connection, the task that files its events,
/// and what the current attempt reported so far.
pub(super) struct Collector {
    bidi: BiDi,
    /// The top-level browsing context the session drives now (its first window, or the
    /// tab of the current user context): where the barrier's script runs. The
    /// subscription is the session's, so it covers the user contexts made later.
    context: Mutex<String>,
    buffer: Arc<Mutex<Buffer>>,
    /// Told whenever a request ends.
    ended: Arc<Notify>,
    flush: mpsc::UnboundedSender<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Buffer {
    /// What the current attempt reported.
    kept: Kept,
    /// The ids of requests sent and not yet answered or failed.
    in_flight: HashSet<String>,
    /// The WebSocket closed: what the browser reports from then on is lost.
    closed: bool,
    /// A tab (a top-level browsing context) was opened since `take_tab_opened`.
    tab_opened: bool,
    /// The session's first window, which the browser may report as created once the
    /// subscription starts: not a tab a page opened.
    first_window: String,
}

impl Collector {
    /// Connect to the session's BiDi WebSocket and subscribe, within `limit`. An error
    /// says why signals will not be collected; the session works without them.
    pub(super) async fn start(wd: &WebDriver, limit: Duration) -> Result<Collector, String> {
        match tokio::time::timeout(limit, Collector::connect(wd)).await {
            Ok(r) => r,
            Err(_) => Err(format!("the BiDi WebSocket did not answer within {limit:?}")),
        }
    }

    async fn connect(wd: &WebDriver) -> Result<Collector, String> {
        if !wd.capabilities().get("webSocketUrl").is_some_and(Value::is_string) {
            return Err(
                "the remote end offered no WebDriver BiDi WebSocket (no webSocketUrl in its capabilities)".into()
            );
        }
        let bidi = wd.bidi().await.map_err(|e| format!("failed to connect to the BiDi WebSocket: {e}"))?;
        // The local stream is taken before subscribing, so no early event is missed.
        let events = bidi.subscribe_raw();
        bidi.send_raw("session.subscribe", json!({ "events": EVENTS }))
            .await
            .map_err(|e| format!("failed to subscribe to {}: {e}", EVENTS.join(", ")))?;
        let tree = bidi
            .send_raw("browsingContext.getTree", json!({ "maxDepth": 0 }))
            .await
            .map_err(|e| format!("failed to find the browser's window over BiDi: {e}"))?;
        let context = tree["contexts"][0]["context"]
            .as_str()
            .ok_or_else(|| format!("browsingContext.getTree named no window: {tree}"))?
            .to_string();
        let buffer = Arc::new(Mutex::new(Buffer {
            kept: Kept::starting_now(),
            first_window: context.clone(),
            ..Buffer::default()
        }));
        let ended = Arc::new(Notify::new());
        let (flush, flushes) = mpsc::unbounded_channel();
        let task = tokio::spawn(file_events(events, flushes, Arc::clone(&buffer), Arc::clone(&ended)));
        Ok(Collector { bidi, context: Mutex::new(context), buffer, ended, flush, task })
    }

    /// The session drives `context` from now on (a new visitor's tab).
    pub(super) fn follow(&self, context: &str) {
        if let Ok(mut c) = self.context.lock() {
            *c = context.to_string();
        }
    }

    /// The top-level browsing context the session drives now.
    fn context(&self) -> String {
        self.context.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Whether a tab was opened since the last call; a closed WebSocket cannot tell.
    pub(super) fn take_tab_opened(&self) -> Option<bool> {
        let mut b = self.buffer.lock().ok()?;
        if b.closed {
            return None;
        }
        Some(std::mem::take(&mut b.tab_opened))
    }

    /// Forget what was reported so far: a new attempt starts.
    pub(super) fn mark(&self) {
        if let Ok(mut b) = self.buffer.lock() {
            let in_flight = std::mem::take(&mut b.in_flight);
            let first_window = std::mem::take(&mut b.first_window);
            *b = Buffer {
                kept: Kept::starting_now(),
                in_flight,
                closed: b.closed,
                tab_opened: b.tab_opened,
                first_window,
            };
        }
    }

    /// What the attempt reported up to now. A barrier first: a script round trip through
    /// the page, whose answer comes after every console entry the page made before it;
    /// then the task files everything that had arrived; then the requests in flight at
    /// that moment are waited for, since a page may act on a response (a fetch resolves
    /// on its headers) before the browser reports it. So a request that failed or an
    /// error logged just before this call is not missed. The barrier is bounded by
    /// `limit` (a page stuck in a loop does not answer, a long poll never ends); past
    /// it, what had arrived is returned.
    pub(super) async fn signals(&self, limit: Duration) -> Signals {
        let barrier = async {
            let script = json!({ "expression": "0", "target": { "context": self.context() }, "awaitPromise": false });
            let _ = self.bidi.send_raw("script.evaluate", script).await;
            let (done, filed) = oneshot::channel();
            if self.flush.send(done).is_ok() {
                let _ = filed.await;
            }
            let pending = self.buffer.lock().map(|b| b.in_flight.clone()).unwrap_or_default();
            loop {
                let ended = self.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                if self.buffer.lock().map_or(true, |b| b.in_flight.is_disjoint(&pending)) {
                    break;
                }
                ended.await;
            }
        };
        let _ = tokio::time::timeout(limit, barrier).await;
        let Ok(b) = self.buffer.lock() else { return Signals::default() };
        // After the WebSocket closed, "nothing more" proves nothing: no source then.
        let source = (!b.closed).then(|| SOURCE.to_string());
        b.kept.signals(source)
    }

    /// Mark every request of the session as synthetic: the browser's own user agent plus
    /// `suffix`, for the whole session (`emulation.setUserAgentOverride` with no context is
    /// global). For a Firefox ft did not start itself (a Grid's), whose version, and so
    /// user agent, is known only once it runs.
    /// Returns the whole user agent, for the user contexts made later.
    pub(super) async fn mark_user_agent(&self, suffix: &str) -> Result<String, String> {
        let asked = json!({ "expression": "navigator.userAgent", "target": { "context": self.context() }, "awaitPromise": false });
        let answer = self.bidi.send_raw("script.evaluate", asked).await.map_err(|e| format!("script.evaluate: {e}"))?;
        let own = answer["result"]["value"].as_str().ok_or_else(|| format!("no user agent in {answer}"))?;
        let marked = json!({ "userAgent": format!("{own} {suffix}") });
        self.bidi
            .send_raw("emulation.setUserAgentOverride", marked.clone())
            .await
            .map_err(|e| format!("emulation.setUserAgentOverride: {e}"))?;
        Ok(marked["userAgent"].as_str().unwrap_or_default().to_string())
    }

    /// The URL of the page in `tab`, over the signals' connection: readable while a
    /// dialog blocks WebDriver's own commands (see `Session::dialog_page`).
    pub(super) async fn page_url(&self, tab: &str, limit: Duration) -> Result<String, String> {
        let asked = self.bidi.send_raw("browsingContext.getTree", json!({ "root": tab, "maxDepth": 0 }));
        let tree = match tokio::time::timeout(limit, asked).await {
            Ok(Ok(tree)) => tree,
            Ok(Err(e)) => return Err(format!("browsingContext.getTree: {e}")),
            Err(_) => return Err(format!("browsingContext.getTree: no answer within {limit:?}")),
        };
        tree["contexts"][0]["url"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("browsingContext.getTree named no URL: {tree}"))
    }

    /// True once the BiDi WebSocket closed (the session ended, or a proxy cut it).
    pub(super) fn closed(&self) -> bool {
        self.buffer.lock().map_or(true, |b| b.closed)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The collector's task: file each event as it comes; answer a flush once every event
/// already received is filed (`biased`: events first).
async fn file_events(
    mut events: thirtyfour::bidi::RawEventStream,
    mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    buffer: Arc<Mutex<Buffer>>,
    ended: Arc<Notify>,
) {
    loop {
        tokio::select! {
            biased;
            event = events.next() => match event {
                Some(event) => {
                    file(&buffer, &event);
                    ended.notify_waiters();
                }
                None => break,
            },
            flush = flushes.recv() => match flush {
                Some(done) => { let _ = done.send(()); }
                None => break,
            },
        }
    }
    // The WebSocket closed: nothing is in flight any more; answer flushes at once.
    if let Ok(mut b) = buffer.lock() {
        b.in_flight.clear();
        b.closed = true;
    }
    ended.notify_waiters();
    while let Some(done) = flushes.recv().await {
        let _ = done.send(());
    }
}

fn file(buffer: &Mutex<Buffer>, event: &RawEvent) {
    let Ok(mut b) = buffer.lock() else { return };
    if event.method == "browsingContext.contextCreated" {
        b.tab_opened |= event.params["parent"].is_null() && event.params["context"] != b.first_window.as_str();
        return;
    }
    if let Some(id) = event.params["request"]["request"].as_str() {
        if event.method == "network.beforeRequestSent" {
            if b.in_flight.len() >= IN_FLIGHT_MAX {
                b.in_flight.clear();
            }
            b.in_flight.insert(id.to_string());
        } else {
            b.in_flight.remove(id);
        }
    }
    if let Some(signal) = signal_of(&event.method, &event.params, b.kept.since_ms) {
        b.kept.push(signal);
    }
}

/// The signal an event is, if it is one: console errors and warnings, uncaught
/// exceptions, responses with status ≥ 400 and requests that got no response. A request
/// the browser itself abandoned (the page navigated away) is no failure of the app.
pub(super) fn signal_of(method: &str, params: &Value, since_ms: u64) -> Option<Signal> {
    let at_ms = params["timestamp"].as_u64().unwrap_or(since_ms).saturating_sub(since_ms);
    let blank =
        |kind| Signal { kind, at_ms, text: String::new(), method: None, url: None, status: None, resource: None };
    match method {
        "log.entryAdded" => {
            let kind = match (params["type"].as_str(), params["level"].as_str()) {
                (Some("javascript"), _) => SignalKind::Exception,
                (_, Some("error")) => SignalKind::ConsoleError,
                (_, Some("warn")) => SignalKind::ConsoleWarning,
                _ => return None,
            };
            let text = redact_text(params["text"].as_str().unwrap_or(""));
            Some(Signal { text, url: origin(params), ..blank(kind) })
        }
        "network.responseCompleted" => {
            let status = params["response"]["status"].as_u64().and_then(|s| u16::try_from(s).ok())?;
            (status >= 400)
                .then(|| Signal { status: Some(status), ..request(params, blank(SignalKind::FailedRequest)) })
        }
        "network.fetchError" => {
            let text = params["errorText"].as_str().unwrap_or("").to_string();
            if is_abandoned(&text) {
                return None;
            }
            Some(Signal { text, ..request(params, blank(SignalKind::FailedRequest)) })
        }
        _ => None,
    }
}

/// Chromium's and Firefox's words for a request cancelled by the browser (a navigation
/// away, a replaced image source), not refused by anybody.
fn is_abandoned(error: &str) -> bool {
    error.contains("ERR_ABORTED") || error.contains("NS_BINDING_ABORTED")
}

/// A failed request's method, redacted URL and what the page asked for.
fn request(params: &Value, signal: Signal) -> Signal {
    let request = &params["request"];
    let resource = [&request["destination"], &request["initiatorType"]]
        .into_iter()
        .filter_map(|v| v.as_str())
        .find(|s| !s.is_empty())
        .map(|s| if s == "other" { "document" } else { s })
        .map(str::to_string)
        .or_else(|| is_navigation(params).then(|| "document".to_string()));
    Signal {
        method: request["method"].as_str().map(str::to_string),
        url: request["url"].as_str().map(redact),
        resource,
        ..signal
    }
}

/// A response to a page load rather than to something the page asked for.
fn is_navigation(params: &Value) -> bool {
    params["navigation"].is_string()
}

/// Where a console entry or exception came from: the top stack frame's `URL:line:col`
/// (1-based, as browsers' consoles show it).
fn origin(params: &Value) -> Option<String> {
    let frame = &params["stackTrace"]["callFrames"][0];
    let url = frame["url"].as_str().filter(|u| !u.is_empty())?;
    let line = frame["lineNumber"].as_u64().unwrap_or(0) + 1;
    let col = frame["columnNumber"].as_u64().unwrap_or(0) + 1;
    Some(format!("{}:{line}:{col}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::signals::CAP;

    #[test]
    fn console_errors_and_exceptions_keep_their_text_and_where_they_came_from() {
        let frame = json!({ "callFrames": [{ "url": "http://u:p@h/app.js", "lineNumber": 11, "columnNumber": 4 }] });
        let error =
            json!({ "type": "console", "level": "error", "text": "boom", "timestamp": 1500, "stackTrace": frame });
        let s = signal_of("log.entryAdded", &error, 1000).expect("a console error");
        assert_eq!((s.kind, s.text.as_str(), s.at_ms), (SignalKind::ConsoleError, "boom", 500));
        assert_eq!(s.url.as_deref(), Some("http://***@h/app.js:12:5"));
        let thrown = json!({ "type": "javascript", "level": "error", "text": "Uncaught Error: bang", "timestamp": 1 });
        assert_eq!(signal_of("log.entryAdded", &thrown, 0).map(|s| s.kind), Some(SignalKind::Exception));
        let info = json!({ "type": "console", "level": "info", "text": "hello", "timestamp": 1 });
        assert_eq!(signal_of("log.entryAdded", &info, 0), None);
    }

    #[test]
    fn only_responses_of_400_and_more_and_unanswered_requests_are_failed_requests() {
        let response = |status: u64| {
            json!({ "timestamp": 5, "request": { "method": "GET", "url": "http://h/x.png?token=s3cret",
                    "destination": "image" }, "response": { "status": status } })
        };
        assert_eq!(signal_of("network.responseCompleted", &response(200), 0), None);
        let s = signal_of("network.responseCompleted", &response(404), 0).expect("a failed request");
        assert_eq!(s.request_line(), "GET /x.png?token=*** → 404");
        assert_eq!(s.resource.as_deref(), Some("image"));
        let refused = json!({ "timestamp": 5, "errorText": "net::ERR_CONNECTION_REFUSED",
                              "request": { "method": "POST", "url": "http://h/api", "initiatorType": "fetch" } });
        let s = signal_of("network.fetchError", &refused, 0).expect("a network error");
        assert_eq!(s.request_line(), "POST /api → failed (net::ERR_CONNECTION_REFUSED)");
        let aborted = json!({ "errorText": "NS_BINDING_ABORTED", "request": { "method": "GET", "url": "http://h/" } });
        assert_eq!(signal_of("network.fetchError", &aborted, 0), None);
    }

    #[test]
    fn an_attempt_keeps_at_most_cap_signals_and_counts_the_rest() {
        let buffer = Mutex::new(Buffer::default());
        let event = RawEvent {
            method: "log.entryAdded".into(),
            params: json!({ "type": "console", "level": "error", "text": "again", "timestamp": 1 }),
        };
        for _ in 0..CAP + 3 {
            file(&buffer, &event);
        }
        let signals = buffer.lock().expect("lock").kept.signals(None);
        assert_eq!((signals.entries.len(), signals.dropped), (CAP, 3));
    }

    #[test]
    fn a_request_is_in_flight_from_its_sending_to_its_outcome() {
        let buffer = Mutex::new(Buffer::default());
        let event = |method: &str| RawEvent {
            method: method.into(),
            params: json!({ "request": { "request": "7", "method": "GET", "url": "http://h/" },
                            "response": { "status": 200 } }),
        };
        file(&buffer, &event("network.beforeRequestSent"));
        assert!(buffer.lock().expect("lock").in_flight.contains("7"));
        file(&buffer, &event("network.responseCompleted"));
        assert!(buffer.lock().expect("lock").in_flight.is_empty());
    }
}
