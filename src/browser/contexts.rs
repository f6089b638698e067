//! One visitor per user context: a user context (WebDriver BiDi's; a browser context in
//! DevTools' words) is a browser profile of its own inside the running browser (cookies, storage, IndexedDB, Cache Storage, service
//! workers, HTTP cache), so a scenario attempt in a new one finds nothing of the last,
//! as in a new browser, at the cost of a new tab. That tab is made ahead of time, while
//! the current attempt runs, so the switch is all an attempt waits for.
//!
//! The BiDi id of a top-level browsing context is its WebDriver classic window handle, and
//! so is a DevTools target id in chromedriver: the session switches its classic commands
//! to the new tab by that id.
//!
//! `Maker` makes and removes user contexts; `Contexts` uses it for a user context per
//! attempt, and a session that resets between attempts for the visitors a scenario names
//! beyond its first (`session/visitors.rs`), made when named.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use thirtyfour::bidi::BiDi;
use thirtyfour::WebDriver;

use super::devtools::Link;
use super::BrowserConfig;

/// The user contexts of one session: the visitor it is now and the next ones.
pub(super) struct Contexts {
    maker: Maker,
    /// The visitor the session is now; `None` until the first switch (the session's own
    /// first window, in the default user context, is never used for a scenario).
    current: Mutex<Option<Visitor>>,
    /// The next visitors, made ahead (`ahead` of them), oldest first.
    next: Mutex<Vec<Visitor>>,
    /// Held while a visitor is being made: a visitor wanted when none is ready waits for
    /// that one rather than making a second.
    making: tokio::sync::Mutex<()>,
    /// How many visitors to keep made ahead: one (the next attempt's), and more for a
    /// suite whose scenarios name several visitors (`set_ahead`).
    ahead: std::sync::atomic::AtomicUsize,
    /// Told when the next visitor is taken, so another is made (a `new_visitor` or a
    /// `visitor` step takes one mid-attempt).
    taken: tokio::sync::Notify,
    /// The scenario's other visitors, by name (`None`: the one it started as, unnamed),
    /// each with its tab as it was left; removed when the scenario ends (`end_kept`).
    kept: Mutex<Vec<(Option<String>, Visitor)>>,
}

/// A user context and the one tab in it.
#[derive(Clone, Debug)]
pub(super) struct Visitor {
    pub(super) user_context: String,
    pub(super) tab: String,
}

/// What makes and removes user contexts: `Contexts` (one per attempt, made ahead) and a
/// reset session's extra visitors (made when named, `session/visitors.rs`) both use it.
/// Over the session's BiDi connection, or, for a Chromium ft's own chromedriver started,
/// over the browser's DevTools endpoint: there a visitor needs no BiDi, whose mapper
/// chromedriver would start inside New Session (0.5-0.7 s each) and through which every
/// signal would then go (BENCHMARKS.md, "Visitors over DevTools"). `connect` is the one
/// place that decides which.
pub(super) struct Maker {
    via: Via,
    /// The whole user agent each new user context gets, when the session marks its traffic
    /// as synthetic: Chromium's mark (over DevTools) stays with the tab it was made in.
    user_agent: Option<String>,
    /// Bounds each command (a wedged browser must not hang ft).
    limit: Duration,
}

/// What a `Maker` makes user contexts over, for the run's header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum MadeOver {
    Bidi,
    Devtools,
}

/// The connection a `Maker` works over.
enum Via {
    /// WebDriver BiDi: a user context is `browser.createUserContext`'s, its tab a
    /// browsing context.
    Bidi(BiDi),
    /// DevTools: a user context is a browser context (`Target.createBrowserContext`), its
    /// tab a target whose id is its WebDriver window handle, as chromedriver names tabs.
    Devtools(Link),
}

impl Contexts {
    /// User contexts for this session, if its remote end makes them: the first visitor is
    /// made now (the one sure test of support). An error says why not; the session then
    /// resets between scenarios instead.
    pub(super) async fn start(
        wd: &WebDriver,
        config: &BrowserConfig,
        user_agent: Option<String>,
    ) -> Result<Contexts, String> {
        let contexts = Contexts {
            maker: Maker::connect(wd, config, user_agent, config.command_timeout).await?,
            current: Mutex::new(None),
            next: Mutex::new(Vec::new()),
            making: tokio::sync::Mutex::new(()),
            ahead: std::sync::atomic::AtomicUsize::new(1),
            taken: tokio::sync::Notify::new(),
            kept: Mutex::new(Vec::new()),
        };
        let first = contexts.maker.make().await?;
        if let Ok(mut next) = contexts.next.lock() {
            next.push(first);
        }
        Ok(contexts)
    }

