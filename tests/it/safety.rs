//! No run loses or clobbers data, and no stale record passes for a new one: early exits,
//! folders ft did not make, two runs on one folder, unwritable evidence, evidence names.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::repo::Repo;
use common::*;

/// A port nothing listens on.
fn unreachable() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

#[test]
fn a_run_that_stops_before_any_scenario_leaves_no_earlier_record_and_the_gate_stays_shut() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    let first = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "layout"]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(reports.join("run.json").is_file() && reports.join("junit.xml").is_file());

    // The target is gone: exit 3, and the green record of the earlier run goes with it.
    let down = ft_in(dir.path(), &["--liveserver", &unreachable(), "--filter", "layout"]);
    assert_eq!(down.code, 3, "{}", down.all());
    assert!(!reports.join("run.json").exists(), "an earlier run's record must not pass for this one's");
    assert!(!reports.join("junit.xml").exists(), "nor its JUnit");
    let gate = ft_in(dir.path(), &["gate", "--record", "reports/run.json"]);
    assert_eq!(gate.code, 2, "{}", gate.all());
    assert!(gate.stderr.contains("failed to read the run record"), "{}", gate.all());
    assert!(!gate.stdout.contains("gate open"), "{}", gate.all());
}

#[test]
fn a_refused_selection_removes_an_earlier_record_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).expect("mkdir");
    for old in ["junit.xml", "run.json", "run.intoto.json"] {
        std::fs::write(reports.join(old), "an earlier run's").expect("write");
    }
    let out = ft_in(dir.path(), &["--filter", "no such scenario"]);
    assert_eq!(out.code, 2, "{}", out.all());
    for old in ["junit.xml", "run.json", "run.intoto.json"] {
        assert!(!reports.join(old).exists(), "{old} outlived a refused run");
    }
}

#[test]
fn reports_dot_beside_a_foreign_artifacts_folder_keeps_its_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let foreign = dir.path().join("artifacts/build/app.tar.gz");
    std::fs::create_dir_all(foreign.parent().expect("parent")).expect("mkdir");
    std::fs::write(&foreign, "not ft's").expect("write");
    let out = ft_in(dir.path(), &["--reports", ".", "--liveserver", &unreachable()]);
    assert_eq!(out.code, 2, "refused before any target or browser\n{}", out.all());
    assert!(
        out.stderr.contains("failed to clear ./artifacts") || out.stderr.contains("failed to clear artifacts"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("--reports"), "says how to fix it\n{}", out.all());
    assert_eq!(std::fs::read_to_string(&foreign).expect("kept"), "not ft's");
}

#[test]
fn an_evidence_folder_ft_made_is_cleared_by_the_next_run() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--liveserver", served.url.as_str(), "--filter", "can start", "--max-wait", "3"];
    let failed = ft_in(dir.path(), &args);
    assert_eq!(failed.code, 1, "{}", failed.all());
    let artifacts = dir.path().join("reports/artifacts");
    assert!(artifacts.join(".ft-artifacts").is_file(), "ft marks its evidence folder");
    assert!(artifacts.join("superlists/can-start-a-to-do-list/can-start-a-to-do-list.png").is_file());
    let down = ft_in(dir.path(), &["--liveserver", &unreachable()]);
    assert_eq!(down.code, 3, "{}", down.all());
    assert!(!artifacts.exists(), "old evidence cannot pass for new");
}

#[test]
fn two_runs_on_one_reports_folder_one_runs_and_the_other_exits_2_naming_its_pid() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    // Three attempts of a failing scenario: long enough for a second run to meet the first.
    let args = ["--liveserver", served.url.as_str(), "--filter", "can start", "--retries", "2", "--max-wait", "3"];
    let child = ft_command(dir.path()).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("ft");
    let mut first = KillOnDrop::new(child);
    let pid = first.id();
    let lock = dir.path().join("reports/.ft.lock");
    eventually("the first run to hold the lock", Duration::from_secs(30), || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.trim() == pid.to_string())
    });

    let second = ft_in(dir.path(), &args);
    assert_eq!(second.code, 2, "{}", second.all());
    assert!(second.stderr.contains(&format!("another ft run (pid {pid})")), "{}", second.all());
    assert!(second.stderr.contains("--reports"), "{}", second.all());

    let mut code = None;
    eventually("the first run to finish", Duration::from_secs(120), || {
        code = first.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    assert_eq!(code, Some(1), "the first run ran to its own verdict");
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.case("can start a to-do list").reruns.len(), 2, "the first run's JUnit, whole");
    assert_eq!(read_json(&dir.path().join("reports/run.json"))["predicate"]["result"], "FAILED");
    let evidence = dir.path().join("reports/artifacts/superlists/can-start-a-to-do-list");
    for file in
        ["can-start-a-to-do-list.png", "can-start-a-to-do-list.attempt-2.png", "can-start-a-to-do-list.attempt-3.html"]
    {
        assert!(evidence.join(file).is_file(), "{file}");
    }
}

