//! The bake window of `ft deploy --bake`: real git, real `ft serve` processes as staging
//! and live (started by a small deploy script, as in tests/gate.rs), and a live server
//! this test breaks, blips or leaves alone while the pipeline watches it.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::repo::Repo;
use common::*;

/// A work tree (`app/`) whose LIVE tag names the first commit, with a second commit to
/// release, and the deploy scripts beside it.
struct World {
    repo: Repo,
    before: String,
    head: String,
    live: String,
}

impl World {
    fn new() -> World {
        let repo = Repo::in_folder("app");
        repo.git(&["tag", "LIVE"]);
        let before = repo.head();
        std::fs::write(repo.path().join("README"), "second\n").expect("write");
        repo.git(&["commit", "-q", "-am", "second"]);
        let head = repo.head();
        std::fs::write(repo.outside().join("deploy.sh"), DEPLOY_SH).expect("write");
        std::fs::write(repo.outside().join("rollback.sh"), ROLLBACK_SH).expect("write");
        World { repo, before, head, live: format!("127.0.0.1:{}", free_port()) }
    }

    fn work(&self) -> &Path {
        self.repo.outside()
    }

    fn app(&self) -> PathBuf {
        self.repo.path().to_path_buf()
    }

    fn tag(&self, name: &str) -> Option<String> {
        self.repo.tag(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.work().join(name)).unwrap_or_default()
    }

    fn history(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.app().join("reports/deploys.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each history line is JSON"))
            .collect()
    }

    /// `ft deploy … --bake …` in the background, its stdout read line by line.
    fn deploy(&self, staging: &str, bake: &[&str]) -> Deploying {
        let deploy = format!("sh {}/deploy.sh", self.work().display());
        let rollback = format!("sh {}/rollback.sh", self.work().display());
        let mut cmd = ft_command(&self.app());
        cmd.args(["deploy", "--staging", staging, "--live", &self.live, "--deploy-cmd", &deploy])
            .args(["--rollback-cmd", &rollback, "--max-wait", "5", "--up-timeout", "30"])
            // Staging runs the smoke scenarios only: the bake is under test here, and
            // tests/it/gate.rs runs the whole suite on staging.
            .args(["--tag", "smoke", "--allow-partial"])
            .args(bake)
            .env("WORK", self.work())
            .env("FT_BIN", FT)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("ft deploy starts");
        let stdout = child.stdout.take().expect("stdout");
        let child = KillOnDrop::new(child);
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Deploying { child, lines, seen: Vec::new() }
    }

    /// Run the deploy script for live by hand (what a colleague's hotfix would do).
    fn redeploy_live(&self, defect: &str) {
        let out = Command::new("sh")
            .arg(self.work().join("deploy.sh"))
            .env("WORK", self.work())
            .env("FT_BIN", FT)
            .env("FT_STAGE", "live")
            .env("FT_HOST", &self.live)
            .env("FT_COMMIT", &self.head)
            .env("DEFECT_live", defect)
            .output()
            .expect("deploy.sh runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn kill_live(&self) {
        let pid: u32 = self.read("live.pid").trim().parse().expect("live.pid holds a pid");
        signal(pid, libc::SIGKILL).expect("kill live");
        eventually("live to be gone", Duration::from_secs(10), || !alive(pid));
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Ok(pid) = self.read("live.pid").trim().parse() {
            let _ = signal(pid, libc::SIGKILL);
        }
    }
}

struct Deploying {
    child: KillOnDrop,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Deploying {
    /// Read stdout until a line starts with `prefix` (bounded).
    fn wait_for(&mut self, prefix: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(90))
                .unwrap_or_else(|_| panic!("no line starting {prefix:?}; saw:\n{}", self.seen.join("\n")));
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return;
            }
        }
    }

    /// The exit code and the whole output, waiting (bounded) for the end.
    fn finish(mut self) -> (i32, String) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(120)) {
            self.seen.push(line);
        }
        let mut code = None;
        eventually("ft deploy to exit", Duration::from_secs(30), || {
            code = self.child.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        (code.unwrap_or(-1), self.seen.join("\n"))
    }
}

fn stage<'a>(history: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    history["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name:?} in {history}"))
}

#[test]
fn a_live_that_breaks_one_interval_after_release_is_rolled_back_during_the_bake() {
    let w = World::new();
    let staging = Served::start(&[]);
    let mut deploying = w.deploy(&staging.url, &["--bake", "30s", "--bake-every", "3s"]);
    deploying.wait_for("   live tests: green");
    // Released and verified; now live starts failing, as a bad cache or worker would.
    w.redeploy_live("wrong-title");
    let (code, out) = deploying.finish();
    assert_eq!(code, 1, "a rollback is not a release\n{out}");
    assert_eq!(w.read("rollback.log"), format!("rollback to {}\n", w.before), "FT_ROLLBACK_TO named the previous LIVE");
    assert_eq!(w.tag("LIVE"), Some(w.before.clone()), "LIVE was not moved\n{out}");
    assert!(out.contains("ROLLED BACK: live verification failed (failed during bake: 2 runs in a row failed"), "{out}");
    let h = &w.history()[0];
    assert_eq!(h["outcome"], "rolled_back");
    assert!(h["reason"].as_str().unwrap_or("").contains("failed during bake"), "{h}");
    assert_eq!(stage(h, "live bake")["ok"], false);
    assert_eq!(stage(h, "bake 1 tests")["ok"], false, "the first run after the break failed: {h}");
    assert_eq!(stage(h, "bake 2 tests")["ok"], false);
    assert!(h["stages"].as_array().expect("stages").iter().all(|s| s["name"] != "bake 3 tests"), "no third run: {h}");
    let stages = h["stages"].as_array().expect("stages");
    let again = stages.last().expect("a last stage");
    assert_eq!(again["name"], "live tests");
    assert_eq!(again["file"], "reports/live-after-rollback/junit.xml");
    assert_eq!(again["ok"], true, "live verified again after the rollback: {h}");
    // Each failed run's evidence is kept in its own folder.
    for run in ["run-1", "run-2"] {
        let dir = w.app().join("reports/bake").join(run);
        let junit = read_junit(&dir.join("junit.xml"));
        assert!(junit.failures > 0, "{run}: {:?}", junit.cases);
        let pngs =
            walk(&dir.join("artifacts")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "png")).count();
        assert!(pngs > 0, "{run} kept its screenshots");
    }
}

