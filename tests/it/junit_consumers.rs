//! Issue 23: JUnit that consumers which validate nothing still read right. Real runs
//! (two spec files with a failure, a quarantine and an unsafe skip; passes on retry; an
//! interrupt), each file read by three real parsers (scripts/junit-consumers.py, in the
//! venv scripts/install-deps.sh makes): junitparser, xunitparser 1.3.4, which stopped with
//! an AssertionError at the run's properties repeated in every suite, and Codecov's
//! test-results-parser 0.6.1, which read a self-closing `<skipped/>` as a pass.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PARSERS: [&str; 3] = ["junitparser", "xunitparser", "test-results-parser"];

fn python() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"));
    let python = cache.join("ft/junit-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/install-deps.sh", python.display());
    python
}

/// How many testcases a consumer read as each outcome.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    passed: usize,
    failed: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(outcomes: impl IntoIterator<Item = &'a str>) -> Counts {
        let mut c = Counts::default();
        for outcome in outcomes {
            match outcome {
                "passed" => c.passed += 1,
                "failure" => c.failed += 1,
                "error" => c.errors += 1,
                "skipped" => c.skipped += 1,
                other => panic!("an outcome no JUnit has: {other}"),
            }
        }
        c
    }
}

/// What each consumer made of `junit`: "classname/name" → passed, failure, error or
/// skipped, per parser, and the JSON the script printed (for messages).
fn read_by_consumers(junit: &Path) -> (BTreeMap<String, BTreeMap<String, String>>, serde_json::Value) {
    let out = output(Command::new(python()).arg(root().join("scripts/junit-consumers.py")).arg(junit));
    assert_eq!(out.code, 0, "{}", out.all());
    let seen: serde_json::Value = serde_json::from_str(&out.stdout).expect("the script prints JSON");
    let mut read = BTreeMap::new();
    for parser in PARSERS {
        let what = &seen[parser];
        assert!(what["error"].is_null(), "{parser} {} could not read {}:\n{seen:#}", what["version"], junit.display());
        let cases = what["cases"].as_object().unwrap_or_else(|| panic!("{parser}: {seen:#}"));
        let cases = cases.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect();
        read.insert(parser.to_string(), cases);
    }
    (read, seen)
}

/// Every consumer reads the file and gives each testcase ("classname/name") the outcome
/// `want` says (passed, failure, error or skipped), as ft's own reading (which also
/// validates both schemas) does. For any module that writes JUnit (`ft merge` too).
pub fn assert_every_consumer_reads(junit: &Path, want: &[(&str, &str)]) -> serde_json::Value {
    let want: BTreeMap<String, String> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let ours: BTreeMap<String, String> =
        read_junit(junit).cases.iter().map(|c| (format!("{}/{}", c.classname, c.name), c.status.clone())).collect();
    assert_eq!(ours, want, "ft's own reading");
    let want_counts = Counts::of(want.values().map(String::as_str));
    let (read, seen) = read_by_consumers(junit);
    for (parser, cases) in read {
        let version = &seen[&parser]["version"];
        assert_eq!(Counts::of(cases.values().map(String::as_str)), want_counts, "{parser} {version}:\n{seen:#}");
        assert_eq!(cases, want, "{parser} {version}");
    }
    seen
}

fn spec_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("specs")).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.path().join("specs").join(name), text).expect("write");
    }
    dir
}

const HOME: &str = r##"
[[scenario]]
name = "home page has a title"
tags = ["smoke"]
steps = [{ visit = "/" }, { expect_title = "To-Do" }]

[[scenario]]
name = "home page shouts"
tags = ["smoke"]
quarantine = "the banner is being redesigned, issue 42"
steps = [{ visit = "/" }, { expect_title = "TO-DO!!!" }]

[[scenario]]
name = "home page takes an item"
steps = [
  { visit = "/" },
  { type = "Buy milk", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "1: Buy milk", in = "#id_list_table" },
]
"##;

