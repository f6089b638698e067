//! Issue 22: every local Firefox session starts from a fresh copy of a template profile
//! kept in the user's cache (`$XDG_CACHE_HOME/ft/firefox-templates/KEY`: Firefox started on
//! an empty folder, no page loaded, quit). Two runs that need it at once make it once; the
//! next run starts from a copy and makes nothing; "fresh" keeps its meaning: a cookie and
//! localStorage one session planted are not seen by the next, and the template holds
//! nothing of the site. A cache that cannot be written: the run passes as it did without a
//! template. The copies live in one folder of the run, `$TMPDIR/ft-firefox-PID-...`, gone
//! when ft ends, on Ctrl-C too; after a SIGKILL the folder stays until the next Firefox run
//! sweeps it. (Which key a binary or capability gives: the unit tests of
//! `browser::profile::cache`, which need no browser.)

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
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

/// The template's completion marker (`browser::profile::cache::MARKER`).
const MARKER: &str = "ft-template.json";

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
/// until the test lets it go. `--filter` picks some.
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
name = "a session waits for the test"
steps = [
  { visit = "/hold" },
  { expect_text = "released", in = "#status" },
]
"##;

/// The planter and the held session, one after the other in one session.
const PLANT_THEN_HOLD: &[&str] = &["--filter", "leaves a cookie", "--filter", "waits for the test"];

/// ft running in the background with a temp folder of its own (`TMPDIR`), where the run's
/// copies are made, and the cache of templates it is given (`XDG_CACHE_HOME`), else the
/// user's: its stdout read line by line.
struct Run {
    child: KillOnDrop,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    tmp: tempfile::TempDir,
    _dir: tempfile::TempDir,
    _specs: tempfile::TempDir,
}

impl Run {
    fn start(url: &str, extra: &[&str], cache: Option<&Path>) -> Run {
        Run::start_in(tempfile::tempdir().expect("tempdir"), url, extra, cache)
    }

