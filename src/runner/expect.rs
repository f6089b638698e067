//! Expectations as named predicates: what to inspect, and how to judge what was seen.
//! `expect` re-inspects through `wait::until` until the judge accepts or patience runs
//! out, so every expectation is an explicit wait that fails with what it last saw.

use std::sync::Mutex;

use super::clip;
use super::{Request, ScenarioState, StepError};
use crate::browser::{BrowserError, Inspection, Session};
use crate::shared::locator::{Locator, Part};
use crate::shared::redact::without_userinfo;
use crate::spec::{Expectation, Selector};
use crate::wait::{self, Check, Patience, WaitError};

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

/// Judges one inspection: `Ok` when the expectation holds, else what was seen instead.
type Judge<'a> = Box<dyn Fn(&Inspection) -> Result<(), String> + Send + Sync + 'a>;

/// An expectation as data: what to inspect and how to judge it.
struct Predicate<'a> {
    inspect: Inspect,
    judge: Judge<'a>,
}

impl<'a> Predicate<'a> {
    fn new(inspect: Inspect, judge: impl Fn(&Inspection) -> Result<(), String> + Send + Sync + 'a) -> Self {
        Predicate { inspect, judge: Box::new(judge) }
    }
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

fn predicate<'a>(expectation: &'a Expectation, state: &ScenarioState) -> Option<Predicate<'a>> {
    Some(match expectation {
        Expectation::Title(want) => title(want),
        Expectation::Present(sel) => present(sel),
        Expectation::Absent(sel) => absent(sel),
        Expectation::Text { of, equals } => text(of, equals),
        Expectation::TextContains { of, contains } => text_contains(of, contains),
        Expectation::Visible(sel) => visible(sel),
        Expectation::Hidden(sel) => hidden(sel),
        Expectation::Row { table, text } => row(table, text),
        Expectation::PageText(want) => page_text(want),
        Expectation::NoText(unwanted) => no_text(unwanted),
        Expectation::Attribute { of, name, equals } => attribute(of, name, equals),
        Expectation::Url(re) => url(re),
        // The URL remembered earlier is read now: the step compares against it as it was.
        Expectation::UrlDiffers(name) => url_differs(name, state.urls.get(name).cloned().unwrap_or_default()),
        Expectation::UrlSame(name) => url_same(name, state.urls.get(name).cloned().unwrap_or_default()),
        Expectation::Centred { of, at, tolerance } => centred(of, *at, *tolerance),
        Expectation::Count { of, count } => count_of(of, *count),
        Expectation::Value { of, equals } => value(of, equals),
        Expectation::Checked(sel) => checked(sel, true),
        Expectation::Unchecked(sel) => checked(sel, false),
        Expectation::Enabled(sel) => enabled(sel, true),
        Expectation::Disabled(sel) => enabled(sel, false),
        Expectation::Focused(sel) => focused(sel),
        Expectation::NoSignals(_) | Expectation::Cookie { .. } | Expectation::NoCookie(_) => return None,
    })
}

/// `expect_title`: the title contains `want`.
fn title(want: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page(), move |seen| {
        if seen.title.contains(want) {
            Ok(())
        } else {
            Err(format!("the title was {:?}", seen.title))
        }
    })
}

/// `expect_present`: at least one element matches.
fn present(sel: &Selector) -> Predicate<'_> {
    Predicate::new(
        Inspect::element(&sel.locator),
        move |seen| {
            if seen.count > 0 {
                Ok(())
            } else {
                Err(no_match(sel, seen))
            }
        },
    )
}

/// `expect_absent`: no element matches.
fn absent(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| {
        if seen.count == 0 {
            Ok(())
        } else {
            Err(format!("{} element(s) match {sel}", seen.count))
        }
    })
}

