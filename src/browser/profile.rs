//! A local Firefox's profiles for one run: where the run starts enough Firefox sessions
//! (`pays_back`), one template profile is made once (Firefox started by geckodriver on an
//! empty folder, no page loaded, then quit cleanly) and every session starts from a fresh
//! copy of it (`-profile COPY`), not from the empty profile geckodriver makes.
//!
//! Why: Firefox's first start in an empty profile does work that its next starts skip (the
//! built-in add-ons installed, the startup cache of its own scripts, the certificate and
//! search databases made); a copy of a profile that started once takes about 0.6 of the
//! CPU to start (BENCHMARKS.md, "Firefox sessions from a template profile"), which on two
//! cores is what bounds `--fresh-session`. "Fresh" keeps its meaning: the template never
//! loaded a page, so it holds no site's data, and each session has a copy of its own.
//!
//! Everything lives in one folder per run, `$TMPDIR/ft-firefox-PID-XXXXXX` (the template and
//! the copies), removed when the driver stops (Ctrl-C and SIGTERM end ft through it); a copy
//! ends with its session (`Leftover::Profile`). A run killed with SIGKILL cannot remove
//! its folder: the next run that makes a template removes the folders of runs whose ft is
//! dead (`sweep_dead_runs`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::capabilities;
use super::process::{DriverProcess, GECKODRIVER};
use super::reaper::{Leftover, Reaper};
use super::{BrowserConfig, BrowserKind};

/// How many sessions a run must expect before a template pays back. The template costs
/// one Firefox start on an empty profile and its quit (about 1.1 fresh starts of CPU); each
/// session from a copy saves about 0.4 of a fresh start (BENCHMARKS.md): from the third
/// session on the run is ahead.
const PAYS_BACK_FROM: usize = 3;

/// The prefix of a run's folder in the temp folder; ft's pid follows, then a random part.
const RUN_PREFIX: &str = "ft-firefox-";

/// What a copy leaves out: what a running Firefox writes to say it runs (its locks, the
/// ports it listens on, which would send geckodriver to a dead port) and the `user.js`
/// geckodriver wrote into the template, which it writes anew into each copy.
const NOT_COPIED: &[&str] =
    &["lock", ".parentlock", "parent.lock", "MarionetteActivePort", "WebDriverBiDiServer.json", "user.js"];

/// Whether a run with `config` starts its local Firefox sessions from a template.
pub(super) fn pays_back(config: &BrowserConfig) -> bool {
    config.kind == BrowserKind::Firefox && config.webdriver.is_none() && config.expected_sessions >= PAYS_BACK_FROM
}

/// The run's profiles: a template and its copies, or nothing (geckodriver's own empty
/// profile for every session). A clone is the same run's.
#[derive(Clone, Default)]
pub(super) struct Profiles {
    run: Option<Arc<Run>>,
}

struct Run {
    /// The run's folder: the template and every copy.
    dir: PathBuf,
    geckodriver: PathBuf,
    binary: Option<PathBuf>,
    /// The template, made when the first session asks for a copy; `None` when it could not
    /// be made (every session then starts as without a template).
    template: tokio::sync::OnceCell<Option<PathBuf>>,
    copies: AtomicUsize,
    /// Each copy is registered until its session ends it.
    reaper: Reaper,
}

impl Profiles {
    /// The profiles of a run with `config`: a folder for them where a template pays back
    /// (and it can be made), else none.
    pub(super) fn for_run(
        config: &BrowserConfig,
        geckodriver: &Path,
        binary: Option<&Path>,
        reaper: &Reaper,
    ) -> Profiles {
        if !pays_back(config) {
            return Profiles::default();
        }
        let tmp = std::env::temp_dir();
        sweep_dead_runs(&tmp);
        let made = tempfile::Builder::new().prefix(&format!("{RUN_PREFIX}{}-", std::process::id())).tempdir_in(&tmp);
        let Ok(dir) = made else { return Profiles::default() };
        let run = Run {
            dir: dir.keep(),
            geckodriver: geckodriver.to_path_buf(),
            binary: binary.map(Path::to_path_buf),
            template: tokio::sync::OnceCell::new(),
            copies: AtomicUsize::new(0),
            reaper: reaper.clone(),
        };
        Profiles { run: Some(Arc::new(run)) }
    }

