//! Driver processes and browser sessions: the one place that speaks WebDriver
//! (thirtyfour). It knows nothing of scenarios; it offers page operations and
//! one-round-trip inspections that the runner turns into steps and waits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use thirtyfour::error::{WebDriverError, WebDriverErrorInner};
use thirtyfour::{By, Capabilities, Key as WdKey, WebDriver, WebElement};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::task::JoinHandle;

use crate::shared::keys::Key;

/// How to get a browser.
#[derive(Clone, Debug)]
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
}

/// The browsers ft can drive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    /// Chromium or Chrome, through chromedriver.
    #[default]
    Chrome,
    /// Firefox, through geckodriver.
    Firefox,
}

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
        }
    }
}

pub const INSTALL_HINT: &str = "install them with: sudo apt-get install -y chromium chromium-driver \
(or run ./setup.sh), or point --driver / --browser-binary at them";

/// geckodriver is no Debian package; cargo builds it from crates.io into ~/.cargo/bin.
pub const GECKODRIVER_HINT: &str = "install it with: cargo install geckodriver --locked \
(it goes to ~/.cargo/bin), or point --driver at it";

pub const FIREFOX_HINT: &str = "install it with: sudo apt-get install -y firefox-esr, or point --browser-binary at it";

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("failed to find {driver} (looked for {looked})\n  hint: {hint}")]
    DriverMissing { driver: &'static str, looked: String, hint: &'static str },
    #[error("failed to find a {browser} browser (looked for {looked})\n  hint: {hint}")]
    BrowserMissing { browser: &'static str, looked: String, hint: &'static str },
    #[error("failed to start {driver} {}", path.display())]
    DriverSpawn { driver: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{driver} {} did not report a port within {timeout:?}; it printed: {output}", path.display())]
    DriverNoPort { driver: &'static str, path: PathBuf, timeout: Duration, output: String },
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

/// A running driver (or a remote end we only connect to).
///
/// chromedriver serves any number of sessions, so one is started for the run.
/// geckodriver serves one session at a time, so each Firefox session gets its own
/// geckodriver (as Selenium Grid does), owned by the `Session`.
pub struct Driver {
    /// The remote end's URL; empty for local Firefox, whose drivers are per session.
    url: String,
    config: BrowserConfig,
    binary: Option<PathBuf>,
    /// The chromedriver ft started, restarted when it has died (local Chromium only).
    local: Option<tokio::sync::Mutex<LocalDriver>>,
    /// The geckodriver to start for each session (local Firefox only).
    per_session: Option<PathBuf>,
    /// Process groups of per-session drivers still running, so `stop` (and `Drop`)
    /// can end them even when a worker was aborted mid-session.
    groups: Arc<std::sync::Mutex<Vec<i32>>>,
    ender: SessionEnder,
}

/// Ends sessions with a bounded `DELETE /session/{id}` of our own. thirtyfour's
/// `quit` cannot be bounded safely (cancelling it drops the handle, whose `Drop` then
/// blocks the executor to quit synchronously), so every session is leaked from
/// thirtyfour's point of view and ended here instead.
#[derive(Clone)]
struct SessionEnder {
    url: String,
    http: reqwest::Client,
    /// Sessions (driver URL, id) dropped without `quit` (a panicking or aborted worker):
    /// ended by `Driver::stop`.
    orphans: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl SessionEnder {
    fn new(url: &str) -> SessionEnder {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        SessionEnder { url: url.to_string(), http, orphans: Arc::default() }
    }

    /// The same client and orphan list, for a session at another URL (a per-session driver).
    fn at(&self, url: &str) -> SessionEnder {
        SessionEnder { url: url.to_string(), http: self.http.clone(), orphans: self.orphans.clone() }
    }

    async fn end(&self, id: &str) {
        // Best effort: a browser that is already gone has nothing left to end.
        let _ = self.http.delete(format!("{}/session/{id}", self.url)).send().await;
    }
}

/// How many times a run may restart a chromedriver that died under it.
const MAX_DRIVER_RESTARTS: u32 = 3;

struct LocalDriver {
    path: PathBuf,
    process: Option<DriverProcess>,
    url: String,
    restarts: u32,
}

impl LocalDriver {
    /// The driver's URL, after starting a new driver if the last one has died (its
    /// browsers are killed with its process group).
    async fn running(&mut self) -> Result<String, BrowserError> {
        let dead = match self.process.as_mut() {
            Some(p) => !matches!(p.child.try_wait(), Ok(None)),
            None => true,
        };
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
            let (process, port) = spawn_driver(&CHROMEDRIVER, &self.path).await?;
            self.process = Some(process);
            self.url = format!("http://127.0.0.1:{port}");
            self.restarts += 1;
        }
        Ok(self.url.clone())
    }
}

struct DriverProcess {
    child: tokio::process::Child,
    pid: i32,
    /// Keeps reading the driver's output so a full pipe never blocks it.
    drain: JoinHandle<()>,
}

impl DriverProcess {
    /// Kill the driver and everything in its process group (the browsers it started).
    async fn kill(mut self) {
        self.drain.abort();
        kill_group(self.pid);
        let _ = self.child.kill().await;
    }
}

/// What a driver is and how it says which port it listens on.
struct DriverKind {
    name: &'static str,
    args: &'static [&'static str],
    /// The port, from one line of the driver's output, once it is ready.
    port: fn(&str) -> Option<u16>,
}

const CHROMEDRIVER: DriverKind = DriverKind { name: "chromedriver", args: &["--port=0"], port: chromedriver_port };

/// `--port 0` lets the system pick a free port (no race with another process); the
/// BiDi websocket port likewise, so parallel runs do not fight over geckodriver's 9222.
const GECKODRIVER: DriverKind =
    DriverKind { name: "geckodriver", args: &["--port", "0", "--websocket-port", "0"], port: geckodriver_port };

/// "ChromeDriver was started successfully on port 41235."
fn chromedriver_port(line: &str) -> Option<u16> {
    let rest = line.split("on port ").nth(1)?;
    let port = rest.trim_end_matches('.').trim().parse::<u16>().ok()?;
    line.contains("successfully").then_some(port)
}

/// "1795676262985<TAB>geckodriver<TAB>INFO<TAB>Listening on 127.0.0.1:44397"
fn geckodriver_port(line: &str) -> Option<u16> {
    let addr = line.split("Listening on ").nth(1)?.trim();
    addr.rsplit_once(':')?.1.parse::<u16>().ok()
}

/// Start a driver on a free loopback port, in its own process group, and wait (bounded)
/// until it says where it listens.
async fn spawn_driver(kind: &DriverKind, path: &Path) -> Result<(DriverProcess, u16), BrowserError> {
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(kind.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        // Its own process group, so the browsers it starts can be killed with it.
        .process_group(0);
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the driver
    // if ft dies without cleaning up (e.g. SIGKILL), so no driver outlives ft.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let driver = kind.name;
    let mut child =
        cmd.spawn().map_err(|source| BrowserError::DriverSpawn { driver, path: path.to_path_buf(), source })?;
    let pid = child.id().map_or(0, |p| p as i32);
    let Some(stdout) = child.stdout.take() else {
        kill_group(pid);
        let _ = child.kill().await;
        let (path, output) = (path.to_path_buf(), "no stdout".into());
        return Err(BrowserError::DriverNoPort { driver, path, timeout: Duration::ZERO, output });
    };
    let mut lines = BufReader::new(stdout).lines();
    let timeout = Duration::from_secs(20);
    let mut seen = String::new();
    let port = tokio::time::timeout(timeout, async {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push_str(&line);
            seen.push('\n');
            if let Some(port) = (kind.port)(&line) {
                return Some(port);
            }
        }
        None
    })
    .await;
    let Ok(Some(port)) = port else {
        kill_group(pid);
        let _ = child.kill().await;
        let (path, output) = (path.to_path_buf(), seen.trim().to_string());
        return Err(BrowserError::DriverNoPort { driver, path, timeout, output });
    };
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((DriverProcess { child, pid, drain }, port))
}

impl Driver {
    /// Start chromedriver on a free loopback port (for Firefox: find geckodriver and
    /// the browser; each session starts its own geckodriver), or use `config.webdriver`.
    pub async fn start(config: &BrowserConfig) -> Result<Driver, BrowserError> {
        let mut driver = Driver {
            url: String::new(),
            config: config.clone(),
            binary: config.binary.clone(),
            local: None,
            per_session: None,
            groups: Arc::default(),
            ender: SessionEnder::new(""),
        };
        if let Some(url) = &config.webdriver {
            driver.url = url.trim_end_matches('/').to_string();
            driver.ender = SessionEnder::new(&driver.url);
            return Ok(driver);
        }
        match config.kind {
            BrowserKind::Chrome => {
                driver.binary = Some(find_chromium(config.binary.as_deref())?);
                let path = find_chromedriver(config.driver.as_deref())?;
                let (process, port) = spawn_driver(&CHROMEDRIVER, &path).await?;
                driver.url = format!("http://127.0.0.1:{port}");
                driver.ender = SessionEnder::new(&driver.url);
                let local = LocalDriver { path, process: Some(process), url: driver.url.clone(), restarts: 0 };
                driver.local = Some(tokio::sync::Mutex::new(local));
            }
            BrowserKind::Firefox => {
                driver.binary = Some(find_firefox(config.binary.as_deref())?);
                driver.per_session = Some(find_geckodriver(config.driver.as_deref())?);
            }
        }
        Ok(driver)
    }

    /// A new browser with a fresh profile.
    pub async fn session(&self) -> Result<Session, BrowserError> {
        let (own, url) = match &self.per_session {
            Some(path) => {
                let (process, port) = spawn_driver(&GECKODRIVER, path).await?;
                if let Ok(mut groups) = self.groups.lock() {
                    groups.push(process.pid);
                }
                (Some(process), format!("http://127.0.0.1:{port}"))
            }
            None => match &self.local {
                Some(local) => (None, local.lock().await.running().await?),
                None => (None, self.url.clone()),
            },
        };
        match self.connect(&url).await {
            Ok((wd, browser)) => {
                let profile = wd.capabilities().get("moz:profile").and_then(|v| v.as_str()).and_then(driver_profile);
                let own_driver = own.map(|process| OwnDriver { process, profile, groups: self.groups.clone() });
                Ok(Session {
                    wd: Some(wd),
                    browser,
                    timeout: self.config.command_timeout,
                    window: self.config.window,
                    ender: self.ender.at(&url),
                    own_driver,
                    inspected: std::sync::Mutex::default(),
                })
            }
            Err(err) => {
                if let Some(p) = own {
                    forget_group(&self.groups, p.pid);
                    p.kill().await;
                }
                Err(err)
            }
        }
    }

    async fn connect(&self, url: &str) -> Result<(WebDriver, BrowserInfo), BrowserError> {
        let caps = match self.config.kind {
            BrowserKind::Chrome => chrome_capabilities(&self.config, self.binary.as_deref()),
            BrowserKind::Firefox => firefox_capabilities(&self.config, self.binary.as_deref()),
        };
        // The HTTP client's timeout bounds session creation (which a Grid may queue);
        // every later command is bounded more tightly by `Session::bounded`.
        let waited = self.config.session_timeout;
        let limit = waited.max(self.config.command_timeout);
        let builder = WebDriver::builder(url.to_string(), caps).request_timeout(limit);
        let wd = match tokio::time::timeout(waited, builder).await {
            Ok(Ok(wd)) => wd,
            Ok(Err(e)) => return Err(session_start_error(url, &e, self.config.webdriver.is_some())),
            Err(_) => {
                let why = if self.config.webdriver.is_some() {
                    format!(
                        "the Grid's queue timed out: no session within {waited:?} (--session-timeout); a Selenium \
                         Grid queues new sessions while all its slots are busy: free or add slots, or raise \
                         --session-timeout"
                    )
                } else {
                    format!("the driver did not start the browser within {waited:?} (--session-timeout)")
                };
                return Err(BrowserError::SessionTimeout { url: url.to_string(), waited, why });
            }
        };
        let caps = wd.capabilities();
        let name = caps.get("browserName").and_then(|v| v.as_str()).unwrap_or("browser").to_string();
        let version = caps.get("browserVersion").and_then(|v| v.as_str()).unwrap_or("").to_string();
        Ok((wd, BrowserInfo { name, version }))
    }

    /// Stop the driver and every browser it started.
    pub async fn stop(mut self) {
        let orphans = self.ender.orphans.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
        for (url, id) in orphans {
            self.ender.at(&url).end(&id).await;
        }
        if let Some(local) = self.local.take() {
            if let Some(p) = local.into_inner().process.take() {
                p.kill().await;
            }
        }
        self.kill_per_session_drivers();
    }

    fn kill_per_session_drivers(&self) {
        let groups = self.groups.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default();
        for pgid in groups {
            kill_group(pgid);
        }
    }
}

/// A failed New Session, in words that say whose fault it is. A Grid whose queue
/// timed out answers 500 with only a message ("Could not start a new session. New
/// session request timed out"), which thirtyfour reports as an unrecognised response.
fn session_start_error(url: &str, err: &WebDriverError, remote: bool) -> BrowserError {
    let full = err.to_string();
    let message = remote_message(&full).unwrap_or_else(|| short_message(err));
    let message = if remote && message.contains("request timed out") {
        format!(
            "the Selenium Grid's queue timed out: no slot became free within its session-request-timeout \
             (free or add slots); it said: {message}"
        )
    } else {
        message
    };
    BrowserError::SessionStart { url: url.to_string(), message }
}

/// The first line of `value.message` in a remote end's JSON answer quoted in `text`.
fn remote_message(text: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(&text[text.find('{')?..]).ok()?;
    let message = body.get("value")?.get("message")?.as_str()?;
    Some(message.lines().next()?.trim().to_string()).filter(|m| !m.is_empty())
}

fn forget_group(groups: &std::sync::Mutex<Vec<i32>>, pgid: i32) {
    if let Ok(mut g) = groups.lock() {
        g.retain(|&p| p != pgid);
    }
}

impl Drop for Driver {
    /// Backstop only: `stop` is the normal way out.
    fn drop(&mut self) {
        if let Some(p) = self.local.as_mut().and_then(|l| l.get_mut().process.take()) {
            p.drain.abort();
            kill_group(p.pid);
        }
        self.kill_per_session_drivers();
    }
}

/// SIGKILL a whole process group (the driver and the browsers it started).
fn kill_group(pgid: i32) {
    if pgid > 0 {
        // SAFETY: plain syscall; a stale pgid only yields ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `--driver` / `--browser-binary` when given (it must exist), else the first candidate
/// that exists; `looked` says where we looked, for the error.
fn find(
    given: Option<&Path>,
    flag: &str,
    candidates: Vec<PathBuf>,
    looked: String,
    missing: impl Fn(String) -> BrowserError,
) -> Result<PathBuf, BrowserError> {
    match given {
        Some(p) if is_executable(p) => Ok(p.to_path_buf()),
        Some(p) => Err(missing(format!("{flag} {}", p.display()))),
        None => candidates.into_iter().find(|p| is_executable(p)).ok_or_else(|| missing(looked)),
    }
}

/// Every `name` found on PATH, in order.
fn path_candidates(names: &[&str]) -> Vec<PathBuf> {
    names.iter().filter_map(|n| on_path(n)).collect()
}

fn find_chromedriver(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    let mut candidates = path_candidates(&["chromedriver"]);
    candidates.push(PathBuf::from("/usr/bin/chromedriver"));
    let looked = "chromedriver on PATH and /usr/bin/chromedriver".to_string();
    find(given, "--driver", candidates, looked, |looked| BrowserError::DriverMissing {
        driver: "chromedriver",
        looked,
        hint: INSTALL_HINT,
    })
}

fn find_chromium(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    const NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let looked = format!("{} on PATH", NAMES.join(", "));
    find(given, "--browser-binary", path_candidates(&NAMES), looked, |looked| BrowserError::BrowserMissing {
        browser: "Chromium",
        looked,
        hint: INSTALL_HINT,
    })
}

/// geckodriver on PATH, else where `cargo install` puts it (a CI PATH may lack ~/.cargo/bin).
fn find_geckodriver(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    let mut candidates = path_candidates(&["geckodriver"]);
    let mut looked = "geckodriver on PATH".to_string();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        let p = home.join("bin/geckodriver");
        looked = format!("{looked} and {}", p.display());
        candidates.push(p);
    }
    find(given, "--driver", candidates, looked, |looked| BrowserError::DriverMissing {
        driver: "geckodriver",
        looked,
        hint: GECKODRIVER_HINT,
    })
}

fn find_firefox(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    const NAMES: [&str; 2] = ["firefox", "firefox-esr"];
    let looked = format!("{} on PATH", NAMES.join(", "));
    find(given, "--browser-binary", path_candidates(&NAMES), looked, |looked| BrowserError::BrowserMissing {
        browser: "Firefox",
        looked,
        hint: FIREFOX_HINT,
    })
}

fn chrome_capabilities(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let mut args = vec![
        "--no-first-run".to_string(),
        "--no-default-browser-check".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        // This machine's network is closed: background fetches only cost time.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--disable-extensions".into(),
        "--disable-features=Translate,MediaRouter,OptimizationHints,PasswordLeakDetection".into(),
        "--password-store=basic".into(),
        // One renderer process per site costs a process start on every cross-site
        // navigation, and `reset`'s about:blank is one: 89 -> 40 ms (BENCHMARKS.md).
        // ft drives one app per browser; the isolation buys nothing here.
        "--disable-site-isolation-trials".into(),
        format!("--window-size={},{}", config.window.0, config.window.1),
    ];
    if !config.headed {
        args.push("--headless=new".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Chromium refuses to run as root with its sandbox on.
        args.push("--no-sandbox".into());
    }
    capabilities("chrome", "goog:chromeOptions", args, binary)
}

/// Headless Firefox through geckodriver, which gives every session a fresh profile.
fn firefox_capabilities(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let (w, h) = config.window;
    let mut args = vec!["-width".to_string(), w.to_string(), "-height".into(), h.to_string()];
    if !config.headed {
        args.push("-headless".into());
    }
    capabilities("firefox", "moz:firefoxOptions", args, binary)
}

/// W3C capabilities: the browser, a normal page-load strategy, and the vendor options
/// (`options_key`) with the arguments and binary.
fn capabilities(browser: &str, options_key: &str, args: Vec<String>, binary: Option<&Path>) -> Capabilities {
    let mut options = json!({ "args": args });
    if let Some(b) = binary {
        options["binary"] = json!(b.display().to_string());
    }
    let mut caps = Capabilities::new();
    // Setting plain JSON values cannot fail; ignore the Result rather than unwrap.
    let _ = caps.set("browserName", browser);
    let _ = caps.set("pageLoadStrategy", "normal");
    let _ = caps.set(options_key, options);
    caps
}

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

/// What one inspection of the page saw for a selector (one WebDriver round trip).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Inspection {
    pub url: String,
    pub title: String,
    /// The HTTP status of the page's own response, where the browser tells (Navigation Timing).
    pub status: Option<u16>,
    /// A syntax error in the selector, as the browser reported it.
    pub error: Option<String>,
    pub count: usize,
    /// The first match's rendered text, visibility, attribute and horizontal centre.
    pub text: Option<String>,
    pub visible: Option<bool>,
    pub attr: Option<String>,
    pub centre_x: Option<f64>,
    /// Texts of all matches (with `all`), or of the page body (with no selector).
    #[serde(default)]
    pub texts: Vec<String>,
    /// The first match as a W3C element reference, for an action that follows.
    #[serde(default, rename = "el")]
    element: Option<serde_json::Value>,
}

const INSPECT_JS: &str = r#"
const [css, attr, all] = arguments;
const nav = (performance.getEntriesByType && performance.getEntriesByType("navigation")[0]) || {};
const out = { url: location.href, title: document.title, status: nav.responseStatus || null, count: 0, texts: [] };
if (css === null) {
  out.texts = [document.body ? document.body.innerText : ""];
  return out;
}
let list;
try { list = document.querySelectorAll(css); } catch (e) { out.error = String(e.message || e); return out; }
out.count = list.length;
const el = list[0];
if (el) {
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const shown = el.checkVisibility ? el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) : true;
  out.visible = shown && cs.visibility !== "hidden" && cs.display !== "none" && r.width > 0 && r.height > 0;
  out.text = (el.innerText || "").trim();
  out.attr = attr === null ? null : el.getAttribute(attr);
  out.centre_x = r.left + r.width / 2;
  out.el = el;
}
if (all) {
  out.texts = Array.from(list).slice(0, 200).map(e => (e.innerText || "").trim());
}
return out;
"#;

/// Evidence of a page's state at a failure.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub screenshot: Option<Vec<u8>>,
    pub html: Option<String>,
    pub url: Option<String>,
}

