//! Issue 23, Allure results (`--allure DIR`): real runs through the binary, read back by
//! the real Allure 2 command line (npm allure-commandline, installed by
//! scripts/install-deps.sh): `allure generate` must accept the folder, and its own data
//! (`data/test-cases/*.json`) must show each scenario with the right status, steps and
//! evidence, and a retried scenario as one test case with its retries.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn allure() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"));
    let bin = cache.join("ft/allure/node_modules/.bin/allure");
    assert!(bin.exists(), "{} is missing: run scripts/install-deps.sh", bin.display());
    bin
}

/// What Allure made of a results folder.
struct Report {
    /// Every test case, the retries (hidden) too.
    cases: Vec<Value>,
    out: PathBuf,
}

impl Report {
    /// `allure generate RESULTS -o OUT`, which must succeed.
    fn generate(results: &Path) -> Report {
        let out = results.with_extension("report");
        let run = Command::new(allure())
            .arg("generate")
            .arg(results)
            .arg("-o")
            .arg(&out)
            .arg("--clean")
            .output()
            .expect("allure runs");
        let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert!(run.status.success() && said.contains("Report successfully generated"), "allure generate: {said}");
        let cases = std::fs::read_dir(out.join("data/test-cases"))
            .expect("allure wrote test cases")
            .flatten()
            .map(|e| read_json(&e.path()))
            .collect();
        Report { cases, out }
    }

    /// The test case Allure shows for `name` (not a retry).
    fn case(&self, name: &str) -> &Value {
        let shown: Vec<&Value> = self.cases.iter().filter(|c| c["name"] == name && c["hidden"] != true).collect();
        assert_eq!(shown.len(), 1, "one test case named {name:?}: {:#?}", self.names());
        shown[0]
    }

    fn names(&self) -> Vec<(String, String, bool)> {
        self.cases.iter().map(|c| (str_of(&c["name"]), str_of(&c["status"]), c["hidden"] == true)).collect()
    }

    fn shown(&self) -> Vec<&Value> {
        self.cases.iter().filter(|c| c["hidden"] != true).collect()
    }

    fn widget(&self, name: &str) -> Value {
        read_json(&self.out.join("widgets").join(name))
    }

