//! Issue 24, the `ft deploy` findings: a stage's failure told with its whole cause (8), a
//! command's output read as bytes to its end (10), a signal during a command (14), the
//! stages' folders locked for the whole pipeline (15). The real binary in a real git work
//! tree; deploy commands are small shell scripts; staging is the embedded app as a real
//! process, or a port nothing listens on where the pipeline is meant to stop there.

use crate::common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::repo::Repo;
use common::*;

/// A git work tree with one commit, where `ft deploy` runs.
pub struct Work {
    repo: Repo,
}

impl Work {
    pub fn new() -> Work {
        Work { repo: Repo::new() }
    }

    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    pub fn ft(&self, args: &[&str]) -> Output {
        ft_in(self.path(), args)
    }

    /// The last line of reports/deploys.jsonl.
    pub fn last_deploy(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.file("reports/deploys.jsonl")).expect("deploys.jsonl");
        serde_json::from_str(text.lines().last().expect("a line")).expect("JSON")
    }
}

/// A port nothing listens on: a staging there stops the pipeline after its deploy command.
fn nowhere() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// `ft deploy` that runs `command` as staging's deploy, then stops (staging never answers).
fn deploy_command(w: &Work, command: &str) -> Output {
    w.ft(&[
        "deploy",
        "--staging",
        &nowhere(),
        "--live",
        &nowhere(),
        "--staging-deploy",
        "--up-timeout",
        "1",
        "--deploy-cmd",
        command,
    ])
}