#[test]
fn a_live_that_blips_once_during_the_bake_is_released() {
    let w = World::new();
    let staging = Served::start(&[]);
    let mut deploying = w.deploy(&staging.url, &["--bake", "12s", "--bake-every", "3s"]);
    deploying.wait_for("   live tests: green");
    w.kill_live();
    deploying.wait_for("   bake 1 tests:");
    w.redeploy_live("");
    let (code, out) = deploying.finish();
    assert_eq!(code, 0, "one blip is not a rollback\n{out}");
    assert_eq!(w.read("rollback.log"), "", "no rollback ran");
    assert_eq!(w.tag("LIVE"), Some(w.head.clone()), "LIVE moved after the bake held\n{out}");
    let h = &w.history()[0];
    assert_eq!(h["outcome"], "released");
    let runs: Vec<bool> = h["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("bake ")))
        .map(|s| s["ok"] == true)
        .collect();
    assert!(runs.len() >= 2, "{h}");
    assert!(!runs[0] && runs[1..].iter().all(|ok| *ok), "the blip, then passes: {runs:?}");
    let baked = stage(h, "live bake");
    assert_eq!(baked["ok"], true);
    let detail = baked["detail"].as_str().unwrap_or("");
    assert!(detail.contains(&format!("held: {} runs in 12s, 1 failed", runs.len())), "{baked}");
    // The tag comes after the bake, never before.
    let names: Vec<&str> = h["stages"].as_array().expect("stages").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names.last(), Some(&"live bake"), "{names:?}");
}

#[test]
fn ctrl_c_during_the_bake_ends_it_the_release_stays_and_the_history_says_so() {
    let w = World::new();
    let staging = Served::start(&[]);
    let mut deploying = w.deploy(&staging.url, &["--bake", "10m", "--bake-every", "5m"]);
    deploying.wait_for("== live bake:");
    let ft = deploying.child.id();
    let t0 = std::time::Instant::now();
    signal(ft, libc::SIGINT).expect("ctrl-c");
    let (code, out) = deploying.finish();
    assert_eq!(code, 130, "{out}");
    assert!(t0.elapsed() < Duration::from_secs(20), "the bake stopped at once: {:?}", t0.elapsed());
    assert!(drivers_and_browsers_of(ft).is_empty(), "no browser left");
    assert_eq!(w.tag("LIVE"), Some(w.head.clone()), "the release stays, and LIVE says so");
    let h = &w.history()[0];
    assert!(h["reason"].as_str().unwrap_or("").contains("bake cut short by an interrupt after 0 runs"), "{h}");
    assert!(stage(h, "live bake")["detail"].as_str().unwrap_or("").contains("bake cut short"), "{h}");
    assert_eq!(h["interrupted"], true, "the history says a signal reached the pipeline: {h}");
    assert_eq!(w.read("rollback.log"), "");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn bake_flags_that_make_no_sense_are_usage_errors_and_a_dry_run_shows_the_bake() {
    let w = World::new();
    let deploy = format!("sh {}/deploy.sh", w.work().display());
    let base = ["deploy", "--staging", "127.0.0.1:9", "--live", w.live.as_str(), "--deploy-cmd", deploy.as_str()];
    let run = |extra: &[&str]| {
        let mut cmd = ft_command(&w.app());
        output(cmd.args(base).args(extra))
    };
    let out = run(&["--bake-every", "5s"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--bake"), "{}", out.stderr);
    let out = run(&["--bake", "5s", "--bake-every", "10s"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("leaves no run in a --bake window"), "{}", out.stderr);
    let out = run(&["--bake", "10m", "--bake-failures", "0"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let out = run(&["--bake", "10m", "--bake-every", "1m", "--bake-failures", "3", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let bake = out.stdout.lines().position(|l| l.contains("bake: the `smoke` scenarios against")).expect(&out.stdout);
    let tag = out.stdout.lines().position(|l| l.contains("on success: git tag -f LIVE")).expect(&out.stdout);
    assert!(bake < tag, "the plan tags after the bake:\n{}", out.stdout);
    assert!(out.stdout.contains("every 60s for 600s; 3 failed runs in a row"), "{}", out.stdout);
    assert!(!w.work().join("deployed.log").exists(), "a dry run runs nothing");
}