    /// Keep a next visitor ready until `until` completes: make one now unless one is
    /// waiting, and again whenever it is taken. A visitor being made is always finished
    /// (never dropped half made, which would leak its user context). A failure is left
    /// for `switch` to meet again and report.
    pub(super) async fn prepare_until(&self, until: impl std::future::Future<Output = ()>) {
        tokio::pin!(until);
        loop {
            let ahead = self.ahead.load(std::sync::atomic::Ordering::Relaxed);
            while self.ready() < ahead {
                let _making = self.making.lock().await;
                if self.ready() >= ahead {
                    break;
                }
                match self.maker.make().await {
                    Ok(v) => {
                        if let Ok(mut next) = self.next.lock() {
                            next.push(v);
                        }
                    }
                    Err(_) => break,
                }
            }
            tokio::select! {
                () = &mut until => return,
                () = self.taken.notified() => {}
            }
        }
    }

    /// Become the next visitor: the next one's tab is brought to the front and `switched`
    /// (the session's classic switch to that tab) runs, while the current visitor's user
    /// context is removed with its tab; all three at once, and all done before this
    /// returns, so nothing of the last visitor is reported in the next attempt's signals.
    /// Returns the tab and what `switched` answered.
    pub(super) async fn switch<F, E>(
        &self,
        switched: impl FnOnce(String) -> F,
    ) -> Result<(String, Result<(), E>), String>
    where
        F: std::future::Future<Output = Result<(), E>>,
    {
        let visitor = self.take_next().await?;
        let tab = visitor.tab.clone();
        let old = self.current.lock().ok().and_then(|mut c| c.replace(visitor));
        let removed = async {
            match old {
                Some(old) => self.maker.remove(&old).await,
                None => Ok(Value::Null),
            }
        };
        // A tab made in the background is neither focused nor, in Firefox, shown: focus
        // and blur events, `:focus` and timers would differ from a visitor's own tab.
        let activated = self.maker.activate(&tab);
        let (removed, activated, switched) = tokio::join!(removed, activated, switched(tab.clone()));
        removed?;
        activated?;
        Ok((tab, switched))
    }

    /// The next visitor: the one made ahead, else a new one now. Taking it tells
    /// `prepare_until` to make another.
    async fn take_next(&self) -> Result<Visitor, String> {
        loop {
            let waiting = self.next.lock().ok().and_then(|mut next| (!next.is_empty()).then(|| next.remove(0)));
            if let Some(v) = waiting {
                self.taken.notify_one();
                return Ok(v);
            }
            // None ready: make one, unless one is being made (then wait for it and look again).
            match self.making.try_lock() {
                Ok(_making) => return self.maker.make().await,
                Err(_) => drop(self.making.lock().await),
            }
        }
    }

    /// How many visitors are made ahead now.
    fn ready(&self) -> usize {
        self.next.lock().map_or(0, |n| n.len())
    }

