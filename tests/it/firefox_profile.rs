//! Issue 22: a local Firefox run that starts three sessions or more (`--fresh-session`)
//! makes one template profile (Firefox started on an empty folder, no page loaded, quit)
//! and starts every session from a fresh copy of it. "Fresh" keeps its meaning: a cookie
//! and localStorage one session planted are not seen by the next, and the template holds
//! nothing of the site. The template and the copies live in one folder of the run,
//! `$TMPDIR/ft-firefox-PID-...`, gone when ft ends, on SIGINT and SIGTERM too; after a
//! SIGKILL the folder stays until the next run that makes a template sweeps it. A run with
//! one session makes no template (geckodriver's own empty profile, as before).

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::loopback::{respond, serve};
use common::*;

/// The cookie and the localStorage key the planting page sets: names found nowhere else.
const COOKIE: &str = "ft_planted_cookie";
const STORAGE: &str = "ft_planted_storage";

/// The target: `/plant` sets the cookie and the storage; `/check` says which it finds;
/// `/hold` waits (in the page) until the test lets it go, which keeps a session running
/// while the test looks at the run's profiles.
struct Target {
    url: String,
    release: Arc<AtomicBool>,
}

fn target() -> Target {
    let release = Arc::new(AtomicBool::new(false));
    let released = Arc::clone(&release);
    let url = serve(move |req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        match path {
            "/plant" => respond(stream, "200 OK", &PLANT.replace("COOKIE", COOKIE).replace("STORAGE", STORAGE)),
            "/check" => respond(stream, "200 OK", &CHECK.replace("COOKIE", COOKIE).replace("STORAGE", STORAGE)),
            "/hold" => respond(stream, "200 OK", HOLD),
            "/go" => respond(stream, "200 OK", if released.load(Ordering::SeqCst) { "go" } else { "wait" }),
            _ => respond(stream, "200 OK", "not here"),
        }
    });
    Target { url, release }
}

const PLANT: &str = r#"<!doctype html><html><head><title>Plant</title><link rel="icon" href="data:,"></head>
<body><p id="status">planting</p><script>
document.cookie = "COOKIE=1; max-age=3600; path=/";
localStorage.setItem("STORAGE", "1");
document.getElementById("status").textContent = "planted";
</script></body></html>"#;

const CHECK: &str = r#"<!doctype html><html><head><title>Check</title><link rel="icon" href="data:,"></head>
<body><p id="status">checking</p><script>
const found = [];
if (document.cookie.includes("COOKIE")) found.push("cookie");
if (localStorage.getItem("STORAGE")) found.push("localStorage");
document.getElementById("status").textContent = found.length ? "found: " + found.join(", ") : "nothing found";
</script></body></html>"#;

const HOLD: &str = r#"<!doctype html><html><head><title>Hold</title><link rel="icon" href="data:,"></head>
<body><p id="status">held</p><script>
const ask = () => fetch("/go").then(r => r.text()).then(t => {
  if (t === "go") document.getElementById("status").textContent = "released"; else setTimeout(ask, 50);
}, () => setTimeout(ask, 50));
ask();
</script></body></html>"#;

/// Three scenarios, run longest first on one worker: the planter (which also checks that
/// the check page sees what it planted), the next session's check, and a session held
/// until the test lets it go.
const SPECS: &str = r##"
[[scenario]]
name = "a visitor leaves a cookie and local storage behind"
steps = [
  { visit = "/plant" },
  { expect_title = "Plant" },
  { expect_text = "planted", in = "#status" },
  { visit = "/check" },
  { expect_text = "found: cookie, localStorage", in = "#status" },
]

[[scenario]]
name = "the next fresh session finds none of it"
steps = [
  { visit = "/check" },
  { expect_title = "Check" },
  { expect_text = "nothing found", in = "#status" },
]

[[scenario]]
name = "a third session waits for the test"
steps = [
  { visit = "/hold" },
  { expect_text = "released", in = "#status" },
]
"##;

