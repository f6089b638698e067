//! Issue 13: no driver or browser outlives ft, whatever kills it. `kill -9` on ft mid-run
//! (two workers) used to leave about 16 Chromium and crash-reporter processes adopted by
//! init, alive minutes later.
//!
//! The processes of a run are found two ways: every descendant of ft (and every member
//! of their process groups) just before the kill, known by pid and start time so a reused
//! pid is not mistaken for one of them; and any process with a mark ft never sets itself
//! in its environment (/proc/PID/environ), which drivers pass on to what they start
//! (Chromium's own helpers get a clean environment, hence the first way).

use crate::common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// One process: pid, parent, process group, start time (clock ticks since boot: with
/// the pid, who it is), command name, and whether it is still more than a zombie.
#[derive(Clone, Debug)]
struct Proc {
    pid: u32,
    ppid: u32,
    pgrp: u32,
    started: u64,
    comm: String,
    live: bool,
}

fn table() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_string();
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 20 {
            continue;
        }
        let live = f[0] != "Z";
        out.push(Proc {
            pid,
            ppid: f[1].parse().unwrap_or(0),
            pgrp: f[2].parse().unwrap_or(0),
            started: f[19].parse().unwrap_or(0),
            comm,
            live,
        });
    }
    out
}

/// ft's live descendants and every live member of their process groups (but not ft's
/// own group, which is the test's).
fn run_of(ft: u32) -> Vec<Proc> {
    let all = table();
    let own_group = all.iter().find(|p| p.pid == ft).map(|p| p.pgrp);
    let mut tree: HashSet<u32> = HashSet::from([ft]);
    loop {
        let before = tree.len();
        for p in &all {
            if tree.contains(&p.ppid) {
                tree.insert(p.pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    let groups: HashSet<u32> =
        all.iter().filter(|p| tree.contains(&p.pid) && Some(p.pgrp) != own_group).map(|p| p.pgrp).collect();
    all.into_iter().filter(|p| p.pid != ft && p.live && (tree.contains(&p.pid) || groups.contains(&p.pgrp))).collect()
}

/// Those of `procs` still alive (same pid, same start time, not a zombie), and any live
/// process whose environment holds `mark` (an exact `NAME=VALUE` entry).
fn alive_of(procs: &[Proc], mark: &str) -> Vec<Proc> {
    let known: HashSet<(u32, u64)> = procs.iter().map(|p| (p.pid, p.started)).collect();
    table()
        .into_iter()
        .filter(|p| p.live)
        .filter(|p| {
            known.contains(&(p.pid, p.started))
                || std::fs::read(format!("/proc/{}/environ", p.pid))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == mark.as_bytes()))
        })
        .collect()
}

/// Kills what is left of a run when dropped, so a failing test leaves nothing running.
struct Leftovers {
    procs: Vec<Proc>,
    mark: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for p in alive_of(&self.procs, &self.mark) {
            let _ = signal(p.pid, libc::SIGKILL);
        }
    }
}

/// `ft` with two workers against a target where one scenario waits (up to 120 s) for an
/// error that never clears, killed with SIGKILL once both browsers run (ten or more
/// processes: each browser is a tree of them): nothing of the run may be alive 5 s later.
fn sigkill_mid_run_leaves_nothing(browser: &str, driver: &str, whole_group: bool) {
    sigkill_mid_run_with_leaves_nothing(browser, driver, whole_group, &[], 1);
}

/// `sigkill_mid_run_leaves_nothing` with `extra` arguments, killed once at least `drivers`
/// driver processes run (tests/it/fresh_ahead.rs: the sessions started ahead).
pub(crate) fn sigkill_mid_run_with_leaves_nothing(
    browser: &str,
    driver: &str,
    whole_group: bool,
    extra: &[&str],
    drivers: usize,
) {
    let served = Served::start(&["error-not-cleared"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let name = dir.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mark = format!("FT_ORPHANS_TEST_MARK={}-{name}", std::process::id());
    let (key, value) = mark.split_once('=').expect("NAME=VALUE");
    // A temp folder of the run's own: the drivers' and browsers' profiles go there.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = ft_command(dir.path());
    cmd.args(["--browser", browser, "--workers", "2", "--liveserver", &served.url, "--max-wait", "120"])
        .args(extra)
        .env(key, value)
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if whole_group {
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    }
    let mut ft = KillOnDrop::new(cmd.spawn().expect("ft starts"));
    let mut leftovers = Leftovers { procs: Vec::new(), mark: mark.clone() };
    // A first scenario passed: both workers have their browser by now, and the other one
    // is mid-wait.
    let stdout = ft.stdout.take().expect("stdout");
    let (tx, passed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("PASS [") {
                let _ = tx.send(());
            }
        }
    });
    passed.recv_timeout(Duration::from_secs(60)).expect("a first scenario passes");
    eventually("two browsers of the run in full flight", Duration::from_secs(60), || {
        leftovers.procs = run_of(ft.id());
        assert!(ft.try_wait().expect("try_wait").is_none(), "ft ended early: {:?}", leftovers.procs);
        let running = leftovers.procs.iter().filter(|p| p.comm == driver).count();
        running >= drivers && leftovers.procs.len() >= 10
    });
    if whole_group {
        // As a CI runner ending a job on time-out does: ft's whole process group at once.
        // SAFETY: killpg(2) on the group this test just made for ft.
        assert_eq!(unsafe { libc::killpg(ft.id() as i32, libc::SIGKILL) }, 0, "ft's group can be killed");
    } else {
        signal(ft.id(), libc::SIGKILL).expect("ft can be killed");
    }
    let _ = ft.wait();
    let before = leftovers.procs.len();
    let mut left = Vec::new();
    let gone = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually("every process of the run to be gone", Duration::from_secs(5), || {
            left = alive_of(&leftovers.procs, &mark);
            left.is_empty()
        })
    }));
    assert!(gone.is_ok(), "alive 5 s after kill -9 of ft (of {before}: {:?}):\n{left:?}", leftovers.procs);
    // Nor any profile: the guards remove their drivers' temp folders once all is gone.
    // A Firefox run's template profile folder (`ft-firefox-*`, made by ft itself) stays
    // until the next run sweeps it: firefox_profile.rs proves that.
    let mut kept = Vec::new();
    let cleared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually("the run's temp files to be gone", Duration::from_secs(10), || {
            kept = left_in(tmp.path());
            kept.retain(|p| !p.contains("/ft-firefox-"));
            kept.is_empty()
        })
    }));
    assert!(cleared.is_ok(), "left in the run's temp folder 10 s after kill -9 of ft: {kept:?}");
}

/// What is in `dir`, two levels deep.
pub(crate) fn left_in(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        found.push(entry.path().display().to_string());
        for inner in std::fs::read_dir(entry.path()).into_iter().flatten().flatten() {
            found.push(inner.path().display().to_string());
        }
    }
    found
}

#[test]
fn kill_9_of_ft_mid_run_with_two_chromium_workers_leaves_no_driver_or_browser() {
    sigkill_mid_run_leaves_nothing("chrome", "chromedriver", false);
}

#[test]
fn kill_9_of_fts_whole_process_group_mid_run_leaves_no_driver_or_browser() {
    sigkill_mid_run_leaves_nothing("chrome", "chromedriver", true);
}

// Firefox's case (two workers killed mid-run) is in fresh_ahead.rs, with the sessions
// started ahead besides: kill_9_of_ft_with_fresh_firefox_sessions_started_ahead_….
