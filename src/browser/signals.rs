//! What the browser reported while a scenario ran, besides the page itself: console
//! errors and warnings, uncaught JavaScript exceptions, and requests that failed (HTTP
//! status ≥ 400, or no answer at all). Collected per attempt by the session; the runner
//! asserts on them and the reports write and summarise them.

use serde::{Deserialize, Serialize};

/// One thing the browser reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// Milliseconds since the attempt started, as far as the browser's clock tells.
    pub at_ms: u64,
    /// The console message or the exception's text (for a request: the browser's error
    /// text, e.g. `net::ERR_CONNECTION_REFUSED`, or empty).
    pub text: String,
    /// For a request: its method (`GET`, `POST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request's URL, or where the message or exception came from (`URL:line:col`);
    /// credentials removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a request: the HTTP status, or `None` when no answer came (a network error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For a request: what the page asked for (`document`, `script`, `image`, `fetch`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    ConsoleError,
    ConsoleWarning,
    /// An uncaught exception or unhandled promise rejection.
    Exception,
    FailedRequest,
}

/// Everything the browser reported during one attempt, in the order it arrived.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    pub entries: Vec<Signal>,
    /// Entries not kept because the attempt reported more than a session keeps.
    #[serde(default)]
    pub dropped: usize,
    /// How the signals were collected (`bidi`, or the fallback's name); `None` when they
    /// were not (an old browser, or signals turned off): then "none" proves nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Signals {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.dropped == 0
    }

    pub fn count(&self, kind: SignalKind) -> usize {
        self.entries.iter().filter(|s| s.kind == kind).count()
    }

    /// One line for a failure message, most telling first: "2 console errors; 1
    /// exception; POST /lists/new → 500; GET /missing.png → 404"; `None` when there is
    /// nothing to say. Warnings are counted only when nothing worse happened; at most
    /// three requests are named, then "and N more".
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let errors = self.count(SignalKind::ConsoleError);
        if errors > 0 {
            parts.push(plural(errors, "console error", "console errors"));
        }
        let exceptions = self.count(SignalKind::Exception);
        if exceptions > 0 {
            parts.push(plural(exceptions, "uncaught exception", "uncaught exceptions"));
        }
        let requests: Vec<&Signal> = self.entries.iter().filter(|s| s.kind == SignalKind::FailedRequest).collect();
        for r in requests.iter().take(3) {
            parts.push(r.request_line());
        }
        if requests.len() > 3 {
            parts.push(format!("and {} more failed requests", requests.len() - 3));
        }
        let warnings = self.count(SignalKind::ConsoleWarning);
        if parts.is_empty() && warnings > 0 {
            parts.push(plural(warnings, "console warning", "console warnings"));
        }
        if self.dropped > 0 {
            parts.push(format!("{} more not kept", self.dropped));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl Signal {
    /// A failed request in a few words: "POST /lists/new → 500", or "GET /x.js → failed
    /// (net::ERR_CONNECTION_REFUSED)". Same-origin URLs lose nothing but are shown by
    /// path when the reader cannot confuse them: the full URL is in the evidence file.
    pub fn request_line(&self) -> String {
        let method = self.method.as_deref().unwrap_or("GET");
        let url = self.url.as_deref().map(path_of).unwrap_or("?");
        match self.status {
            Some(status) => format!("{method} {url} → {status}"),
            None if self.text.is_empty() => format!("{method} {url} → failed"),
            None => format!("{method} {url} → failed ({})", self.text),
        }
    }
}

/// The most signals one attempt keeps; more are counted in `Signals.dropped`. A page
/// that logs an error per animation frame must not grow ft's memory without bound.
pub(super) const CAP: usize = 200;

/// The most characters of one signal's text kept (a page can log megabytes in one call).
const TEXT_MAX: usize = 1000;

/// What one attempt reported so far, as either way of collecting (BiDi, the browser's
/// log) keeps it: at most `CAP` entries, the rest counted, and when the attempt started.
#[derive(Debug, Default)]
pub(super) struct Kept {
    entries: Vec<Signal>,
    dropped: usize,
    /// When the attempt started, in ms since the epoch (as the browsers' timestamps are).
    pub(super) since_ms: u64,
}

impl Kept {
    /// Nothing yet: an attempt starts now.
    pub(super) fn starting_now() -> Kept {
        Kept { since_ms: now_ms(), ..Kept::default() }
    }

    /// Keep `signal`, its text cut at `TEXT_MAX` characters, up to `CAP` of them; both
    /// ways of collecting (BiDi and Chromium's log) keep through here.
    pub(super) fn push(&mut self, mut signal: Signal) {
        signal.text = crate::shared::text::clip(&signal.text, TEXT_MAX);
        if self.entries.len() < CAP {
            self.entries.push(signal);
        } else {
            self.dropped += 1;
        }
    }

    pub(super) fn signals(&self, source: Option<String>) -> Signals {
        Signals { entries: self.entries.clone(), dropped: self.dropped, source }
    }
}

pub(super) fn now_ms() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The path and query of an http(s) URL (what a reader of a summary needs); other
/// strings whole.
fn path_of(url: &str) -> &str {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else { return url };
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both collectors keep through `Kept::push`: the Chromium-log fallback used to keep
    /// a console message whole where BiDi cut it at 1,000 characters.
    #[test]
    fn a_kept_signal_is_cut_to_the_one_limit_whichever_collector_kept_it() {
        let mut kept = Kept::starting_now();
        kept.push(Signal { text: "x".repeat(5 * TEXT_MAX), ..request("GET", "/", None, "") });
        let text = &kept.signals(None).entries[0].text;
        assert_eq!(text.chars().count(), TEXT_MAX + 1, "cut, with its ellipsis");
        assert!(text.ends_with('…'));
    }

    fn request(method: &str, url: &str, status: Option<u16>, text: &str) -> Signal {
        Signal {
            kind: SignalKind::FailedRequest,
            at_ms: 0,
            text: text.into(),
            method: Some(method.into()),
            url: Some(url.into()),
            status,
            resource: Some("fetch".into()),
        }
    }

    fn console(kind: SignalKind, text: &str) -> Signal {
        Signal { kind, at_ms: 0, text: text.into(), method: None, url: None, status: None, resource: None }
    }

    #[test]
    fn the_summary_counts_errors_and_names_failed_requests() {
        let signals = Signals {
            entries: vec![
                console(SignalKind::ConsoleError, "boom"),
                console(SignalKind::ConsoleWarning, "meh"),
                request("POST", "http://127.0.0.1:8000/lists/new", Some(500), ""),
                console(SignalKind::ConsoleError, "bang"),
                request("GET", "http://127.0.0.1:8000/x.js?v=1", None, "net::ERR_CONNECTION_REFUSED"),
            ],
            dropped: 0,
            source: Some("bidi".into()),
        };
        assert_eq!(
            signals.summary().as_deref(),
            Some("2 console errors; POST /lists/new → 500; GET /x.js?v=1 → failed (net::ERR_CONNECTION_REFUSED)")
        );
    }

    #[test]
    fn warnings_are_told_only_when_nothing_worse_happened() {
        let only_warnings = Signals { entries: vec![console(SignalKind::ConsoleWarning, "meh")], ..Signals::default() };
        assert_eq!(only_warnings.summary().as_deref(), Some("1 console warning"));
        assert_eq!(Signals::default().summary(), None);
    }

    #[test]
    fn many_failed_requests_are_cut_after_three() {
        let entries = (0..5).map(|i| request("GET", &format!("http://h/{i}.png"), Some(404), "")).collect();
        let signals = Signals { entries, dropped: 2, source: None };
        assert_eq!(
            signals.summary().as_deref(),
            Some("GET /0.png → 404; GET /1.png → 404; GET /2.png → 404; and 2 more failed requests; 2 more not kept")
        );
    }
}
