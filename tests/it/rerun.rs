//! Issue 12: stop early (`-x`, `--max-failures`), rerun what failed (`--last-failed`) and
//! hunt flakes (`--repeat-each`), through the real binary against real targets.

use crate::common;

use common::repo::Repo;
use common::*;

fn record(dir: &std::path::Path) -> serde_json::Value {
    read_json(&dir.join("reports/run.json"))
}

fn ft_count(record: &serde_json::Value, key: &str) -> u64 {
    record["predicate"]["ft.run/v1"][key].as_u64().unwrap_or_else(|| panic!("{key} in {record:#}"))
}

#[test]
fn x_stops_after_the_first_failure_and_last_failed_reruns_exactly_the_failures() {
    let broken = Served::start(&["accept-duplicates"]);
    let dir = tempfile::tempdir().expect("tempdir");

    // Two scenarios break on this target; with -x the run stops at the first.
    let out = ft_in(dir.path(), &["--liveserver", &broken.url, "--max-wait", "3", "-x"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rec = record(dir.path());
    assert_eq!(ft_count(&rec, "failed"), 1, "{rec:#}");
    assert!(ft_count(&rec, "not_run") >= 1, "the rest were not started: {rec:#}");
    assert_eq!(rec["predicate"]["ft.run/v1"]["verdict"], "failed");
    assert!(out.stdout.contains("stopped early after 1 failed scenario (--max-failures 1)"), "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, LIST_SCENARIOS.len(), "every scenario is still in the report");
    assert_eq!(junit.errors, 0, "stopping early is not an infrastructure error");
    let failed_first: Vec<String> = junit.failed_names();

    // --last-failed runs that one scenario again, and nothing else.
    let again = ft_in(dir.path(), &["--liveserver", &broken.url, "--max-wait", "3", "--last-failed"]);
    assert_eq!(again.code, 1, "{}", again.all());
    let rerun = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(rerun.tests, 1, "exactly the failure reran\n{}", again.all());
    assert_eq!(rerun.failed_names(), failed_first);

    // Fixed: the rerun passes; then there is nothing left to rerun.
    let fixed = Served::start(&[]);
    let green = ft_in(dir.path(), &["--liveserver", &fixed.url, "--max-wait", "3", "--last-failed"]);
    assert_eq!(green.code, 0, "{}", green.all());
    assert_eq!(read_junit(&dir.path().join("reports/junit.xml")).tests, 1);
    let nothing = ft_in(dir.path(), &["--liveserver", &fixed.url, "--last-failed"]);
    assert_eq!(nothing.code, 2, "{}", nothing.all());
    assert!(nothing.stderr.contains("nothing to rerun: no scenario failed"), "{}", nothing.all());
}

#[test]
fn last_failed_without_a_previous_record_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", "http://127.0.0.1:9", "--last-failed"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--last-failed: no previous run record to go by"), "{}", out.all());
}

#[test]
fn repeat_each_runs_and_reports_every_repetition() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "can start a to-do", "--repeat-each", "3"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, 3, "{}", out.all());
    for i in 1..=3 {
        junit.case(&format!("can start a to-do list (run {i} of 3)"));
    }
    assert_eq!(ft_count(&record(dir.path()), "passed"), 3);
}