/// ft running in the background with a temp folder of its own (`TMPDIR`), where the run's
/// profiles are made: its stdout read line by line.
struct Run {
    child: KillOnDrop,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    tmp: tempfile::TempDir,
    _dir: tempfile::TempDir,
    _specs: tempfile::TempDir,
}

impl Run {
    fn start(url: &str, extra: &[&str]) -> Run {
        Run::start_in(tempfile::tempdir().expect("tempdir"), url, extra)
    }

    fn start_in(tmp: tempfile::TempDir, url: &str, extra: &[&str]) -> Run {
        let specs = tempfile::tempdir().expect("tempdir");
        std::fs::write(specs.path().join("profiles.toml"), SPECS).expect("write specs");
        let dir = tempfile::tempdir().expect("tempdir");
        let specs_path = specs.path().display().to_string();
        let args = ["--specs", &specs_path, "--liveserver", url, "--browser", "firefox", "--workers", "1"];
        let mut child = ft_command(dir.path())
            .args(args)
            .args(["--max-wait", "60"])
            .args(extra)
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ft starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Run { child: KillOnDrop::new(child), lines, seen: Vec::new(), tmp, _dir: dir, _specs: specs }
    }

    /// Wait (at most 120 s a line) for a line containing `text`.
    fn wait_for_line(&mut self, text: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no line with {text:?}; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(text) {
                return;
            }
        }
    }

    /// ft's exit code, once it has exited, and the rest of its output.
    fn exit(&mut self) -> i32 {
        let mut code = None;
        eventually("ft to exit", Duration::from_secs(120), || {
            code = self.child.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        self.seen.extend(self.lines.try_iter());
        code.unwrap_or(-1)
    }

    /// What ft and its browsers left in the temp folder that is a profile: the run's
    /// folders (`ft-firefox-*`) and geckodriver's own (`rust_mozprofile*`).
    fn profiles_left(&self) -> Vec<String> {
        // geckodriver's own profiles are in its guard's temp folder (`ft-driver-*`).
        let mut names = Vec::new();
        for entry in std::fs::read_dir(self.tmp.path()).expect("read TMPDIR").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("ft-driver-") {
                let inner = std::fs::read_dir(entry.path()).into_iter().flatten().flatten();
                names.extend(inner.map(|e| e.file_name().to_string_lossy().into_owned()));
            } else {
                names.push(name);
            }
        }
        names.retain(|n| n.starts_with("ft-firefox-") || n.starts_with("rust_mozprofile"));
        names
    }

    /// The run's one profiles folder.
    fn run_folder(&self) -> PathBuf {
        let folders: Vec<String> = self.profiles_left().into_iter().filter(|n| n.starts_with("ft-firefox-")).collect();
        assert_eq!(folders.len(), 1, "one folder of the run's profiles: {folders:?}");
        self.tmp.path().join(&folders[0])
    }
}

/// Every regular file under `dir` (symlinks, such as Firefox's `lock`, left alone).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            out.extend(files_under(&entry.path()));
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    out
}

/// The cookies in a profile's `cookies.sqlite` (read from a copy: the template's own file
/// is left as it is).
fn cookies_in(profile: &Path) -> i64 {
    let scratch = tempfile::tempdir().expect("tempdir");
    let copy = scratch.path().join("cookies.sqlite");
    std::fs::copy(profile.join("cookies.sqlite"), &copy).expect("the template has a cookie store");
    let db = rusqlite::Connection::open(&copy).expect("open cookies.sqlite");
    db.query_row("SELECT count(*) FROM moz_cookies", [], |row| row.get(0)).expect("count cookies")
}