/// `expect_text`: the first match's text is exactly `equals`.
fn text<'a>(of: &'a Selector, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match &seen.text {
        Some(t) if t == equals => Ok(()),
        Some(t) => Err(format!("the text of {of} was {t:?}")),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_text_contains`: the first match's text contains `contains`.
fn text_contains<'a>(of: &'a Selector, contains: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match &seen.text {
        Some(t) if t.contains(contains) => Ok(()),
        Some(t) => Err(format!("the text of {of} was {t:?}")),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_visible`: the first match is rendered.
fn visible(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.visible {
        Some(true) => Ok(()),
        Some(false) => {
            Err(format!("{sel} is on the page but hidden (text {:?})", seen.text.clone().unwrap_or_default()))
        }
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_hidden`: the first match is on the page but not rendered.
fn hidden(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.visible {
        Some(false) => Ok(()),
        Some(true) => Err(format!("{sel} is still visible, showing {:?}", seen.text.clone().unwrap_or_default())),
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_row`: some row of `table` reads exactly `text`.
fn row<'a>(table: &'a Selector, text: &'a str) -> Predicate<'a> {
    let rows = table.locator.then(Part::Css("tr".into()));
    Predicate::new(Inspect::elements(rows), move |seen| {
        if seen.texts.iter().any(|t| t == text) {
            Ok(())
        } else if seen.count == 0 {
            Err(format!("no rows in {table} on {} (title {:?})", seen.url, seen.title))
        } else {
            Err(format!("the rows were {}", quote_list(&seen.texts)))
        }
    })
}

/// `expect_page_text`: the page's text contains `want`.
fn page_text(want: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page_text(), move |seen| {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        if body.contains(want) {
            Ok(())
        } else {
            Err(format!("the page text was {:?}", clip(body)))
        }
    })
}

/// `expect_no_text`: the page's text does not contain `unwanted`.
fn no_text(unwanted: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page_text(), move |seen| {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        if body.contains(unwanted) {
            Err(format!("the page still shows it: {:?}", clip(body)))
        } else {
            Ok(())
        }
    })
}

/// `expect_attribute`: the first match's attribute `name` is exactly `equals`.
fn attribute<'a>(of: &'a Selector, name: &'a str, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::attribute(&of.locator, name), move |seen| match (&seen.attr, seen.count) {
        (Some(v), _) if v == equals => Ok(()),
        (Some(v), _) => Err(format!("{name} of {of} was {v:?}")),
        (None, 0) => Err(no_match(of, seen)),
        (None, _) => Err(format!("{of} has no {name} attribute")),
    })
}

/// `expect_url`: the URL (without user info) matches `re`.
fn url(re: &regex::Regex) -> Predicate<'_> {
    Predicate::new(Inspect::page(), move |seen| {
        let url = without_userinfo(&seen.url);
        if re.is_match(&url) {
            Ok(())
        } else {
            Err(format!("the URL was {url}"))
        }
    })
}

/// `expect_url_differs`: the URL is no longer `earlier`, the one remembered as `name`;
/// both without user info, or a target URL with credentials could never compare equal.
fn url_differs(name: &str, earlier: String) -> Predicate<'_> {
    let earlier = without_userinfo(&earlier);
    Predicate::new(Inspect::page(), move |seen| {
        if without_userinfo(&seen.url) != earlier {
            Ok(())
        } else {
            Err(format!("the URL is still {earlier}, the one remembered as {name:?}"))
        }
    })
}

/// `expect_url_same`: the URL is the one remembered as `name` (user info aside).
fn url_same(name: &str, earlier: String) -> Predicate<'_> {
    let earlier = without_userinfo(&earlier);
    Predicate::new(Inspect::page(), move |seen| {
        let now = without_userinfo(&seen.url);
        if now == earlier {
            Ok(())
        } else {
            Err(format!("the URL was {now}, not {earlier} (the one remembered as {name:?})"))
        }
    })
}

