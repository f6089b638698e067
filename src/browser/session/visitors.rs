//! Several visitors in one scenario (`{ visitor = "Onesiphorus" }`): each has its own
//! cookies and storage, is started the first time it is named and is found again, its page
//! as it was left, when named later. A visitor is, by what the session can do:
//!
//! - with a user context per attempt (`--isolation user-context`), another user context
//!   with its own tab, made ahead (`Contexts::turn`): becoming a new visitor costs a switch;
//! - in a session that resets between attempts (the default) and makes user contexts (over
//!   DevTools on a local Chromium, else WebDriver BiDi), a user context made when the
//!   visitor is first named (`Maker`, 0.05-0.15 s), while the
//!   visitor the scenario started as stays the session's own tab: a suite without
//!   visitors pays nothing for them;
//! - where no user context can be made (a remote end without BiDi, one that refuses them), a
//!   WebDriver session of its own, made at the same remote end as this one, which the
//!   session's classic commands then drive.
//!
//! Every visitor but the current one ends with the scenario (`end_visitors`): user contexts
//! removed, sessions quit, and the session drives its own tab again. A dropped session
//! drops its visitors' sessions with it (their `Drop` hands them to the reaper); its
//! visitors' user contexts end with its browser.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thirtyfour::{WebDriver, WindowHandle};

use super::super::contexts::{MadeOver, Maker, Visitor};
use super::super::find::find_geckodriver;
use super::super::process::{DriverProcess, GECKODRIVER};
use super::super::profile::Profiles;
use super::super::reaper::Leftover;
use super::super::VisitorPage;
use super::super::{BrowserConfig, BrowserError, Signals};
use super::Session;

/// The most visitors a session keeps for one scenario, the current one included: the spec
/// refuses more at load time (`spec::verbs::actions::MAX_VISITORS`); this bounds a name made at run time.
const MAX_VISITORS: usize = 8;

/// How the visitor the scenario started as is named in evidence, when no step named it.
const UNNAMED: &str = "first visitor";

/// A session's visitors beside its own (see the module), where the session resets
/// between attempts; with a user context per attempt, `Contexts` keeps them instead.
pub(in crate::browser) struct Cast {
    /// The current visitor's name; `None` for the one the scenario started as, unnamed.
    name: Mutex<Option<String>>,
    /// Where the current visitor is.
    current: Mutex<Seat>,
    /// The other visitors by name, kept as they were left.
    kept: Mutex<Vec<(Option<String>, Seat)>>,
    /// The connection user contexts are made over on demand (DevTools on a local Chromium,
    /// else the session's BiDi connection: `Maker::connect` decides): opened when the
    /// first visitor beyond the first is named, or why it cannot be (then, and once a
    /// remote end refused a user context, every visitor is a session of its own).
    maker: tokio::sync::OnceCell<Result<Maker, String>>,
    refused: Mutex<Option<String>>,
    /// The whole user agent a user context gets when the session marks its traffic.
    user_agent: Option<String>,
    /// How a visitor's own session is made: as this one, but with no user contexts (it
    /// serves one visitor) and, for a local Firefox, a geckodriver of its own.
    config: BrowserConfig,
    binary: Option<PathBuf>,
    own_driver: bool,
    /// Where a local Firefox visitor's session gets a fresh copy of the run's template.
    profiles: Profiles,
    /// The page-load timeout the runner set on this session, set on each visitor's too.
    page_load: Mutex<Option<Duration>>,
}

/// Where a visitor is.
#[derive(Clone)]
enum Seat {
    /// This session's own window, the visitor the scenario started as; the tab it was on
    /// when another visitor was named (`None` while it is current).
    Own(Option<String>),
    /// A user context of this session's browser, made when named; `tab`, the tab it was on.
    Context(Visitor),
    /// A WebDriver session of its own.
    Session(Arc<Session>),
}

