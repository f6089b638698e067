//! What each DevTools event means: a target attached is set up and let run, a request
//! is tracked until it ends, and console entries, exceptions and failed requests become
//! signals of the current attempt.

use super::*;

/// File one event. A page, frame or worker attached gets its domains turned on (and a
/// page or frame, the attaching of its own frames and workers), then is let run (see the
/// module's doc). The reading task sends these itself and does not wait: the answers come
/// to it (`answered`).
pub(super) fn file(state: &Mutex<State>, frame: &Value, outbox: &Outbox) {
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
pub(super) fn answered(state: &Mutex<State>, id: u64, frame: &Value) {
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
        at_ms: crate::browser::signals::now_ms().saturating_sub(since_ms),
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