    /// Keep `n` visitors made ahead (at least one): a suite whose scenarios name more
    /// visitors finds each ready when it is named.
    pub(super) fn set_ahead(&self, n: usize) {
        self.ahead.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Become the visitor named `to`, keeping the current one (named `from`) as it is, its
    /// tab and page untouched: `to` is a visitor kept earlier, else the next one, made
    /// ahead. The tab is brought to the front while `switched` (the session's classic
    /// switch) runs. Returns the tab now driven and what `switched` answered.
    pub(super) async fn turn<F, E>(
        &self,
        from: Option<String>,
        to: &str,
        switched: impl FnOnce(String) -> F,
    ) -> Result<(String, Result<(), E>), String>
    where
        F: std::future::Future<Output = Result<(), E>>,
    {
        let kept = self.kept.lock().ok().and_then(|mut kept| {
            let at = kept.iter().position(|(name, _)| name.as_deref() == Some(to))?;
            Some(kept.remove(at).1)
        });
        let visitor = match kept {
            Some(v) => v,
            None => self.take_next().await?,
        };
        let tab = visitor.tab.clone();
        let left = self.current.lock().ok().and_then(|mut c| c.replace(visitor));
        if let (Some(left), Ok(mut kept)) = (left, self.kept.lock()) {
            kept.push((from, left));
        }
        let activated = self.maker.activate(&tab);
        let (activated, switched) = tokio::join!(activated, switched(tab.clone()));
        activated?;
        Ok((tab, switched))
    }

    /// How many visitors are kept beside the current one.
    pub(super) async fn page_url(&self, tab: &str) -> Result<String, String> {
        self.maker.page_url(tab).await
    }

    /// The connection the attempt's user contexts are made over.
    pub(super) fn maker(&self) -> &Maker {
        &self.maker
    }

    pub(super) fn kept(&self) -> usize {
        self.kept.lock().map_or(0, |k| k.len())
    }

    /// The kept visitors' names and tabs, and the current visitor's tab (for evidence:
    /// the session switches to each tab and back).
    pub(super) fn tabs(&self) -> (Vec<(Option<String>, String)>, Option<String>) {
        let kept = self.kept.lock().map(|k| k.iter().map(|(n, v)| (n.clone(), v.tab.clone())).collect());
        let current = self.current.lock().ok().and_then(|c| c.as_ref().map(|v| v.tab.clone()));
        (kept.unwrap_or_default(), current)
    }

    /// End the kept visitors (the scenario is over): their user contexts are removed with
    /// their tabs, all at once. The current visitor stays, for the next `switch` to remove.
    pub(super) async fn end_kept(&self) {
        let kept: Vec<_> = self.kept.lock().map(|mut k| k.drain(..).collect()).unwrap_or_default();
        futures_util::future::join_all(kept.iter().map(|(_, v)| self.maker.remove(v))).await;
    }

    /// The tabs in the same user context as `tab` (see `Maker::tabs_beside`).
    pub(super) async fn tabs_beside(&self, tab: &str) -> Result<Vec<String>, String> {
        self.maker.tabs_beside(tab).await
    }
}

/// The URL of the one context a `browsingContext.getTree` with a `root` answered.
fn page_url(tree: Value) -> Result<String, String> {
    tree["contexts"][0]["url"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("browsingContext.getTree named no URL: {tree}"))
}

impl Maker {
    /// The connection user contexts are made over for a session started with `config`:
    /// the browser's DevTools endpoint for a Chromium ft's own chromedriver started
    /// (`capabilities::over_devtools`), else the session's BiDi connection (the
    /// one its signals use, if they are collected over BiDi: a session has one WebSocket);
    /// or why there is none.
    pub(super) async fn connect(
        wd: &WebDriver,
        config: &BrowserConfig,
        user_agent: Option<String>,
        limit: Duration,
    ) -> Result<Maker, String> {
        if super::capabilities::over_devtools(config) {
            return match Link::open(wd, limit).await {
                Ok(link) => Ok(Maker { via: Via::Devtools(link), user_agent, limit }),
                Err(why) => Err(format!("failed to reach the browser's DevTools endpoint: {why}")),
            };
        }
        if !wd.capabilities().get("webSocketUrl").is_some_and(Value::is_string) {
            return Err("the remote end offered no WebDriver BiDi (no webSocketUrl in its capabilities)".into());
        }
        match tokio::time::timeout(limit, wd.bidi()).await {
            Ok(Ok(bidi)) => Ok(Maker { via: Via::Bidi(bidi), user_agent, limit }),
            Ok(Err(e)) => Err(format!("failed to connect to the BiDi WebSocket: {e}")),
            Err(_) => Err(format!("the BiDi WebSocket did not answer within {limit:?}")),
        }
    }

    /// What the user contexts are made over, for the run's header.
    pub(super) fn via(&self) -> MadeOver {
        match self.via {
            Via::Bidi(_) => MadeOver::Bidi,
            Via::Devtools(_) => MadeOver::Devtools,
        }
    }

    /// Whether a visitor's cookies must be set and read through this connection rather
    /// than WebDriver's own cookie commands: over BiDi, which Firefox needs (its Add Cookie
    /// reaches the browser's default context). chromedriver's cookie commands go to the
    /// current tab's own DevTools session, so to its browser context.
    pub(super) fn keeps_cookies(&self) -> bool {
        matches!(self.via, Via::Bidi(_))
    }