/// A reports folder whose path is so long that its own files fit PATH_MAX (4096 bytes)
/// and the evidence's deeper paths do not: evidence writes fail even for root, for whom
/// permissions do not.
fn reports_at_the_edge_of_path_max(base: &Path) -> PathBuf {
    let mut path = base.to_path_buf();
    while path.as_os_str().len() < 4050 {
        let room = 4050 - path.as_os_str().len() - 1;
        path.push("d".repeat(room.clamp(1, 200)));
    }
    std::fs::create_dir_all(&path).expect("a deep folder");
    path
}

#[test]
fn evidence_that_cannot_be_written_is_a_warning_and_the_run_keeps_its_reports_and_exit_code() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = reports_at_the_edge_of_path_max(dir.path());
    let reports_arg = reports.to_str().expect("utf-8");
    let out = ft_in(
        dir.path(),
        &["--reports", reports_arg, "--liveserver", &served.url, "--filter", "can start", "--max-wait", "3"],
    );
    assert_eq!(out.code, 1, "a failing scenario, not a usage error\n{}", out.all());
    assert!(out.all().contains("the failure's evidence is incomplete"), "{}", out.all());
    let junit = read_junit(&reports.join("junit.xml"));
    assert_eq!(junit.case("can start a to-do list").status, "failure");
    assert_eq!(read_json(&reports.join("run.json"))["predicate"]["result"], "FAILED");
}

#[test]
fn scenarios_whose_names_differ_in_punctuation_case_or_script_keep_their_own_evidence() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).expect("mkdir");
    let scenario = |name: &str| {
        format!("[[scenario]]\nname = \"{name}\"\nsteps = [{{ visit = \"/\" }}, {{ expect_title = \"Nope\" }}]\n\n")
    };
    let long = "a very long name ".repeat(10);
    let text: String = ["Buy milk!", "buy milk?", "Список покупок", long.trim()].iter().map(|n| scenario(n)).collect();
    std::fs::write(specs.join("shop.toml"), text).expect("spec");
    let out = ft_in(dir.path(), &["--specs", "specs", "--liveserver", &served.url, "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let shop = dir.path().join("reports/artifacts/shop");
    let mut folders: Vec<String> = std::fs::read_dir(&shop)
        .expect("evidence")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 4, "one folder per scenario: {folders:?}");
    assert!(folders.iter().filter(|f| f.starts_with("buy-milk-")).count() == 2, "{folders:?}");
    assert!(folders.contains(&"список-покупок".to_string()), "{folders:?}");
    assert!(folders.iter().any(|f| f.starts_with("a-very-long-name") && f.chars().count() <= 80 + 9), "{folders:?}");
    for folder in &folders {
        assert!(shop.join(folder).join(format!("{folder}.png")).is_file(), "{folder}: the file names its scenario");
    }
}

#[test]
fn a_deploy_on_a_folder_another_run_holds_is_refused_with_exit_2_and_says_so_in_the_history() {
    use std::io::Write;
    use std::os::unix::io::AsRawFd;
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).expect("mkdir");
    // Stand in for a running `ft run`: hold the lock as it would, pid and all.
    let mut held = std::fs::File::create(reports.join(".ft.lock")).expect("lock file");
    writeln!(held, "4242").expect("pid");
    // SAFETY: the descriptor is open for the call.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let out =
        ft_in(dir.path(), &["deploy", "--staging", &unreachable(), "--live", &unreachable(), "--deploy-cmd", "true"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("another ft run (pid 4242)"), "{}", out.all());
    let history = std::fs::read_to_string(reports.join("deploys.jsonl")).expect("the attempt is recorded");
    let line: serde_json::Value = serde_json::from_str(history.trim()).expect("one JSON line");
    assert_eq!(line["outcome"], "refused");
    assert!(line["reason"].as_str().unwrap_or("").contains("another ft run (pid 4242)"), "{line}");
    assert_eq!(std::fs::read_to_string(reports.join(".ft.lock")).expect("read"), "4242\n", "the holder's pid stays");
}

/// Issue 10: 30 concurrent `ft deploy` runs on one folder once left 16 history lines.
/// Now one holds the folder, the others are refused, and every one leaves its line.
#[test]
fn thirty_concurrent_deploys_leave_thirty_history_lines() {
    let dir = Repo::new();
    let (staging, live) = (unreachable(), unreachable());
    let children: Vec<KillOnDrop> = (0..30)
        .map(|_| {
            let child = ft_command(dir.path())
                .args(["deploy", "--staging", &staging, "--live", &live, "--deploy-cmd", "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("ft starts");
            KillOnDrop::new(child)
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("ft ends");
        assert!(matches!(status.code(), Some(2 | 3)), "refused (2) or staging unreachable (3): {status}");
    }
    let history = std::fs::read_to_string(dir.path().join("reports/deploys.jsonl")).expect("history");
    let lines: Vec<serde_json::Value> =
        history.lines().map(|l| serde_json::from_str(l).expect("every line is whole JSON")).collect();
    assert_eq!(lines.len(), 30, "{history}");
    assert!(lines.iter().any(|l| l["outcome"] == "staging_broken"), "one of them ran");
}
