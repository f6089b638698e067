//! Runs one step: actions here, expectations through `expect`. An action waits for its
//! element to be actionable, then acts once it can.

use super::clip;
use super::controls::{self, failed};
use super::expect::{expect, first_few, look, no_match, Inspect, LastPage, Seen};
use super::looks::{self, counting_ahead, first_look};
use super::sensitive::Guard;
use super::{Request, RunConfig, ScenarioState, StepError};
use crate::browser::{BrowserError, Session};
use crate::spec::{Action, CaptureFrom, Selector, Step, StepKind};
use crate::wait::{self, Check, Patience};
use std::time::Duration;

pub(super) async fn run_step(
    step: &Step,
    session: &Session,
    config: &RunConfig,
    state: &mut ScenarioState,
) -> Result<(), StepError> {
    // Test seam (debug builds only): lets tests prove that a panicking worker leaves no
    // browser behind and that its scenario is still reported.
    #[cfg(debug_assertions)]
    if std::env::var("FT_TEST_PANIC_AT_VERB").is_ok_and(|v| v == step.verb) {
        panic!("FT_TEST_PANIC_AT_VERB={}", step.verb);
    }
    state.seen.next_step();
    if step.kind.is_expectation() {
        looks::for_an_expectation(step, state);
    }
    match &step.kind {
        // It reads the inbox, not the page.
        StepKind::Act(Action::Capture(c)) if matches!(c.from, CaptureFrom::Email { .. }) => {
            super::capture::from_email(c, &config.settings, state).await
        }
        // It looks and changes nothing: what the step before typed into stays known.
        StepKind::Act(Action::Capture(c)) => {
            let next = state.ahead(1).and_then(|next| first_look(&next, state.ahead(2).as_ref(), state));
            let what = super::capture::inspects(c, next);
            super::capture::run(c, what, session, config.settings.patience, state).await
        }
        StepKind::Act(action) => perform(action, session, config, state).await,
        StepKind::Expect(expectation) => expect(expectation, session, config.settings.patience, state).await,
    }
}

