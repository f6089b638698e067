//! How a session collects the browser's signals: over WebDriver BiDi where the session
//! has it (`bidi`), else for a local Chromium over DevTools (`devtools`: the session then
//! asked for no BiDi, see `capabilities::over_devtools`), else for Chromium from
//! the browser's log (`browser_log`), else not at all, saying why.

use std::sync::Mutex;
use std::time::Duration;

use thirtyfour::WebDriver;

use super::bidi::Collector;
use super::browser_log::BrowserLog;
use super::capabilities::over_devtools;
use super::devtools::Devtools;
use super::signals::Signals;
use super::{BrowserConfig, BrowserKind};

/// Why signals are missing when the user turned them off.
pub(super) const TURNED_OFF: &str = "signals are turned off (--no-signals)";

/// How long reading the signals waits for the page to answer the barrier.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) enum Collection {
    Bidi(Collector),
    Devtools(Devtools),
    /// With why its last read failed, if it did.
    BrowserLog(BrowserLog, Mutex<Option<String>>),
    Missing(String),
}

impl Collection {
    /// Start collecting on a new session (no HTTP WebDriver command: BiDi and DevTools are
    /// WebSockets).
    pub(super) async fn start(wd: &WebDriver, config: &BrowserConfig) -> Collection {
        if !config.signals {
            return Collection::Missing(TURNED_OFF.into());
        }
        let why = if over_devtools(config) {
            match Devtools::start(wd, config.command_timeout).await {
                Ok(devtools) => return Collection::Devtools(devtools),
                Err(why) => why,
            }
        } else {
            match Collector::start(wd, config.command_timeout).await {
                Ok(collector) => return Collection::Bidi(collector),
                Err(why) => why,
            }
        };
        match config.kind {
            BrowserKind::Chrome => Collection::BrowserLog(BrowserLog::new(), Mutex::new(None)),
            BrowserKind::Firefox => Collection::Missing(why),
        }
    }

    /// The session drives `context` from now on (see `Collector::follow`); DevTools and
    /// Chromium's log hear every tab.
    pub(super) fn follow(&self, context: &str) {
        if let Collection::Bidi(c) = self {
            c.follow(context);
        }
    }

    /// Whether a page opened a tab since the last call: `None` when only a look can tell
    /// (no BiDi).
    pub(super) fn take_tab_opened(&self) -> Option<bool> {
        match self {
            Collection::Bidi(c) => c.take_tab_opened(),
            Collection::Devtools(d) => d.take_tab_opened(),
            _ => None,
        }
    }

    pub(super) fn mark(&self) {
        match self {
            Collection::Bidi(c) => c.mark(),
            Collection::Devtools(d) => d.mark(),
            Collection::BrowserLog(l, _) => l.mark(),
            Collection::Missing(_) => {}
        }
    }

    pub(super) async fn signals(&self, wd: &WebDriver) -> Signals {
        match self {
            Collection::Bidi(c) => c.signals(BARRIER_TIMEOUT).await,
            Collection::Devtools(d) => d.signals(BARRIER_TIMEOUT).await,
            Collection::BrowserLog(l, failed) => {
                let read = tokio::time::timeout(BARRIER_TIMEOUT, l.signals(wd)).await;
                let read = read.unwrap_or_else(|_| Err(format!("no answer within {BARRIER_TIMEOUT:?}")));
                let (signals, why) = match read {
                    Ok(signals) => (signals, None),
                    Err(e) => {
                        (Signals::default(), Some(format!("no BiDi, and the browser log could not be read: {e}")))
                    }
                };
                if let Ok(mut f) = failed.lock() {
                    *f = why;
                }
                signals
            }
            Collection::Missing(_) => Signals::default(),
        }
    }

    /// Mark the session's traffic as synthetic over BiDi (see `Collector::mark_user_agent`):
    /// only a session that collects over BiDi can.
    pub(super) async fn mark_user_agent(&self, suffix: &str) -> Result<String, String> {
        match self {
            Collection::Bidi(c) => c.mark_user_agent(suffix).await,
            Collection::Devtools(_) | Collection::BrowserLog(..) => {
                Err("it needs WebDriver BiDi, which the remote end does not offer".into())
            }
            Collection::Missing(why) => Err(format!("it needs WebDriver BiDi, which this session lacks: {why}")),
        }
    }

    /// The URL of the page in `tab` over BiDi, where signals are collected so; `None` without.
    pub(super) async fn page_url(&self, tab: &str, limit: Duration) -> Option<Result<String, String>> {
        match self {
            Collection::Bidi(c) => Some(c.page_url(tab, limit).await),
            Collection::Devtools(d) => Some(d.page_url(tab, limit).await),
            _ => None,
        }
    }

    /// Why signals are not collected (for the browser log: why its last read failed).
    pub(super) fn missing(&self) -> Option<String> {
        match self {
            Collection::Missing(why) => Some(why.clone()),
            Collection::BrowserLog(_, failed) => failed.lock().ok().and_then(|f| f.clone()),
            Collection::Bidi(c) if c.closed() => Some("the BiDi WebSocket closed during the session".into()),
            Collection::Bidi(_) => None,
            Collection::Devtools(d) if d.closed() => Some("the DevTools WebSocket closed during the session".into()),
            Collection::Devtools(d) => d.blind(),
        }
    }
}
