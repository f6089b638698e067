//! A local Firefox's profiles for one run: every session starts from a fresh copy
//! (`-profile COPY`) of a template profile kept in the user's cache (`cache`: Firefox
//! started by geckodriver on an empty folder, no page loaded, then quit cleanly; made once
//! per machine and Firefox), not from the empty profile geckodriver makes.
//!
//! Why: Firefox's first start in an empty profile does work that its next starts skip (the
//! built-in add-ons installed, the startup cache of its own scripts, the certificate and
//! search databases made); a copy of a profile that started once takes about 0.6 of the
//! CPU to start (BENCHMARKS.md, "Firefox sessions from a template profile"). Kept across
//! runs, the template costs a run nothing, so every session gains, not only the runs of
//! three sessions or more that paid back a template made for themselves. "Fresh" keeps its
//! meaning: the template never loaded a page and was made from nothing of any run's own
//! (`first_start_config`), so it holds no site's data and no run's settings, and each
//! session has a copy of its own.
//!
//! The copies live in one folder per run, `$TMPDIR/ft-firefox-PID-XXXXXX`, removed when the
//! driver stops (Ctrl-C and SIGTERM end ft through it); a copy ends with its session
//! (`Leftover::Profile`). A run killed with SIGKILL cannot remove its folder: the next
//! local Firefox run removes the folders of runs whose ft is dead (`sweep_dead_runs`).
//! Where there is no template (a cache that cannot be written, a Firefox that will not
//! make one), sessions start from geckodriver's own empty profile, as they did before.

mod cache;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::capabilities;
use super::process::{DriverProcess, GECKODRIVER};
use super::reaper::{Leftover, Reaper};
use super::{BrowserConfig, BrowserKind};
use cache::{Cache, Key};

/// The prefix of a run's folder in the temp folder; ft's pid follows, then a random part.
const RUN_PREFIX: &str = "ft-firefox-";

/// What a copy leaves out: what a running Firefox writes to say it runs (its locks, the
/// ports it listens on, which would send geckodriver to a dead port), the `user.js`
/// geckodriver wrote into the template, which it writes anew into each copy, and the
/// template's marker.
const NOT_COPIED: &[&str] = &[
    "lock",
    ".parentlock",
    "parent.lock",
    "MarionetteActivePort",
    "WebDriverBiDiServer.json",
    "user.js",
    cache::MARKER,
];

/// Whether the sessions of a run with `config` start from copies of a template: a local
/// Firefox's (a Grid's Firefox is not ft's to start).
fn from_template(config: &BrowserConfig) -> bool {
    config.kind == BrowserKind::Firefox && config.webdriver.is_none()
}

/// The settings of the template's first start: what shapes every session's profile alike
/// (the binary, headless or not), and nothing of one run's own. A session's own settings
/// reach its copy when it starts: its user agent as a preference geckodriver writes into
/// the copy's `user.js`, the certificates it accepts and BiDi as capabilities of the
/// session. A preference given at the first start would stay in the template's `prefs.js`
/// (Firefox saves it there when it quits) and reach a later run that did not ask for it.
fn first_start_config(config: &BrowserConfig) -> BrowserConfig {
    BrowserConfig {
        kind: BrowserKind::Firefox,
        driver: config.driver.clone(),
        binary: config.binary.clone(),
        headed: config.headed,
        command_timeout: config.command_timeout,
        session_timeout: config.session_timeout,
        signals: false,
        user_contexts: false,
        visitors: false,
        ..BrowserConfig::default()
    }
}

/// The run's profiles: a folder of the run's copies of the template, or nothing
/// (geckodriver's own empty profile for every session). A clone is the same run's.
#[derive(Clone, Default)]
pub(super) struct Profiles {
    run: Option<Arc<Run>>,
}

struct Run {
    /// The run's folder: every copy.
    dir: PathBuf,
    geckodriver: PathBuf,
    binary: PathBuf,
    /// The template in the cache, found (or made) when the first session asks for a copy;
    /// `None` when there is none (every session then starts as without a template).
    template: tokio::sync::OnceCell<Option<PathBuf>>,
    copies: AtomicUsize,
    /// Each copy is registered until its session ends it.
    reaper: Reaper,
}