/// What a visitor is in a session that resets between attempts, for the run's header:
/// `via`, what its user contexts are made over, if any can be.
pub fn describe(via: Option<MadeOver>) -> &'static str {
    match via {
        Some(MadeOver::Devtools) => {
            "a user context each, made when first named (DevTools); a session of its own where the browser refuses"
        }
        Some(MadeOver::Bidi) => {
            "a user context each, made when first named (WebDriver BiDi); a session of its own where the browser \
             refuses"
        }
        None => "a WebDriver session each (no WebDriver BiDi)",
    }
}

impl Cast {
    pub(in crate::browser) fn new(
        config: &BrowserConfig,
        binary: Option<&Path>,
        own_driver: bool,
        user_agent: Option<String>,
        profiles: &Profiles,
    ) -> Cast {
        Cast {
            name: Mutex::new(None),
            current: Mutex::new(Seat::Own(None)),
            kept: Mutex::new(Vec::new()),
            maker: tokio::sync::OnceCell::new(),
            refused: Mutex::new(None),
            user_agent,
            // A visitor's session has a profile of its own, never this one's.
            config: BrowserConfig { user_contexts: false, visitors: false, firefox_profile: None, ..config.clone() },
            binary: binary.map(Path::to_path_buf),
            own_driver,
            profiles: profiles.clone(),
            page_load: Mutex::new(None),
        }
    }

    /// The current visitor's WebDriver session when it is a session of its own.
    pub(in crate::browser) fn current_wd(&self) -> Option<WebDriver> {
        match &*self.current.lock().ok()? {
            Seat::Session(s) => s.own_wd().ok(),
            _ => None,
        }
    }

    /// The current visitor's own session, when it is one.
    pub(in crate::browser) fn current_session(&self) -> Option<Arc<Session>> {
        match &*self.current.lock().ok()? {
            Seat::Session(s) => Some(Arc::clone(s)),
            _ => None,
        }
    }

    pub(in crate::browser) fn note_page_load(&self, limit: Duration) {
        if let Ok(mut p) = self.page_load.lock() {
            *p = Some(limit);
        }
    }

