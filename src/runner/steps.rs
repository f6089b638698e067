//! Runs one step: actions here, expectations through `expect`. An action waits for its
//! element to be actionable, then acts once it can.

use super::expect::{clip, expect, look, no_match, Inspect, LastPage};
use super::guard::Guard;
use super::{Request, RunConfig, ScenarioState, StepError};
use crate::browser::{BrowserError, Session};
use crate::spec::{Action, Selector, Step, StepKind};
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
    if std::env::var("FT_TEST_PANIC_AT_VERB").is_ok_and(|v| v == step.kind.verb()) {
        panic!("FT_TEST_PANIC_AT_VERB={}", step.kind.verb());
    }
    match &step.kind {
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
    let g = &state.guard;
    let r = state.request.as_ref();
    // A step that may send a form records where to: a later timeout on an HTTP error
    // page at that URL can then name the request (`POST /lists/new`).
    match action {
        Action::Visit(path) => {
            let url = format!("{}{}", config.base_url, path);
            visit(session, g, &url, page_load_limit(p)).await?;
            state.request = Some(Request { method: "GET".into(), url });
        }
        Action::Type { into, text } => {
            act(session, p, g, r, into, |s| s.type_text(&into.css, text)).await?;
        }
        Action::Clear(sel) => {
            act(session, p, g, r, sel, |s| s.clear(&sel.css)).await?;
        }
        Action::Press { key, on } => state.request = act(session, p, g, r, on, |s| s.press(&on.css, *key)).await?,
        Action::Click(sel) => state.request = act(session, p, g, r, sel, |s| s.click(&sel.css)).await?,
        Action::SubmitNovalidate(sel) => {
            state.request = act(session, p, g, r, sel, |s| s.submit_novalidate(&sel.css)).await?;
        }
        Action::NewVisitor(_) => {
            session.reset().await.map_err(StepError::Browser)?;
            state.request = None;
        }
        Action::WindowSize { width, height } => {
            session.set_window_size(*width, *height).await.map_err(StepError::Browser)?;
        }
        Action::RememberUrl(name) => {
            let url = session.current_url().await.map_err(StepError::Browser)?;
            state.urls.insert(name.clone(), crate::shared::redact::without_userinfo(&url));
        }
    }
    Ok(())
}

async fn visit(session: &Session, guard: &Guard, url: &str, limit: Duration) -> Result<(), StepError> {
    // Credentials in the target URL must never reach a report.
    let shown = crate::shared::redact::redact(url);
    session.goto(url).await.map_err(|e| match e {
        e if e.is_session_lost() => StepError::Browser(e),
        // The session's page-load timeout (`page_load_limit`): a server that sent part of
        // the page and then stalled (or a page that never finishes) fails here, named.
        e if is_page_load_timeout(&e) => StepError::Failed {
            message: format!(
                "failed to load {shown}: the page did not finish loading within {limit:?} (--max-wait, at least 10s); \
                 the browser said: {e}"
            ),
            last_seen: None,
        },
        e => StepError::Failed { message: format!("failed to load {shown}: {e}"), last_seen: None },
    })?;
    // A page the browser could not load is its own error page: fail now with the
    // browser's reason (e.g. ERR_CONNECTION_REFUSED) instead of waiting on it.
    let seen = session.inspect(None, None, true).await.map_err(StepError::Browser)?;
    // Where the browser landed (after any redirect) is judged before the next step acts.
    guard.check(&seen.url)?;
    if let Some(status) = seen.status.filter(|s| *s >= 500) {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        return Err(StepError::Failed {
            message: format!("{shown} answered HTTP {status}: the server is failing"),
            last_seen: Some(format!("title {:?}, text {:?}", seen.title, clip(body))),
        });
    }
    if seen.url.starts_with("chrome-error:") || seen.url.starts_with("about:neterror") {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        let reason = body
            .split_whitespace()
            .find(|w| w.starts_with("ERR_") || w.starts_with("NS_ERROR"))
            .unwrap_or("a network error");
        return Err(StepError::Failed {
            message: format!("the browser could not load {shown}: {reason}"),
            last_seen: Some(clip(body)),
        });
    }
    Ok(())
}

/// Wait for an element that can be acted on, then act. An action is retried only
/// when the browser says it did not happen (element gone or not interactable yet). The
/// page the element is on is judged by `guard` first: a link or form may have led away.
/// Answers the request the element's form would send, if it is in one.
async fn act<'a, F, Fut>(
    session: &'a Session,
    patience: Patience,
    guard: &Guard,
    request: Option<&Request>,
    sel: &Selector,
    action: F,
) -> Result<Option<Request>, StepError>
where
    F: Fn(&'a Session) -> Fut,
    Fut: std::future::Future<Output = Result<(), BrowserError>>,
{
    let target = Inspect::element(&sel.css);
    let page = LastPage::default();
    // `Done(Err(_))`: the guard stopped the scenario; there is nothing to wait for.
    let acted = wait::until(patience, || async {
        let seen = match look(session, &target).await? {
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
        if seen.visible != Some(true) {
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
            Err(e) if is_page_load_timeout(&e) => Ok(Check::Done(Err(StepError::Failed {
                message: format!(
                    "the page did not finish loading within {:?} (--max-wait, at least 10s) after this step; \
                     the browser said: {e}",
                    page_load_limit(patience)
                ),
                last_seen: None,
            }))),
            Err(e) => Ok(Check::NotYet(format!("the browser said: {e}"))),
        }
    })
    .await
    .map_err(|e| page.explain(e, request))?;
    acted
}

/// How long a page may take to load (the session's page-load timeout): `--max-wait`, as
/// for everything else a step waits for, but never under 10 s (the default), so a small
/// `--max-wait` that makes failing expectations quick does not make a busy machine's
/// ordinary page loads fail. A page that stalls costs this, not the 60 s command bound.
pub(super) fn page_load_limit(patience: Patience) -> Duration {
    patience.max_wait.max(MIN_PAGE_LOAD)
}

const MIN_PAGE_LOAD: Duration = Duration::from_secs(10);

/// The browser gave up waiting for a page to load (the session's page-load timeout, which
/// is --max-wait): W3C's `timeout` error, as chromedriver ("timeout: Timed out receiving
/// message from renderer") and geckodriver ("Navigation timed out after 3000 ms") word it.
fn is_page_load_timeout(e: &BrowserError) -> bool {
    matches!(e, BrowserError::WebDriver(m) if m.starts_with("timeout") || m.contains("Navigation timed out"))
}