// Issue 24, finding 10: a line that is not UTF-8 ended the reading of the command's
// output and closed the pipe: the command died of SIGPIPE at its next write ("killed by
// a signal"), `step2` never ran, and the rest of the output was missing.
#[test]
fn a_byte_that_is_not_utf8_neither_kills_the_command_nor_hides_its_output() {
    let w = Work::new();
    let out = deploy_command(&w, r#"printf "caf\351\n"; sleep 0.3; echo step2; touch step2"#);
    assert!(out.stdout.contains("   staging deploy: succeeded"), "{}", out.all());
    assert!(w.file("step2").exists(), "the command ran to its end\n{}", out.all());
    assert!(out.stdout.contains("    | caf\u{fffd}\n") && out.stdout.contains("    | step2\n"), "{}", out.all());
    let log = std::fs::read(w.file("reports/staging/deploy.log")).expect("deploy.log");
    let log = String::from_utf8_lossy(&log);
    assert!(log.contains("caf\u{fffd}\nstep2\n# exit code 0"), "{log}");
    assert_eq!(w.last_deploy()["stages"][0]["ok"], true);
}

#[test]
fn megabytes_of_random_bytes_are_read_to_the_end_and_logged() {
    let w = Work::new();
    let out = deploy_command(
        &w,
        "head -c 12000000 /dev/urandom; printf 'no line break %.0s' $(seq 5000); echo; echo step2; touch step2",
    );
    assert!(out.stdout.contains("   staging deploy: succeeded"), "{}", out.stdout.lines().last().unwrap_or(""));
    assert!(w.file("step2").exists(), "the command ran to its end (not exit 141, SIGPIPE)");
    assert!(out.stdout.contains("    | step2\n"), "the last line is shown");
    let log = std::fs::read(w.file("reports/staging/deploy.log")).expect("deploy.log");
    assert!(log.len() > 12_000_000, "everything is logged: {} bytes", log.len());
    let tail = String::from_utf8_lossy(&log[log.len() - 200..]).into_owned();
    assert!(tail.contains("\nstep2\n# exit code 0"), "{tail}");
    // 70 kB without a line break come as lines of a bounded length, none lost.
    let long: Vec<&str> = out.stdout.lines().filter(|l| l.contains("no line break")).collect();
    assert!(
        long.len() > 1 && long.iter().all(|l| l.len() < 20_000),
        "{:?}",
        long.iter().map(|l| l.len()).collect::<Vec<_>>()
    );
    let said: usize = long.iter().map(|l| l.matches("no line break").count()).sum();
    assert!(said >= 4990, "the cuts lose at most one phrase each: {said} of 5000");
    // What the console shows of the bytes has its control characters escaped.
    assert!(!out.stdout.contains('\x1b'), "no raw ESC from the command reaches the console");
}

// Issue 24, finding 8: `staging_broken` with detail "failed to run the scenarios" and
// nothing else: the cause (which driver, what it said) was dropped.
#[test]
fn a_stage_that_cannot_run_says_why_on_the_console_and_in_the_history() {
    let w = Work::new();
    let staging = Served::start(&[]);
    let out = w.ft(&[
        "deploy",
        "--staging",
        &staging.url,
        "--live",
        &nowhere(),
        "--deploy-cmd",
        "true",
        "--driver",
        "/bin/false",
        "--filter",
        "layout",
        "--allow-partial",
    ]);
    assert_eq!(out.code, 3, "{}", out.all());
    let cause = "chromedriver /bin/false";
    let stage_line = out.stdout.lines().find(|l| l.starts_with("   staging tests:")).expect("the stage's line");
    assert!(stage_line.contains("failed to run the scenarios") && stage_line.contains(cause), "{}", out.all());
    let last = w.last_deploy();
    assert_eq!(last["outcome"], "staging_broken");
    let detail = last["stages"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains(cause), "{last:#}");
    assert!(last["reason"].as_str().expect("reason").contains(cause), "{last:#}");
}

/// `ft deploy` in its own process group, its staging deploy command waiting for the file
/// `go` (after writing `started`); stdout kept. The command also stops waiting when its
/// parent is gone: a test that ends first kills ft, and the work folder with `go` in it
/// goes too (the loop was left running for ever).
fn deploy_waiting_for_go(w: &Work, extra: &[&str]) -> KillOnDrop {
    let command = "touch started; while [ ! -f go ] && kill -0 $PPID 2>/dev/null; do sleep 0.02; done; echo deployed";
    let mut args = vec!["deploy", "--staging", "", "--live", "", "--staging-deploy", "--deploy-cmd", command];
    let (staging, live) = (nowhere(), nowhere());
    args[2] = &staging;
    args[4] = &live;
    args.extend_from_slice(extra);
    let child = ft_command(w.path())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("ft starts");
    let child = KillOnDrop::group(child);
    eventually("the deploy command to start", Duration::from_secs(30), || w.file("started").exists());
    child
}

// Issue 24, finding 14: SIGTERM to ft's process group during a deploy command that then
// exits 0: ft waited out the whole --up-timeout (120 s), exited 143 and recorded
// `deploy_failed` with exit code 3.
#[test]
fn sigterm_during_a_deploy_command_stops_right_after_it_and_records_143() {
    let w = Work::new();
    let mut ft = deploy_waiting_for_go(&w, &[]);
    let pgid = ft.id() as i32;
    // SAFETY: plain syscall on the group of the child we started.
    assert_eq!(unsafe { libc::killpg(pgid, libc::SIGTERM) }, 0);
    // The signal is counted before the command is let go (ft notes it in the log).
    let log = w.file("reports/staging/deploy.log");
    eventually("ft to note the interrupt", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("letting this command finish"))
    });
    std::fs::write(w.file("go"), "").expect("let the command end");
    let t0 = Instant::now();
    let mut code = None;
    eventually("ft to exit soon after the command", Duration::from_secs(20), || {
        code = ft.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    assert_eq!(code, Some(143), "SIGTERM's code");
    assert!(t0.elapsed() < Duration::from_secs(20), "not the 120 s --up-timeout");
    let last = w.last_deploy();
    assert_eq!(last["outcome"], "interrupted", "{last:#}");
    assert_eq!(last["exit_code"], 143, "the code ft exited with\n{last:#}");
    assert_eq!(last["interrupted"], true);
    let stages: Vec<&str> =
        last["stages"].as_array().expect("stages").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(stages, ["staging deploy"], "nothing ran after the command");
}

// Issue 24, finding 15: `ft deploy --reports R` locked R but not R/staging: a concurrent
// `ft run --reports R/staging` could clear staging's record and evidence mid-pipeline.
#[test]
fn the_stages_folders_are_locked_for_the_whole_deploy() {
    let w = Work::new();
    let _ft = deploy_waiting_for_go(&w, &["--up-timeout", "1"]);
    for folder in ["reports/staging", "reports/live"] {
        let out = w.ft(&["run", "--filter", "layout", "--reports", folder]);
        assert_eq!(out.code, 2, "{folder}\n{}", out.all());
        assert!(
            out.stderr.contains("another ft run") && out.stderr.contains("is using this reports folder"),
            "{}",
            out.all()
        );
    }
    std::fs::write(w.file("go"), "").expect("let the command end");
}

fn head(w: &Work) -> String {
    w.repo.head()
}

// Issue 24, finding 12: a `/version` page reading `current: <other> previous: <H> see
// …/commit/<H>` satisfied `--expect-version <H>`, and so did a 42-digit word beginning
// with <H>. By default the page must state the commit; `--version-match mentions` keeps
// the lenient rule for pages that only mention it.
#[test]
fn a_version_page_that_only_mentions_the_commit_does_not_show_it_unless_asked() {
    let w = Work::new();
    let h = head(&w);
    let other = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccdddd";
    let mention = Served::start_with(&[
        "--version",
        &format!("current: {other} previous: {h} see https://git.example/commit/{h}"),
    ]);
    let longer = Served::start_with(&["--version", &format!("{h}42")]);
    let run = |served: &Served, extra: &[&str]| {
        let mut args = vec!["run", "--liveserver", &served.url, "--expect-version", &h, "--version-path", "/version"];
        // A driver that cannot start: a run that got past the version check says so.
        args.extend_from_slice(&["--driver", "/nonexistent/chromedriver"]);
        args.extend_from_slice(extra);
        w.ft(&args)
    };
    for served in [&mention, &longer] {
        let out = run(served, &[]);
        assert_eq!(out.code, 3, "{}", out.all());
        assert!(out.stderr.contains(&format!("does not show commit {h}")), "{}", out.all());
        assert!(out.stderr.contains("--version-match mentions"), "the hint names the lenient rule\n{}", out.all());
    }
    let lenient = run(&mention, &["--version-match", "mentions"]);
    assert!(
        !lenient.stderr.contains("does not show") && lenient.stderr.contains("/nonexistent/chromedriver"),
        "past the version check\n{}",
        lenient.all()
    );

    // ft deploy: the same rule, the same flag.
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--staging",
            &mention.url,
            "--live",
            "127.0.0.1:9",
            "--deploy-cmd",
            "true",
            "--version-path",
            "/version",
            "--up-timeout",
            "1",
            "--driver",
            "/nonexistent/chromedriver",
        ];
        args.extend_from_slice(extra);
        w.ft(&args)
    };
    let strict = deploy(&[]);
    assert_eq!(strict.code, 3, "{}", strict.all());
    assert_eq!(w.last_deploy()["outcome"], "wrong_version", "{}", strict.all());
    let lenient = deploy(&["--version-match", "mentions"]);
    assert!(lenient.stdout.contains(&format!("staging version: shows commit {}", &h[..12])), "{}", lenient.all());
    assert_eq!(w.last_deploy()["outcome"], "staging_broken", "{}", lenient.all());
}

// Finding 14, the wait after the command: a signal while ft waits for a target to answer
// ends the wait, instead of the whole --up-timeout.
#[test]
fn sigterm_while_waiting_for_staging_to_answer_stops_at_once() {
    let w = Work::new();
    let mut ft = deploy_waiting_for_go(&w, &["--up-timeout", "120"]);
    std::fs::write(w.file("go"), "").expect("let the command end");
    let log = w.file("reports/staging/deploy.log");
    eventually("the command to end", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("# exit code 0"))
    });
    // SAFETY: plain syscall on the group of the child we started.
    assert_eq!(unsafe { libc::killpg(ft.id() as i32, libc::SIGTERM) }, 0);
    let mut code = None;
    eventually("ft to exit well before --up-timeout", Duration::from_secs(20), || {
        code = ft.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    assert_eq!(code, Some(143));
    let last = w.last_deploy();
    assert_eq!((&last["outcome"], &last["exit_code"]), (&"interrupted".into(), &143.into()), "{last:#}");
}
