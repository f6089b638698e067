//! A browser session's lifecycle (start at a remote end, one teardown for `quit` and
//! `Drop`) and the page operations the runner turns into steps, each bounded in time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use thirtyfour::error::WebDriverError;
use thirtyfour::{Key as WdKey, WebDriver, WebElement};

use super::collect::{Collection, TURNED_OFF};
use super::contexts::Contexts;
use super::controls::{chord_keys, is_dialog_open, Controls};
use super::devtools::InPage;
use super::inspect::{script, Evidence, Inspection};
use super::process::DriverProcess;
use super::profile::Profiles;
use super::reaper::{Leftover, Reaper};
use super::{BrowserConfig, BrowserError, BrowserInfo, Isolation, Signals};
use crate::shared::keys::{Chord, Key};
use crate::shared::locator::Locator;

mod in_page;
mod start;
mod visitors;

pub use in_page::{Change, Look};
use start::{connect, error_page};

/// One browser. Never shared between workers.
pub struct Session {
    wd: Option<WebDriver>,
    pub browser: BrowserInfo,
    timeout: Duration,
    /// The window size every scenario starts with, and the size the window has now (a
    /// `window_size` step changes it): a reset re-sizes only a window that was re-sized.
    window: (u32, u32),
    size: std::sync::Mutex<(u32, u32)>,
    /// The remote end the session lives at, for ending it.
    url: String,
    reaper: Reaper,
    /// This session's own driver (geckodriver), ended with the session.
    own_driver: Option<OwnDriver>,
    /// The locator of the last inspection and its first match (see `element`).
    inspected: std::sync::Mutex<Option<(Locator, serde_json::Value)>>,
    /// What the browser reports (console, exceptions, failed requests), or why it is not
    /// collected (`--no-signals`, a remote end without BiDi).
    pub(super) signals: Collection,
    /// A user context per visitor, or why not (the session then resets between visitors).
    pub(super) contexts: Result<Contexts, String>,
    /// The scenario's visitors beside the first, and how to start one (see `visitors`).
    pub(super) cast: visitors::Cast,
    /// What frame and tab steps left for the next visitor (browser/controls.rs).
    pub(super) controls: Controls,
    /// Where an expectation's wait is held in the page (a local Chromium, over DevTools).
    pub(super) in_page: InPage,
}

struct OwnDriver {
    process: DriverProcess,
    /// The session's fresh profile, removed when it ends: the copy of the template it
    /// started from (`profile`). One geckodriver made, where there is no template, is in the
    /// temp folder the driver's guard gives it, and goes with that.
    profile: Option<PathBuf>,
}

impl Session {
    /// A new session at `url`, which is `own_driver`'s when the session has a driver of its
    /// own; `profiles`, where a local Firefox's visitors start theirs from.
    pub(super) async fn start(
        config: &BrowserConfig,
        binary: Option<&Path>,
        url: String,
        own_driver: Option<DriverProcess>,
        reaper: &Reaper,
        profiles: &Profiles,
    ) -> Result<Session, BrowserError> {
        // A copy of the template the session was to start from goes with a failed start.
        let copy = || config.firefox_profile.clone().map(Leftover::Profile).into_iter().collect::<Vec<_>>();
        match connect(config, binary, &url).await {
            Ok((wd, browser, mut user_agent)) => {
                let signals = Collection::start(&wd, config).await;
                // A Firefox ft did not start (a Grid's) is marked once it runs, over BiDi;
                // unmarked synthetic traffic would count as real users': no session then.
                let remote_firefox = config.kind == super::BrowserKind::Firefox && config.firefox_user_agent.is_none();
                if let (true, Some(suffix)) = (remote_firefox, config.user_agent_suffix.as_deref()) {
                    let marked = tokio::time::timeout(config.command_timeout, signals.mark_user_agent(suffix)).await;
                    if let Some(why) = match marked {
                        Ok(Ok(agent)) => {
                            user_agent = Some(agent);
                            None
                        }
                        Ok(Err(why)) => Some(why),
                        Err(_) => Some(format!("no answer within {:?}", config.command_timeout)),
                    } {
                        let _ = wd.quit().await;
                        if let Some(p) = own_driver {
                            p.kill().await;
                        }
                        reaper.end(copy()).await;
                        return Err(BrowserError::SessionStart {
                            url,
                            message: format!("failed to mark the user agent as synthetic: {why}"),
                        });
                    }
                }
                let cast = visitors::Cast::new(config, binary, own_driver.is_some(), user_agent.clone(), profiles);
                let contexts = if config.user_contexts {
                    Contexts::start(&wd, config, user_agent).await
                } else {
                    Err(config.kind.reset_asked())
                };
                let profile = config.firefox_profile.clone();
                Ok(Session {
                    wd: Some(wd),
                    browser,
                    timeout: config.command_timeout,
                    window: config.window,
                    size: std::sync::Mutex::new(config.window),
                    url,
                    reaper: reaper.clone(),
                    own_driver: own_driver.map(|process| OwnDriver { process, profile }),
                    inspected: std::sync::Mutex::default(),
                    signals,
                    contexts,
                    cast,
                    controls: Controls::new(config.webdriver.is_some()),
                    in_page: InPage::new(super::capabilities::over_devtools(config), config.command_timeout),
                })
            }
            Err(err) => {
                if let Some(p) = own_driver {
                    p.kill().await;
                }
                reaper.end(copy()).await;
                Err(err)
            }
        }
    }

