//! Waits held in the page over DevTools: an expectation that did not hold at its first
//! look waits for the page to change in one `Runtime.evaluate` whose promise the page
//! resolves (`inspect::watch_expression`), on a DevTools session attached to the tab the
//! WebDriver session drives (a window handle is its DevTools target id). Why not through
//! chromedriver: a command the page held comes back 2–28 ms late through it, and 4–5×
//! sooner straight from the browser (BENCHMARKS.md, "Waits that wake on change, stop 24").
//!
//! Only where ft reaches the browser's DevTools (`capabilities::over_devtools`: a Chromium
//! its own chromedriver started), on the page itself: Runtime.evaluate runs in the tab's
//! top document, so a step that entered a frame makes the waits poll until it leaves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use thirtyfour::WebDriver;
use tokio::sync::OnceCell;

use super::Link;

/// How long past its cap a wait's answer may come before the wait gives up on it (a page
/// busy in a script, a dialog that holds the page): the rest of that wait then polls.
const LATE: Duration = Duration::from_secs(2);

/// A session's waits in the page: the link (opened at the first wait), the DevTools
/// session attached to each tab waited in, and whether the page is the place to wait.
pub(in crate::browser) struct InPage {
    /// The browser's DevTools endpoint is ft's to reach.
    reachable: bool,
    /// How long connecting and attaching may take.
    limit: Duration,
    link: OnceCell<Result<Link, String>>,
    /// The DevTools session attached to each tab, by target id.
    attached: Mutex<HashMap<String, String>>,
    /// A step entered a frame and no step came back to the page since.
    in_frame: AtomicBool,
}

/// What a wait in the page came to.
pub(in crate::browser) enum Waited {
    /// The page answered (see `inspect::watch_expression`).
    Answer(Value),
    /// The document went away under the wait (a navigation destroyed its context): the
    /// page changed, look again.
    Left,
    /// The wait could not be held in the page (the endpoint refused the link or the
    /// attachment, the answer came too late, the script failed): poll.
    Cannot,
}

impl InPage {
    pub(in crate::browser) fn new(reachable: bool, limit: Duration) -> InPage {
        InPage { reachable, limit, link: OnceCell::new(), attached: Mutex::default(), in_frame: AtomicBool::new(false) }
    }

    /// Whether a wait may be held in the page now: the endpoint is reachable (and did not
    /// refuse the link), and WebDriver drives the page itself, not a frame in it.
    pub(in crate::browser) fn usable(&self) -> bool {
        self.reachable && !self.in_frame.load(Ordering::Relaxed) && !matches!(self.link.get(), Some(Err(_)))
    }

    /// A step entered a frame (`true`) or came back to a tab's page (`false`).
    pub(in crate::browser) fn in_frame(&self, entered: bool) {
        self.in_frame.store(entered, Ordering::Relaxed);
    }

    /// Evaluate `expression` in `tab`'s page and wait for its promise, at most `cap` (the
    /// page's own cap) and `LATE` more.
    pub(in crate::browser) async fn wait(
        &self,
        wd: &WebDriver,
        tab: &str,
        expression: String,
        cap: Duration,
    ) -> Waited {
        let link = match self.link.get_or_init(|| Link::open(wd, self.limit)).await {
            Ok(link) => link,
            Err(_) => return Waited::Cannot,
        };
        let Ok(session) = self.session(link, tab).await else { return Waited::Cannot };
        let params = json!({ "expression": expression, "awaitPromise": true, "returnByValue": true });
        match link.send_within(Some(&session), "Runtime.evaluate", params, cap + LATE).await {
            Ok(result) if result.get("exceptionDetails").is_some() => Waited::Cannot,
            Ok(result) => Waited::Answer(result["result"]["value"].clone()),
            Err(why) if gone(&why) => {
                if why.contains("session") {
                    self.forget(tab);
                }
                Waited::Left
            }
            Err(_) => Waited::Cannot,
        }
    }

    /// The DevTools session attached to `tab`: attached once, kept for the session's life
    /// (a session with no domain on costs the page nothing).
    async fn session(&self, link: &Link, tab: &str) -> Result<String, String> {
        if let Some(session) = self.attached.lock().ok().and_then(|a| a.get(tab).cloned()) {
            return Ok(session);
        }
        let attached = link.send(None, "Target.attachToTarget", json!({ "targetId": tab, "flatten": true })).await?;
        let session = attached["sessionId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("Target.attachToTarget named no session: {attached}"))?;
        if let Ok(mut a) = self.attached.lock() {
            a.insert(tab.to_string(), session.clone());
        }
        Ok(session)
    }

    fn forget(&self, tab: &str) {
        if let Ok(mut a) = self.attached.lock() {
            a.remove(tab);
        }
    }
}

/// Whether a failed evaluation means the document (or the tab) went away under it: the
/// browser's words for a context destroyed by a navigation, a promise collected with it,
/// a target navigated or closed, a session detached.
fn gone(why: &str) -> bool {
    const WORDS: [&str; 5] = ["destroyed", "navigated", "collected", "No session", "not found"];
    WORDS.iter().any(|w| why.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_navigation_or_a_closed_tab_is_the_page_gone_and_anything_else_is_not() {
        assert!(gone("Runtime.evaluate: Execution context was destroyed."));
        assert!(gone("Runtime.evaluate: Inspected target navigated or closed"));
        assert!(gone("Runtime.evaluate: Promise was collected"));
        assert!(gone("Runtime.evaluate: No session with given id"));
        assert!(!gone("Runtime.evaluate: no answer within 3s"));
        assert!(!gone("Runtime.evaluate: the DevTools WebSocket closed"));
    }

    #[test]
    fn a_frame_entered_makes_waits_poll_until_a_step_comes_back_to_the_page() {
        let waits = InPage::new(true, Duration::from_secs(1));
        assert!(waits.usable());
        waits.in_frame(true);
        assert!(!waits.usable());
        waits.in_frame(false);
        assert!(waits.usable());
        assert!(!InPage::new(false, Duration::from_secs(1)).usable(), "no DevTools endpoint: poll");
    }
}
