use super::*;
use tokio::sync::mpsc;

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