    /// Remove `visitor`'s user context, with every tab in it.
    pub(super) async fn remove(&self, visitor: &Visitor) -> Result<Value, String> {
        match &self.via {
            Via::Bidi(_) => {
                self.send("browser.removeUserContext", json!({ "userContext": visitor.user_context })).await
            }
            Via::Devtools(link) => {
                let context = json!({ "browserContextId": visitor.user_context });
                link.send(None, "Target.disposeBrowserContext", context).await
            }
        }
    }

    /// Bring `tab` to the front: a tab made in the background is neither focused nor, in
    /// Firefox, shown (focus and blur events, `:focus` and timers would differ).
    pub(super) async fn activate(&self, tab: &str) -> Result<Value, String> {
        match &self.via {
            Via::Bidi(_) => self.send("browsingContext.activate", json!({ "context": tab })).await,
            Via::Devtools(link) => link.send(None, "Target.activateTarget", json!({ "targetId": tab })).await,
        }
    }

    /// The tabs in the same user context as `tab` (the visitor's own, `tab` among them),
    /// in the order the browser lists them: a page may have opened some.
    pub(super) async fn tabs_beside(&self, tab: &str) -> Result<Vec<String>, String> {
        let (all, id, context, tab_key) = match &self.via {
            Via::Bidi(_) => {
                let tree = self.send("browsingContext.getTree", json!({ "maxDepth": 0 })).await?;
                (tree["contexts"].clone(), "context", "userContext", "browsingContext.getTree")
            }
            Via::Devtools(link) => {
                let targets = link.send(None, "Target.getTargets", json!({})).await?;
                let pages = targets["targetInfos"]
                    .as_array()
                    .map(|all| all.iter().filter(|t| t["type"] == "page").cloned().collect())
                    .unwrap_or_default();
                (Value::Array(pages), "targetId", "browserContextId", "Target.getTargets")
            }
        };
        let all = all.as_array().cloned().unwrap_or_default();
        let user_context = all
            .iter()
            .find(|c| c[id] == tab)
            .and_then(|c| c[context].as_str())
            .ok_or_else(|| format!("{tab_key} does not list the current tab {tab}"))?;
        Ok(all
            .iter()
            .filter(|c| c[context] == user_context)
            .filter_map(|c| c[id].as_str().map(str::to_string))
            .collect())
    }

    /// The URL of the page in `tab`: readable over BiDi or DevTools while a dialog blocks
    /// WebDriver's own commands (see `Session::dialog_page`).
    pub(super) async fn page_url(&self, tab: &str) -> Result<String, String> {
        match &self.via {
            Via::Bidi(_) => {
                page_url(self.send("browsingContext.getTree", json!({ "root": tab, "maxDepth": 0 })).await?)
            }
            Via::Devtools(link) => link.page_url(tab).await,
        }
    }

    /// Set `cookie` for `domain` in the user context of `tab` (`storage.setCookie`): WebDriver's
    /// own Add Cookie puts it in the browser's default context on Firefox.
    pub(super) async fn set_cookie(
        &self,
        tab: &str,
        domain: &str,
        cookie: &crate::shared::cookie::Cookie,
    ) -> Result<Value, String> {
        let mut c = json!({
            "name": cookie.name,
            "value": { "type": "string", "value": cookie.value },
            "domain": domain,
            "path": cookie.path.as_deref().unwrap_or("/"),
        });
        if let Some(secure) = cookie.secure {
            c["secure"] = json!(secure);
        }
        if let Some(http_only) = cookie.http_only {
            c["httpOnly"] = json!(http_only);
        }
        if let Some(same_site) = &cookie.same_site {
            c["sameSite"] = json!(same_site.to_ascii_lowercase());
        }
        self.send("storage.setCookie", json!({ "cookie": c, "partition": { "type": "context", "context": tab } })).await
    }

