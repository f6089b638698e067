//! Capture steps: wait, as an expectation does, until the page shows something to
//! capture (an element, a match of the pattern), then set it as a value of the attempt.
//! A count or a URL is read in the look the next step makes anyway: no round trip of its own.
//! An email is waited for in the inbox instead, and never in the browser (`from_email`).

use std::time::{Duration, SystemTime};

use super::expect::{no_match, Inspect, LastPage};
use super::{ScenarioState, StepError};
use crate::browser::{Inspection, Session};
use crate::mail::{self, Look};
use crate::settings::Settings;
use crate::shared::redact::without_userinfo;
use crate::spec::{Capture, CaptureFrom};
use crate::wait::{self, Check, Patience, WaitError};

/// How often the inbox is looked at while a step waits for its email: each look is a
/// login to a mail server, so not as often as a page is.
const MAIL_POLL: Duration = Duration::from_millis(500);

/// What the capture looks at: with `next`, the next step's first look, for a count or a
/// URL (that look serves both steps).
pub(super) fn inspects(capture: &Capture, next: Option<Inspect>) -> Inspect {
    match &capture.from {
        // An email is not read from the page: a look ahead at it sees only the page.
        CaptureFrom::Url | CaptureFrom::Email { .. } => next.unwrap_or_else(Inspect::page),
        CaptureFrom::CountOf(sel) => next.unwrap_or_else(Inspect::page).counting(&sel.locator),
        CaptureFrom::TextOf(sel) => Inspect::element(&sel.locator),
        CaptureFrom::Attribute { name, of } => Inspect::attribute(&of.locator, name),
    }
}

/// Look until there is something to capture, then set it.
pub(super) async fn run(
    capture: &Capture,
    what: Inspect,
    session: &Session,
    patience: Patience,
    state: &mut ScenarioState,
) -> Result<(), StepError> {
    let page = LastPage::default();
    let seen_by = &state.seen;
    let captured = wait::until(patience, || async {
        Ok(match seen_by.look(session, &what).await? {
            Ok(seen) => {
                page.note(&seen);
                match value_in(capture, &seen) {
                    Ok(value) => Check::Done(value),
                    Err(why) => Check::NotYet(why),
                }
            }
            Err(why) => Check::NotYet(why),
        })
    })
    .await
    .map_err(|e| page.explain(e, state.request.as_ref()))?;
    state.values.set(&capture.name, captured, capture.secret);
    Ok(())
}

/// Wait for the email in the inbox (the page is not looked at), set what it captured; the
/// message is deleted once read (`mail::take`).
pub(super) async fn from_email(
    capture: &Capture,
    settings: &Settings,
    state: &mut ScenarioState,
) -> Result<(), StepError> {
    let CaptureFrom::Email { to, subject, timeout } = &capture.from else {
        return Err(StepError::Refused { message: "this capture does not read email".into() });
    };
    // `job` refuses a run whose scenarios read email with no inbox, before any browser.
    let Some(inbox) = &settings.inbox else {
        return Err(StepError::Refused {
            message: "there is no inbox to read email from\n  hint: give --inbox URL (or `inbox` in ft.toml [run])"
                .into(),
        });
    };
    let wanted = mail::Wanted {
        to,
        subject,
        since: state.started.unwrap_or_else(SystemTime::now),
        regex: capture.regex.as_ref(),
        secret: capture.secret,
    };
    let patience = Patience { max_wait: timeout.unwrap_or(settings.mail_wait), poll: MAIL_POLL };
    let found = wait::until(patience, || async {
        match mail::take(inbox, &settings.trust, &wanted).await {
            Ok(Look::Found(value)) => Ok(Check::Done(value)),
            Ok(Look::NotYet(held)) => Ok(Check::NotYet(held)),
            Err(e) if e.is_fatal() => Err(e),
            // A server restarting, a connection cut: worth another look.
            Err(e) => Ok(Check::NotYet(e.to_string())),
        }
    })
    .await;
    match found {
        Ok(value) => {
            state.values.set(&capture.name, value, capture.secret);
            Ok(())
        }
        Err(WaitError::Fatal(e)) => Err(StepError::Failed { message: e.to_string(), last_seen: None }),
        Err(WaitError::TimedOut(t)) => Err(StepError::Failed {
            message: format!(
                "no email to {to} with subject {subject:?} came within {}s ({} looks at {} in {:.1}s)",
                patience.max_wait.as_secs_f64(),
                t.checks,
                inbox.source,
                t.waited.as_secs_f64()
            ),
            last_seen: Some(t.last_seen),
        }),
    }
}

/// The value `seen` holds for `capture`, or why there is none yet.
fn value_in(capture: &Capture, seen: &Inspection) -> Result<String, String> {
    let read = match &capture.from {
        CaptureFrom::Url => without_userinfo(&seen.url),
        CaptureFrom::CountOf(_) => match seen.also_count {
            Some(n) => n.to_string(),
            None => return Err("the browser did not count the elements".into()),
        },
        CaptureFrom::TextOf(sel) => match &seen.text {
            Some(t) => t.clone(),
            None => return Err(no_match(sel, seen)),
        },
        CaptureFrom::Attribute { name, of } => match (&seen.attr, seen.count) {
            (Some(v), _) => v.clone(),
            (None, 0) => return Err(no_match(of, seen)),
            (None, _) => return Err(format!("{of} has no {name} attribute")),
        },
        CaptureFrom::Email { .. } => return Err("an email is read from the inbox, not the page".into()),
    };
    let Some(re) = &capture.regex else { return Ok(read) };
    match re.captures(&read) {
        Some(found) => Ok(found.get(1).or_else(|| found.get(0)).map_or("", |m| m.as_str()).to_string()),
        // A secret's source is not shown: it holds the secret once it matches.
        None if capture.secret => {
            Err(format!("the text read does not match /{}/ yet (not shown: secret)", re.as_str()))
        }
        None => Err(format!("{:?} does not match /{}/", super::clip(&read), re.as_str())),
    }
}