async fn perform(
    action: &Action,
    session: &Session,
    config: &RunConfig,
    state: &mut ScenarioState,
) -> Result<(), StepError> {
    let p = config.settings.patience;
    let typed_into = state.acted.take();
    // The element the previous step typed into, when this step acts on it too.
    let same =
        |sel: &Selector| typed_into.clone().filter(|(locator, _)| *locator == sel.locator && session.knows(locator));
    let known = |sel: &Selector| same(sel).map(|(_, form)| form);
    let at = Ctx {
        session,
        patience: p,
        guard: &state.guard,
        request: state.request.as_ref(),
        seen: &state.seen,
        visible: true,
    };
    // A step that may send a form records where to: a later timeout on an HTTP error
    // page at that URL can then name the request (`POST /lists/new`).
    match action {
        Action::Visit(written) => {
            state.seen.forget();
            // A path on the target, or a whole URL (a value such as an email's link); the
            // spec checked a literal at load, a value is checked now it is filled in.
            let url = match crate::spec::visit::destination(written) {
                Ok(to) => to.url(&config.base_url),
                Err(why) => {
                    let message = format!(
                        "cannot visit {:?}: {why}; `visit` takes {}",
                        crate::shared::redact::redact(written),
                        crate::spec::visit::WHAT
                    );
                    return Err(StepError::Failed { message, last_seen: None });
                }
            };
            // A whole URL may lead anywhere: a sensitive one is not even loaded (and where
            // the browser lands, after any redirect, is judged as for every visit).
            state.guard.check_before_loading(&url)?;
            // The page the visit lands on is judged with the next step's own first look.
            let next = state.ahead(1).and_then(|next| {
                let look = first_look(&next, state.ahead(2).as_ref(), state)?;
                Some(if next.kind.is_expectation() { counting_ahead(look, 1, state) } else { look })
            });
            visit(&at, Go::To(&url), page_load_limit(p), next).await?;
            // As the browser shows it: browsers drop a URL's user info.
            state.request = Some(Request { method: "GET".into(), url: crate::shared::redact::without_userinfo(&url) });
        }
        Action::Reload | Action::Back | Action::Forward => {
            // A reload asks the page it is on again (a form's POST, too): for a guard that
            // judges pages, that page is judged first (where any of the three lands is
            // judged after, as a visit's is).
            if matches!(action, Action::Reload) && at.guard.watching() {
                let page = match state.seen.url() {
                    Some(url) => url,
                    None => session.current_url().await.map_err(StepError::Browser)?,
                };
                at.guard.check(&page)?;
            }
            state.seen.forget();
            let go = match action {
                Action::Reload => Go::Reload,
                Action::Back => Go::Back,
                _ => Go::Forward,
            };
            let next = state.ahead(1).and_then(|next| first_look(&next, state.ahead(2).as_ref(), state));
            visit(&at, go, page_load_limit(p), next).await?;
            state.request = None;
        }
        Action::Type { into, text } => {
            if let Some((next, key)) = press_next(into, config, state) {
                // The same keystrokes in one command: nothing is looked at between a
                // `type` and a `press` on the element it typed into anyway.
                let form = act(&at, into, known(into), |s| s.type_then_press(&into.locator, text, key)).await?;
                state.pressed_ahead = Some((next, form));
                return Ok(());
            }
            let form = act(&at, into, known(into), |s| s.type_text(&into.locator, text)).await?;
            // A key that may send the form ends what the next step may take for granted.
            if !text.contains(['\n', '\r', '\u{e007}', '\u{e006}']) {
                state.acted = Some((into.locator.clone(), form));
            }
        }
        Action::Clear(sel) => {
            let form = act(&at, sel, known(sel), |s| s.clear(&sel.locator)).await?;
            state.acted = Some((sel.locator.clone(), form));
        }
        Action::Press { key, on } => {
            state.request = match state.pressed_ahead.take().filter(|(at, _)| *at == state.at) {
                Some((_, form)) => form,
                None => act(&at, on, known(on), |s| s.press(&on.locator, *key)).await?,
            }
        }
        Action::Click(sel) => state.request = act(&at, sel, known(sel), |s| s.click(&sel.locator)).await?,
        Action::SubmitNovalidate(sel) => {
            state.request = act(&at, sel, known(sel), |s| s.submit_novalidate(&sel.locator)).await?;
        }
        Action::NewVisitor(_) => {
            // A visit next navigates anyway: no blank page in between.
            let visits_next = state.ahead(1).is_some_and(|n| matches!(n.kind, StepKind::Act(Action::Visit(_))));
            session.new_visitor(!visits_next).await.map_err(StepError::Browser)?;
            state.request = None;
        }
        Action::Visitor(who) => {
            // As the scenario's first step it names the visitor the scenario starts as
            // (its before_each hooks, which act on no browser, may come before it).
            let first = state.steps[..state.at].iter().all(crate::spec::Step::is_hook);
            session.visitor(who, first).await.map_err(StepError::Browser)?;
            state.request = None;
        }
        Action::WindowSize { width, height } => {
            session.set_window_size(*width, *height).await.map_err(StepError::Browser)?;
        }
        Action::SetCookie(cookie) => {
            let doing = format!("set the cookie {:?}", cookie.name);
            on_the_site(&at, &config.base_url, &doing).await?;
            session.set_cookie(cookie).await.map_err(|e| not_done(e, &doing))?;
        }
        Action::DeleteCookie(name) => {
            let doing = format!("delete the cookie {name:?}");
            on_the_site(&at, &config.base_url, &doing).await?;
            session.delete_cookie(name).await.map_err(|e| not_done(e, &doing))?;
        }
        Action::Select { option, of } => {
            act(&at, of, known(of), |s| s.select(&of.locator, option)).await?;
        }
        Action::Check(sel) => {
            act(&at, sel, known(sel), |s| s.set_checked(&sel.locator, true)).await?;
        }
        Action::Uncheck(sel) => {
            act(&at, sel, known(sel), |s| s.set_checked(&sel.locator, false)).await?;
        }
        Action::Hover(sel) => {
            act(&at, sel, known(sel), |s| s.hover(&sel.locator)).await?;
        }
        Action::Upload { file, into, .. } => {
            // A file input is often hidden behind a styled label: it need not be visible.
            let hidden_ok = Ctx { visible: false, ..at };
            act(&hidden_ok, into, known(into), |s| s.upload(&into.locator, file)).await?;
        }
        Action::AcceptDialog { text, prompt } => {
            controls::answer_dialog(session, p, at.guard, true, text.as_deref(), prompt.as_deref()).await?;
        }
        Action::DismissDialog { text } => {
            controls::answer_dialog(session, p, at.guard, false, text.as_deref(), None).await?;
        }
        Action::Frame(sel) => {
            act(&at, sel, known(sel), |s| s.enter_frame(&sel.locator)).await?;
        }
        Action::MainFrame => session.main_frame().await.map_err(failed)?,
        Action::Tab(tab) => controls::switch_tab(session, p, *tab).await?,
        Action::CloseTab => session.close_tab().await.map_err(failed)?,
        Action::RememberUrl(name) => {
            // The URL the visit or expectation just before saw, when nothing acted since.
            let url = match state.seen.url() {
                Some(url) => url,
                None => session.current_url().await.map_err(StepError::Browser)?,
            };
            state.urls.insert(name.clone(), crate::shared::redact::without_userinfo(&url));
        }
        // Run by `run_step`, which keeps what this function forgets.
        Action::Capture(_) => {}
        Action::Fixture(call) => super::fixtures::step(call, &config.places, state).await?,
    }
    // What was seen before an action is not used after it (it may have changed the page),
    // but for what a visit saw for the step after it.
    if !matches!(
        action,
        Action::Visit(_)
            | Action::RememberUrl(_)
            | Action::Capture(_)
            | Action::Reload
            | Action::Back
            | Action::Forward
    ) {
        state.seen.forget();
    }
    Ok(())
}

