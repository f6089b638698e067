//! The remote end sessions are made at: a local chromedriver shared by all sessions
//! (restarted if it dies), a geckodriver per Firefox session, or a remote end ft only
//! connects to (`--webdriver`, e.g. Selenium Grid).

use std::path::PathBuf;

use super::find::{find_chromedriver, find_chromium, find_firefox, find_geckodriver, firefox_user_agent};
use super::process::{DriverProcess, CHROMEDRIVER, GECKODRIVER};
use super::profile::Profiles;
use super::reaper::{Leftover, Reaper};
use super::session::Session;
use super::{BrowserConfig, BrowserError, BrowserKind};

/// How many times a run may restart a chromedriver that died under it.
const MAX_DRIVER_RESTARTS: u32 = 3;

/// A running driver (or a remote end we only connect to).
pub struct Driver {
    end: RemoteEnd,
    /// The user agent a local Firefox starts with (its own, plus the synthetic marker),
    /// read off `firefox --version` once; given to every session made here.
    firefox_user_agent: Option<String>,
    /// The browser binary found (local drivers) or given (`--browser-binary`).
    binary: Option<PathBuf>,
    /// Every orphaned session and profile of this run, ended at `stop`.
    reaper: Reaper,
    /// A local Firefox's copies of the template profile, where the run has them.
    profiles: Profiles,
}

/// Where sessions are made.
enum RemoteEnd {
    /// chromedriver serves any number of sessions, so one is started for the run and
    /// restarted when it has died. Boxed: the other variants are a path or a URL.
    Chromedriver(Box<tokio::sync::Mutex<LocalDriver>>),
    /// geckodriver serves one session at a time, so each Firefox session gets its own
    /// (as Selenium Grid does), started from this path and owned by the `Session`.
    GeckodriverPerSession(PathBuf),
    /// An already-running W3C remote end (chromedriver, Selenium Grid), by URL.
    Remote(String),
}

/// The chromedriver ft started.
struct LocalDriver {
    path: PathBuf,
    process: Option<DriverProcess>,
    url: String,
    restarts: u32,
}

impl LocalDriver {
    async fn start(path: PathBuf) -> Result<LocalDriver, BrowserError> {
        let (process, port) = DriverProcess::spawn(&CHROMEDRIVER, &path).await?;
        Ok(LocalDriver { path, process: Some(process), url: format!("http://127.0.0.1:{port}"), restarts: 0 })
    }

    /// The driver's URL, after starting a new driver if the last one has died (its
    /// browsers are killed with its process group).
    async fn running(&mut self) -> Result<String, BrowserError> {
        let dead = self.process.as_mut().is_none_or(|p| !p.is_running());
        if dead {
            if self.restarts >= MAX_DRIVER_RESTARTS {
                return Err(BrowserError::SessionLost(format!(
                    "chromedriver died {} times in this run; not starting it again",
                    self.restarts + 1
                )));
            }
            if let Some(p) = self.process.take() {
                p.kill().await;
            }
            let (process, port) = DriverProcess::spawn(&CHROMEDRIVER, &self.path).await?;
            self.process = Some(process);
            self.url = format!("http://127.0.0.1:{port}");
            self.restarts += 1;
        }
        Ok(self.url.clone())
    }
}

impl Driver {
    /// Start chromedriver on a free loopback port (for Firefox: find geckodriver and
    /// the browser; each session starts its own geckodriver), or use `config.webdriver`.
    pub async fn start(config: &BrowserConfig) -> Result<Driver, BrowserError> {
        let reaper = Reaper::new();
        let mut profiles = Profiles::default();
        let (end, binary) = if let Some(url) = &config.webdriver {
            (RemoteEnd::Remote(url.trim_end_matches('/').to_string()), config.binary.clone())
        } else {
            match config.kind {
                BrowserKind::Chrome => {
                    let binary = find_chromium(config.binary.as_deref(), !config.headed)?;
                    let path = find_chromedriver(config.driver.as_deref())?;
                    let local = LocalDriver::start(path).await?;
                    (RemoteEnd::Chromedriver(Box::new(tokio::sync::Mutex::new(local))), Some(binary))
                }
                BrowserKind::Firefox => {
                    let binary = find_firefox(config.binary.as_deref())?;
                    let path = find_geckodriver(config.driver.as_deref())?;
                    profiles = Profiles::for_run(config, &path, &binary, &reaper);
                    (RemoteEnd::GeckodriverPerSession(path), Some(binary))
                }
            }
        };
        let mut user_agent = None;
        if let (BrowserKind::Firefox, Some(suffix), Some(binary), RemoteEnd::GeckodriverPerSession(_)) =
            (config.kind, &config.user_agent_suffix, &binary, &end)
        {
            user_agent = Some(firefox_user_agent(binary, suffix).await?);
        }
        Ok(Driver { end, firefox_user_agent: user_agent, binary, reaper, profiles })
    }

    /// A new browser with a fresh profile, made as `config` says (the driver's own
    /// settings, such as which driver and where, stay the driver's).
    pub async fn session_as(&self, config: &BrowserConfig) -> Result<Session, BrowserError> {
        // The user agent was read when the driver started; the sessions' configs come from
        // the settings and never had it (it was kept and never read, so a local Firefox was
        // marked over BiDi or, without BiDi, refused).
        let with_agent;
        let mut config = match (&config.firefox_user_agent, &self.firefox_user_agent) {
            (None, Some(agent)) => {
                with_agent = BrowserConfig { firefox_user_agent: Some(agent.clone()), ..config.clone() };
                &with_agent
            }
            _ => config,
        };
        let in_copy;
        let (url, own_driver) = match &self.end {
            RemoteEnd::Chromedriver(local) => (local.lock().await.running().await?, None),
            RemoteEnd::GeckodriverPerSession(path) => {
                let (profile, spawned) =
                    tokio::join!(self.profiles.fresh(config), DriverProcess::spawn(&GECKODRIVER, path));
                let (process, port) = match spawned {
                    Ok(spawned) => spawned,
                    Err(e) => {
                        self.reaper.end(profile.map(Leftover::Profile).into_iter().collect()).await;
                        return Err(e);
                    }
                };
                if profile.is_some() {
                    in_copy = BrowserConfig { firefox_profile: profile, ..config.clone() };
                    config = &in_copy;
                }
                (format!("http://127.0.0.1:{port}"), Some(process))
            }
            RemoteEnd::Remote(url) => (url.clone(), None),
        };
        Session::start(config, self.binary.as_deref(), url, own_driver, &self.reaper, &self.profiles).await
    }

    /// Stop the driver and every browser it started, and end the sessions dropped
    /// without `quit` (a panicking or aborted worker).
    pub async fn stop(mut self) {
        // Sessions are ended at chromedriver while it still answers, then chromedriver
        // with its browsers (waiting until its guard has reaped them all); a session
        // abandoned as wedged or lost is left to that.
        match self.local_process() {
            Some(p) => {
                self.reaper.end_all_but_abandoned().await;
                p.kill().await;
            }
            None => self.reaper.end_all().await,
        }
        self.profiles.remove();
    }

    fn local_process(&mut self) -> Option<DriverProcess> {
        match &mut self.end {
            RemoteEnd::Chromedriver(local) => local.get_mut().process.take(),
            RemoteEnd::GeckodriverPerSession(_) | RemoteEnd::Remote(_) => None,
        }
    }
}

impl Drop for Driver {
    /// Backstop only: `stop` is the normal way out.
    fn drop(&mut self) {
        if let Some(mut p) = self.local_process() {
            p.kill_now();
        }
        self.reaper.end_all_now();
        self.profiles.remove();
    }
}