    /// The cookies of `domain` (and the domains above it) in the user context of `tab`,
    /// as name and value.
    pub(super) async fn cookies(&self, tab: &str, domain: &str) -> Result<Vec<(String, String)>, String> {
        let got =
            self.send("storage.getCookies", json!({ "partition": { "type": "context", "context": tab } })).await?;
        let all = got["cookies"].as_array().cloned().unwrap_or_default();
        Ok(all
            .iter()
            .filter(|c| {
                let d = c["domain"].as_str().unwrap_or("").trim_start_matches('.');
                domain == d || domain.ends_with(&format!(".{d}"))
            })
            .filter_map(|c| Some((c["name"].as_str()?.to_string(), c["value"]["value"].as_str()?.to_string())))
            .collect())
    }

    /// Delete the cookie `name` of `domain` in the user context of `tab`.
    pub(super) async fn delete_cookie(&self, tab: &str, domain: &str, name: &str) -> Result<Value, String> {
        let filter = json!({ "name": name, "domain": domain });
        self.send(
            "storage.deleteCookies",
            json!({ "filter": filter, "partition": { "type": "context", "context": tab } }),
        )
        .await
    }

    /// A new user context with one blank tab in it, made in the background (the attempt
    /// running meanwhile keeps its focus).
    pub(super) async fn make(&self) -> Result<Visitor, String> {
        match &self.via {
            Via::Bidi(_) => self.make_over_bidi().await,
            Via::Devtools(link) => self.make_over_devtools(link).await,
        }
    }

    async fn make_over_bidi(&self) -> Result<Visitor, String> {
        let made = self.send("browser.createUserContext", json!({})).await?;
        let user_context = made["userContext"]
            .as_str()
            .ok_or_else(|| format!("browser.createUserContext named no user context: {made}"))?
            .to_string();
        let tab = async {
            if let Some(ua) = &self.user_agent {
                let marked = json!({ "userAgent": ua, "userContexts": [user_context] });
                self.send("emulation.setUserAgentOverride", marked).await?;
            }
            let created = json!({ "type": "tab", "userContext": user_context, "background": true });
            let tab = self.send("browsingContext.create", created).await?;
            tab["context"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("browsingContext.create named no tab: {tab}"))
        };
        match tab.await {
            Ok(tab) => Ok(Visitor { user_context, tab }),
            Err(why) => {
                let _ = self.send("browser.removeUserContext", json!({ "userContext": user_context })).await;
                Err(why)
            }
        }
    }

    /// A browser context and a blank tab in it. The user agent is marked on a DevTools
    /// session attached to the tab and held (an override lasts while its session does),
    /// before the tab's first navigation, which is a step's.
    async fn make_over_devtools(&self, link: &Link) -> Result<Visitor, String> {
        let made = link.send(None, "Target.createBrowserContext", json!({ "disposeOnDetach": false })).await?;
        let user_context = made["browserContextId"]
            .as_str()
            .ok_or_else(|| format!("Target.createBrowserContext named no browser context: {made}"))?
            .to_string();
        let tab = async {
            let created = json!({ "url": "about:blank", "browserContextId": user_context, "background": true });
            let created = link.send(None, "Target.createTarget", created).await?;
            let tab = created["targetId"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("Target.createTarget named no target: {created}"))?;
            if let Some(ua) = &self.user_agent {
                let attached =
                    link.send(None, "Target.attachToTarget", json!({ "targetId": tab, "flatten": true })).await?;
                let session = attached["sessionId"]
                    .as_str()
                    .ok_or_else(|| format!("Target.attachToTarget named no session: {attached}"))?;
                link.send(Some(session), "Emulation.setUserAgentOverride", json!({ "userAgent": ua })).await?;
            }
            Ok::<String, String>(tab)
        };
        match tab.await {
            Ok(tab) => Ok(Visitor { user_context, tab }),
            Err(why) => {
                let _ =
                    link.send(None, "Target.disposeBrowserContext", json!({ "browserContextId": user_context })).await;
                Err(why)
            }
        }
    }

    /// One BiDi command, bounded; its result, or what went wrong in words.
    async fn send(&self, method: &str, params: Value) -> Result<Value, String> {
        let Via::Bidi(bidi) = &self.via else {
            return Err(format!("{method}: a WebDriver BiDi command, and user contexts are made over DevTools"));
        };
        match tokio::time::timeout(self.limit, bidi.send_raw(method, params)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{method}: {e}")),
            Err(_) => Err(format!("{method}: no answer within {:?}", self.limit)),
        }
    }
}
