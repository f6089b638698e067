//! The fallback for a Chromium whose remote end offers no WebDriver BiDi: the browser's
//! own log (`goog:loggingPrefs`), read through chromedriver's `POST /se/log`. It knows
//! console errors and warnings, uncaught exceptions and failed loads (URL and status, not
//! the method or what kind of resource). Each read is one HTTP WebDriver command, made
//! only where signals are read (a failure's evidence, a signal check), never per step.

use std::sync::Mutex;

use serde_json::{json, Value};
use thirtyfour::WebDriver;

use super::signals::{Kept, Signal, SignalKind, Signals};
use crate::shared::redact::{redact, redact_text};

/// What `Signals.source` says for signals collected here.
pub(super) const SOURCE: &str = "chromium-log";

/// The browser log's entries of the current attempt, gathered over the reads.
pub(super) struct BrowserLog {
    kept: Mutex<Kept>,
}

impl BrowserLog {
    pub(super) fn new() -> BrowserLog {
        BrowserLog { kept: Mutex::new(Kept::starting_now()) }
    }

    pub(super) fn mark(&self) {
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Kept::starting_now();
        }
    }

    /// What the attempt reported up to now: chromedriver hands out each entry once, so
    /// the new ones join those read before. An error when the remote end keeps no log.
    pub(super) async fn signals(&self, wd: &WebDriver) -> Result<Signals, String> {
        let read = read(wd).await?;
        let Ok(mut kept) = self.kept.lock() else { return Ok(Signals::default()) };
        let since = kept.since_ms;
        for entry in read.iter().filter(|e| e["timestamp"].as_u64().unwrap_or(u64::MAX) >= since) {
            if let Some(signal) = signal_of(entry, since) {
                kept.push(signal);
            }
        }
        Ok(kept.signals(Some(SOURCE.into())))
    }
}

/// The capability that makes chromedriver keep the browser's log.
pub(super) fn capability() -> Value {
    json!({ "browser": "ALL" })
}

/// The log entries since the last read.
async fn read(wd: &WebDriver) -> Result<Vec<Value>, String> {
    let command = LogCommand(json!({ "type": "browser" }));
    let answer = wd.handle().cmd(thirtyfour::common::command::Command::ExtensionCommand(Box::new(command))).await;
    let value = answer.and_then(|r| r.value_json()).map_err(|e| super::short_message(&e))?;
    value.as_array().cloned().ok_or_else(|| format!("an unexpected answer: {value}"))
}

#[derive(Debug)]
struct LogCommand(Value);

impl thirtyfour::common::command::ExtensionCommand for LogCommand {
    fn parameters_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
    fn method(&self) -> reqwest::Method {
        reqwest::Method::POST
    }
    fn endpoint(&self) -> std::sync::Arc<str> {
        "/se/log".into()
    }
}

/// One log entry as a signal. Chromium writes `URL LINE:COL "message"` for the console
/// (`console-api`), `URL LINE:COL Uncaught ...` for exceptions (`javascript`), and
/// `URL - Failed to load resource: the server responded with a status of 404 (Not
/// Found)` or `... resource: net::ERR_...` for loads (`network`).
fn signal_of(entry: &Value, since_ms: u64) -> Option<Signal> {
    let message = entry["message"].as_str()?;
    let at_ms = entry["timestamp"].as_u64().unwrap_or(since_ms).saturating_sub(since_ms);
    let level = entry["level"].as_str().unwrap_or("");
    let blank =
        |kind| Signal { kind, at_ms, text: String::new(), method: None, url: None, status: None, resource: None };
    match entry["source"].as_str().unwrap_or("") {
        "network" => {
            let (url, why) = message.split_once(" - ")?;
            let why = why.trim_start_matches("Failed to load resource: ");
            let status = why
                .strip_prefix("the server responded with a status of ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|code| code.parse::<u16>().ok());
            if why.contains("ERR_ABORTED") {
                return None;
            }
            let text = if status.is_some() { String::new() } else { why.to_string() };
            Some(Signal { text, url: Some(redact(url)), status, ..blank(SignalKind::FailedRequest) })
        }
        source => {
            let kind = match (source, level) {
                ("javascript", "SEVERE") => SignalKind::Exception,
                (_, "SEVERE") => SignalKind::ConsoleError,
                (_, "WARNING") => SignalKind::ConsoleWarning,
                _ => return None,
            };
            // `URL LINE:COL text`: the place as `URL:line:col` (1-based), the rest as text.
            let mut parts = message.splitn(3, ' ');
            let (url, place, text) = (parts.next()?, parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (line, col) = place.split_once(':').unwrap_or(("", ""));
            let (line, col) = (line.parse::<u64>().ok(), col.parse::<u64>().ok());
            let (url, text) = match (line, col) {
                (Some(l), Some(c)) => (Some(format!("{}:{}:{}", redact(url), l + 1, c)), text),
                _ => (None, message),
            };
            let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
            Some(Signal { text: redact_text(text), url, ..blank(kind) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_log_lines_become_signals() {
        let entry = |source: &str, message: &str| json!({ "level": "SEVERE", "source": source, "message": message, "timestamp": 10 });
        let logged = signal_of(&entry("console-api", "http://h/noisy 0:133 \"boom\""), 0).expect("a console error");
        assert_eq!(
            (logged.kind, logged.text.as_str(), logged.url.as_deref()),
            (SignalKind::ConsoleError, "boom", Some("http://h/noisy:1:133"))
        );
        let thrown =
            signal_of(&entry("javascript", "http://h/noisy 0:169 Uncaught Error: kaboom"), 0).expect("an exception");
        assert_eq!((thrown.kind, thrown.text.as_str()), (SignalKind::Exception, "Uncaught Error: kaboom"));
        let missing = entry(
            "network",
            "http://h/missing.png - Failed to load resource: the server responded with a status of 404 (Not Found)",
        );
        assert_eq!(signal_of(&missing, 0).map(|s| s.request_line()).as_deref(), Some("GET /missing.png → 404"));
        let refused = entry("network", "http://h/x.js - Failed to load resource: net::ERR_CONNECTION_REFUSED");
        assert_eq!(
            signal_of(&refused, 0).map(|s| s.request_line()).as_deref(),
            Some("GET /x.js → failed (net::ERR_CONNECTION_REFUSED)")
        );
    }
}