/// `expect_centred`: the first match's horizontal centre is within `tolerance` of `at`.
fn centred(of: &Selector, at: f64, tolerance: f64) -> Predicate<'_> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match seen.centre_x {
        Some(x) if (x - at).abs() <= tolerance => Ok(()),
        Some(x) => Err(format!("the centre of {of} was at x={x:.1}, {:.1}px off", (x - at).abs())),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_count`: exactly `want` elements match (0 included: it waits for them to go).
fn count_of(of: &Selector, want: usize) -> Predicate<'_> {
    Predicate::new(Inspect::element(&of.locator), move |seen| {
        if seen.count == want {
            Ok(())
        } else {
            Err(format!("{} element(s) match {of}{}", seen.count, first_few(seen)))
        }
    })
}

/// `expect_value`: the first match's current value is exactly `equals`.
fn value<'a>(of: &'a Selector, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match (&seen.value, seen.count) {
        (Some(v), _) if v == equals => Ok(()),
        (Some(v), _) => Err(format!("the value of {of} was {v:?}")),
        (None, 0) => Err(no_match(of, seen)),
        (None, _) => Err(format!("{of} has no value: it is not an input, select or textarea")),
    })
}

/// `expect_checked` (`want`) and `expect_unchecked`.
fn checked(sel: &Selector, want: bool) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match (seen.checked, seen.count) {
        (Some(is), _) if is == want => Ok(()),
        (Some(true), _) => Err(format!("{sel} is checked")),
        (Some(false), _) => Err(format!("{sel} is not checked")),
        (None, 0) => Err(no_match(sel, seen)),
        (None, _) => Err(format!("{sel} cannot be checked: it is not a checkbox or radio (nor has aria-checked)")),
    })
}

/// `expect_enabled` (`want`) and `expect_disabled`.
fn enabled(sel: &Selector, want: bool) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.enabled {
        Some(is) if is == want => Ok(()),
        Some(true) => Err(format!("{sel} is enabled")),
        Some(false) => Err(format!("{sel} is disabled")),
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_focused`: the first match is the element with the focus.
fn focused(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.focused {
        Some(true) => Ok(()),
        Some(false) => Err(format!("{sel} does not have the focus")),
        None => Err(no_match(sel, seen)),
    })
}

/// With several matches, the first ones: ": <a href=…>Get help</a>, <span>Get help</span>, …".
pub(super) fn first_few(seen: &Inspection) -> String {
    if seen.several.is_empty() {
        return String::new();
    }
    let more = if seen.count > seen.several.len() { ", …" } else { "" };
    format!(": {}{more}", seen.several.iter().map(|s| clip(s)).collect::<Vec<_>>().join(", "))
}

/// Why nothing matched, with where the browser was (an HTTP error page explains a lot).
pub(super) fn no_match(sel: &Selector, seen: &Inspection) -> String {
    let status = seen.status.filter(|s| *s >= 400).map(|s| format!("HTTP {s}, ")).unwrap_or_default();
    format!("no element matches {sel} on {} ({status}title {:?})", seen.url, seen.title)
}