#[test]
fn fresh_firefox_sessions_start_from_a_template_without_site_data_and_none_sees_the_last_one_s_cookie_or_storage() {
    let target = target();
    let port = target.url.rsplit(':').next().unwrap_or_default().to_string();
    let mut ft = Run::start(&target.url, &["--fresh-session"]);
    ft.wait_for_line("PASS");
    ft.wait_for_line("PASS");
    // Both the planter and the next session's check have passed; the third session is held.
    let header = ft.seen.join("\n");
    assert!(header.contains("a new browser per scenario (--fresh-session)"), "{header}");
    let folder = ft.run_folder();
    let template = folder.join("template");
    assert!(template.join("prefs.js").is_file(), "a template profile Firefox wrote: {template:?}");
    let copies: Vec<String> = std::fs::read_dir(&folder)
        .expect("read the run's folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("session-"))
        .collect();
    assert!(!copies.is_empty(), "the held session runs in a copy of the template: {copies:?}");
    // Nothing of the site in the template, after a session planted its cookie and storage.
    let site = format!("127.0.0.1:{port}");
    for file in files_under(&template) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for token in [COOKIE, STORAGE, site.as_str()] {
            let found = bytes.windows(token.len()).any(|w| w == token.as_bytes());
            assert!(!found, "the template holds {token:?} in {file:?}");
        }
    }
    assert_eq!(cookies_in(&template), 0, "the template has no cookie");
    let origins = std::fs::read_dir(template.join("storage/default")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(origins, 0, "the template has no site's storage");
    target.release.store(true, Ordering::SeqCst);
    let code = ft.exit();
    let out = ft.seen.join("\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 scenarios: 3 passed"), "{out}");
    assert_eq!(ft.profiles_left(), Vec::<String>::new(), "the template and its copies removed with the run");
}

/// Ctrl-C or SIGTERM while a session runs in a copy: ft ends, and so do the template and
/// every copy.
fn a_signal_mid_run_leaves_no_profile(sig: i32) {
    let target = target();
    let mut ft = Run::start(&target.url, &["--fresh-session"]);
    ft.wait_for_line("PASS");
    ft.wait_for_line("PASS");
    assert!(ft.run_folder().join("template").is_dir());
    signal(ft.child.id(), sig).expect("ft can be signalled");
    let code = ft.exit();
    assert_ne!(code, 0, "an interrupted run is not a pass: {:?}", ft.seen);
    assert_eq!(ft.profiles_left(), Vec::<String>::new(), "nothing of the run's profiles left");
}

#[test]
fn ctrl_c_mid_run_removes_the_template_and_its_copies() {
    a_signal_mid_run_leaves_no_profile(libc::SIGINT);
}

#[test]
fn sigterm_mid_run_removes_the_template_and_its_copies() {
    a_signal_mid_run_leaves_no_profile(libc::SIGTERM);
}

#[test]
fn after_kill_9_the_run_s_profiles_folder_stays_until_the_next_run_sweeps_it() {
    let target = target();
    let mut ft = Run::start(&target.url, &["--fresh-session"]);
    ft.wait_for_line("PASS");
    ft.wait_for_line("PASS");
    let folder = ft.run_folder();
    signal(ft.child.id(), libc::SIGKILL).expect("ft can be killed");
    ft.exit();
    // No cleanup survives SIGKILL: the folder stays (as geckodriver's own profiles did).
    assert!(folder.is_dir(), "{folder:?}");
    // The next run that makes a template sweeps it, even one whose target is down.
    let down = format!("http://127.0.0.1:{}", free_port());
    let Run { tmp, .. } = ft;
    let mut next = Run::start_in(tmp, &down, &["--fresh-session"]);
    let code = next.exit();
    assert_eq!(code, 3, "the target is down: {:?}", next.seen);
    assert!(!folder.exists(), "the dead run's folder swept: {:?}", next.profiles_left());
    assert_eq!(next.profiles_left(), Vec::<String>::new());
}

#[test]
fn a_run_with_one_firefox_session_makes_no_template() {
    let target = target();
    let mut ft = Run::start(&target.url, &[]);
    ft.wait_for_line("PASS");
    ft.wait_for_line("PASS");
    // One reused session, held: it started from the empty profile geckodriver made.
    let left = ft.profiles_left();
    assert!(left.iter().all(|n| n.starts_with("rust_mozprofile")) && left.len() == 1, "{left:?}");
    target.release.store(true, Ordering::SeqCst);
    assert_eq!(ft.exit(), 0, "{:?}", ft.seen);
    // geckodriver's guard removes its temp folder once Firefox is gone, maybe just after ft.
    eventually("geckodriver's profile to be gone", Duration::from_secs(10), || ft.profiles_left().is_empty());
}