    fn start_in(tmp: tempfile::TempDir, url: &str, extra: &[&str], cache: Option<&Path>) -> Run {
        let specs = tempfile::tempdir().expect("tempdir");
        std::fs::write(specs.path().join("profiles.toml"), SPECS).expect("write specs");
        let dir = tempfile::tempdir().expect("tempdir");
        let specs_path = specs.path().display().to_string();
        let args = ["--specs", &specs_path, "--liveserver", url, "--browser", "firefox", "--workers", "1"];
        let mut command = ft_command(dir.path());
        command.args(args).args(["--max-wait", "60"]).args(extra).env("TMPDIR", tmp.path());
        if let Some(cache) = cache {
            command.env("XDG_CACHE_HOME", cache);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("ft starts");
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

    /// The run's one folder of copies.
    fn run_folder(&self) -> PathBuf {
        let folders: Vec<String> = self.profiles_left().into_iter().filter(|n| n.starts_with("ft-firefox-")).collect();
        assert_eq!(folders.len(), 1, "one folder of the run's profiles: {folders:?}");
        self.tmp.path().join(&folders[0])
    }

    /// The copies of the template in the run's folder (`session-N`), once it has one.
    fn copies(&self) -> Vec<String> {
        let folders = self.profiles_left().into_iter().filter(|n| n.starts_with("ft-firefox-"));
        let names = folders.flat_map(|f| std::fs::read_dir(self.tmp.path().join(f)).into_iter().flatten().flatten());
        names.map(|e| e.file_name().to_string_lossy().into_owned()).collect()
    }

    /// Wait until the run's session runs in a copy of the template, and say which.
    fn wait_for_a_copy(&self) -> Vec<String> {
        let mut copies = Vec::new();
        eventually("a session in a copy of the template", Duration::from_secs(120), || {
            copies = self.copies();
            !copies.is_empty()
        });
        assert!(copies.iter().all(|c| c.starts_with("session-")), "only copies in the run's folder: {copies:?}");
        copies
    }
}

/// The templates in the cache `XDG_CACHE_HOME` (whole: with their marker), and anything
/// else in its folder but the lock.
fn templates_in(cache: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let (mut whole, mut other) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(cache.join("ft/firefox-templates")).expect("the cache's folder").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join(MARKER).is_file() {
            whole.push(entry.path());
        } else if name != "lock" {
            other.push(name);
        }
    }
    (whole, other)
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

/// Nothing of the site at `port` in `template`: no file names the cookie, the storage key
/// or the site, no cookie, no origin's storage.
fn assert_nothing_of_the_site(template: &Path, port: &str) {
    let site = format!("127.0.0.1:{port}");
    for file in files_under(template) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for token in [COOKIE, STORAGE, site.as_str()] {
            let found = bytes.windows(token.len()).any(|w| w == token.as_bytes());
            assert!(!found, "the template holds {token:?} in {file:?}");
        }
    }
    assert_eq!(cookies_in(template), 0, "the template has no cookie");
    let origins = std::fs::read_dir(template.join("storage/default")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(origins, 0, "the template has no site's storage");
}

#[test]
fn two_runs_at_once_make_one_template_that_holds_nothing_of_the_site_and_the_next_run_starts_from_a_copy_of_it() {
    let cache = tempfile::tempdir().expect("tempdir");
    let (target, held) = (target(), target());
    let port = target.url.rsplit(':').next().unwrap_or_default().to_string();
    // Two runs at once in one empty cache: a fresh session per scenario (three), and one
    // session that checks.
    let mut fresh = Run::start(&target.url, &["--fresh-session"], Some(cache.path()));
    let mut check = Run::start(&target.url, &["--filter", "the next fresh session"], Some(cache.path()));
    assert_eq!(check.exit(), 0, "{:?}", check.seen);
    assert!(check.seen.join("\n").contains("1 scenario: 1 passed"), "{:?}", check.seen);
    fresh.wait_for_line("PASS");
    fresh.wait_for_line("PASS");
    // The planter and the next fresh session's check have passed; the third session is held.
    let (templates, other) = templates_in(cache.path());
    assert_eq!(templates.len(), 1, "one template made for both runs: {templates:?}");
    assert!(other.is_empty(), "nothing half made left in the cache: {other:?}");
    let template = &templates[0];
    assert!(template.join("prefs.js").is_file(), "a profile Firefox wrote: {template:?}");
    fresh.wait_for_a_copy();
    // Nothing of the site in the template, after a session planted its cookie and storage.
    assert_nothing_of_the_site(template, &port);
    target.release.store(true, Ordering::SeqCst);
    let code = fresh.exit();
    let out = fresh.seen.join("\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("a new browser per scenario (--fresh-session)"), "{out}");
    assert!(out.contains("3 scenarios: 3 passed"), "{out}");
    assert_eq!(fresh.profiles_left(), Vec::<String>::new(), "the copies removed with the run");
    // The next run, one session, starts from a copy of the template kept, made by neither.
    let made = std::fs::metadata(template).expect("the template is kept").ino();
    let mut next = Run::start(&held.url, &["--filter", "waits for the test"], Some(cache.path()));
    assert_eq!(next.wait_for_a_copy(), ["session-1"]);
    assert!(next.profiles_left().iter().all(|n| n.starts_with("ft-firefox-")), "{:?}", next.profiles_left());
    held.release.store(true, Ordering::SeqCst);
    assert_eq!(next.exit(), 0, "{:?}", next.seen);
    let (again, other) = templates_in(cache.path());
    assert_eq!((again, other), (vec![template.clone()], vec![]), "not made again");
    assert_eq!(std::fs::metadata(template).expect("kept").ino(), made, "the same template");
    assert_eq!(next.profiles_left(), Vec::<String>::new());
}

#[test]
fn ctrl_c_mid_run_removes_the_run_s_copies() {
    // SIGTERM takes the same way out (src/interrupts.rs: one stream of both).
    let target = target();
    let mut ft = Run::start(&target.url, PLANT_THEN_HOLD, None);
    ft.wait_for_line("PASS");
    assert!(!ft.profiles_left().is_empty(), "the held session's profile is there");
    signal(ft.child.id(), libc::SIGINT).expect("ft can be signalled");
    let code = ft.exit();
    assert_ne!(code, 0, "an interrupted run is not a pass: {:?}", ft.seen);
    assert_eq!(ft.profiles_left(), Vec::<String>::new(), "nothing of the run's profiles left");
}

#[test]
fn after_kill_9_the_run_s_folder_of_copies_stays_until_the_next_firefox_run_sweeps_it() {
    let target = target();
    let mut ft = Run::start(&target.url, PLANT_THEN_HOLD, None);
    ft.wait_for_line("PASS");
    let folder = ft.run_folder();
    signal(ft.child.id(), libc::SIGKILL).expect("ft can be killed");
    ft.exit();
    // No cleanup survives SIGKILL: the folder stays (as geckodriver's own profiles did).
    assert!(folder.is_dir(), "{folder:?}");
    // The next Firefox run sweeps it, even one whose target is down.
    let down = format!("http://127.0.0.1:{}", free_port());
    let Run { tmp, .. } = ft;
    let mut next = Run::start_in(tmp, &down, &[], None);
    let code = next.exit();
    assert_eq!(code, 3, "the target is down: {:?}", next.seen);
    assert!(!folder.exists(), "the dead run's folder swept: {:?}", next.profiles_left());
    assert_eq!(next.profiles_left(), Vec::<String>::new());
}

#[test]
fn a_cache_that_cannot_be_written_still_passes_and_says_nothing_of_it() {
    let target = target();
    // A file where ft's folder in the cache would be (Firefox's own, beside it, is made).
    let cache = tempfile::tempdir().expect("tempdir");
    std::fs::write(cache.path().join("ft"), "").expect("write");
    let dirs = || tempfile::tempdir().expect("tempdir");
    let (dir, tmp, specs) = (dirs(), dirs(), dirs());
    std::fs::write(specs.path().join("profiles.toml"), SPECS).expect("write specs");
    let specs_path = specs.path().display().to_string();
    let out = output(
        ft_command(dir.path())
            .args(["--specs", &specs_path, "--liveserver", &target.url, "--browser", "firefox"])
            .args(["--filter", "the next fresh session"])
            .env("XDG_CACHE_HOME", cache.path())
            .env("TMPDIR", tmp.path()),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 scenario: 1 passed"), "{}", out.all());
    for word in ["template", "cache", "warning", "failed to"] {
        assert!(!out.all().to_lowercase().contains(word), "nothing said of {word:?}: {}", out.all());
    }
    // geckodriver's guard removes its temp folder once Firefox is gone, maybe just after ft.
    eventually("the run's temp files to be gone", Duration::from_secs(10), || {
        crate::orphans::left_in(tmp.path()).is_empty()
    });
}