/// The page shown is one of the target's, where a cookie step may act (see
/// `controls::cookie_site`): the URL the last look saw, else the browser's.
async fn on_the_site(at: &Ctx<'_>, base_url: &str, doing: &str) -> Result<(), StepError> {
    let page = match at.seen.url() {
        Some(url) => url,
        None => at.session.current_url().await.map_err(StepError::Browser)?,
    };
    controls::cookie_site(&page, base_url, at.guard, doing)
}

/// The browser refused a step that is not retried (`doing`: what it was asked).
fn not_done(e: BrowserError, doing: &str) -> StepError {
    match e {
        e if e.is_session_lost() => StepError::Browser(e),
        e => StepError::Failed { message: format!("failed to {doing}: the browser said: {e}"), last_seen: None },
    }
}

/// The `press` right after a `type` into the same element, sent with the typing (its
/// position and key); not with `--filmstrip`, whose frame between the two would then show
/// the key's effect already.
fn press_next(
    into: &Selector,
    config: &RunConfig,
    state: &ScenarioState,
) -> Option<(usize, crate::shared::keys::Chord)> {
    if config.settings.filmstrip > 0 {
        return None;
    }
    let next = state.ahead(1)?;
    match &next.kind {
        StepKind::Act(Action::Press { key, on }) if on.locator == into.locator => Some((state.at + 1, *key)),
        _ => None,
    }
}

/// What an action works with.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    session: &'a Session,
    patience: Patience,
    guard: &'a Guard,
    request: Option<&'a Request>,
    seen: &'a Seen,
    /// The element must be visible to be acted on (all but an upload's file input).
    visible: bool,
}

/// A navigation: a `visit`'s URL, or the browser's own reload, back and forward.
#[derive(Clone, Copy)]
enum Go<'a> {
    To(&'a str),
    Reload,
    Back,
    Forward,
}