/// One browser. Never shared between workers.
pub struct Session {
    wd: Option<WebDriver>,
    pub browser: BrowserInfo,
    timeout: Duration,
    window: (u32, u32),
    ender: SessionEnder,
    /// This session's own driver (geckodriver), ended with the session.
    own_driver: Option<OwnDriver>,
    /// The selector of the last inspection and its first match (see `element`).
    inspected: std::sync::Mutex<Option<(String, serde_json::Value)>>,
}

struct OwnDriver {
    process: DriverProcess,
    /// The fresh profile geckodriver made for the session, removed when it ends.
    profile: Option<PathBuf>,
    /// The driver's list of per-session process groups, to strike this one from.
    groups: Arc<std::sync::Mutex<Vec<i32>>>,
}

/// The profile folder geckodriver reports (`moz:profile`), if it is one that geckodriver
/// made in the temp folder: only such a folder is ft's to remove.
fn driver_profile(reported: &str) -> Option<PathBuf> {
    let path = PathBuf::from(reported);
    let made_by_geckodriver = path.file_name()?.to_str()?.starts_with("rust_mozprofile");
    (made_by_geckodriver && path.parent()? == std::env::temp_dir()).then_some(path)
}

impl Drop for Session {
    /// Backstop only (a panicking or aborted worker): kill the session's own driver
    /// with its browser, or hand the session to the driver to end, instead of
    /// thirtyfour's drop, which would block the executor.
    fn drop(&mut self) {
        let own = self.own_driver.take();
        if let Some(wd) = self.wd.take() {
            let id = wd.session_id().to_string();
            let _ = wd.leak();
            if own.is_none() {
                if let Ok(mut orphans) = self.ender.orphans.lock() {
                    orphans.push((self.ender.url.clone(), id));
                }
            }
        }
        if let Some(own) = own {
            own.process.drain.abort();
            kill_group(own.process.pid);
            forget_group(&own.groups, own.process.pid);
            if let Some(profile) = own.profile {
                let _ = std::fs::remove_dir_all(profile);
            }
        }
    }
}