    /// A fresh copy of the template for one session started as `config` says (the
    /// template is made first, by the first session that asks), registered with the
    /// reaper; `None` where the run has no template, or it or the copy could not be made.
    pub(super) async fn fresh(&self, config: &BrowserConfig) -> Option<PathBuf> {
        let run = self.run.as_ref()?;
        let template = run.template.get_or_init(|| run.make_template(config)).await.as_ref()?;
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

    /// Remove the run's folder, the template and any copy left in it (the sessions have ended).
    pub(super) fn remove(&self) {
        if let Some(run) = &self.run {
            let _ = std::fs::remove_dir_all(&run.dir);
        }
    }
}

impl Run {
    /// The template: Firefox started by a geckodriver of its own on an empty folder, no page
    /// loaded, and quit cleanly, so that what it wrote at its first start is whole on disk.
    async fn make_template(&self, config: &BrowserConfig) -> Option<PathBuf> {
        let dir = self.dir.join("template");
        let made = async {
            // What a start cut short (a run stopping mid-start) left there is no template.
            let _ = tokio::fs::remove_dir_all(&dir).await;
            tokio::fs::create_dir(&dir).await.map_err(|e| e.to_string())?;
            let config = BrowserConfig { firefox_profile: Some(dir.clone()), ..config.clone() };
            first_start(&config, &self.geckodriver, self.binary.as_deref()).await
        };
        match tokio::time::timeout(config.session_timeout, made).await {
            Ok(Ok(())) => Some(dir),
            Ok(Err(_)) | Err(_) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                None
            }
        }
    }
}

/// Start Firefox in `config.firefox_profile` through a geckodriver of its own and end the
/// session politely: geckodriver asks Firefox to quit and waits until it has exited.
async fn first_start(config: &BrowserConfig, geckodriver: &Path, binary: Option<&Path>) -> Result<(), String> {
    let (process, port) = DriverProcess::spawn(&GECKODRIVER, geckodriver).await.map_err(|e| e.to_string())?;
    let ended = async {
        let caps = serde_json::to_value(capabilities::for_kind(config, binary)).map_err(|e| e.to_string())?;
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
        let Some(pid) = name.to_str().and_then(run_pid) else { continue };
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        if !alive && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in a run folder's name (`ft-firefox-PID-XXXXXX`).
fn run_pid(name: &str) -> Option<u32> {
    let (pid, random) = name.strip_prefix(RUN_PREFIX)?.split_once('-')?;
    pid.parse().ok().filter(|_| !random.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_made_for_three_local_firefox_sessions_or_more() {
        let firefox = |n, grid: bool| BrowserConfig {
            kind: BrowserKind::Firefox,
            expected_sessions: n,
            webdriver: grid.then(|| "http://127.0.0.1:4444".to_string()),
            ..BrowserConfig::default()
        };
        assert!(!pays_back(&firefox(1, false)), "one session: the template cannot pay back");
        assert!(!pays_back(&firefox(2, false)));
        assert!(pays_back(&firefox(3, false)));
        assert!(!pays_back(&firefox(10, true)), "a Grid's Firefox is not ft's to start");
        assert!(!pays_back(&BrowserConfig { expected_sessions: 10, ..BrowserConfig::default() }), "not Chromium");
    }

    #[test]
    fn only_folders_named_as_a_run_s_are_taken_for_one() {
        assert_eq!(run_pid("ft-firefox-1234-abXY12"), Some(1234));
        assert_eq!(run_pid("ft-firefox-1234-"), None);
        assert_eq!(run_pid("ft-firefox-x-abc"), None);
        assert_eq!(run_pid("rust_mozprofileAbc"), None);
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
    async fn a_copy_leaves_out_locks_ports_and_user_js() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let from = tmp.path().join("template");
        std::fs::create_dir_all(from.join("startupCache")).expect("mkdir");
        for file in ["prefs.js", "startupCache/scriptCache.bin", "user.js", "MarionetteActivePort", ".parentlock"] {
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
