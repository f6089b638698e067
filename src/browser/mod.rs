//! The one place that speaks WebDriver (thirtyfour): finding drivers and browsers,
//! driver processes, sessions and their page operations, and one-round-trip inspections
//! that the runner turns into steps and waits. It knows nothing of scenarios.
//!
//! A room by job: `find` (binaries), `process` (driver processes), `driver_guard` (the process
//! between ft and each driver that ends it with its browsers whatever ends ft), `reaper` (the one
//! registry of what must be ended), `driver` (the remote end sessions are made at), `profile`
//! (a local Firefox's sessions started from copies of a template profile kept in the
//! user's cache),
//! `capabilities`, `session` (lifecycle and page operations), `inspect`, and the
//! browser's signals: `signals` (the types), `collect` (which way a session collects
//! them), `bidi` (over WebDriver BiDi) and `browser_log` (Chromium's log, the fallback);
//! `contexts` (a WebDriver BiDi user context per visitor).

mod bidi;
mod browser_log;
mod capabilities;
mod collect;
mod contexts;
mod controls;
mod devtools;
mod driver;
mod driver_guard;
mod find;
mod inspect;
mod process;
mod profile;
mod reaper;
mod session;
mod signals;

use std::path::PathBuf;
use std::time::Duration;

use thirtyfour::error::{WebDriverError, WebDriverErrorInner};

pub use driver::Driver;
pub use driver_guard::main_if_guard;
pub use inspect::{Evidence, Frame, Inspection, VisitorPage};
pub use session::{Change, Look, Session};
pub use signals::{Signal, SignalKind, Signals};

/// How to get a browser.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowserConfig {
    /// Which browser to drive.
    pub kind: BrowserKind,
    /// The driver to start; default: `chromedriver` / `geckodriver` on PATH, then /usr/bin.
    pub driver: Option<PathBuf>,
    /// The browser binary; default: `chromium` (Debian) or `google-chrome` on PATH.
    pub binary: Option<PathBuf>,
    /// Show a window instead of running headless.
    pub headed: bool,
    /// An already-running W3C remote end (chromedriver, Selenium Grid); no driver is started.
    pub webdriver: Option<String>,
    /// The window size every scenario starts with.
    pub window: (u32, u32),
    /// Upper bound for any single WebDriver command (a wedged browser must not hang ft).
    pub command_timeout: Duration,
    /// Upper bound for creating a session. A Selenium Grid with every slot busy queues
    /// the request (its default session-request timeout is 300 s), so this must not be
    /// shorter than the Grid's queue timeout.
    pub session_timeout: Duration,
    /// Accept any certificate (WebDriver `acceptInsecureCerts`, `--insecure-certs`).
    pub accept_insecure_certs: bool,
    /// Public keys whose certificates Chromium trusts (base64 SHA-256 of the DER
    /// SubjectPublicKeyInfo): only the leaf the preflight verified, never a CA's (see
    /// `capabilities`: a listed key waives every error of its chain).
    pub trusted_keys: Vec<String>,
    /// Appended to the browser's own user agent, to mark synthetic traffic.
    pub user_agent_suffix: Option<String>,
    /// The whole user agent a local Firefox starts with (its own plus the suffix), set by
    /// `Driver::start` from the binary's version: Firefox takes it as a preference before it
    /// starts, and WebDriver has no command to change it later. (Chromium's is changed
    /// over DevTools once it runs, which also works through a Grid.)
    pub firefox_user_agent: Option<String>,
    /// The profile folder a local Firefox session starts from (`-profile`): a fresh copy of
    /// the template kept in the user's cache (`profile`), set by the driver for one
    /// session. `None`: the empty profile geckodriver makes.
    pub firefox_profile: Option<PathBuf>,
    /// Collect console errors, exceptions and failed requests over WebDriver BiDi (off
    /// with `--no-signals`).
    pub signals: bool,
    /// Give each visitor a user context of its own where the remote end makes them
    /// (`--isolation user-context`; `BrowserKind::default_isolation` says when it is not
    /// asked; off with `--fresh-session`, whose sessions serve one visitor each).
    /// Independent of `signals`: isolation is about the verdict, signals are an extra check.
    pub user_contexts: bool,
    /// The run's scenarios need WebDriver BiDi even with `--no-signals`: they name visitors
    /// beyond the first, each then a user context of the worker's browser (about 0.15 s,
    /// nothing more to count) rather than a browser session of its own, which the worker
    /// pool does not count and a Grid must find a second slot for; or they answer dialogs
    /// on a run the sensitive-URL guard watches, which must read the page behind a dialog
    /// (only BiDi can). A run without either asks for nothing it does not use.
    pub visitors: bool,
}