impl Session {
    fn wd(&self) -> Result<&WebDriver, BrowserError> {
        self.wd.as_ref().ok_or_else(|| BrowserError::SessionLost("the session was already closed".into()))
    }

    /// Every command is bounded: a wedged browser becomes an error, not a hang.
    async fn bounded<T>(
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

    /// Inspect the elements matching `css` (or, with `None`, the page's text).
    pub async fn inspect(&self, css: Option<&str>, attr: Option<&str>, all: bool) -> Result<Inspection, BrowserError> {
        let wd = self.wd()?;
        let ret = self.bounded(wd.execute(INSPECT_JS, vec![json!(css), json!(attr), json!(all)])).await?;
        let mut seen: Inspection = serde_json::from_value(ret.json().clone())
            .map_err(|e| BrowserError::WebDriver(format!("unexpected inspection result: {e}")))?;
        if let (Some(css), Ok(mut last)) = (css, self.inspected.lock()) {
            *last = seen.element.take().map(|el| (css.to_string(), el));
        }
        Ok(seen)
    }

    /// The first element matching `css`. An action comes right after the inspection
    /// that found its element visible, so that inspection's reference is used (once)
    /// instead of a second round trip to find the same element; should the page have
    /// changed in between, the action fails as stale and is retried with a new look.
    async fn element(&self, css: &str) -> Result<WebElement, BrowserError> {
        let wd = self.wd()?;
        let last = self.inspected.lock().ok().and_then(|mut last| last.take());
        if let Some((seen_css, el)) = last {
            if seen_css == css {
                if let Ok(el) = WebElement::from_json(el, wd.handle().clone()) {
                    return Ok(el);
                }
            }
        }
        self.bounded(wd.find(By::Css(css))).await
    }

    pub async fn current_url(&self) -> Result<String, BrowserError> {
        let wd = self.wd()?;
        Ok(self.bounded(wd.current_url()).await?.to_string())
    }

    /// Type into the first element matching `css`.
    pub async fn type_text(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        let el = self.element(css).await?;
        self.bounded(el.send_keys(text)).await
    }

    pub async fn press(&self, css: &str, key: Key) -> Result<(), BrowserError> {
        let el = self.element(css).await?;
        let wd_key = match key {
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
        };
        self.bounded(el.send_keys(wd_key)).await
    }

    pub async fn click(&self, css: &str) -> Result<(), BrowserError> {
        let el = self.element(css).await?;
        self.bounded(el.click()).await
    }

    pub async fn clear(&self, css: &str) -> Result<(), BrowserError> {
        let el = self.element(css).await?;
        self.bounded(el.clear()).await
    }

    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.set_window_rect(0, 0, width, height)).await
    }

    /// Become a new visitor: no cookies or storage of the last one, a blank page and
    /// the default window size. Cookies are per site in WebDriver, so this clears the
    /// current site's, which is the target's after any scenario step.
    pub async fn reset(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        let url = self.current_url().await?;
        if url.starts_with("http") {
            self.bounded(wd.delete_all_cookies()).await?;
            self.bounded(wd.execute("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}", Vec::new()))
                .await?;
        }
        self.bounded(wd.goto("about:blank")).await?;
        let (w, h) = self.window;
        self.set_window_size(w, h).await
    }

    /// A screenshot and the page HTML, as far as the browser can still give them.
    pub async fn evidence(&self) -> Evidence {
        let Ok(wd) = self.wd() else { return Evidence::default() };
        Evidence {
            screenshot: self.bounded(wd.screenshot_as_png()).await.ok(),
            html: self.bounded(wd.source()).await.ok(),
            url: self.current_url().await.ok(),
        }
    }

    /// End the session and close the browser (and the session's own driver, if any).
    ///
    /// A session with its own driver (local Firefox) is ended by killing the driver's
    /// process group and removing the profile: a polite `DELETE` makes geckodriver wait
    /// for Firefox to shut down and tidy a profile that is thrown away anyway, which
    /// took 0.5-1.1 s per session (BENCHMARKS.md).
    pub async fn quit(mut self) {
        let own = self.own_driver.take();
        if let Some(wd) = self.wd.take() {
            let id = wd.session_id().to_string();
            let _ = wd.leak();
            if own.is_none() {
                self.ender.end(&id).await;
            }
        }
        if let Some(own) = own {
            forget_group(&own.groups, own.process.pid);
            own.process.kill().await;
            if let Some(profile) = own.profile {
                let _ = tokio::fs::remove_dir_all(profile).await;
            }
        }
    }
}