const HEADER: &str = r#"
[[scenario]]
name = "header says to-do"
tags = ["smoke"]
steps = [{ visit = "/" }, { expect_text_contains = "To-Do", in = "h1" }]

[[scenario]]
name = "header says done"
tags = ["smoke"]
steps = [{ visit = "/" }, { expect_text_contains = "Done", in = "h1" }]
"#;

#[test]
fn two_spec_files_with_a_failure_a_quarantine_and_an_unsafe_skip_read_alike_in_every_consumer() {
    let served = Served::start(&[]);
    let dir = spec_folder(&[("home.toml", HOME), ("header.toml", HEADER)]);
    // The target is sensitive: the untagged scenario is skipped as unsafe there.
    let sensitive = format!("^{}/", regex::escape(&served.url));
    let out = ft_in(
        dir.path(),
        &["--specs", "specs", "--liveserver", &served.url, "--sensitive-url", &sensitive, "--max-wait", "3"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_every_consumer_reads(
        &dir.path().join("reports/junit.xml"),
        &[
            ("header/header says to-do", "passed"),
            ("header/header says done", "failure"),
            ("home/home page has a title", "passed"),
            ("home/home page shouts", "skipped"),
            ("home/home page takes an item", "skipped"),
        ],
    );
}

/// Every other home page the target serves is a 503: with one scenario at a time, each
/// first attempt fails and each retry gets a good page.
#[test]
fn passes_on_retry_read_as_passed_and_a_failure_after_retry_as_failed_in_every_consumer() {
    let served = Served::start(&["flaky-home"]);
    let home =
        "[[scenario]]\nname = \"home page has a title\"\nsteps = [{ visit = \"/\" }, { expect_title = \"To-Do\" }]\n";
    let dir = spec_folder(&[("home.toml", home), ("header.toml", HEADER)]);
    let out = ft_in(
        dir.path(),
        &["--specs", "specs", "--liveserver", &served.url, "--retries", "1", "--workers", "1", "--max-wait", "3"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("2 passed (2 flaky), 1 failed"), "{}", out.all());
    let seen = assert_every_consumer_reads(
        &dir.path().join("reports/junit.xml"),
        &[
            ("header/header says to-do", "passed"),
            ("header/header says done", "failure"),
            ("home/home page has a title", "passed"),
        ],
    );
    // junitparser's xunit2 module reads Surefire's <flakyFailure>: they are flaky there.
    let mut flaky: Vec<&str> =
        seen["junitparser"]["flaky"].as_array().expect("a list").iter().filter_map(|v| v.as_str()).collect();
    flaky.sort();
    assert_eq!(flaky, ["header/header says to-do", "home/home page has a title"], "{seen:#}");
}

/// SIGTERM after the first pass: the rest never start (skipped) and a testcase of its own
/// suite says the run was interrupted (an error), so no consumer reads it as passed.
#[test]
fn an_interrupted_run_reads_as_not_passed_in_every_consumer() {
    // Short scenarios, so the one running at SIGTERM finishes in its grace (see
    // interrupt.rs): the interrupt is then the run's own testcase.
    let mut ft = Running::start(&["--workers", "1", "--tag", "validation"]);
    ft.wait_for_line("PASS [");
    ft.signal(libc::SIGTERM);
    assert_eq!(ft.wait(), 143, "{:?}", ft.seen);
    let junit = ft.dir.path().join("reports/junit.xml");
    let ours = read_junit(&junit);
    let passed = ours.cases.iter().filter(|c| c.status == "passed").count();
    assert!((1..4).contains(&passed), "{:?}", ours.cases);
    let mut want: Vec<(String, &str)> = ours
        .cases
        .iter()
        .filter(|c| c.classname == "superlists")
        .map(|c| (format!("superlists/{}", c.name), if c.status == "passed" { "passed" } else { "skipped" }))
        .collect();
    want.push(("ft/run interrupted".into(), "error"));
    let want: Vec<(&str, &str)> = want.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(want.len(), 4 + 1);
    assert_every_consumer_reads(&junit, &want);
}