    /// The visitors' own sessions, current and kept.
    fn sessions(&self) -> Vec<Arc<Session>> {
        let mut seats: Vec<Seat> = self.current.lock().map(|c| vec![c.clone()]).unwrap_or_default();
        if let Ok(kept) = self.kept.lock() {
            seats.extend(kept.iter().map(|(_, s)| s.clone()));
        }
        seats
            .into_iter()
            .filter_map(|s| match s {
                Seat::Session(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// Whether a visitor of this scenario is a user context made on demand: the session's
    /// window then holds other visitors' tabs.
    pub(in crate::browser) fn has_contexts(&self) -> bool {
        let context = |s: &Seat| matches!(s, Seat::Context(_));
        self.current.lock().is_ok_and(|c| context(&c))
            || self.kept.lock().is_ok_and(|k| k.iter().any(|(_, s)| context(s)))
    }

    /// The connection user contexts are made over, opened the first time it is wanted
    /// (also to read the page behind a dialog where signals do not hold one open).
    pub(in crate::browser) async fn maker(&self, wd: &WebDriver, limit: Duration) -> Result<&Maker, String> {
        if let Some(why) = self.refused.lock().ok().and_then(|r| r.clone()) {
            return Err(why);
        }
        let made = self.maker.get_or_init(|| Maker::connect(wd, &self.config, self.user_agent.clone(), limit)).await;
        made.as_ref().map_err(Clone::clone)
    }

    pub(in crate::browser) fn mark_signals(&self) {
        for session in self.sessions() {
            session.mark_signals();
        }
    }

    /// `own` (this session's signals) with every visitor's session's: what any visitor's
    /// browser reported counts. (User contexts share the session's subscription.)
    pub(in crate::browser) async fn with_signals(&self, mut own: Signals) -> Signals {
        for session in self.sessions() {
            // Each its own collection (not `Session::signals`, which would ask its cast).
            let theirs = match session.own_wd() {
                Ok(wd) => session.signals.signals(&wd).await,
                Err(_) => Signals::default(),
            };
            own.entries.extend(theirs.entries);
            own.dropped += theirs.dropped;
            own.source = own.source.or(theirs.source);
        }
        own
    }

    fn current_name(&self) -> Option<String> {
        self.name.lock().ok().and_then(|n| n.clone())
    }

    fn set_name(&self, name: Option<String>) {
        if let Ok(mut n) = self.name.lock() {
            *n = name;
        }
    }
}

impl Session {
    /// Become the visitor `name` (see the module). As the scenario's `first` step it only
    /// names the visitor the scenario starts as.
    pub async fn visitor(&self, name: &str, first: bool) -> Result<(), BrowserError> {
        let from = self.cast.current_name();
        if first || from.as_deref() == Some(name) {
            self.cast.set_name(Some(name.to_string()));
            return Ok(());
        }
        let known = match &self.contexts {
            Ok(contexts) => contexts.kept(),
            Err(_) => self.cast.kept.lock().map_or(0, |k| k.len()),
        };
        let met = self.cast.kept.lock().is_ok_and(|k| k.iter().any(|(n, _)| n.as_deref() == Some(name)))
            || matches!(&self.contexts, Ok(c) if c.tabs().0.iter().any(|(n, _)| n.as_deref() == Some(name)));
        if !met && known + 1 >= MAX_VISITORS {
            return Err(BrowserError::WebDriver(format!(
                "failed to start visitor {name:?}: a scenario may have at most {MAX_VISITORS} visitors"
            )));
        }
        match &self.contexts {
            Ok(contexts) => {
                let wd = self.own_wd()?;
                let turned = contexts.turn(from, name, |tab| self.bounded(wd.switch_to_window(tab.into()))).await;
                let (tab, switched) = turned
                    .map_err(|why| BrowserError::WebDriver(format!("failed to become visitor {name:?}: {why}")))?;
                switched?;
                self.signals.follow(&tab);
                self.in_page.in_frame(false);
            }
            Err(_) => self.take_seat(from, name).await?,
        }
        self.cast.set_name(Some(name.to_string()));
        if let Ok(mut last) = self.inspected.lock() {
            *last = None;
        }
        // Each visitor has its own window: the size noted was the last visitor's.
        if !self.size.lock().is_ok_and(|now| *now == self.window) {
            self.note_size((0, 0));
        }
        Ok(())
    }

    /// Keep `n` visitors made ahead where visitors are user contexts: the worker asks for
    /// one per visitor its scenarios start beyond their first (see `Contexts::set_ahead`).
    pub fn visitors_ahead(&self, n: usize) {
        if let Ok(contexts) = &self.contexts {
            contexts.set_ahead(n);
        }
    }

    /// A new session for visitor `name`, made where this one was, with the same settings.
    async fn start_visitor(&self, name: &str) -> Result<Session, BrowserError> {
        let cast = &self.cast;
        let mut config = cast.config.clone();
        let own_driver = if cast.own_driver {
            let path = find_geckodriver(cast.config.driver.as_deref())?;
            config.firefox_profile = cast.profiles.fresh(&cast.config).await;
            let spawned = DriverProcess::spawn(&GECKODRIVER, &path).await;
            if spawned.is_err() {
                self.reaper.end(config.firefox_profile.take().map(Leftover::Profile).into_iter().collect()).await;
            }
            Some(spawned?)
        } else {
            None
        };
        let url = match &own_driver {
            Some((_, port)) => format!("http://127.0.0.1:{port}"),
            None => self.url.clone(),
        };
        let own_driver = own_driver.map(|(process, _)| process);
        let started =
            Session::start(&config, cast.binary.as_deref(), url, own_driver, &self.reaper, &cast.profiles).await;
        let session = started.map_err(|e| BrowserError::WebDriver(format!("failed to start visitor {name:?}: {e}")))?;
        let page_load = cast.page_load.lock().ok().and_then(|p| *p);
        if let Some(limit) = page_load {
            let _ = session.set_page_load_timeout(limit).await;
        }
        Ok(session)
    }

    /// Become visitor `name` in a session that resets between attempts: the seat it was
    /// kept in, else a new user context (made now), else a new session; the current
    /// visitor (`from`) is kept where it is, its page untouched.
    async fn take_seat(&self, from: Option<String>, name: &str) -> Result<(), BrowserError> {
        let kept = self.cast.kept.lock().ok().and_then(|mut kept| {
            let at = kept.iter().position(|(n, _)| n.as_deref() == Some(name))?;
            Some(kept.remove(at).1)
        });
        let to = match kept {
            Some(to) => to,
            None => self.new_seat(name).await?,
        };
        let own = self.own_wd()?;
        let tab = match &to {
            Seat::Own(tab) => tab.clone(),
            Seat::Context(v) => Some(v.tab.clone()),
            Seat::Session(_) => None,
        };
        // The tab the current visitor is on, to find it there again, if the session's
        // window is about to leave it (a visitor of its own session leaves it alone).
        let at = match &tab {
            Some(_) => Some(self.bounded(own.window()).await?.to_string()),
            None => None,
        };
        let current =
            self.cast.current.lock().map(|c| c.clone()).map_err(|_| BrowserError::WebDriver("poisoned".into()))?;
        let left = match (current, at) {
            (Seat::Own(_), Some(at)) => Seat::Own(Some(at)),
            (Seat::Context(v), Some(tab)) => Seat::Context(Visitor { tab, ..v }),
            (left, _) => left,
        };
        if let Some(tab) = tab {
            if let Err(e) = self.to_front(&own, &tab).await {
                // Kept under its name, so that it ends with the scenario all the same.
                if let Ok(mut kept) = self.cast.kept.lock() {
                    kept.push((Some(name.to_string()), to));
                }
                return Err(e);
            }
        }
        let current = match to {
            Seat::Own(_) => Seat::Own(None),
            to => to,
        };
        if let Ok(mut c) = self.cast.current.lock() {
            *c = current;
        }
        if let Ok(mut kept) = self.cast.kept.lock() {
            kept.push((from, left));
        }
        Ok(())
    }

    /// A new visitor's seat: a user context of this browser where one can be made, else a
    /// session of its own (and, once the remote end refused one, always a session).
    async fn new_seat(&self, name: &str) -> Result<Seat, BrowserError> {
        let own = self.own_wd()?;
        if let Ok(maker) = self.cast.maker(&own, self.timeout()).await {
            match maker.make().await {
                Ok(visitor) => return Ok(Seat::Context(visitor)),
                Err(why) => {
                    if let Ok(mut refused) = self.cast.refused.lock() {
                        *refused = Some(format!("the remote end made no user context: {why}"));
                    }
                }
            }
        }
        Ok(Seat::Session(Arc::new(self.start_visitor(name).await?)))
    }

    /// Where the current visitor's cookies must be set and read over BiDi: the connection
    /// and the current tab, when the visitor is a user context made over BiDi (WebDriver's
    /// own cookie commands reach the browser's default context there on Firefox); `None`
    /// when they reach the visitor's own (its own session, or chromedriver's DevTools).
    pub(in crate::browser) async fn cookie_jar(&self) -> Option<(&Maker, String)> {
        let maker = match (&self.contexts, self.cast.maker.get()) {
            (Ok(contexts), _) => contexts.maker(),
            (Err(_), Some(Ok(maker))) if matches!(self.cast.current.lock().as_deref(), Ok(Seat::Context(_))) => maker,
            _ => return None,
        };
        if !maker.keeps_cookies() {
            return None;
        }
        let own = self.own_wd().ok()?;
        let tab = self.bounded(own.window()).await.ok()?;
        Some((maker, tab.to_string()))
    }

    /// The tabs in the user context of `tab`, where the session's window holds other
    /// visitors' (user contexts); `None` where all its tabs are the current visitor's.
    pub(in crate::browser) async fn tabs_beside(&self, tab: &str) -> Option<Result<Vec<String>, String>> {
        match (&self.contexts, self.cast.maker.get()) {
            (Ok(contexts), _) => Some(contexts.tabs_beside(tab).await),
            (Err(_), Some(Ok(maker))) if self.cast.has_contexts() => Some(maker.tabs_beside(tab).await),
            _ => None,
        }
    }

    /// `new_visitor` where the current visitor is a user context made when named (or the
    /// scenario has one): the current visitor, if a user context, is replaced by a new one
    /// (removed with everything in it; a script could not clear every store, nor could
    /// WebDriver's cookie commands in Firefox's user contexts); else reset (with `blank`,
    /// on a blank page).
    pub(in crate::browser) async fn renew_visitor(&self, blank: bool) -> Result<(), BrowserError> {
        let current = self.cast.current.lock().ok().map(|c| c.clone());
        let old = match current {
            Some(Seat::Context(old)) => old,
            _ => return self.reset(blank).await,
        };
        let Some(Ok(maker)) = self.cast.maker.get() else { return self.reset(blank).await };
        let failed = |why: String| BrowserError::WebDriver(format!("failed to make a new visitor: {why}"));
        let new = maker.make().await.map_err(failed)?;
        let wd = self.own_wd()?;
        let tab = new.tab.clone();
        if let Ok(mut c) = self.cast.current.lock() {
            *c = Seat::Context(new);
        }
        self.to_front(&wd, &tab).await?;
        maker.remove(&old).await.map_err(failed)?;
        self.controls.forget();
        self.forget_inspected();
        self.default_size().await
    }

    /// Drive `tab` and bring it to the front (where user contexts are made: a tab made in
    /// the background is neither focused nor, in Firefox, shown), its signals followed.
    async fn to_front(&self, wd: &WebDriver, tab: &str) -> Result<(), BrowserError> {
        self.bounded(wd.switch_to_window(WindowHandle::from(tab.to_string()))).await?;
        if let Some(Ok(maker)) = self.cast.maker.get() {
            // Firefox may answer that a tab just made "no longer exists" while it first
            // shows it (under load): asked again, it is there.
            if maker.activate(tab).await.is_err() {
                let failed =
                    |why| BrowserError::WebDriver(format!("failed to bring a visitor's tab to the front: {why}"));
                maker.activate(tab).await.map_err(failed)?;
            }
        }
        self.signals.follow(tab);
        self.in_page.in_frame(false);
        Ok(())
    }

    /// What a visitor beyond the first is in this session, for the run's header.
    pub fn visitors_are(&self) -> &'static str {
        match &self.contexts {
            Ok(contexts) => match contexts.maker().via() {
                MadeOver::Devtools => "a user context each, made ahead (DevTools)",
                MadeOver::Bidi => "a user context each, made ahead (WebDriver BiDi)",
            },
            Err(_) => {
                let bidi = || {
                    self.own_wd().is_ok_and(|wd| wd.capabilities().get("webSocketUrl").is_some_and(|u| u.is_string()))
                };
                let via = if super::super::capabilities::over_devtools(&self.cast.config) {
                    Some(MadeOver::Devtools)
                } else if bidi() {
                    Some(MadeOver::Bidi)
                } else {
                    None
                };
                describe(via)
            }
        }
    }

    /// The visitors of the scenario that just ended end with it: their user contexts are
    /// removed, their sessions quit, and the session drives its own tab again (the next
    /// attempt's reset is then as without visitors). With a user context per attempt, the
    /// current visitor stays, for the next `new_visitor` to replace.
    pub async fn end_visitors(&self) {
        if let Ok(contexts) = &self.contexts {
            contexts.end_kept().await;
        }
        let current = self.cast.current.lock().map(|mut c| std::mem::replace(&mut *c, Seat::Own(None)));
        let mut seats: Vec<Seat> =
            self.cast.kept.lock().map(|mut k| k.drain(..).map(|(_, s)| s).collect()).unwrap_or_default();
        seats.extend(current);
        self.cast.set_name(None);
        let home = seats.iter().find_map(|s| match s {
            Seat::Own(tab) => tab.clone(),
            _ => None,
        });
        let (mut visitors, mut sessions) = (Vec::new(), Vec::new());
        for seat in seats {
            match seat {
                Seat::Context(v) => visitors.push(v),
                Seat::Session(s) => sessions.push(s),
                Seat::Own(_) => {}
            }
        }
        let removed = async {
            if let (Some(Ok(maker)), false) = (self.cast.maker.get(), visitors.is_empty()) {
                futures_util::future::join_all(visitors.iter().map(|v| maker.remove(v))).await;
            }
        };
        // Back to the session's own tab, where it left it for another visitor's.
        let home = async {
            if let (Some(tab), Ok(wd)) = (home, self.own_wd()) {
                if self.bounded(wd.switch_to_window(WindowHandle::from(tab.clone()))).await.is_ok() {
                    self.signals.follow(&tab);
                }
            }
        };
        let quits = sessions.into_iter().map(|s| async move {
            // Nothing else holds a visitor's session once the scenario is over; should
            // something still, its drop hands it to the reaper.
            if let Ok(session) = Arc::try_unwrap(s) {
                session.quit().await;
            }
        });
        tokio::join!(removed, home, futures_util::future::join_all(quits));
        if let Ok(mut last) = self.inspected.lock() {
            *last = None;
        }
        if !self.size.lock().is_ok_and(|now| *now == self.window) {
            self.note_size((0, 0));
        }
    }

    /// Every other visitor's page (screenshot, HTML, URL), for a failure's evidence. Over
    /// user contexts the session switches to each visitor's tab and back.
    pub async fn other_visitors(&self) -> Vec<VisitorPage> {
        let label = |n: Option<String>| n.unwrap_or_else(|| UNNAMED.to_string());
        let mut pages = Vec::new();
        match &self.contexts {
            Ok(contexts) => {
                let (kept, current) = contexts.tabs();
                let Ok(wd) = self.own_wd() else { return pages };
                for (name, tab) in kept {
                    if self.bounded(wd.switch_to_window(tab.into())).await.is_ok() {
                        pages.push(VisitorPage::of(label(name), self.evidence_of(&wd).await));
                    }
                }
                if let Some(tab) = current.filter(|_| !pages.is_empty()) {
                    let _ = self.bounded(wd.switch_to_window(tab.into())).await;
                }
            }
            Err(_) => {
                let kept: Vec<_> = self.cast.kept.lock().map(|k| k.clone()).unwrap_or_default();
                let Ok(wd) = self.own_wd() else { return pages };
                // The tab the current visitor is on, to come back to after the others'.
                let mut here = None;
                for (name, seat) in kept {
                    let tab = match seat {
                        Seat::Session(session) => {
                            pages.push(VisitorPage::of(label(name), session.evidence().await));
                            continue;
                        }
                        Seat::Own(None) => {
                            // Never named away from: the session's own window, current.
                            pages.push(VisitorPage::of(label(name), self.evidence_of(&wd).await));
                            continue;
                        }
                        Seat::Own(Some(tab)) => tab,
                        Seat::Context(v) => v.tab,
                    };
                    if here.is_none() && self.cast.current_wd().is_none() {
                        here = self.bounded(wd.window()).await.ok();
                    }
                    if self.bounded(wd.switch_to_window(WindowHandle::from(tab))).await.is_ok() {
                        pages.push(VisitorPage::of(label(name), self.evidence_of(&wd).await));
                    }
                }
                if let Some(here) = here {
                    let _ = self.bounded(wd.switch_to_window(here)).await;
                }
            }
        }
        pages
    }
}