/// Firefox does not show its network error page as the current URL (Chromium shows
/// `chrome-error://`); geckodriver fails the navigation with "Reached error page:
/// about:neterror?e=connectionFailure&u=...". Say that in a few words.
fn error_page(message: &str) -> Option<String> {
    let query = message.split("about:neterror?").nth(1)?;
    let code = query.split('&').find_map(|kv| kv.strip_prefix("e="))?;
    Some(format!("the browser showed its network error page ({code}, about:neterror)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_say_their_port_in_their_own_words() {
        assert_eq!(chromedriver_port("ChromeDriver was started successfully on port 41235."), Some(41235));
        assert_eq!(chromedriver_port("Starting ChromeDriver 156 on port 0"), None);
        assert_eq!(geckodriver_port("1795676262985\tgeckodriver\tINFO\tListening on 127.0.0.1:44397"), Some(44397));
        assert_eq!(geckodriver_port("1795676262985\tgeckodriver\tINFO\tsomething else"), None);
    }

    #[test]
    fn firefox_error_pages_are_named_by_their_code() {
        let m =
            "unknown error: Reached error page: about:neterror?e=connectionFailure&u=http%3A//127.0.0.1%3A5/&c=UTF-8";
        assert_eq!(
            error_page(m).as_deref(),
            Some("the browser showed its network error page (connectionFailure, about:neterror)")
        );
        assert_eq!(error_page("no such element"), None);
    }

    #[test]
    fn a_grid_answer_without_an_error_code_still_gives_its_message() {
        let text = "The WebDriver server returned an unrecognised response: 500 :: {\n  \"value\": {\n    \
                    \"message\": \"Could not start a new session. New session request timed out \\nHost info: x\"}}";
        assert_eq!(
            remote_message(text).as_deref(),
            Some("Could not start a new session. New session request timed out")
        );
        assert_eq!(remote_message("no json here"), None);
    }

    #[test]
    fn firefox_runs_headless_at_the_configured_size() {
        let caps = firefox_capabilities(&BrowserConfig::default(), Some(Path::new("/usr/bin/firefox-esr")));
        let options = caps.get("moz:firefoxOptions").cloned().unwrap_or_default();
        assert_eq!(options["binary"], "/usr/bin/firefox-esr");
        assert_eq!(options["args"], json!(["-width", "1280", "-height", "800", "-headless"]));
        assert_eq!(caps.get("browserName").and_then(|v| v.as_str()), Some("firefox"));
    }

    #[test]
    fn only_a_profile_geckodriver_made_in_the_temp_folder_is_removed() {
        let tmp = std::env::temp_dir();
        let made = tmp.join("rust_mozprofileAbc123");
        assert_eq!(driver_profile(&made.display().to_string()), Some(made));
        assert_eq!(driver_profile("/home/someone/.mozilla/firefox/default"), None);
        assert_eq!(driver_profile(&tmp.display().to_string()), None);
        assert_eq!(driver_profile(&tmp.join("x/rust_mozprofileAbc").display().to_string()), None);
    }

    #[test]
    fn a_missing_geckodriver_names_the_install_command() {
        let err = find_geckodriver(Some(Path::new("/nonexistent/geckodriver"))).unwrap_err().to_string();
        assert!(err.contains("failed to find geckodriver (looked for --driver /nonexistent/geckodriver)"), "{err}");
        assert!(err.contains("cargo install geckodriver --locked"), "{err}");
    }
}
