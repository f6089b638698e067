//! The signal expectations (`expect_no_console_errors`, `expect_no_failed_requests`, the
//! `[suite] signals` check): what the browser reported during the attempt, judged once.
//! No waiting: errors only accumulate, so a later look cannot mend an earlier one.

use super::StepError;
use crate::browser::{Session, Signal, SignalKind, Signals};
use crate::spec::SignalCheck;

/// Judge what the browser reported so far in this attempt.
pub(super) async fn expect(check: &SignalCheck, session: &Session) -> Result<(), StepError> {
    let signals = session.signals().await;
    judge(check, &signals, session.signals_missing().as_deref(), session.signals_turned_off())
        .map_err(|message| StepError::Failed { message, last_seen: None })
}

/// `Ok` when no signal fails `check`, else every offending signal. Signals that were not
/// collected never pass silently: a written step fails and says why; the suite's check
/// is skipped only when the user turned signals off.
fn judge(check: &SignalCheck, signals: &Signals, missing: Option<&str>, turned_off: bool) -> Result<(), String> {
    if signals.source.is_none() {
        if check.from_suite && turned_off {
            return Ok(());
        }
        let why = missing.unwrap_or("no signals were collected");
        return Err(format!("cannot tell: the browser's signals were not collected ({why})"));
    }
    let offending: Vec<&Signal> = signals.entries.iter().filter(|s| fails_on(check, s)).collect();
    if offending.is_empty() && signals.dropped == 0 {
        return Ok(());
    }
    let mut parts = Vec::new();
    for (kind, one, many) in [
        (SignalKind::ConsoleError, "console error", "console errors"),
        (SignalKind::Exception, "uncaught exception", "uncaught exceptions"),
    ] {
        let of_kind: Vec<&Signal> = offending.iter().copied().filter(|s| s.kind == kind).collect();
        if !of_kind.is_empty() {
            let noun = if of_kind.len() == 1 { one } else { many };
            parts.push(format!("{} {noun}: {}", of_kind.len(), console_lines(&of_kind)));
        }
    }
    for request in offending.iter().filter(|s| s.kind == SignalKind::FailedRequest) {
        let resource = request.resource.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        parts.push(format!("{}{resource}", request.request_line()));
    }
    if signals.dropped > 0 {
        parts.push(format!(
            "and {} more signals not kept (an attempt keeps {}), which may be errors",
            signals.dropped,
            signals.entries.len()
        ));
    }
    Err(parts.join("; "))
}

/// True when `signal` fails `check`: its kind is checked and no allow pattern matches
/// its text or its URL.
fn fails_on(check: &SignalCheck, signal: &Signal) -> bool {
    let checked = match signal.kind {
        SignalKind::ConsoleError | SignalKind::Exception => check.console_errors,
        SignalKind::FailedRequest => check.failed_requests,
        SignalKind::ConsoleWarning => false,
    };
    let allowed = || {
        check.allow.iter().any(|re| re.is_match(&signal.text) || signal.url.as_deref().is_some_and(|u| re.is_match(u)))
    };
    checked && !allowed()
}

