//! The browsers a run uses: one driver and the sessions not in use, which a run's
//! workers take and give back. A run may get them already started (its sessions made
//! while the target started and the preflight ran), and `ft watch` keeps them from one
//! run to the next.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::browser::{BrowserConfig, BrowserError, BrowserInfo, Driver, Isolation, Session};

/// One driver and its idle sessions. Shared by a run's workers (behind an `Arc`).
pub struct Browsers {
    driver: Driver,
    /// The settings these browsers were started with (see `fits`).
    base: BrowserConfig,
    /// What new sessions are made with: `base`, and what `trust` added.
    config: Mutex<BrowserConfig>,
    page_load: Duration,
    idle: Mutex<Vec<Ready>>,
    started: AtomicUsize,
    /// The browser of the sessions made so far, for a run whose sessions were all reused.
    browser: Mutex<Option<BrowserInfo>>,
    /// The weakest isolation of the sessions made so far (see `Isolation::weakest`).
    isolation: Mutex<Option<Isolation>>,
}

/// A session for a worker.
pub(super) struct Ready {
    pub(super) session: Session,
    /// How long it took to start, until a worker has reported it (`SessionStarted`).
    pub(super) took: Option<Duration>,
    /// Used by an earlier scenario: it becomes a new visitor before the next (`Session::new_visitor`).
    pub(super) used: bool,
}

impl Browsers {
    /// Start the driver. `page_load` is every session's page-load timeout.
    pub async fn start(config: &BrowserConfig, page_load: Duration) -> Result<Browsers, BrowserError> {
        Ok(Browsers {
            driver: Driver::start(config).await?,
            base: config.clone(),
            config: Mutex::new(config.clone()),
            page_load,
            idle: Mutex::default(),
            started: AtomicUsize::new(0),
            browser: Mutex::default(),
            isolation: Mutex::default(),
        })
    }

    /// Start `n` sessions at once and keep those that start; one that does not is left
    /// for a worker to try again and report. Nothing is spawned: dropping this future
    /// (a signal, a failed preflight) drops the starts in flight at once, and what they
    /// started ends with the driver.
    pub async fn warm(&self, n: usize) {
        let mut starting: FuturesUnordered<_> = (0..n).map(|_| self.new_session()).collect();
        while let Some(made) = starting.next().await {
            if let Ok(ready) = made {
                self.give_back(ready);
            }
        }
    }

    /// Whether these browsers were started with `config` (a run's settings, before the
    /// preflight's pin is added: `trust` then decides whether the sessions still fit).
    pub fn fits(&self, config: &BrowserConfig) -> bool {
        self.base == *config
    }

    /// Make sessions as `config` says from now on (the preflight verified a certificate the
    /// browser must trust): the idle sessions, made without it, are ended.
    pub async fn trust(&self, config: &BrowserConfig) {
        if self.config.lock().is_ok_and(|c| *c == *config) {
            return;
        }
        if let Ok(mut c) = self.config.lock() {
            *c = config.clone();
        }
        let stale: Vec<Ready> = self.idle.lock().map(|mut idle| idle.drain(..).collect()).unwrap_or_default();
        for ready in stale {
            ready.session.quit().await;
        }
    }

    /// How many sessions are idle.
    pub fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// How many sessions these browsers have started.
    pub fn sessions_started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    pub(super) fn browser(&self) -> Option<BrowserInfo> {
        self.browser.lock().ok().and_then(|b| b.clone())
    }

    pub(super) fn isolation(&self) -> Option<Isolation> {
        self.isolation.lock().ok().and_then(|i| i.clone())
    }

    /// An idle session, if there is one.
    pub(super) fn take(&self) -> Option<Ready> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    pub(super) fn give_back(&self, ready: Ready) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(ready);
        }
    }

    /// A new session with the run's page-load timeout.
    pub(super) async fn new_session(&self) -> Result<Ready, BrowserError> {
        let t0 = Instant::now();
        let config = self.config.lock().map(|c| c.clone()).unwrap_or_default();
        let session = self.driver.session_as(&config).await?;
        let _ = session.set_page_load_timeout(self.page_load).await;
        self.started.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut b) = self.browser.lock() {
            b.get_or_insert_with(|| session.browser.clone());
        }
        if let Ok(mut i) = self.isolation.lock() {
            let made = session.isolation();
            *i = Some(match i.take() {
                Some(before) => before.weakest(made),
                None => made,
            });
        }
        Ok(Ready { session, took: Some(t0.elapsed()), used: false })
    }

    /// End the idle sessions, then the driver with every browser it started.
    pub async fn stop(self) {
        let idle: Vec<Ready> = self.idle.lock().map(|mut idle| idle.drain(..).collect()).unwrap_or_default();
        for ready in idle {
            ready.session.quit().await;
        }
        self.driver.stop().await;
    }
}