fn quote_list(texts: &[String]) -> String {
    let shown: Vec<String> = texts.iter().take(20).map(|t| format!("{t:?}")).collect();
    let more = if texts.len() > 20 { format!(" and {} more", texts.len() - 20) } else { String::new() };
    format!("[{}]{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_input() -> Selector {
        Selector { locator: Locator::css("#id_text"), name: Some("item_input".into()), template: None }
    }

    fn judge(expectation: &Expectation, seen: &Inspection) -> Result<(), String> {
        (predicate(expectation, &ScenarioState::default()).expect("a page expectation").judge)(seen)
    }

    fn seen_at(url: &str) -> Inspection {
        let mut seen = Inspection::default();
        seen.url = url.into();
        seen
    }

    /// What one step saw serves the next step (once, and only for the same inspection),
    /// and nothing survives an action.
    #[test]
    fn an_inspection_serves_the_next_step_until_something_acts() {
        let seen = Seen::default();
        seen.keep(Inspect::element(&Locator::css("#a")), seen_at("http://t/1"));
        seen.next_step();
        assert_eq!(seen.url().as_deref(), Some("http://t/1"));
        let before = |seen: &Seen| seen.0.lock().expect("lock").before.clone();
        assert_eq!(before(&seen).map(|(what, _)| what), Some(Inspect::element(&Locator::css("#a"))));
        // A step that looks at nothing (remember_url) leaves it for the step after.
        seen.next_step();
        assert!(before(&seen).is_some());
        seen.forget();
        assert_eq!(seen.url(), None);
        assert!(before(&seen).is_none());
    }

    #[test]
    fn a_wrong_title_is_quoted() {
        let mut seen = Inspection::default();
        seen.title = "Superlists".into();
        let want = Expectation::Title("To-Do".into());
        assert_eq!(judge(&want, &seen), Err("the title was \"Superlists\"".into()));
        seen.title = "To-Do lists".into();
        assert_eq!(judge(&want, &seen), Ok(()));
    }

    #[test]
    fn an_off_centre_element_says_how_far_off() {
        let mut seen = Inspection::default();
        seen.count = 1;
        seen.centre_x = Some(375.0);
        let want = Expectation::Centred { of: item_input(), at: 512.0, tolerance: 10.0 };
        assert_eq!(judge(&want, &seen), Err("the centre of @item_input (#id_text) was at x=375.0, 137.0px off".into()));
        seen.centre_x = Some(505.0);
        assert_eq!(judge(&want, &seen), Ok(()));
    }

    #[test]
    fn a_count_that_differs_names_the_first_matches() {
        let mut seen = Inspection::default();
        seen.count = 4;
        seen.several = vec!["<li>a</li>".into(), "<li>b</li>".into(), "<li>c</li>".into()];
        let want = Expectation::Count { of: Selector::css("li"), count: 2 };
        assert_eq!(judge(&want, &seen), Err("4 element(s) match li: <li>a</li>, <li>b</li>, <li>c</li>, …".into()));
        seen.count = 2;
        seen.several.truncate(2);
        assert_eq!(judge(&want, &seen), Ok(()));
        let none = Expectation::Count { of: Selector::css("li"), count: 0 };
        assert_eq!(judge(&none, &seen), Err("2 element(s) match li: <li>a</li>, <li>b</li>".into()));
    }

    #[test]
    fn state_expectations_say_what_the_element_is_instead() {
        let mut seen = Inspection::default();
        seen.count = 1;
        seen.enabled = Some(true);
        seen.focused = Some(false);
        let sel = item_input();
        let value = Expectation::Value { of: sel.clone(), equals: "Buy milk".into() };
        assert_eq!(
            judge(&value, &seen),
            Err("@item_input (#id_text) has no value: it is not an input, select or textarea".into())
        );
        seen.value = Some("Buy eggs".into());
        assert_eq!(judge(&value, &seen), Err("the value of @item_input (#id_text) was \"Buy eggs\"".into()));
        let checked = Expectation::Checked(sel.clone());
        assert!(judge(&checked, &seen).is_err_and(|e| e.contains("it is not a checkbox or radio")));
        seen.checked = Some(false);
        assert_eq!(judge(&checked, &seen), Err("@item_input (#id_text) is not checked".into()));
        assert_eq!(judge(&Expectation::Unchecked(sel.clone()), &seen), Ok(()));
        assert_eq!(judge(&Expectation::Disabled(sel.clone()), &seen), Err("@item_input (#id_text) is enabled".into()));
        assert_eq!(judge(&Expectation::Enabled(sel.clone()), &seen), Ok(()));
        assert_eq!(
            judge(&Expectation::Focused(sel.clone()), &seen),
            Err("@item_input (#id_text) does not have the focus".into())
        );
    }

    #[test]
    fn a_missing_element_says_where_the_browser_was() {
        let mut seen = Inspection::default();
        seen.url = "http://127.0.0.1:1/lists/1/".into();
        seen.title = "Not Found".into();
        seen.status = Some(404);
        let want = Expectation::Visible(item_input());
        assert_eq!(
            judge(&want, &seen),
            Err("no element matches @item_input (#id_text) on http://127.0.0.1:1/lists/1/ (HTTP 404, title \"Not Found\")"
                .into())
        );
    }

    #[test]
    fn a_timeout_on_an_http_error_page_names_the_status_and_the_request() {
        let timed_out = || {
            WaitError::TimedOut(crate::wait::TimedOut {
                waited: std::time::Duration::from_secs(4),
                checks: 3,
                last_seen: "no element matches @error".into(),
            })
        };
        let page = LastPage::default();
        let mut seen = Inspection::default();
        seen.url = "http://127.0.0.1:9/lists/new".into();
        seen.status = Some(500);
        page.note(&seen);
        let post = Request { method: "POST".into(), url: "http://127.0.0.1:9/lists/new".into() };
        let message = |err: StepError| match err {
            StepError::Failed { message, .. } => message,
            _ => panic!("a failure"),
        };
        assert_eq!(
            message(page.explain(timed_out(), Some(&post))),
            "still not true after 4.0s (3 checks); the page is an HTTP 500 response (POST /lists/new)"
        );
        let elsewhere = Request { method: "GET".into(), url: "http://127.0.0.1:9/".into() };
        assert!(message(page.explain(timed_out(), Some(&elsewhere))).ends_with("HTTP 500 response (/lists/new)"));
        seen.status = Some(200);
        page.note(&seen);
        assert_eq!(message(page.explain(timed_out(), Some(&post))), "still not true after 4.0s (3 checks)");
    }

    #[test]
    fn a_row_is_looked_for_among_every_row_of_the_table() {
        let table = Selector::css("#id_list_table");
        let want = Expectation::Row { table, text: "1: Buy milk".into() };
        let p = predicate(&want, &ScenarioState::default()).expect("a page expectation");
        assert_eq!(
            p.inspect,
            Inspect::elements(Locator(vec![Part::Css("#id_list_table".into()), Part::Css("tr".into())]))
        );
        let mut seen = Inspection::default();
        seen.count = 1;
        seen.texts = vec!["1: Buy peacock feathers".into()];
        assert_eq!((p.judge)(&seen), Err("the rows were [\"1: Buy peacock feathers\"]".into()));
    }

    #[test]
    fn url_differs_compares_with_the_url_remembered_before_the_step() {
        let mut state = ScenarioState::default();
        state.urls.insert("edith".into(), "http://t/lists/1/".into());
        let want = Expectation::UrlDiffers("edith".into());
        let p = predicate(&want, &state).expect("a page expectation");
        let mut seen = Inspection::default();
        seen.url = "http://t/lists/1/".into();
        assert_eq!((p.judge)(&seen), Err("the URL is still http://t/lists/1/, the one remembered as \"edith\"".into()));
        seen.url = "http://t/lists/2/".into();
        assert_eq!((p.judge)(&seen), Ok(()));
    }

    #[test]
    fn url_same_holds_only_on_the_url_remembered() {
        let mut state = ScenarioState::default();
        state.urls.insert("first".into(), "http://user:pw@t/lists/1/".into());
        let same = Expectation::UrlSame("first".into());
        let p = predicate(&same, &state).expect("a page expectation");
        let mut seen = Inspection::default();
        seen.url = "http://t/lists/2/".into();
        assert_eq!(
            (p.judge)(&seen),
            Err("the URL was http://t/lists/2/, not http://t/lists/1/ (the one remembered as \"first\")".into())
        );
        seen.url = "http://t/lists/1/".into();
        assert_eq!((p.judge)(&seen), Ok(()));
    }

    #[test]
    fn url_comparisons_ignore_user_info_on_either_side() {
        let mut state = ScenarioState::default();
        state.urls.insert("edith".into(), "http://user:pw@t/lists/1/".into());
        let differs = Expectation::UrlDiffers("edith".into());
        let mut seen = Inspection::default();
        seen.url = "http://t/lists/1/".into();
        let p = predicate(&differs, &state).expect("a page expectation");
        assert_eq!((p.judge)(&seen), Err("the URL is still http://t/lists/1/, the one remembered as \"edith\"".into()));
        seen.url = "http://user:pw@t/lists/2/".into();
        assert_eq!((p.judge)(&seen), Ok(()));
        let lists = regex::Regex::new("^http://t/lists/").expect("regex");
        assert_eq!(judge(&Expectation::Url(lists.clone()), &seen), Ok(()));
        seen.url = "http://user:pw@t/".into();
        assert_eq!(judge(&Expectation::Url(lists), &seen), Err("the URL was http://t/".into()));
    }
}
