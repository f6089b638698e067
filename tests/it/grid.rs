//! A real Selenium Grid 4 (tests/it/common/grid.rs): the built-in suite, user contexts,
//! uploads and a watcher's marked traffic through a hub and a node in two processes (the
//! binary's shared Grid), and a Grid whose every slot is taken, which must be an
//! infrastructure error naming the Grid.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::grid::{every_slot_free, grid_script, Grid, GridConfig};
use common::*;

#[test]
fn the_built_in_suite_passes_through_a_hub_and_a_node_with_two_workers() {
    let grid = Grid::shared();
    assert!(
        grid.node_uri.starts_with("http://127.0.0.1:") && !grid.node_uri.starts_with(grid.url),
        "a node of its own: {}",
        grid.node_uri
    );

    // No local driver is needed: `--driver` names none that exists. Firefox goes through
    // the Grid below and in signals:: and visitors:: (one whole suite per Grid is enough).
    let (out, dir) = ft_in_empty_dir(&["--webdriver", grid.url, "--workers", "2", "--driver", "/nonexistent"]);
    assert_suite_passed(&out, dir.path(), "chrome-headless-shell");
    assert!(out.stdout.contains("2 workers"), "{}", out.stdout);

    // Issue 21: a file to upload is sent to the Grid (its `se/file`), not named by a
    // path on this machine.
    let (out, junit, _dir) = crate::controls::run(crate::controls::UPLOAD, &["--webdriver", grid.url]);
    assert_eq!(junit.case("a file is uploaded through the grid").status, "passed", "{}", out.all());

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
    eventually("every slot to be free again", Duration::from_secs(20), || every_slot_free(grid.url));
}

/// A Grid of its own (one process): its queue timeout is short, for the case where the
/// Grid gives up first, and no other test may find its slots taken.
#[test]
fn a_grid_with_every_slot_busy_is_an_infrastructure_error_naming_the_grid() {
    let grid = Grid::standalone(GridConfig { max_sessions: 2, request_timeout_secs: 20 });
    assert_eq!(grid.pgids().len(), 1);
    // Every slot busy: taken by sessions started here, as another team's jobs would.
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
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
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
