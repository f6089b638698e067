//! Expectations as named predicates: what to inspect, and how to judge what was seen.
//! `expect` re-inspects through `wait::until` until the judge accepts or patience runs
//! out, so every expectation is an explicit wait that fails with what it last saw. Each
//! expectation's predicate (what it inspects, how it judges) is in `predicates`.

use std::sync::Mutex;

use super::{Request, ScenarioState, StepError};
use crate::browser::{BrowserError, Inspection, Look, Session};
use crate::shared::locator::Locator;
use crate::spec::Expectation;
use crate::wait::{self, Check, Patience, WaitError};

pub(super) use predicates::{first_few, no_match};
use predicates::{predicate, Predicate};

/// What one check looks at: one `Session::inspect` round trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Inspect {
    /// A locator; `None` inspects the page itself (title, URL and, with `all`, text).
    locator: Option<Locator>,
    /// An attribute to read from the first match.
    attr: Option<String>,
    /// Every match's text (or, for the page, its body text), not only the first match's.
    all: bool,
    /// A second locator whose matches are counted in the same look (a capture's count,
    /// read in the look the next step makes anyway).
    also: Option<Locator>,
}

impl Inspect {
    /// The page's title and URL.
    pub(super) fn page() -> Inspect {
        Inspect { locator: None, attr: None, all: false, also: None }
    }

    /// The page's title, URL and body text.
    fn page_text() -> Inspect {
        Inspect { locator: None, attr: None, all: true, also: None }
    }

    /// The first element `locator` finds (and how many it finds).
    pub(super) fn element(locator: &Locator) -> Inspect {
        Inspect { locator: Some(locator.clone()), attr: None, all: false, also: None }
    }

    /// Every element `locator` finds, with their texts.
    pub(super) fn elements(locator: Locator) -> Inspect {
        Inspect { locator: Some(locator), attr: None, all: true, also: None }
    }

    /// This look, also counting the elements `locator` finds.
    pub(super) fn counting(self, locator: &Locator) -> Inspect {
        Inspect { also: Some(locator.clone()), ..self }
    }

    /// Whether what this look saw serves a step that looks at `what`: the same look, or
    /// this one with a count besides.
    pub(super) fn serves(&self, what: &Inspect) -> bool {
        self == what || (self.also.is_some() && what.also.is_none() && Inspect { also: None, ..self.clone() } == *what)
    }

    /// This look as the browser takes it.
    fn look(&self) -> Look<'_> {
        Look { locator: self.locator.as_ref(), attr: self.attr.as_deref(), all: self.all, also: self.also.as_ref() }
    }

    /// The attribute `name` of the first element `locator` finds.
    pub(super) fn attribute(locator: &Locator, name: &str) -> Inspect {
        Inspect { locator: Some(locator.clone()), attr: Some(name.to_string()), all: false, also: None }
    }
}

/// One inspection: what was seen, or why there is nothing to judge yet (the page may be
/// changing). A lost session or an invalid selector is fatal: re-checking cannot mend
/// either.
pub(super) async fn look(session: &Session, what: &Inspect) -> Result<Result<Inspection, String>, BrowserError> {
    let locator = what.locator.as_ref();
    match session.inspect_counting(locator, what.attr.as_deref(), what.all, what.also.as_ref()).await {
        Ok(seen) => match (&seen.error, locator.or(what.also.as_ref())) {
            (Some(err), Some(locator)) => {
                Err(BrowserError::WebDriver(format!("invalid selector {:?}: {err}", locator.to_string())))
            }
            _ => Ok(Ok(seen)),
        },
        Err(e) if e.is_session_lost() => Err(e),
        Err(e) => Ok(Err(format!("the browser said: {e}"))),
    }
}

/// What this scenario's inspections saw that the next step may use instead of another
/// round trip: the latest inspection (a visit's is made with the next step's own first
/// look), until a step acts. A step's first look takes it when it inspects the same
/// thing: a look made a moment earlier with nothing acting since, as valid as any poll;
/// should it not hold yet, the step looks again. Within a step every look is new.
#[derive(Debug, Default)]
pub(super) struct Seen(Mutex<SeenNow>);

#[derive(Debug, Default)]
struct SeenNow {
    /// The latest inspection of the step running now.
    last: Option<(Inspect, Inspection)>,
    /// The latest inspection of the step before, for this step's first look.
    before: Option<(Inspect, Inspection)>,
    /// A look of the step running now, and the same look counting what the capture after
    /// it counts: that look is made instead, and serves the capture.
    counting: Option<(Inspect, Inspect)>,
    /// The next step's first look, when the step running now is an expectation and so is
    /// the next: a wait held in the page makes it in the moment the page changes, so the
    /// next step judges what the page showed then, without a round trip.
    ahead: Option<Inspect>,
}

impl Seen {
    /// One inspection of `what`: the step before's latest if it inspected the same (used
    /// once), else a new look.
    pub(super) async fn look(
        &self,
        session: &Session,
        what: &Inspect,
    ) -> Result<Result<Inspection, String>, BrowserError> {
        let (asked, before) = match self.0.lock() {
            Ok(mut now) => {
                let asked = match &now.counting {
                    Some((plain, counted)) if plain == what => counted.clone(),
                    _ => what.clone(),
                };
                let before = now.before.take().filter(|(made, _)| made.serves(&asked));
                (asked, before)
            }
            Err(_) => (what.clone(), None),
        };
        let seen = match before {
            Some((_, seen)) => Ok(seen),
            None => look(session, &asked).await?,
        };
        if let (Ok(seen), Ok(mut now)) = (&seen, self.0.lock()) {
            now.last = Some((asked, seen.clone()));
        }
        Ok(seen)
    }

