//! Capture steps: wait, as an expectation does, until the page shows something to
//! capture (an element, a match of the pattern), then set it as a value of the attempt.
//! A count or a URL is read in the look the next step makes anyway: no round trip of its own.

use super::expect::{no_match, Inspect, LastPage};
use super::{ScenarioState, StepError};
use crate::browser::{Inspection, Session};
use crate::shared::redact::without_userinfo;
use crate::spec::{Capture, CaptureFrom};
use crate::wait::{self, Check, Patience};

/// What the capture looks at: with `next`, the next step's first look, for a count or a
/// URL (that look serves both steps).
pub(super) fn inspects(capture: &Capture, next: Option<Inspect>) -> Inspect {
    match &capture.from {
        CaptureFrom::Url => next.unwrap_or_else(Inspect::page),
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