impl Profiles {
    /// The profiles of a run with `config`, whose Firefox is `binary`: a folder for the
    /// copies of a local Firefox's sessions (where it can be made), else none.
    pub(super) fn for_run(config: &BrowserConfig, geckodriver: &Path, binary: &Path, reaper: &Reaper) -> Profiles {
        if !from_template(config) {
            return Profiles::default();
        }
        let tmp = std::env::temp_dir();
        sweep_dead_runs(&tmp);
        let made = tempfile::Builder::new().prefix(&format!("{RUN_PREFIX}{}-", std::process::id())).tempdir_in(&tmp);
        let Ok(dir) = made else { return Profiles::default() };
        let run = Run {
            dir: dir.keep(),
            geckodriver: geckodriver.to_path_buf(),
            binary: binary.to_path_buf(),
            template: tokio::sync::OnceCell::new(),
            copies: AtomicUsize::new(0),
            reaper: reaper.clone(),
        };
        Profiles { run: Some(Arc::new(run)) }
    }

    /// A fresh copy of the template for one session started as `config` says (the
    /// template is looked for in the cache, and made there if missing, by the first session
    /// that asks), registered with the reaper; `None` where the run has no template, or the
    /// copy could not be made.
    pub(super) async fn fresh(&self, config: &BrowserConfig) -> Option<PathBuf> {
        let run = self.run.as_ref()?;
        let template = run.template.get_or_init(|| run.template(config)).await.as_ref()?;
        let to = run.dir.join(format!("session-{}", run.copies.fetch_add(1, Ordering::SeqCst) + 1));
        run.reaper.track(Leftover::Profile(to.clone()));
        match copy_profile(template, &to).await {
            Ok(()) => Some(to),
            Err(_) => {
                run.reaper.end(vec![Leftover::Profile(to)]).await;
                None
            }
        }
    }

    /// Remove the run's folder and any copy left in it (the sessions have ended).
    pub(super) fn remove(&self) {
        if let Some(run) = &self.run {
            let _ = std::fs::remove_dir_all(&run.dir);
        }
    }
}

impl Run {
    /// The template for sessions started as `config` says, from the user's cache: the one
    /// kept there, or one made now (Firefox started by a geckodriver of its own on an empty
    /// folder, no page loaded, and quit cleanly, so that what it wrote at its first start is
    /// whole on disk), waiting at most `--session-timeout` in all. `None`, said nowhere,
    /// where there is no cache or no template could be had: the sessions start as before.
    async fn template(&self, config: &BrowserConfig) -> Option<PathBuf> {
        let cache = Cache::open()?;
        let first = first_start_config(config);
        let capabilities = serde_json::to_value(capabilities::for_kind(&first, Some(&self.binary))).ok()?;
        let key = Key::new(&capabilities, &self.binary, &self.geckodriver);
        let make = |dir: PathBuf| async move {
            let config = BrowserConfig { firefox_profile: Some(dir), ..first.clone() };
            first_start(&config, &self.geckodriver, &self.binary).await
        };
        cache.template(&key, config.session_timeout, make).await
    }
}

/// Start Firefox in `config.firefox_profile` through a geckodriver of its own and end the
/// session politely: geckodriver asks Firefox to quit and waits until it has exited.
async fn first_start(config: &BrowserConfig, geckodriver: &Path, binary: &Path) -> Result<(), String> {
    let (process, port) = DriverProcess::spawn(&GECKODRIVER, geckodriver).await.map_err(|e| e.to_string())?;
    let ended = async {
        let caps = serde_json::to_value(capabilities::for_kind(config, Some(binary))).map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder().timeout(config.session_timeout).build().map_err(|e| e.to_string())?;
        let url = format!("http://127.0.0.1:{port}/session");
        let body = json!({ "capabilities": { "alwaysMatch": caps } });
        let sent = http.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        let answer = sent.send().await.map_err(|e| e.to_string())?.bytes().await.map_err(|e| e.to_string())?;
        let answer: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
        let id = answer["value"]["sessionId"].as_str().ok_or_else(|| format!("no session: {answer}"))?;
        let quit = http.delete(format!("{url}/{id}")).send().await.map_err(|e| e.to_string())?;
        quit.error_for_status().map(drop).map_err(|e| e.to_string())
    };
    let ended = ended.await;
    process.kill().await;
    ended
}

/// Copy the profile `from` into `to` (made here), leaving out `NOT_COPIED` and anything that
/// is neither a folder nor a file.
async fn copy_profile(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut folders = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((from, to)) = folders.pop() {
        tokio::fs::create_dir(&to).await?;
        let mut entries = tokio::fs::read_dir(&from).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            if NOT_COPIED.iter().any(|n| name == *n) {
                continue;
            }
            let kind = entry.file_type().await?;
            if kind.is_dir() {
                folders.push((entry.path(), to.join(&name)));
            } else if kind.is_file() {
                tokio::fs::copy(entry.path(), to.join(&name)).await?;
            }
        }
    }
    Ok(())
}

