//! How the browser's signals (console, exceptions, failed requests) read in the reports:
//! one line per entry, shared by `signals.txt` and the HTML report, and the one line of
//! the failure message.

use crate::browser::{Signal, SignalKind, Signals};
use crate::shared::redact::redact_text;
use crate::shared::terminal::escape_line;

/// The failure message's line about the browser ("browser: 2 console errors; POST
/// /lists/new → 500"), when it reported anything.
pub fn summary_line(signals: &Signals) -> Option<String> {
    signals.summary().map(|s| format!("browser: {}", escape_line(&redact_text(&s))))
}

/// One entry on one line: when, what, and where it came from (redacted, controls escaped).
pub fn entry_line(s: &Signal) -> String {
    let what = match s.kind {
        SignalKind::ConsoleError => "console error",
        SignalKind::ConsoleWarning => "console warning",
        SignalKind::Exception => "exception",
        SignalKind::FailedRequest => "failed request",
    };
    let detail = match s.kind {
        SignalKind::FailedRequest => {
            let mut line = format!("{} {}", s.method.as_deref().unwrap_or("GET"), s.url.as_deref().unwrap_or("?"));
            match s.status {
                Some(status) => line.push_str(&format!(" → {status}")),
                None => line.push_str(" → no answer"),
            }
            if let Some(resource) = &s.resource {
                line.push_str(&format!(" ({resource})"));
            }
            if !s.text.is_empty() {
                line.push_str(&format!(": {}", s.text));
            }
            line
        }
        _ => match &s.url {
            Some(url) => format!("{} (at {url})", s.text),
            None => s.text.clone(),
        },
    };
    let at = format!("+{}.{:03}s", s.at_ms / 1000, s.at_ms % 1000);
    format!("{at:>9}  {what:<15}  {}", escape_line(&redact_text(&detail)))
}

/// `signals.txt`: the summary, how the signals were collected, then every entry.
pub fn text(signals: &Signals) -> String {
    let mut out = String::new();
    match signals.summary() {
        Some(summary) => out.push_str(&format!("{}\n", redact_text(&summary))),
        None => out.push_str("nothing reported\n"),
    }
    if let Some(source) = &signals.source {
        out.push_str(&format!("collected by: {source}\n"));
    }
    out.push('\n');
    for entry in &signals.entries {
        out.push_str(&entry_line(entry));
        out.push('\n');
    }
    if signals.dropped > 0 {
        out.push_str(&format!("... and {} more not kept (the session keeps a bounded number)\n", signals.dropped));
    }
    out
}