#[test]
fn history_keeps_every_run_and_ft_flakes_reports_the_rate_the_records_show() {
    // Every other home page this target serves is broken: with a retry, scenarios flake.
    let served = Served::start(&["flaky-home"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "can start a to-do list";
    let (mut flaky, mut failed) = (0, 0);
    for _ in 0..3 {
        let out =
            ft_in(dir.path(), &["--liveserver", &served.url, "--filter", name, "--retries", "1", "--max-wait", "3"]);
        assert!(out.code == 0 || out.code == 1, "{}", out.all());
        let rec = record(dir.path());
        let status = rec["predicate"]["ft.run/v1"]["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["status"].as_str().unwrap_or("").to_string())
            .expect("the scenario is in the record");
        match status.as_str() {
            "flaky" => flaky += 1,
            "failed" | "error" => failed += 1,
            _ => {}
        }
    }
    assert!(flaky > 0, "the target made the scenario flaky at least once");
    let history = std::fs::read_to_string(dir.path().join("reports/history.jsonl")).expect("history");
    let lines: Vec<serde_json::Value> =
        history.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 3, "one line per scenario per run, none rewritten\n{history}");
    assert!(lines.iter().all(|l| l["scenario"] == name && l["attempts"].as_u64().is_some()));

    let out = ft_in(dir.path(), &["flakes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let row = out.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{}", out.all()));
    let cols: Vec<&str> = row[name.len()..].split_whitespace().collect();
    assert_eq!(cols[0], "3", "runs: {row}");
    assert_eq!(cols[1], failed.to_string(), "failed: {row}");
    assert_eq!(cols[2], flaky.to_string(), "flaky: {row}");
    assert_eq!(cols[4], format!("{:.0}%", flaky as f64 * 100.0 / 3.0), "flaky rate: {row}");
    assert!(out.stdout.starts_with("ft flakes: 3 runs since"), "{}", out.all());

    let none = ft_in(dir.path(), &["flakes", "--history", "nowhere.jsonl"]);
    assert_eq!(none.code, 2, "{}", none.all());
}

const QUARANTINE_SPEC: &str = r#"
[[scenario]]
name = "home page has a title"
steps = [{ visit = "/" }, { expect_title = "To-Do" }]

[[scenario]]
name = "home page shouts"
quarantine = "the banner is being redesigned, issue 42"
steps = [{ visit = "/" }, { expect_title = "TO-DO!!!" }]
"#;

#[test]
fn a_quarantined_failure_is_reported_does_not_fail_the_run_and_the_gate_names_it() {
    let served = Served::start(&[]);
    let dir = Repo::new();
    std::fs::create_dir(dir.path().join("specs")).expect("mkdir");
    std::fs::write(dir.path().join("specs/home.toml"), QUARANTINE_SPEC).expect("spec");
    std::fs::write(dir.path().join(".gitignore"), "reports/\n").expect("ignore");
    dir.commit_all("specs");

    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--specs", "specs", "--max-wait", "3"]);
    assert_eq!(out.code, 0, "the quarantined failure does not fail the run\n{}", out.all());
    assert!(
        out.stdout.contains("FAIL") && out.stdout.contains("quarantined: the banner is being redesigned"),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("1 quarantined scenario failed and did not count"), "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!((junit.failures, junit.errors, junit.skipped), (0, 0, 1), "not a failure to CI either");
    let rec = record(dir.path());
    assert_eq!(rec["predicate"]["result"], "WARNED", "in-toto's word: passed, with a warning");
    assert_eq!(ft_count(&rec, "quarantined_failed"), 1);
    assert_eq!(rec["predicate"]["warnedTests"], serde_json::json!(["home page shouts"]));

    let record_path = dir.path().join("reports/run.json").display().to_string();
    let gate = ft_in(dir.path(), &["gate", "--record", &record_path, "--specs", "specs"]);
    assert_eq!(gate.code, 0, "{}", gate.all());
    assert!(
        gate.stdout.contains("quarantined, let through: home page shouts")
            && gate.stdout.contains("failed; quarantined: the banner"),
        "the gate never lets one through silently\n{}",
        gate.all()
    );
    // A record that hides a failure from its counts contradicts its own list.
    let mut hidden = rec.clone();
    hidden["predicate"]["ft.run/v1"]["quarantined_failed"] = serde_json::json!(0);
    let hidden_path = dir.path().join("hidden.json");
    std::fs::write(&hidden_path, serde_json::to_vec_pretty(&hidden).expect("json")).expect("write");
    let shut = ft_in(dir.path(), &["gate", "--record", &hidden_path.display().to_string(), "--specs", "specs"]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("contradicts itself"), "{}", shut.all());
    let strict = ft_in(dir.path(), &["gate", "--record", &record_path, "--specs", "specs", "--no-quarantine"]);
    assert_eq!(strict.code, 1, "{}", strict.all());
    assert!(strict.stdout.contains("--no-quarantine counts them: home page shouts"), "{}", strict.all());

    let counted =
        ft_in(dir.path(), &["--liveserver", &served.url, "--specs", "specs", "--max-wait", "3", "--no-quarantine"]);
    assert_eq!(counted.code, 1, "{}", counted.all());
    assert_eq!(read_junit(&dir.path().join("reports/junit.xml")).failures, 1);
}

#[test]
fn a_quarantine_without_a_reason_is_a_spec_error_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.toml"),
        QUARANTINE_SPEC.replace("the banner is being redesigned, issue 42", " "),
    )
    .expect("spec");
    let out = ft_in(dir.path(), &["list", "--specs", "bad.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("bad.toml:8:14") && out.stderr.contains("quarantine needs a reason"), "{}", out.all());
}

/// The quarantined scenario has more steps, so it starts first (longest first) and its
/// failure comes before the other scenario is taken.
const QUARANTINED_FIRST: &str = r#"
[[scenario]]
name = "home page has a title"
steps = [{ visit = "/" }, { expect_title = "To-Do" }]

[[scenario]]
name = "home page shouts"
quarantine = "the banner is being redesigned, issue 42"
steps = [{ visit = "/" }, { expect_text_contains = "To-Do", in = "h1" }, { expect_title = "TO-DO!!!" }]
"#;

/// One rule for what counts as a failure: `-x` stops at what fails the run, and a
/// quarantined failure fails nothing (it used to stop the run that it did not fail).
#[test]
fn exitfirst_is_not_stopped_by_a_quarantined_failure_unless_quarantine_is_off() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("home.toml"), QUARANTINED_FIRST).expect("spec");
    let args = ["--liveserver", &served.url, "--specs", "home.toml", "--max-wait", "3", "-x"];

    let out = ft_in(dir.path(), &args);
    assert_eq!(out.code, 0, "{}", out.all());
    let rec = record(dir.path());
    assert_eq!((ft_count(&rec, "passed"), ft_count(&rec, "not_run")), (1, 0), "both ran: {rec:#}");
    assert!(!out.stdout.contains("stopped early"), "{}", out.all());

    let counted = ft_in(dir.path(), &[&args[..], &["--no-quarantine"]].concat());
    assert_eq!(counted.code, 1, "{}", counted.all());
    let rec = record(dir.path());
    assert_eq!((ft_count(&rec, "failed"), ft_count(&rec, "not_run")), (1, 1), "stopped at it: {rec:#}");
    assert!(counted.stdout.contains("stopped early after 1 failed scenario"), "{}", counted.all());
}
