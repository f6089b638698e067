//! Faults, flakes and precious targets: ft keeps working, tells the truth, loses nothing.
//! Real processes throughout: flaky and dying servers, a wedged page, a slow proxy.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn a_scenario_passing_on_a_retry_is_flaky_in_console_junit_and_record() {
    let served = Served::start(&["flaky-home"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out =
        ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "layout", "--retries", "2", "--max-wait", "10"]);
    assert_eq!(out.code, 0, "flaky passes by default\n{}", out.all());
    assert!(
        out.stdout.contains("RETRY [") && out.stdout.contains("layout and styling (attempt 1 failed)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.lines().any(|l| l.contains("FLAKY [") && l.contains("layout and styling (attempt 2 of 2)")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 passed (1 flaky)"), "{}", out.stdout);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let case = junit.case("layout and styling");
    assert_eq!(case.status, "passed");
    assert_eq!(case.flaky.len(), 1, "{case:?}");
    assert!(
        case.flaky[0].contains(&format!("superlists.toml:{}: visit /", superlists_line("layout and styling", "visit")))
            && case.flaky[0].contains("answered HTTP 503"),
        "{case:?}"
    );
    let first = dir.path().join("reports/artifacts/superlists/layout-and-styling/layout-and-styling.png");
    assert!(first.is_file(), "the failed attempt's evidence is kept");
    let rec = read_json(&dir.path().join("reports/run.json"));
    assert_eq!(rec["predicate"]["result"], "WARNED");
    assert_eq!(rec["predicate"]["warnedTests"], serde_json::json!(["layout and styling"]));

    let strict = ft_in(
        dir.path(),
        &["--liveserver", &served.url, "--filter", "layout", "--retries", "2", "--max-wait", "10", "--fail-on-flaky"],
    );
    assert_eq!(strict.code, 1, "{}", strict.all());
}

#[test]
fn without_retries_the_same_flake_is_a_failure() {
    let served = Served::start(&["flaky-home"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "layout", "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("title \"503 Service Unavailable\""), "{}", out.stdout);
}

#[test]
fn a_scenario_that_never_passes_records_every_attempt() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out =
        ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "can start", "--retries", "2", "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let case = junit.case("can start a to-do list");
    assert_eq!(case.status, "failure");
    assert_eq!(case.reruns.len(), 2, "the two earlier attempts: {case:?}");
    let base = dir.path().join("reports/artifacts/superlists/can-start-a-to-do-list");
    let stem = "can-start-a-to-do-list";
    for evidence in [
        base.join(format!("{stem}.png")),
        base.join(format!("{stem}.attempt-2.png")),
        base.join(format!("{stem}.attempt-3.html")),
    ] {
        assert!(evidence.is_file(), "{}", evidence.display());
    }
    assert_eq!(read_json(&dir.path().join("reports/run.json"))["predicate"]["result"], "FAILED");
}

/// A tiny HTTP server: `/` is a page whose script never yields (a wedged browser tab),
/// `/ok` a plain page.
fn wedging_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        for conn in listener.incoming().take(64) {
            let Ok(mut conn) = conn else { continue };
            // A connection each: browsers open sockets they never send on.
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let body = if req.starts_with("GET /ok") {
                    "<!doctype html><title>fine</title><p>fine</p>"
                } else {
                    "<!doctype html><title>stuck</title><script>for(;;){}</script>"
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(format!("{head}{body}").as_bytes());
            });
        }
    });
    (url, handle)
}