/// The browsers ft can drive. Named on the command line by `name` (`chrome`,
/// `firefox`, exactly: no aliases, case matters), which `FromStr` and `Display` share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BrowserKind {
    /// Chromium or Chrome, through chromedriver.
    #[default]
    Chrome,
    /// Firefox, through geckodriver.
    Firefox,
}

impl BrowserKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [BrowserKind; 2] = [BrowserKind::Chrome, BrowserKind::Firefox];

    /// The names `--browser` accepts, in the order of `ALL`.
    pub const NAMES: &'static [&'static str] = &[BrowserKind::Chrome.name(), BrowserKind::Firefox.name()];

    /// The name the command line uses.
    pub const fn name(self) -> &'static str {
        match self {
            BrowserKind::Chrome => "chrome",
            BrowserKind::Firefox => "firefox",
        }
    }

    /// How a reused session on this browser isolates scenarios when `--isolation` names
    /// no way (the one place that decides; BENCHMARKS.md, "A user context per scenario by
    /// default"). The reset on both: a user context costs the browser a renderer (content)
    /// process of its own, shared with no other user context, which made the built-in
    /// suite 1.21x slower on Chromium and 1.3x on Firefox, every pair over issue 22's
    /// 1.05. `--isolation user-context` asks for one per attempt where every origin and
    /// the HTTP cache must start empty.
    pub const fn default_isolation(self) -> &'static str {
        match self {
            BrowserKind::Chrome | BrowserKind::Firefox => "reset",
        }
    }

    /// Why a session on this browser resets between scenarios when it was not asked to
    /// make user contexts (`--isolation reset`, or this browser's default).
    pub fn reset_asked(self) -> String {
        match self.default_isolation() {
            "reset" => format!("--isolation reset, the default on {}", self.family()),
            _ => "--isolation reset".into(),
        }
    }

    /// The browser family's name in a sentence.
    const fn family(self) -> &'static str {
        match self {
            BrowserKind::Chrome => "Chromium",
            BrowserKind::Firefox => "Firefox",
        }
    }

    /// One line on what this kind drives, for `--help`.
    pub const fn about(self) -> &'static str {
        match self {
            BrowserKind::Chrome => "Chromium or Chrome, through chromedriver",
            BrowserKind::Firefox => "Firefox, through geckodriver",
        }
    }
}

impl std::fmt::Display for BrowserKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for BrowserKind {
    type Err = UnknownBrowser;

    fn from_str(s: &str) -> Result<BrowserKind, UnknownBrowser> {
        BrowserKind::ALL.into_iter().find(|kind| kind.name() == s).ok_or_else(|| UnknownBrowser(s.to_string()))
    }
}

/// A `--browser` name ft does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown browser {0:?} (expected one of: {names})", names = BrowserKind::NAMES.join(", "))]
pub struct UnknownBrowser(pub String);

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            kind: BrowserKind::Chrome,
            driver: None,
            binary: None,
            headed: false,
            webdriver: None,
            window: (1280, 800),
            command_timeout: Duration::from_secs(60),
            session_timeout: Duration::from_secs(310),
            accept_insecure_certs: false,
            trusted_keys: Vec::new(),
            user_agent_suffix: None,
            firefox_user_agent: None,
            firefox_profile: None,
            signals: true,
            user_contexts: true,
            visitors: false,
        }
    }
}

/// How one scenario attempt is kept from the state of the attempts before it on the same
/// worker. A run reports its weakest (`weakest`), in the console and the run record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// A new browser per attempt (`--fresh-session`).
    FreshSession,
    /// A user context per attempt (over BiDi, or DevTools on a local Chromium), removed
    /// after it: nothing of the last visitor survives, as in a new browser.
    UserContext,
    /// The remote end makes no user contexts (the reason): between attempts, cookies,
    /// storage, IndexedDB, Cache Storage and service workers of the page's origin are
    /// cleared by script. Other origins the last attempt visited, and the HTTP cache, are not.
    Reset(String),
}

impl Isolation {
    /// The name the run record uses.
    pub fn name(&self) -> &'static str {
        match self {
            Isolation::FreshSession => "fresh-session",
            Isolation::UserContext => "user-context",
            Isolation::Reset(_) => "reset",
        }
    }

    /// The weaker of two (a run with one session that could not make user contexts was
    /// not isolated by them).
    pub fn weakest(self, other: Isolation) -> Isolation {
        let rank = |i: &Isolation| match i {
            Isolation::Reset(_) => 0,
            Isolation::UserContext => 1,
            Isolation::FreshSession => 2,
        };
        if rank(&other) < rank(&self) {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Isolation::FreshSession => f.write_str("a new browser per scenario (--fresh-session)"),
            // Made over BiDi, or over DevTools on a local Chromium: the `visitors:` line
            // says which, where it matters.
            Isolation::UserContext => f.write_str("a user context per scenario"),
            Isolation::Reset(why) => write!(f, "reset between scenarios (no user contexts: {why})"),
        }
    }
}