/// Navigate (`go`), then judge the page it landed on before anything acts on it: the
/// sensitive-URL guard, an HTTP 5xx answer, the browser's own error page. The one
/// inspection that judges it is the next step's first look (`next`), kept for that step.
async fn visit(at: &Ctx<'_>, go: Go<'_>, limit: Duration, next: Option<Inspect>) -> Result<(), StepError> {
    let session = at.session;
    // Credentials in the target URL must never reach a report.
    let (doing, gone) = match go {
        Go::To(url) => (format!("load {}", crate::shared::redact::redact(url)), session.goto(url).await),
        Go::Reload => ("reload the page".to_string(), session.reload().await),
        Go::Back => ("go back".to_string(), session.back().await),
        Go::Forward => ("go forward".to_string(), session.forward().await),
    };
    gone.map_err(|e| match e {
        e if e.is_session_lost() => StepError::Browser(e),
        // The session's page-load timeout (`page_load_limit`): a server that sent part of
        // the page and then stalled (or a page that never finishes) fails here, named.
        e if is_page_load_timeout(&e) => StepError::Failed {
            message: format!(
                "failed to {doing}: the page did not finish loading within {limit:?} (--max-wait, at least 10s); \
                 the browser said: {e}"
            ),
            last_seen: None,
        },
        e => StepError::Failed { message: format!("failed to {doing}: {e}"), last_seen: None },
    })?;
    // The next step's look can fail where a look at the page would not (a selector the
    // browser rejects is that step's failure, not the visit's): then the page is looked at.
    let ahead = match &next {
        Some(what) => look(session, what).await.ok().and_then(Result::ok),
        None => None,
    };
    let for_next = ahead.is_some();
    let seen = match ahead {
        Some(seen) => seen,
        None => session.inspect(None, None, false).await.map_err(StepError::Browser)?,
    };
    // Where the browser landed (after any redirect) is judged before the next step acts.
    at.guard.check(&seen.url)?;
    let shown = match go {
        Go::To(url) => crate::shared::redact::redact(url),
        _ => crate::shared::redact::redact(&seen.url),
    };
    let body = seen.body.as_deref().unwrap_or("");
    if let Some(status) = seen.status.filter(|s| *s >= 500) {
        return Err(StepError::Failed {
            message: format!("{shown} answered HTTP {status}: the server is failing"),
            last_seen: Some(format!("title {:?}, text {:?}", seen.title, clip(body))),
        });
    }
    // A page the browser could not load is its own error page: fail now with the
    // browser's reason (e.g. ERR_CONNECTION_REFUSED) instead of waiting on it.
    if seen.url.starts_with("chrome-error:") || seen.url.starts_with("about:neterror") {
        let reason = body
            .split_whitespace()
            .find(|w| w.starts_with("ERR_") || w.starts_with("NS_ERROR"))
            .unwrap_or("a network error");
        return Err(StepError::Failed {
            message: format!("the browser could not load {shown}: {reason}"),
            last_seen: Some(clip(body)),
        });
    }
    if let (Some(what), true) = (next, for_next) {
        at.seen.keep(what, seen);
    }
    Ok(())
}

