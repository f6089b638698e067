//! Several visitors in one scenario (`{ visitor = "Onesiphorus" }`): each has its own
//! cookies and storage, is started the first time it is named and is found again, its page
//! as it was left, when named later. Where the session makes user contexts a visitor is a
//! user context with its own tab (`Contexts::turn`; the next one's tab is made ahead, so
//! becoming a new visitor costs a switch); else it is a WebDriver session of its own, made
//! at the same remote end as this one, which the session's classic commands then drive.
//! Every visitor but the current one ends with the scenario (`end_visitors`), and a dropped
//! session drops its visitors' sessions with it (their `Drop` hands them to the reaper).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thirtyfour::WebDriver;

use super::super::find::find_geckodriver;
use super::super::process::{DriverProcess, GECKODRIVER};
use super::super::VisitorPage;
use super::super::{BrowserConfig, BrowserError, Signals};
use super::Session;

/// The most visitors a session keeps for one scenario, the current one included: the spec
/// refuses more at load time (`spec::verbs::MAX_VISITORS`); this bounds a name made at run time.
const MAX_VISITORS: usize = 8;

/// How the visitor the scenario started as is named in evidence, when no step named it.
const UNNAMED: &str = "first visitor";

/// A session's visitors beside its own (see the module).
pub(in crate::browser) struct Cast {
    /// The current visitor's name; `None` for the one the scenario started as, unnamed.
    name: Mutex<Option<String>>,
    /// The current visitor's own session, when it is not this one's (no user contexts).
    current: Mutex<Option<Arc<Session>>>,
    /// The other visitors by name, each with its own session (`None`: this session's own
    /// window), kept as they were left. With user contexts, `Contexts` keeps them instead.
    kept: Mutex<Vec<Kept>>,
    /// How a visitor's own session is made: as this one, but with no user contexts (it
    /// serves one visitor) and, for a local Firefox, a geckodriver of its own.
    config: BrowserConfig,
    binary: Option<PathBuf>,
    own_driver: bool,
    /// The page-load timeout the runner set on this session, set on each visitor's too.
    page_load: Mutex<Option<Duration>>,
}

/// A visitor set aside: its name (`None`: the one the scenario started as, unnamed) and
/// its own session (`None`: this session's own window).
type Kept = (Option<String>, Option<Arc<Session>>);

impl Cast {
    pub(in crate::browser) fn new(config: &BrowserConfig, binary: Option<&Path>, own_driver: bool) -> Cast {
        Cast {
            name: Mutex::new(None),
            current: Mutex::new(None),
            kept: Mutex::new(Vec::new()),
            config: BrowserConfig { user_contexts: false, ..config.clone() },
            binary: binary.map(Path::to_path_buf),
            own_driver,
            page_load: Mutex::new(None),
        }
    }

    /// The current visitor's WebDriver session when it is a session of its own.
    pub(in crate::browser) fn current_wd(&self) -> Option<WebDriver> {
        self.current.lock().ok()?.as_ref()?.own_wd().ok()
    }

    pub(in crate::browser) fn note_page_load(&self, limit: Duration) {
        if let Ok(mut p) = self.page_load.lock() {
            *p = Some(limit);
        }
    }

    /// The visitors' own sessions, current and kept.
    fn sessions(&self) -> Vec<Arc<Session>> {
        let mut all: Vec<Arc<Session>> = self.current.lock().map(|c| c.iter().cloned().collect()).unwrap_or_default();
        if let Ok(kept) = self.kept.lock() {
            all.extend(kept.iter().filter_map(|(_, s)| s.clone()));
        }
        all
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
            }
            Err(_) => {
                let kept = self.cast.kept.lock().ok().and_then(|mut kept| {
                    let at = kept.iter().position(|(n, _)| n.as_deref() == Some(name))?;
                    Some(kept.remove(at).1)
                });
                let to = match kept {
                    Some(to) => to,
                    None => Some(Arc::new(self.start_visitor(name).await?)),
                };
                let left = self.cast.current.lock().map(|mut c| std::mem::replace(&mut *c, to)).unwrap_or_default();
                if let Ok(mut kept) = self.cast.kept.lock() {
                    kept.push((from, left));
                }
            }
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
        let own_driver = if cast.own_driver {
            let path = find_geckodriver(cast.config.driver.as_deref())?;
            Some(DriverProcess::spawn(&GECKODRIVER, &path).await?)
        } else {
            None
        };
        let url = match &own_driver {
            Some((_, port)) => format!("http://127.0.0.1:{port}"),
            None => self.url.clone(),
        };
        let own_driver = own_driver.map(|(process, _)| process);
        let started = Session::start(&cast.config, cast.binary.as_deref(), url, own_driver, &self.reaper).await;
        let session = started.map_err(|e| BrowserError::WebDriver(format!("failed to start visitor {name:?}: {e}")))?;
        let page_load = cast.page_load.lock().ok().and_then(|p| *p);
        if let Some(limit) = page_load {
            let _ = session.set_page_load_timeout(limit).await;
        }
        Ok(session)
    }

    /// The visitors of the scenario that just ended end with it: their user contexts are
    /// removed, their sessions quit. The session is this session's own visitor again (or,
    /// with user contexts, the last one, which the next `new_visitor` replaces).
    pub async fn end_visitors(&self) {
        if let Ok(contexts) = &self.contexts {
            contexts.end_kept().await;
        }
        let current = self.cast.current.lock().ok().and_then(|mut c| c.take());
        let kept: Vec<_> = self.cast.kept.lock().map(|mut k| k.drain(..).collect()).unwrap_or_default();
        self.cast.set_name(None);
        let sessions = current.into_iter().chain(kept.into_iter().filter_map(|(_, s)| s));
        let quits = sessions.map(|s| async move {
            // Nothing else holds a visitor's session once the scenario is over; should
            // something still, its drop hands it to the reaper.
            if let Ok(session) = Arc::try_unwrap(s) {
                session.quit().await;
            }
        });
        futures_util::future::join_all(quits).await;
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
                for (name, session) in kept {
                    let page = match session {
                        Some(session) => session.evidence().await,
                        None => match self.own_wd() {
                            Ok(wd) => self.evidence_of(&wd).await,
                            Err(_) => continue,
                        },
                    };
                    pages.push(VisitorPage::of(label(name), page));
                }
            }
        }
        pages
    }
}