/// What marks ft's synthetic traffic (`ft watch`, and every run against live in `ft
/// deploy`) in the target's access log and analytics: appended to the browser's own UA.
pub fn synthetic_marker() -> String {
    format!("ft-synthetic/{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("failed to find {driver} (looked for {looked})\n  hint: {hint}")]
    DriverMissing { driver: &'static str, looked: String, hint: &'static str },
    #[error("failed to find a {browser} browser (looked for {looked})\n  hint: {hint}")]
    BrowserMissing { browser: &'static str, looked: String, hint: &'static str },
    #[error("failed to start {driver} {}", path.display())]
    DriverSpawn { driver: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{driver} {} {why}; it printed: {output}", path.display())]
    DriverNoPort { driver: &'static str, path: PathBuf, why: String, output: String },
    #[error("failed to start a browser session at {url}: {message}")]
    SessionStart { url: String, message: String },
    /// Creating a session took longer than `--session-timeout`.
    #[error("failed to start a browser session at {url}: {why}")]
    SessionTimeout { url: String, waited: Duration, why: String },
    #[error("the browser did not answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    WebDriver(String),
    /// The session or driver is gone; nothing more can be done with this session.
    #[error("the browser session was lost: {0}")]
    SessionLost(String),
}

impl BrowserError {
    fn from_wd(err: WebDriverError) -> BrowserError {
        let message = short_message(&err);
        match &*err {
            WebDriverErrorInner::InvalidSessionId(_)
            | WebDriverErrorInner::NoSuchWindow(_)
            | WebDriverErrorInner::RequestFailed(_)
            | WebDriverErrorInner::HttpError(_)
            | WebDriverErrorInner::SessionNotCreated(_) => BrowserError::SessionLost(message),
            _ => BrowserError::WebDriver(message),
        }
    }

    /// True when the session cannot be used any more.
    pub fn is_session_lost(&self) -> bool {
        matches!(self, BrowserError::SessionLost(_) | BrowserError::Timeout(_))
    }
}

/// The first line of what the remote end said, without thirtyfour's stack traces.
fn short_message(err: &WebDriverError) -> String {
    let info = match &**err {
        WebDriverErrorInner::NoSuchElement(i)
        | WebDriverErrorInner::StaleElementReference(i)
        | WebDriverErrorInner::ElementNotInteractable(i)
        | WebDriverErrorInner::ElementClickIntercepted(i)
        | WebDriverErrorInner::InvalidSelector(i)
        | WebDriverErrorInner::JavascriptError(i)
        | WebDriverErrorInner::InvalidSessionId(i)
        | WebDriverErrorInner::NoSuchWindow(i)
        | WebDriverErrorInner::SessionNotCreated(i)
        | WebDriverErrorInner::InvalidElementState(i)
        | WebDriverErrorInner::InvalidArgument(i)
        | WebDriverErrorInner::ScriptTimeout(i)
        | WebDriverErrorInner::WebDriverTimeout(i)
        | WebDriverErrorInner::UnknownError(i) => Some(i),
        _ => None,
    };
    let text = match info {
        Some(i) if !i.error.is_empty() && !i.value.message.starts_with(&i.error) => {
            format!("{}: {}", i.error, i.value.message)
        }
        Some(i) => i.value.message.clone(),
        None => err.to_string(),
    };
    text.lines().next().unwrap_or("").trim().to_string()
}

/// The browser a session got, as its remote end reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrowserInfo {
    pub name: String,
    pub version: String,
}

impl std::fmt::Display for BrowserInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_browser_name_parses_back_to_its_kind() {
        for (kind, name) in BrowserKind::ALL.into_iter().zip(BrowserKind::NAMES) {
            assert_eq!(kind.to_string(), *name);
            assert_eq!(name.parse::<BrowserKind>().ok(), Some(kind));
        }
    }

    #[test]
    fn browser_names_are_exact_as_clap_took_them() {
        for unknown in ["Chrome", "chromium", "ff", ""] {
            let err = unknown.parse::<BrowserKind>().unwrap_err().to_string();
            assert!(err.contains("expected one of: chrome, firefox"), "{err}");
        }
    }
}