/// Wait for an element that can be acted on, then act. An action is retried only
/// when the browser says it did not happen (element gone or not interactable yet). The
/// page the element is on is judged by the guard first: a link or form may have led away.
/// Answers the request the element's form would send, if it is in one.
///
/// `known`: the previous step typed into this very element (and answers its form's
/// request): the action is tried on it at once. That element reference is only valid in
/// the document the guard judged for the previous step, and the browser checks it is
/// still attached and interactable; if not, the action waits for it as any other.
async fn act<'a, F, Fut>(
    at: &Ctx<'a>,
    sel: &Selector,
    known: Option<Option<Request>>,
    action: F,
) -> Result<Option<Request>, StepError>
where
    F: Fn(&'a Session) -> Fut,
    Fut: std::future::Future<Output = Result<(), BrowserError>>,
{
    let (session, patience, guard) = (at.session, at.patience, at.guard);
    if let Some(form) = known {
        match action(session).await {
            Ok(()) => return Ok(form),
            Err(e) if e.is_session_lost() => return Err(StepError::Browser(e)),
            Err(e) if is_page_load_timeout(&e) => return Err(load_timed_out(&e, patience)),
            // Gone, replaced or hidden: look for it again.
            Err(_) => {}
        }
    }
    let target = Inspect::element(&sel.locator);
    let page = LastPage::default();
    // `Done(Err(_))`: the guard stopped the scenario; there is nothing to wait for.
    let acted = wait::until(patience, || async {
        let seen = match at.seen.look(session, &target).await? {
            Ok(seen) => seen,
            Err(why) => return Ok(Check::NotYet(why)),
        };
        page.note(&seen);
        if let Err(refused) = guard.check(&seen.url) {
            return Ok(Check::Done(Err(refused)));
        }
        if seen.count == 0 {
            return Ok(Check::NotYet(no_match(sel, &seen)));
        }
        // An action needs exactly one element: which of several a person means is not
        // for ft to guess (the page may still be settling, so it waits).
        if seen.count > 1 {
            return Ok(Check::NotYet(format!(
                "{} elements match {sel} (an action needs exactly one){}",
                seen.count,
                first_few(&seen)
            )));
        }
        if at.visible && seen.visible != Some(true) {
            return Ok(Check::NotYet(format!("{sel} is on the page but not visible")));
        }
        let form = match (seen.form_method, seen.form_action) {
            (Some(method), Some(url)) => Some(Request { method, url }),
            _ => None,
        };
        match action(session).await {
            Ok(()) => Ok(Check::Done(Ok(form))),
            Err(e) if e.is_session_lost() => Err(e),
            // The action happened and the page it led to did not finish loading: doing
            // it again could send a form twice.
            Err(e) if is_page_load_timeout(&e) => Ok(Check::Done(Err(load_timed_out(&e, patience)))),
            Err(e) => Ok(Check::NotYet(format!("the browser said: {e}"))),
        }
    })
    .await
    .map_err(|e| page.explain(e, at.request))?;
    acted
}

/// An action happened and the page it led to did not finish loading in time.
fn load_timed_out(e: &BrowserError, patience: Patience) -> StepError {
    StepError::Failed {
        message: format!(
            "the page did not finish loading within {:?} (--max-wait, at least 10s) after this step; \
             the browser said: {e}",
            page_load_limit(patience)
        ),
        last_seen: None,
    }
}

/// How long a page may take to load (the session's page-load timeout): `--max-wait`, as
/// for everything else a step waits for, but never under 10 s (the default), so a small
/// `--max-wait` that makes failing expectations quick does not make a busy machine's
/// ordinary page loads fail. A page that stalls costs this, not the 60 s command bound.
pub fn page_load_limit(patience: Patience) -> Duration {
    patience.max_wait.max(MIN_PAGE_LOAD)
}

const MIN_PAGE_LOAD: Duration = Duration::from_secs(10);

/// The browser gave up waiting for a page to load (the session's page-load timeout, which
/// is --max-wait): W3C's `timeout` error, as chromedriver ("timeout: Timed out receiving
/// message from renderer") and geckodriver ("Navigation timed out after 3000 ms") word it.
fn is_page_load_timeout(e: &BrowserError) -> bool {
    matches!(e, BrowserError::WebDriver(m) if m.starts_with("timeout") || m.contains("Navigation timed out"))
}

#[cfg(test)]
mod tests {
    use super::super::looks::tests::step;
    use super::*;

    /// A `press` right after a `type` into the same element goes with the typing, one
    /// command; not on another element, not after another step, not with a filmstrip.
    #[test]
    fn a_press_right_after_typing_into_the_same_element_goes_with_the_typing() {
        use crate::shared::keys::{Chord, Key};
        let input = Selector::css("#id_text");
        let other = Selector::css("#other");
        let typing = |line| step(line, StepKind::Act(Action::Type { into: input.clone(), text: "Buy milk".into() }));
        let press = |line, on: &Selector| {
            step(line, StepKind::Act(Action::Press { key: Chord::key(Key::Enter), on: on.clone() }))
        };
        let steps = vec![typing(1), press(2, &input), typing(3), press(4, &other), typing(5)];
        let mut state = ScenarioState { steps: steps.clone(), ..ScenarioState::default() };
        let mut config = RunConfig {
            base_url: String::new(),
            skip: Default::default(),
            settings: Default::default(),
            places: Default::default(),
        };
        assert_eq!(press_next(&input, &config, &state), Some((1, Chord::key(Key::Enter))));
        state.at = 2;
        assert_eq!(press_next(&input, &config, &state), None, "a press on another element");
        state.at = 4;
        assert_eq!(press_next(&input, &config, &state), None, "no step after it");
        state.at = 0;
        config.settings.filmstrip = 3;
        assert_eq!(press_next(&input, &config, &state), None, "a frame goes between the two");
    }
}