    /// End the session and close the browser (and the session's own driver, if any).
    ///
    /// A session with its own driver (local Firefox) is ended by killing the driver's
    /// process group and removing the profile: a polite `DELETE` makes geckodriver wait
    /// for Firefox to shut down and tidy a profile that is thrown away anyway, which
    /// took 0.5-1.1 s per session (BENCHMARKS.md).
    pub async fn quit(mut self) {
        let left = self.teardown();
        self.reaper.end(left).await;
    }

    /// End a session that is wedged or lost without waiting for it: its own driver is
    /// killed with its browser at once (as `quit` does); the `DELETE` for a session at a
    /// shared driver goes in the background, bounded as `quit`'s, and whatever it has not
    /// ended by the end of the run ends with the driver (`Driver::stop`).
    pub fn abandon(mut self) {
        let left = self.teardown();
        self.reaper.end_later(left);
    }

    /// The one teardown, behind `quit` and `Drop`. It does at once what needs no
    /// waiting: it takes the session from thirtyfour (whose own drop would block the
    /// executor to quit synchronously) and kills the session's own driver with its
    /// browser. It returns what is left to end, which needs waiting: `quit` ends it at
    /// once (bounded), `Drop` hands it to the reaper.
    fn teardown(&mut self) -> Vec<Leftover> {
        let mut left = Vec::new();
        let own = self.own_driver.take();
        if let Some(wd) = self.wd.take() {
            let id = wd.session_id().to_string();
            let _ = wd.leak();
            // A session with its own driver ends with that driver's process group.
            if own.is_none() {
                left.push(Leftover::Session { url: self.url.clone(), id });
            }
        }
        if let Some(mut own) = own {
            own.process.kill_now();
            left.extend(own.profile.map(Leftover::Profile));
        }
        left
    }

    /// How long one command may take.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The current visitor's WebDriver session: this session's own, or the visitor's own
    /// session (`visitors`) where the remote end makes no user contexts.
    pub(super) fn wd(&self) -> Result<WebDriver, BrowserError> {
        if let Some(wd) = self.cast.current_wd() {
            return Ok(wd);
        }
        self.own_wd()
    }

    /// This session's own WebDriver session, whichever visitor is current.
    fn own_wd(&self) -> Result<WebDriver, BrowserError> {
        self.wd.clone().ok_or_else(|| BrowserError::SessionLost("the session was already closed".into()))
    }