/// The messages of `signals` (one kind), the same message once: `"boom" (http://h/a.js:1:5),
/// "bang" ×3 (http://h/:10:2, http://h/lists/1/:10:2)` — a script that throws on every
/// page is one line, not one per page. At most three places per message are named.
fn console_lines(signals: &[&Signal]) -> String {
    let mut groups: Vec<(&str, usize, Vec<&str>)> = Vec::new();
    for signal in signals {
        let at = signal.url.as_deref();
        match groups.iter_mut().find(|(text, _, _)| *text == signal.text) {
            Some((_, n, places)) => {
                *n += 1;
                places.extend(at.filter(|u| !places.contains(u)));
            }
            None => groups.push((&signal.text, 1, at.into_iter().collect())),
        }
    }
    let line = |(text, n, places): &(&str, usize, Vec<&str>)| {
        let times = if *n > 1 { format!(" ×{n}") } else { String::new() };
        let mut shown: Vec<String> = places.iter().take(3).map(|p| p.to_string()).collect();
        if places.len() > 3 {
            shown.push(format!("and {} more places", places.len() - 3));
        }
        let text = super::clip(text);
        match shown.is_empty() {
            true => format!("{text:?}{times}"),
            false => format!("{text:?}{times} ({})", shown.join(", ")),
        }
    };
    groups.iter().map(line).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: SignalKind, text: &str, url: &str) -> Signal {
        Signal { kind, at_ms: 0, text: text.into(), method: None, url: Some(url.into()), status: None, resource: None }
    }

    fn failed(url: &str, status: u16, resource: &str) -> Signal {
        Signal {
            method: Some("GET".into()),
            status: Some(status),
            resource: Some(resource.into()),
            ..signal(SignalKind::FailedRequest, "", url)
        }
    }

    fn collected(entries: Vec<Signal>) -> Signals {
        Signals { entries, dropped: 0, source: Some("bidi".into()) }
    }

    fn both(allow: &[&str]) -> SignalCheck {
        let allow = allow.iter().map(|p| regex::Regex::new(p).expect("pattern")).collect();
        SignalCheck { console_errors: true, failed_requests: true, allow, from_suite: false }
    }

    #[test]
    fn the_failure_names_every_offending_signal() {
        let signals = collected(vec![
            signal(SignalKind::ConsoleError, "boom", "http://h/page:12:5"),
            signal(SignalKind::ConsoleWarning, "meh", "http://h/page:1:1"),
            signal(SignalKind::Exception, "Uncaught Error: bang", "http://h/page:13:1"),
            failed("http://h/missing.png", 404, "image"),
            failed("http://h/api", 500, "fetch"),
        ]);
        assert_eq!(
            judge(&both(&[]), &signals, None, false),
            Err("1 console error: \"boom\" (http://h/page:12:5); 1 uncaught exception: \"Uncaught Error: bang\" \
                 (http://h/page:13:1); GET /missing.png → 404 (image); GET /api → 500 (fetch)"
                .into())
        );
        let only_requests = SignalCheck { console_errors: false, ..both(&[]) };
        assert_eq!(
            judge(&only_requests, &signals, None, false),
            Err("GET /missing.png → 404 (image); GET /api → 500 (fetch)".into())
        );
    }

    #[test]
    fn the_same_message_from_many_pages_is_told_once_with_its_count_and_places() {
        let bang = |url: &str| signal(SignalKind::Exception, "TypeError: x is undefined", url);
        let signals = collected(vec![
            bang("http://h/:10:2"),
            bang("http://h/lists/1/:10:2"),
            bang("http://h/lists/1/:10:2"),
            signal(SignalKind::Exception, "other", "http://h/a.js:1:1"),
        ]);
        assert_eq!(
            judge(&both(&[]), &signals, None, false),
            Err("4 uncaught exceptions: \"TypeError: x is undefined\" ×3 (http://h/:10:2, http://h/lists/1/:10:2), \
                 \"other\" (http://h/a.js:1:1)"
                .into())
        );
    }

    #[test]
    fn allow_patterns_match_the_text_or_the_url() {
        let signals = collected(vec![
            signal(SignalKind::ConsoleError, "boom", "http://h/page:12:5"),
            failed("http://h/missing.png", 404, "image"),
        ]);
        assert_eq!(judge(&both(&["^boom$", r"missing\.png$"]), &signals, None, false), Ok(()));
        assert_eq!(judge(&both(&["^boom$"]), &signals, None, false), Err("GET /missing.png → 404 (image)".into()));
    }

    #[test]
    fn signals_not_collected_fail_a_written_step_and_skip_the_suite_check_only_when_turned_off() {
        let missing = Signals::default();
        let why = Some("signals are turned off (--no-signals)");
        let err = judge(&both(&[]), &missing, why, true).unwrap_err();
        assert!(err.contains("not collected (signals are turned off (--no-signals))"), "{err}");
        let suite = SignalCheck { from_suite: true, ..both(&[]) };
        assert_eq!(judge(&suite, &missing, why, true), Ok(()));
        let no_bidi = Some("the remote end offered no WebDriver BiDi WebSocket");
        assert!(judge(&suite, &missing, no_bidi, false).unwrap_err().contains("offered no WebDriver BiDi"));
    }

    #[test]
    fn signals_not_kept_are_not_taken_for_clean() {
        let signals = Signals { entries: Vec::new(), dropped: 7, source: Some("bidi".into()) };
        let err = judge(&both(&[]), &signals, None, false).unwrap_err();
        assert!(err.contains("7 more signals not kept"), "{err}");
    }
}