    /// Each attachment of a case (name, MIME type), checking Allure copied its file.
    fn attachments(&self, case: &Value) -> Vec<(String, String)> {
        let list = case["testStage"]["attachments"].as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|a| {
                let file = self.out.join("data/attachments").join(str_of(&a["source"]));
                assert!(file.is_file() && file.metadata().map(|m| m.len()).unwrap_or(0) > 0, "{a} has its file");
                (str_of(&a["name"]), str_of(&a["type"]))
            })
            .collect()
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn steps(case: &Value) -> Vec<(String, String)> {
    let list = case["testStage"]["steps"].as_array().cloned().unwrap_or_default();
    list.iter().map(|s| (str_of(&s["name"]), str_of(&s["status"]))).collect()
}

#[test]
fn a_failing_run_reads_in_allure_with_each_scenarios_status_steps_and_evidence() {
    let broken = Served::start(&["accept-duplicates"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = output(
        ft_command(dir.path())
            .args(["--liveserver", &broken.url, "--max-wait", "3", "--filmstrip", "2", "--allure", "allure-results"])
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "octo/superlists")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_RUN_NUMBER", "17")
            .env("GITHUB_WORKFLOW", "staging"),
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("reports: ") && out.stdout.contains("allure-results"), "{}", out.all());
    let failed = read_junit(&dir.path().join("reports/junit.xml")).failed_names();
    assert!(!failed.is_empty());

    let report = Report::generate(&dir.path().join("allure-results"));
    assert_eq!(report.shown().len(), LIST_SCENARIOS.len(), "{:#?}", report.names());
    for name in LIST_SCENARIOS {
        let case = report.case(name);
        let want = if failed.iter().any(|f| f == name) { "failed" } else { "passed" };
        assert_eq!(case["status"], want, "{name}");
        assert!(!steps(case).is_empty(), "{name} has its steps");
        let labels = case["labels"].as_array().cloned().unwrap_or_default();
        assert!(labels.iter().any(|l| l["name"] == "suite" && l["value"] == "superlists"), "{labels:?}");
        assert!(labels.iter().any(|l| l["name"] == "tag"), "tags are labels: {labels:?}");
        let params = case["parameters"].as_array().cloned().unwrap_or_default();
        assert!(params.iter().any(|p| p["name"] == "target" && p["value"] == broken.url.as_str()), "{params:?}");
        assert!(params.iter().any(|p| p["name"] == "browser"), "{params:?}");
    }
    for name in &failed {
        let case = report.case(name);
        let steps = steps(case);
        assert_eq!(steps.last().map(|s| s.1.as_str()), Some("failed"), "the failing step is the last: {steps:?}");
        assert!(steps[..steps.len() - 1].iter().all(|s| s.1 == "passed"), "{steps:?}");
        assert!(str_of(&case["statusMessage"]).contains("still"), "{case:#}");
        assert!(str_of(&case["statusTrace"]).contains("last seen:"), "{case:#}");
        let attachments = report.attachments(case);
        let has = |name: &str, mime: &str| attachments.iter().any(|(n, m)| n.starts_with(name) && m == mime);
        assert!(has("screenshot", "image/png"), "{attachments:?}");
        assert!(has("page HTML", "text/html"), "{attachments:?}");
        assert!(has("browser signals (JSON)", "application/json"), "{attachments:?}");
        assert!(has("filmstrip 1 of 2: line ", "image/png"), "{attachments:?}");
    }
    let passed = report.case(LIST_SCENARIOS.iter().find(|n| !failed.iter().any(|f| f == *n)).expect("one passed"));
    assert!(report.attachments(passed).is_empty(), "a pass leaves no evidence");

    let executors = report.widget("executors.json");
    assert_eq!(executors[0]["type"], "github", "{executors:#}");
    assert_eq!(executors[0]["buildUrl"], "https://github.com/octo/superlists/actions/runs/4242", "{executors:#}");
    assert_eq!(executors[0]["buildOrder"], 17, "{executors:#}");
    let environment = report.widget("environment.json");
    let target = environment.as_array().and_then(|e| e.iter().find(|p| p["name"] == "target")).cloned();
    assert_eq!(target.map(|t| t["values"][0].clone()), Some(Value::from(broken.url.as_str())), "{environment:#}");
}

const HOME: &str = r#"
[[scenario]]
name = "home page has a title"
tags = ["smoke"]
steps = [{ visit = "/" }, { expect_title = "To-Do" }]
"#;

#[test]
fn a_flaky_scenario_is_one_test_case_with_its_retry_and_the_same_id_every_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("home.toml"), HOME).expect("write spec");
    let results = dir.path().join("allure-results");
    // Every other home page this target serves is a 503: the first attempt fails, the
    // retry passes. A new target (on a new port) each run.
    let run = |args: &[&str]| {
        let flaky = Served::start(&["flaky-home"]);
        let mut all = vec!["--specs", "home.toml", "--liveserver", &flaky.url, "--retries", "1", "--max-wait", "3"];
        all.extend(args);
        let out = ft_in(dir.path(), &all);
        assert_eq!(out.code, 0, "flaky passes: {}", out.all());
        assert!(out.stdout.contains("FLAKY"), "{}", out.all());
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&results).expect("results").flatten() {
            if entry.file_name().to_string_lossy().ends_with("-result.json") {
                ids.push(str_of(&read_json(&entry.path())["historyId"]));
            }
        }
        ids
    };
    let first = run(&["--allure", "allure-results"]);
    assert_eq!(first.len(), 2, "a result per attempt: {first:?}");
    assert!(first[0] == first[1], "the attempts share the scenario's id: {first:?}");

    let report = Report::generate(&results);
    let case = report.case("home page has a title");
    assert_eq!(case["status"], "passed", "{case:#}");
    assert_eq!(case["flaky"], true, "{case:#}");
    assert_eq!(case["retriesCount"], 1, "{case:#}");
    let retries = case["extra"]["retries"].as_array().cloned().unwrap_or_default();
    assert_eq!(retries.len(), 1, "{case:#}");
    assert_eq!(retries[0]["status"], "failed", "{retries:?}");
    assert!(str_of(&retries[0]["statusDetails"]).contains("503"), "{retries:?}");
    let retry = report.cases.iter().find(|c| c["hidden"] == true).expect("the failed attempt is kept, as a retry");
    assert_eq!(steps(retry), [("visit /".to_string(), "failed".to_string())]);
    assert!(report.attachments(retry).iter().any(|(n, m)| n == "screenshot" && m == "image/png"));

    // Again, with the folder from ft.toml's [run], and Allure's trend history copied in:
    // the earlier run's results are gone (they would read as this run's retries), the
    // history stays, and the scenario keeps its id.
    std::fs::write(dir.path().join("ft.toml"), "[run]\nallure = \"allure-results\"\n").expect("write ft.toml");
    std::fs::create_dir(results.join("history")).expect("history");
    std::fs::write(results.join("history/history.json"), "{}").expect("history");
    let second = run(&[]);
    assert_eq!(second.len(), 2, "only this run's results: {second:?}");
    assert_eq!(second[0], first[0], "the same scenario is the same test case across runs and targets");
    assert!(results.join("history/history.json").is_file());
}

#[test]
fn an_interrupted_run_reads_in_allure_with_the_scenario_cut_short_as_broken() {
    let served = Served::start(&["error-not-cleared"]);
    let mut ft = Running::start(&[
        "--liveserver",
        &served.url,
        "--filter",
        "cleared",
        "--filter",
        "can start a to-do",
        "--workers",
        "2",
        "--max-wait",
        "120",
        "--allure",
        "allure-results",
    ]);
    ft.wait_for_line("PASS [");
    let (code, _) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
    assert_eq!(code, Some(130));
    let report = Report::generate(&ft.dir.path().join("allure-results"));
    let cut = report.case("error messages are cleared on input");
    assert_eq!(cut["status"], "broken", "{cut:#}");
    assert!(str_of(&cut["statusMessage"]).contains("interrupted while running"), "{cut:#}");
    assert_eq!(report.case("can start a to-do list")["status"], "passed");
    let environment = report.widget("environment.json");
    assert!(environment.as_array().is_some_and(|e| e.iter().any(|p| p["name"] == "interrupted")), "{environment:#}");
}