#[test]
fn a_wedged_page_fails_its_scenario_at_the_deadline_and_the_run_goes_on() {
    let (url, _server) = wedging_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = "[[scenario]]\nname = \"stuck\"\nsteps = [ { visit = \"/\" }, { expect_title = \"never\" } ]\n\n\
                [[scenario]]\nname = \"after\"\nsteps = [ { visit = \"/ok\" }, { expect_title = \"fine\" } ]\n";
    std::fs::write(dir.path().join("wedge.toml"), spec).expect("write");
    let out = ft_in(dir.path(), &["--specs", "wedge.toml", "--liveserver", &url, "--scenario-timeout", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let stuck = junit.case("stuck");
    assert_eq!(stuck.status, "failure");
    assert!(stuck.message.contains("did not finish within --scenario-timeout 3s"), "{stuck:?}");
    assert_eq!(junit.case("after").status, "passed", "the worker got a new browser and went on");
}

/// A proxy in front of `upstream` that holds each new connection's first answer for `delay`.
fn slow_proxy(upstream: String, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().take(500) {
            let Ok(client) = client else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(&upstream) else { return };
                let (mut c_read, mut s_write) =
                    (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_read, &mut s_write);
                });
                let (mut s_read, mut c_write) = (server, client);
                let mut buf = [0u8; 16384];
                let mut first = true;
                while let Ok(n) = s_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if first {
                        std::thread::sleep(delay);
                        first = false;
                    }
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_write.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    url
}

#[test]
fn a_slow_but_working_target_still_passes_within_max_wait() {
    let served = Served::start(&[]);
    let url = slow_proxy(served.url.clone(), Duration::from_secs(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &url, "--tag", "smoke"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_target_that_dies_mid_run_fails_the_rest_with_the_cause_and_the_report_is_complete() {
    let mut server = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = server.url.replace("http://", "http://tester:hunter2@");
    let mut ft = KillOnDrop::new(
        ft_command(dir.path())
            .args(["--liveserver", &url, "--workers", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ft starts"),
    );
    let mut lines = BufReader::new(ft.stdout.take().expect("stdout")).lines().map_while(Result::ok);
    let mut seen: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        let pass = line.contains("PASS [");
        seen.push(line);
        if pass {
            break;
        }
    }
    server.kill();
    seen.extend(lines);
    let mut stderr = String::new();
    let _ = ft.stderr.take().expect("stderr").read_to_string(&mut stderr);
    let code = ft.wait().expect("wait").code();
    let console = seen.join("\n");
    assert_eq!(code, Some(1), "{console}\n{stderr}");
    assert!(console.contains("ERR_CONNECTION_REFUSED"), "the cause is named: {console}");
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, 7, "every scenario is in the report");
    assert!(junit.failures >= 1);
    // Credentials in the target URL appear nowhere.
    let mut everything = format!("{console}\n{stderr}");
    for f in ["reports/junit.xml", "reports/run.json"] {
        everything.push_str(&std::fs::read_to_string(dir.path().join(f)).expect("report"));
    }
    for entry in walk(&dir.path().join("reports")) {
        everything.push_str(&entry.display().to_string());
    }
    assert!(!everything.contains("hunter2"), "a secret leaked");
    assert!(everything.contains("***@127.0.0.1"), "the target is still named, redacted");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn on_a_sensitive_target_only_safe_scenarios_run_and_the_rest_are_skipped_with_the_reason() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--sensitive-url", "127\\.0\\.0\\.1"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.skipped), (7, 5));
    let skipped = junit.case("cannot add duplicate items");
    assert_eq!(skipped.status, "skipped");
    assert!(
        skipped.message.contains("matches --sensitive-url") && skipped.message.contains("tagged `smoke`"),
        "{skipped:?}"
    );
    let rec = read_json(&dir.path().join("reports/run.json"));
    assert_eq!(rec["predicate"]["ft.run/v1"]["complete"], true, "skipping on purpose keeps the run complete");
    assert_eq!(rec["predicate"]["passedTests"].as_array().map(Vec::len), Some(2));

    let none = ft_in(dir.path(), &["--liveserver", &served.url, "--sensitive-url", "127", "--tag", "validation"]);
    assert_eq!(none.code, 2, "zero scenarios is never a pass\n{}", none.all());
    assert!(none.stderr.contains("no selected scenario may run"), "{}", none.stderr);

    std::fs::write(dir.path().join("ft.toml"), "sensitive_url = \"127\\\\.0\"\n").expect("write");
    let from_config = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "duplicate"]);
    assert_eq!(from_config.code, 2, "ft.toml's sensitive_url applies\n{}", from_config.all());
}

/// The one-verdict regression: with `--fail-on-flaky`, a run whose only scenario passed
/// on a retry once printed `OK: … (1 flaky)` and exited 1. Every reader now says the same.
#[test]
fn a_flaky_run_with_fail_on_flaky_is_not_green_in_console_junit_record_or_exit_code() {
    let served = Served::start(&["flaky-home"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let args =
        ["--liveserver", &served.url, "--filter", "layout", "--retries", "2", "--max-wait", "10", "--fail-on-flaky"];
    let out = ft_in(dir.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    let summary =
        out.stdout.lines().find(|l| l.contains("1 passed (1 flaky)")).unwrap_or_else(|| panic!("{}", out.all()));
    assert!(summary.starts_with("NOT OK (flaky"), "{summary}");
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.property("verdict"), Some("flaky"));
    assert_eq!(junit.property("green"), Some("false"));
    let rec = read_json(&dir.path().join("reports/run.json"));
    assert_eq!(rec["predicate"]["ft.run/v1"]["verdict"], "flaky");
    assert_eq!(rec["predicate"]["ft.run/v1"]["green"], false);

    // Without the flag the same flake is green, and every reader says that too.
    let lenient = ft_in(dir.path(), &args[..8]);
    assert_eq!(lenient.code, 0, "{}", lenient.all());
    assert!(lenient.stdout.lines().any(|l| l.starts_with("OK (flaky): 1 scenario")), "{}", lenient.stdout);
    assert_eq!(read_junit(&dir.path().join("reports/junit.xml")).property("green"), Some("true"));
    assert_eq!(read_json(&dir.path().join("reports/run.json"))["predicate"]["ft.run/v1"]["green"], true);
}

/// Issue 10: in GitHub Actions a failure is an annotation on its spec line, and the run
/// is summarised in markdown for the job's page.
#[test]
fn in_github_actions_failures_are_annotated_and_the_run_summarised() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let out = output(
        ft_command(dir.path())
            .args(["--liveserver", &served.url, "--filter", "can start", "--max-wait", "3"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary),
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let annotation = out.stdout.lines().find(|l| l.starts_with("::error ")).unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        annotation.starts_with("::error file=<built-in>/superlists.toml,line=")
            && annotation.contains(",title=FAIL can start a to-do list::")
            && annotation.contains("the title was \"Superlists\""),
        "{annotation}"
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.starts_with("earlier step\n### ft: ❌ NOT OK (failed)"), "appended, not replaced: {md}");
    assert!(md.contains("- **FAIL** can start a to-do list"), "{md}");

    // Outside GitHub Actions: no workflow commands.
    let plain = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "can start", "--max-wait", "3"]);
    assert!(!plain.stdout.contains("::error"), "{}", plain.stdout);
}

/// Issue 10: a disk that fills up during the run. The reports folder is a 512 KiB tmpfs
/// (mounted in a user namespace of its own: no trace outside the test), and 40 failing
/// scenarios bring about 30 KiB of evidence each: the evidence fills the disk, and still
/// JUnit and run.json come out whole (ft holds space for them from the start), the summary
/// is printed, the exit code says scenarios failed (1, never 2), and the evidence that
/// did not fit is a warning carrying the OS error.
#[test]
fn a_disk_filled_by_evidence_still_gets_the_junit_the_record_and_the_right_exit_code() {
    let probe = std::process::Command::new("unshare").args(["-rm", "true"]).status();
    assert!(
        probe.map(|s| s.success()).unwrap_or(false),
        "this test mounts a small tmpfs in a user namespace: `unshare -rm` must work here"
    );
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["reports", "kept", "specs"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
    }
    let mut spec = String::new();
    for n in 1..=40 {
        spec.push_str(&format!(
            "[[scenario]]\nname = \"wrong title {n}\"\nsteps = [{{ visit = \"/\" }}, {{ expect_title = \"Not to-do {n}\" }}]\n\n"
        ));
    }
    std::fs::write(dir.path().join("specs/titles.toml"), spec).expect("spec");
    // Inside the namespace: mount, run ft, copy what it wrote out before the mount goes.
    let script = r#"mount -t tmpfs -o size=512k tmpfs reports || exit 90
"$0" "$@"; code=$?
cp -a reports/. kept/; exit $code"#;
    let mut cmd = std::process::Command::new("unshare");
    cmd.current_dir(dir.path()).stdin(Stdio::null()).args(["-rm", "sh", "-c", script, FT]);
    cmd.args(["--liveserver", &served.url, "--specs", "specs", "--max-wait", "0.2", "--workers", "2"]);
    for var in ["FT_LIVESERVER", "STAGING_SERVER", "TEST_SERVER", "FT_SENSITIVE_URL", "FT_SIGN_KEY", "GITHUB_ACTIONS"] {
        cmd.env_remove(var);
    }
    let out = output(&mut cmd);
    assert_ne!(out.code, 90, "the tmpfs could not be mounted\n{}", out.all());
    assert_eq!(out.code, 1, "scenarios failed: exit 1, whatever the disk did\n{}", out.all());
    assert!(
        out.stdout.contains("the failure's evidence is incomplete") && out.stdout.contains("No space left on device"),
        "the evidence filled the disk, and the warning carries the OS error\n{}",
        out.all()
    );
    assert!(out.stdout.contains("NOT OK (failed): 40 scenarios"), "the summary is printed\n{}", out.all());
    let kept = dir.path().join("kept");
    let junit = read_junit(&kept.join("junit.xml"));
    assert_eq!((junit.tests, junit.failures), (40, 40), "JUnit has every scenario\n{}", out.all());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(kept.join("run.json")).expect("run.json written")).expect("json");
    assert_eq!(record["predicate"]["ft.run/v1"]["verdict"], "failed", "{record:#}");
    assert!(!kept.join(".ft-reserve").exists(), "the space held for the reports was given back");
    let reports_line = out.stdout.lines().find(|l| l.starts_with("reports: ")).expect("reports line");
    assert!(reports_line.contains("junit.xml") && reports_line.contains("run.json"), "{reports_line}");
}