    /// Every command is bounded: a wedged browser becomes an error, not a hang.
    pub(super) async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, WebDriverError>>,
    ) -> Result<T, BrowserError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r.map_err(BrowserError::from_wd),
            Err(_) => Err(BrowserError::Timeout(self.timeout)),
        }
    }

    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.goto(url)).await.map_err(|e| match e {
            BrowserError::WebDriver(m) => BrowserError::WebDriver(error_page(&m).unwrap_or(m)),
            e => e,
        })
    }

    /// Inspect the elements `locator` finds (or, with `None`, the page's text).
    pub async fn inspect(
        &self,
        locator: Option<&Locator>,
        attr: Option<&str>,
        all: bool,
    ) -> Result<Inspection, BrowserError> {
        self.inspect_counting(locator, attr, all, None).await
    }

    /// `inspect`, also counting the elements `also` finds, in the same round trip.
    pub async fn inspect_counting(
        &self,
        locator: Option<&Locator>,
        attr: Option<&str>,
        all: bool,
        also: Option<&Locator>,
    ) -> Result<Inspection, BrowserError> {
        let wd = self.wd()?;
        let json = |l: Option<&Locator>| l.map_or(serde_json::Value::Null, Locator::to_json);
        let args = vec![json(locator), json!(attr), json!(all), json(also)];
        let ret = match self.bounded(wd.execute(script(locator, also), args)).await {
            Ok(ret) => ret,
            // A dialog blocks the page: say so, with its text, and how to answer it.
            Err(e) if is_dialog_open(&e) => return Err(self.dialog_in_the_way().await),
            Err(e) => return Err(e),
        };
        let mut answer = ret.json().clone();
        let mut seen = <Inspection as serde::Deserialize>::deserialize(&answer)
            .map_err(|e| BrowserError::WebDriver(format!("unexpected inspection result: {e}")))?;
        if let Some(fields) = answer.as_object_mut() {
            fields.remove("el");
            seen.answer = Some(answer);
        }
        if let (Some(locator), Ok(mut last)) = (locator, self.inspected.lock()) {
            *last = seen.element.take().map(|el| (locator.clone(), el));
        }
        Ok(seen)
    }

    /// The first element `locator` finds. An action comes right after the inspection
    /// that found its element visible (and alone), so that inspection's reference is used
    /// instead of a second round trip to find the same element; should the page have
    /// changed in between, the action fails as stale and is retried with a new look. The
    /// reference is kept until the next inspection (see `knows`). Without one, the same
    /// inspection script finds it (one round trip, every locator engine).
    pub(super) async fn element(&self, locator: &Locator) -> Result<WebElement, BrowserError> {
        let wd = self.wd()?;
        if !self.knows(locator) {
            self.inspect(Some(locator), None, false).await?;
        }
        let last = self.inspected.lock().ok().and_then(|last| last.clone());
        match last {
            Some((seen, el)) if seen == *locator => {
                WebElement::from_json(el, wd.handle().clone()).map_err(BrowserError::from_wd)
            }
            _ => Err(BrowserError::WebDriver(format!("no such element: nothing matches {locator}"))),
        }
    }

    /// The page's document or frame changed under the last inspection's element: it is
    /// not acted on again.
    pub(super) fn forget_inspected(&self) {
        if let Ok(mut last) = self.inspected.lock() {
            *last = None;
        }
    }

    /// Whether the last inspection was of `locator` and found an element: an action on it
    /// then acts on that very element (in that very document) without finding it again.
    pub fn knows(&self, locator: &Locator) -> bool {
        self.inspected.lock().is_ok_and(|last| last.as_ref().is_some_and(|(seen, _)| seen == locator))
    }

    pub async fn current_url(&self) -> Result<String, BrowserError> {
        let wd = self.wd()?;
        Ok(self.bounded(wd.current_url()).await?.to_string())
    }

    /// Type into the first element `locator` finds.
    pub async fn type_text(&self, locator: &Locator, text: &str) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        self.bounded(el.send_keys(text)).await
    }

    /// Type `text` into the first element `locator` finds, then press `key` in it: the same
    /// keystrokes as `type_text` and `press` one after the other, in one command.
    pub async fn type_then_press(&self, locator: &Locator, text: &str, key: Chord) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        let keys = format!("{text}{}", chord_keys(&key, |k| wd_key(k).value()));
        self.bounded(el.send_keys(keys)).await
    }

    /// Press `key` (a chord: its modifiers held) in the element `locator` finds.
    pub async fn press(&self, locator: &Locator, key: Chord) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        self.bounded(el.send_keys(chord_keys(&key, |k| wd_key(k).value()))).await
    }

    pub async fn click(&self, locator: &Locator) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        self.bounded(el.click()).await
    }

    pub async fn clear(&self, locator: &Locator) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        self.bounded(el.clear()).await
    }

    /// Submit the form of the first element `locator` finds (or that form itself) with
    /// `novalidate` set, as a client without HTML5 validation would: `required` and the
    /// like no longer stop it, so the server's own checks are what answers. One round trip.
    pub async fn submit_novalidate(&self, locator: &Locator) -> Result<(), BrowserError> {
        const SUBMIT_JS: &str = r#"
const el = arguments[0];
// Through the prototypes: a form's controls shadow its properties (one named `submit`,
// `noValidate` or `requestSubmit` would otherwise be read instead).
const F = HTMLFormElement.prototype;
const own = (proto, name) => { const d = Object.getOwnPropertyDescriptor(proto, name); return d && (d.get || d.value); };
const owners = [HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement, HTMLButtonElement, HTMLFieldSetElement, HTMLOutputElement, HTMLObjectElement];
const owner = owners.some(k => el instanceof k) ? el.form : null;
const form = el instanceof HTMLFormElement ? el : (owner || Reflect.apply(own(Element.prototype, "closest"), el, ["form"]));
if (!form) { return "it is not a form and is in no form"; }
// The form is built and validation skipped (or not) within the call: the page's own
// form keeps its setting for any later, ordinary submit.
const noValidate = Object.getOwnPropertyDescriptor(F, "noValidate");
const was = Reflect.apply(noValidate.get, form, []);
Reflect.apply(noValidate.set, form, [true]);
try {
  const send = own(F, "requestSubmit") || own(F, "submit");
  Reflect.apply(send, form, []);
} finally { Reflect.apply(noValidate.set, form, [was]); }
return null;
"#;
        let wd = self.wd()?;
        let el = self.element(locator).await?;
        let arg = el.to_json().map_err(BrowserError::from_wd)?;
        let ret = self.bounded(wd.execute(SUBMIT_JS, vec![arg])).await?;
        match ret.json().as_str() {
            Some(why) => Err(BrowserError::WebDriver(format!("cannot submit the form of {locator}: {why}"))),
            None => Ok(()),
        }
    }

    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        // Until the browser has answered, the size is unknown: a reset then re-sizes.
        self.note_size((0, 0));
        self.bounded(wd.set_window_rect(0, 0, width, height)).await?;
        self.note_size((width, height));
        Ok(())
    }

    fn note_size(&self, size: (u32, u32)) {
        if let Ok(mut now) = self.size.lock() {
            *now = size;
        }
    }

    /// How long the browser may take to load a page (a `visit`, a form's answer) before
    /// the command fails. Without it a page whose connection hangs mid-response would hold
    /// every command until its own 60 s bound (WebDriver's default is 300 s).
    pub async fn set_page_load_timeout(&self, limit: Duration) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.cast.note_page_load(limit);
        self.bounded(wd.set_page_load_timeout(limit)).await
    }

    /// How this session keeps one visitor from the next (see `new_visitor`).
    pub fn isolation(&self) -> Isolation {
        match &self.contexts {
            Ok(_) => Isolation::UserContext,
            Err(why) => Isolation::Reset(why.clone()),
        }
    }

    /// Become a new visitor, with nothing of the last one, at the default window size
    /// and on a blank page. In a new user context where the remote end makes them (its
    /// tab was made ahead, see `prepare_visitors`; the last visitor's user context is
    /// removed with everything in it); else by `reset`, which with `blank` false leaves
    /// the last page shown (the caller's next command is a navigation).
    pub async fn new_visitor(&self, blank: bool) -> Result<(), BrowserError> {
        let contexts = match &self.contexts {
            Ok(contexts) => contexts,
            Err(_) if self.cast.has_contexts() => return self.renew_visitor(blank).await,
            Err(_) => return self.reset(blank).await,
        };
        let wd = self.wd()?;
        let made = contexts.switch(|tab| self.bounded(wd.switch_to_window(tab.into()))).await;
        let (tab, switched) =
            made.map_err(|why| BrowserError::WebDriver(format!("failed to make a new visitor: {why}")))?;
        switched?;
        self.signals.follow(&tab);
        self.in_page.in_frame(false);
        self.controls.forget();
        self.forget_inspected();
        self.default_size().await
    }

    /// Keep the next visitor's user context and tab made, so that `new_visitor` finds it
    /// ready, until `until` completes: run beside an attempt. Nothing without user contexts.
    pub async fn prepare_visitors(&self, until: impl std::future::Future<Output = ()>) {
        if let Ok(contexts) = &self.contexts {
            contexts.prepare_until(until).await;
        }
    }

    /// Become a new visitor as far as scripts and classic WebDriver reach, where the remote
    /// end makes no user contexts: cookies (WebDriver deletes the current site's, which
    /// is the target's after any scenario step), local and session storage, IndexedDB
    /// databases, Cache Storage and service workers of the page's origin, by one script
    /// that also says which site the browser is on. Other origins the last visitor saw
    /// keep theirs. Then, with `blank`, a blank page, and the default window size.
    pub async fn reset(&self, blank: bool) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        // Tabs opened and frames entered are left first, so the site cleared is the
        // visitor's page's; a dialog left open would refuse every command.
        self.leave().await?;
        let ret = match self.bounded(wd.execute(CLEAR_JS, Vec::new())).await {
            Err(e) if is_dialog_open(&e) => {
                self.dismiss_any_dialog().await;
                self.bounded(wd.execute(CLEAR_JS, Vec::new())).await?
            }
            ret => ret?,
        };
        if ret.json().as_str().is_some_and(|url| url.starts_with("http")) {
            self.bounded(wd.delete_all_cookies()).await?;
        }
        if blank {
            self.bounded(wd.goto("about:blank")).await?;
        }
        self.default_size().await
    }

    /// Back to the default window size, if a `window_size` step changed it (a window of
    /// the default size is left alone: no round trip).
    async fn default_size(&self) -> Result<(), BrowserError> {
        let (w, h) = self.window;
        if !self.size.lock().is_ok_and(|now| *now == (w, h)) {
            self.set_window_size(w, h).await?;
        }
        Ok(())
    }

    /// A screenshot and the page HTML, as far as the browser can still give them.
    pub async fn evidence(&self) -> Evidence {
        let Ok(wd) = self.wd() else { return Evidence::default() };
        self.evidence_of(&wd).await
    }

    /// A screenshot and the page HTML of the window `wd` drives now.
    async fn evidence_of(&self, wd: &WebDriver) -> Evidence {
        Evidence {
            screenshot: self.bounded(wd.screenshot_as_png()).await.ok(),
            html: self.bounded(wd.source()).await.ok(),
            url: self.bounded(wd.current_url()).await.ok().map(|u| u.to_string()),
            ..Evidence::default()
        }
    }

    /// The viewport as PNG (a filmstrip frame): one round trip.
    pub async fn screenshot(&self) -> Result<Vec<u8>, BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.screenshot_as_png()).await
    }
}