/// Remove the folders of runs whose ft has died (killed with SIGKILL, which no cleanup
/// survives): `ft-firefox-PID-...` where no process `PID` runs. A pid taken again by
/// another process keeps its folder, which is only left for longer.
fn sweep_dead_runs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| pid_in(n, RUN_PREFIX)) else { continue };
        if !alive(pid) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in the name of a folder ft made for one process (`PREFIX` `PID-XXXXXX`).
fn pid_in(name: &str, prefix: &str) -> Option<u32> {
    let (pid, random) = name.strip_prefix(prefix)?.split_once('-')?;
    pid.parse().ok().filter(|_| !random.is_empty())
}

/// Whether a process `pid` runs.
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::cache::MARKER;
    use super::*;

    #[test]
    fn every_local_firefox_session_starts_from_a_template_and_no_other() {
        let firefox = |grid: bool| BrowserConfig {
            kind: BrowserKind::Firefox,
            webdriver: grid.then(|| "http://127.0.0.1:4444".to_string()),
            ..BrowserConfig::default()
        };
        assert!(from_template(&firefox(false)));
        assert!(!from_template(&firefox(true)), "a Grid's Firefox is not ft's to start");
        assert!(!from_template(&BrowserConfig::default()), "not Chromium");
    }

    #[test]
    fn the_template_s_first_start_carries_nothing_of_one_run_s_own() {
        let run = BrowserConfig {
            kind: BrowserKind::Firefox,
            accept_insecure_certs: true,
            firefox_user_agent: Some("Mozilla/5.0 ft-synthetic/1".into()),
            window: (1024, 768),
            ..BrowserConfig::default()
        };
        let caps = capabilities::for_kind(&first_start_config(&run), Some(Path::new("/usr/bin/firefox")));
        let caps = serde_json::to_value(caps).expect("json");
        let text = caps.to_string();
        assert!(!text.contains("ft-synthetic") && !text.contains("prefs"), "no user agent: {text}");
        assert_eq!(caps.get("acceptInsecureCerts"), None, "no certificate waived: {text}");
        assert_eq!(caps.get("webSocketUrl"), None, "no BiDi: {text}");
        let other = BrowserConfig { accept_insecure_certs: false, firefox_user_agent: None, window: (800, 600), ..run };
        let other = capabilities::for_kind(&first_start_config(&other), Some(Path::new("/usr/bin/firefox")));
        assert_eq!(serde_json::to_value(other).expect("json"), caps, "one key for both runs");
    }

    #[test]
    fn only_folders_named_as_a_run_s_are_taken_for_one() {
        assert_eq!(pid_in("ft-firefox-1234-abXY12", RUN_PREFIX), Some(1234));
        assert_eq!(pid_in("ft-firefox-1234-", RUN_PREFIX), None);
        assert_eq!(pid_in("ft-firefox-x-abc", RUN_PREFIX), None);
        assert_eq!(pid_in("rust_mozprofileAbc", RUN_PREFIX), None);
    }

    #[test]
    fn a_dead_run_s_folder_is_swept_and_a_live_one_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // No pid is above the kernel's limit (at most 2^22).
        let dead = tmp.path().join("ft-firefox-999999999-abc");
        let live = tmp.path().join(format!("ft-firefox-{}-abc", std::process::id()));
        let other = tmp.path().join("ft-firefox-notes");
        for dir in [&dead, &live, &other] {
            std::fs::create_dir_all(dir.join("template")).expect("mkdir");
        }
        sweep_dead_runs(tmp.path());
        assert!(!dead.exists() && live.exists() && other.exists());
    }

    #[tokio::test]
    async fn a_copy_leaves_out_locks_ports_user_js_and_the_marker() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let from = tmp.path().join("template");
        std::fs::create_dir_all(from.join("startupCache")).expect("mkdir");
        let files =
            ["prefs.js", "startupCache/scriptCache.bin", "user.js", "MarionetteActivePort", ".parentlock", MARKER];
        for file in files {
            std::fs::write(from.join(file), file).expect("write");
        }
        std::os::unix::fs::symlink("127.0.0.1:+1", from.join("lock")).expect("symlink");
        let to = tmp.path().join("copy");
        copy_profile(&from, &to).await.expect("copied");
        let mut names: Vec<String> = walk(&to);
        names.sort();
        assert_eq!(names, ["prefs.js", "startupCache", "startupCache/scriptCache.bin"]);
    }

    fn walk(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                out.extend(walk(&entry.path()).into_iter().map(|n| format!("{name}/{n}")));
            }
            out.push(name);
        }
        out
    }
}