    /// What a look of `what` in the step running now inspects (see `SeenNow::counting`).
    pub(super) fn asked(&self, what: &Inspect) -> Inspect {
        match self.0.lock().ok().and_then(|now| now.counting.clone()) {
            Some((plain, counted)) if plain == *what => counted,
            _ => what.clone(),
        }
    }

    /// Keep `seen`, an inspection of `what`, as the latest.
    pub(super) fn keep(&self, what: Inspect, seen: Inspection) {
        if let Ok(mut now) = self.0.lock() {
            now.last = Some((what, seen));
        }
    }

    /// A new step begins: the latest inspection is the step before's (or, after a step
    /// that looked at nothing and changed nothing, such as `remember_url`, the one before).
    pub(super) fn next_step(&self) {
        if let Ok(mut now) = self.0.lock() {
            now.counting = None;
            now.ahead = None;
            if let Some(last) = now.last.take() {
                now.before = Some(last);
            }
        }
    }

    /// The step running now makes its looks of `plain` as `counted` (see `SeenNow::counting`).
    pub(super) fn count_too(&self, plain: Inspect, counted: Inspect) {
        if let Ok(mut now) = self.0.lock() {
            now.counting = Some((plain, counted));
        }
    }

    /// The step running now may make the next step's first look, `next` (see
    /// `SeenNow::ahead`).
    pub(super) fn look_ahead(&self, next: Inspect) {
        if let Ok(mut now) = self.0.lock() {
            now.ahead = Some(next);
        }
    }

    /// The next step's first look, if the step running now may make it.
    fn ahead(&self) -> Option<Inspect> {
        self.0.lock().ok().and_then(|now| now.ahead.clone())
    }

    /// The URL the latest inspection saw, if nothing acted since.
    pub(super) fn url(&self) -> Option<String> {
        let now = self.0.lock().ok()?;
        now.last.as_ref().or(now.before.as_ref()).map(|(_, seen)| seen.url.clone())
    }

    /// A step acted: the page may have changed, so nothing seen so far is used again.
    pub(super) fn forget(&self) {
        if let Ok(mut now) = self.0.lock() {
            *now = SeenNow::default();
        }
    }
}

/// What the first check of `expectation` inspects.
pub(super) fn inspects(expectation: &Expectation, state: &ScenarioState) -> Option<Inspect> {
    predicate(expectation, state).map(|p| p.inspect)
}

/// Inspect until the expectation holds.
pub(super) async fn expect(
    expectation: &Expectation,
    session: &Session,
    patience: Patience,
    state: &ScenarioState,
) -> Result<(), StepError> {
    let Some(Predicate { inspect, judge }) = predicate(expectation, state) else {
        return match expectation {
            // Judged on what the browser reported, not on an inspection of the page.
            Expectation::NoSignals(check) => super::signals::expect(check, session).await,
            // Judged on WebDriver's cookies of the page's site.
            Expectation::Cookie { name, equals } => {
                super::controls::expect_cookie(session, patience, name, equals.as_deref(), true).await
            }
            Expectation::NoCookie(name) => super::controls::expect_cookie(session, patience, name, None, false).await,
            _ => Ok(()),
        };
    };
    let page = LastPage::default();
    // Where the page can hold the wait, it wakes when the page changes (`wake`).
    if session.may_hold_waits() {
        let waited = wake::until(patience, session, state, &inspect, &judge, &page).await;
        return waited.map_err(|e| page.explain(e, state.request.as_ref()));
    }
    let waited = wait::until(patience, || async {
        Ok(match state.seen.look(session, &inspect).await? {
            Ok(seen) => {
                page.note(&seen);
                match judge(&seen) {
                    Ok(()) => Check::Done(()),
                    Err(why) => Check::NotYet(why),
                }
            }
            Err(why) => Check::NotYet(why),
        })
    })
    .await;
    waited.map_err(|e| page.explain(e, state.request.as_ref()))
}

/// The HTTP status and URL of the page the last inspection saw: a step that times out on
/// an HTTP error page says so, rather than only what it did not find there.
#[derive(Debug, Default)]
pub(super) struct LastPage(Mutex<Option<(u16, String)>>);

impl LastPage {
    pub(super) fn note(&self, seen: &Inspection) {
        if let Ok(mut last) = self.0.lock() {
            *last = seen.status.map(|status| (status, seen.url.clone()));
        }
    }

    /// A failed wait as a step error; a timeout on a page that was an HTTP error (4xx,
    /// 5xx) says which, with the request it answered when a step of this scenario sent it.
    pub(super) fn explain(&self, e: WaitError<BrowserError>, request: Option<&Request>) -> StepError {
        let timed_out = matches!(e, WaitError::TimedOut(_));
        let last = self.0.lock().ok().and_then(|last| last.clone());
        match (StepError::from(e), last) {
            (StepError::Failed { message, last_seen }, Some((status, url))) if timed_out && status >= 400 => {
                StepError::Failed { message: format!("{message}; {}", http_error(status, &url, request)), last_seen }
            }
            (err, _) => err,
        }
    }
}

/// "the page is an HTTP 500 response (POST /lists/new)": the method only when a step
/// of the scenario is known to have sent that very URL.
fn http_error(status: u16, url: &str, request: Option<&Request>) -> String {
    let page = url.split('#').next().unwrap_or(url);
    let path = path_of(page);
    match request.filter(|r| r.url.split('#').next() == Some(page)) {
        Some(r) => format!("the page is an HTTP {status} response ({} {path})", r.method),
        None => format!("the page is an HTTP {status} response ({path})"),
    }
}

/// The path and query of an absolute URL (`http://host:1/lists/new` → `/lists/new`).
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

mod predicates;
#[cfg(test)]
mod tests;
mod wake;