/// Signals: what the browser reported during an attempt. None of these sends a
/// WebDriver HTTP command; collection costs one BiDi subscription per session.
impl Session {
    /// A new attempt starts: what the browser reported before is forgotten.
    pub fn mark_signals(&self) {
        self.signals.mark();
        self.cast.mark_signals();
    }

    /// What the browser reported since `mark_signals`, up to this moment (with a barrier:
    /// see `Collector::signals`); `source` is `None` when nothing is collected.
    pub async fn signals(&self) -> Signals {
        let own = match self.own_wd() {
            Ok(wd) => self.signals.signals(&wd).await,
            Err(_) => Signals::default(),
        };
        self.cast.with_signals(own).await
    }

    /// Why this session collects no signals, if it does not.
    pub fn signals_missing(&self) -> Option<String> {
        self.signals.missing()
    }

    /// True when the user turned signals off (rather than the browser lacking them).
    pub fn signals_turned_off(&self) -> bool {
        self.signals_missing().as_deref() == Some(TURNED_OFF)
    }
}

impl Drop for Session {
    /// Backstop only (a panicking or aborted worker): never blocks the executor; a
    /// session that needs a `DELETE` is left to the reaper for `Driver::stop`.
    fn drop(&mut self) {
        let left = self.teardown();
        self.reaper.end_now(left);
    }
}

