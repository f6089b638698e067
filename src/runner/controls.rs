//! The steps of real apps' controls that wait on something other than an element: a
//! dialog to open, a tab to exist, a cookie to be set; and the rule that a cookie is set
//! only on a page of the target's site.

use super::sensitive::Guard;
use super::StepError;
use crate::browser::{BrowserError, Session};
use crate::shared::redact::{redact, without_userinfo};
use crate::spec::Tab;
use crate::wait::{self, Check, Patience};

/// A browser error met by a step that is not retried: the step fails with it (or, for
/// a lost session, the scenario errs).
pub(super) fn failed(e: BrowserError) -> StepError {
    if e.is_session_lost() {
        StepError::Browser(e)
    } else {
        StepError::Failed { message: format!("the browser said: {e}"), last_seen: None }
    }
}

/// `set_cookie`, `delete_cookie`: the browser takes a cookie for the site of the page it
/// shows, so that page must be the target's (not about:blank, not another site), and it
/// must be one the guard lets a step act on.
pub(super) fn cookie_site(page: &str, base_url: &str, guard: &Guard, doing: &str) -> Result<(), StepError> {
    let here = origin(page);
    let target = origin(base_url);
    if here.is_none() || here != target {
        return Err(StepError::Failed {
            message: format!(
                "cannot {doing}: the browser is on {}, not a page of the target ({}): visit a page of the site first",
                redact(page),
                redact(base_url)
            ),
            last_seen: None,
        });
    }
    guard.check(page)
}

/// `scheme://host:port` of an http(s) URL, lower case, without user info.
fn origin(url: &str) -> Option<String> {
    let url = without_userinfo(url);
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// `expect_cookie` / `expect_no_cookie`: WebDriver's cookies of the page's site, re-read
/// until `name` is there (with the value `equals`, if given) or, with `present` false,
/// gone. A cookie's value is not shown: it is often a credential.
pub(super) async fn expect_cookie(
    session: &Session,
    patience: Patience,
    name: &str,
    equals: Option<&str>,
    present: bool,
) -> Result<(), StepError> {
    let waited = wait::until(patience, || async {
        let cookies = match session.cookies().await {
            Ok(c) => c,
            Err(e) if e.is_session_lost() => return Err(e),
            Err(e) => return Ok(Check::NotYet(format!("the browser said: {e}"))),
        };
        let found = cookies.iter().find(|(n, _)| n == name);
        let names = || {
            let names: Vec<String> = cookies.iter().map(|(n, _)| format!("{n:?}")).collect();
            if names.is_empty() {
                "the site has no cookies".to_string()
            } else {
                format!("the site's cookies are {}", names.join(", "))
            }
        };
        Ok(match (found, present, equals) {
            (Some(_), false, _) => Check::NotYet(format!("the cookie {name:?} is still set")),
            (None, false, _) => Check::Done(()),
            (None, true, _) => Check::NotYet(format!("no cookie {name:?}: {}", names())),
            (Some((_, value)), true, Some(want)) if value != want => Check::NotYet(format!(
                "the cookie {name:?} has another value ({} characters; cookie values are not shown)",
                value.chars().count()
            )),
            (Some(_), true, _) => Check::Done(()),
        })
    })
    .await;
    waited.map_err(StepError::from)
}

/// Wait until a dialog (alert, confirm, prompt) is open; check its text if `text` is
/// given; then, once the guard has judged the page it is on (answering a confirm acts on
/// that page as a click does), accept it (typing `prompt` first) or dismiss it.
pub(super) async fn answer_dialog(
    session: &Session,
    patience: Patience,
    guard: &Guard,
    accept: bool,
    text: Option<&str>,
    prompt: Option<&str>,
) -> Result<(), StepError> {
    let shown = wait::until(patience, || async {
        match session.dialog_text().await {
            Ok(Some(text)) => Ok(Check::Done(text)),
            Ok(None) => Ok(Check::NotYet("no dialog is open".into())),
            Err(e) if e.is_session_lost() => Err(e),
            Err(e) => Ok(Check::NotYet(format!("the browser said: {e}"))),
        }
    })
    .await
    .map_err(StepError::from)?;
    if let Some(want) = text.filter(|want| *want != shown) {
        // Left open: the scenario fails here, and the next visitor's reset dismisses it.
        return Err(StepError::Failed {
            message: format!("the dialog says {shown:?}, not {want:?}"),
            last_seen: Some(format!("a dialog saying {shown:?}")),
        });
    }
    // A page may open a dialog as it loads, after a click led to it: the page is read
    // now (over BiDi: the dialog blocks WebDriver's own commands), only for a guard that
    // judges it.
    if guard.watching() {
        let doing = if accept { "accept the dialog" } else { "dismiss the dialog" };
        match session.dialog_page().await {
            Ok(page) => guard.check(&page)?,
            Err(why) => guard.unknown_page(doing, &why)?,
        }
    }
    session.answer_dialog(accept, prompt).await.map_err(failed)
}

/// Wait until the visitor has the tab `tab` names, then drive it.
pub(super) async fn switch_tab(session: &Session, patience: Patience, tab: Tab) -> Result<(), StepError> {
    let handle = wait::until(patience, || async {
        let tabs = match session.tabs().await {
            Ok(tabs) => tabs,
            Err(e) if e.is_session_lost() => return Err(e),
            Err(e) => return Ok(Check::NotYet(format!("the browser said: {e}"))),
        };
        let found = match tab {
            // The newest of at least two: the one a link or script is opening.
            Tab::Newest => tabs.last().filter(|_| tabs.len() > 1),
            Tab::First => tabs.first(),
            Tab::Nth(n) => tabs.get(n - 1),
        };
        Ok(match found {
            Some(handle) => Check::Done(handle.clone()),
            None if tabs.len() == 1 => Check::NotYet("the visitor has only one tab".into()),
            None => Check::NotYet(format!("the visitor has {} tabs", tabs.len())),
        })
    })
    .await
    .map_err(StepError::from)?;
    session.switch_tab(&handle).await.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_set_only_on_a_page_of_the_target() {
        let guard = Guard::default();
        let base = "http://u:pw@127.0.0.1:8000";
        assert!(cookie_site("http://127.0.0.1:8000/lists/1/", base, &guard, "set").is_ok());
        for page in ["about:blank", "http://127.0.0.1:8001/", "https://127.0.0.1:8000/", "data:text/html,x"] {
            match cookie_site(page, base, &guard, "set the cookie \"a\"") {
                Err(StepError::Failed { message, .. }) => {
                    assert!(message.contains("visit a page of the site first"), "{message}");
                    assert!(!message.contains("pw"), "no credentials: {message}");
                }
                _ => panic!("{page} is not the target's"),
            }
        }
    }
}