/// Clears what a page's origin keeps and answers `location.href`. WebDriver awaits the
/// promise a script returns; each kind settles on its own (about:blank has no storage,
/// a kind the browser lacks is skipped), and the whole is bounded, so a stuck one does not
/// hold the next scenario. A database the page still holds open is deleted once the page
/// goes (`onblocked` answers at once; the deletion stays queued ahead of any later open).
const CLEAR_JS: &str = r#"
const url = location.href;
try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}
const settle = f => Promise.resolve().then(f).catch(() => null);
const cleared = Promise.all([
  settle(() => indexedDB.databases().then(dbs => Promise.all(dbs.map(db => new Promise(done => {
    const req = indexedDB.deleteDatabase(db.name);
    req.onsuccess = req.onerror = req.onblocked = done;
  }))))),
  settle(() => caches.keys().then(keys => Promise.all(keys.map(k => caches.delete(k))))),
  settle(() => navigator.serviceWorker.getRegistrations().then(rs => Promise.all(rs.map(r => r.unregister())))),
]);
return Promise.race([cleared, new Promise(done => setTimeout(done, 2000))]).then(() => url);
"#;

/// The WebDriver key for a spec's key.
fn wd_key(key: Key) -> WdKey {
    match key {
        Key::Enter => WdKey::Enter,
        Key::Tab => WdKey::Tab,
        Key::Escape => WdKey::Escape,
        Key::Backspace => WdKey::Backspace,
        Key::Delete => WdKey::Delete,
        Key::Space => WdKey::Space,
        Key::ArrowUp => WdKey::Up,
        Key::ArrowDown => WdKey::Down,
        Key::ArrowLeft => WdKey::Left,
        Key::ArrowRight => WdKey::Right,
    }
}
