//! The run record is an in-toto Statement that in-toto's own reference implementation
//! (PyPI `in-toto-attestation`, installed by scripts/install-deps.sh into a venv) accepts,
//! whatever the run: green in a git work tree, outside one, failing and flaky, with
//! selector overrides. And its configuration digests are what `sha256sum` prints.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo::Repo;
use common::*;

fn python() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"));
    let python = cache.join("ft/intoto-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/install-deps.sh", python.display());
    python
}

fn validate(records: &[&Path]) -> Output {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("scripts/check-intoto.py")).args(records);
    output(&mut cmd)
}

#[test]
fn every_kind_of_run_record_validates_with_the_reference_implementation() {
    let served = Served::start(&[]);
    let flaky = Served::start(&["flaky-home"]);
    let tree = Repo::in_folder("app");
    let (work, repo) = (tree.outside(), tree.path());

    // Green of the smoke scenarios (a complete record of the whole suite is `mixed`'s).
    let green = ft_in(&repo, &["--liveserver", &served.url, "--tag", "smoke", "--reports", "green"]);
    assert_eq!(green.code, 0, "{}", green.all());
    let outside = ft_in(work, &["--liveserver", &served.url, "--filter", "layout", "--reports", "outside"]);
    assert_eq!(outside.code, 0, "{}", outside.all());
    let mixed = ft_in(
        &repo,
        &[
            "--liveserver",
            &flaky.url,
            "--retries",
            "1",
            "--max-wait",
            "2",
            "--selector",
            "error=.invalid-feedback",
            "--reports",
            "mixed",
        ],
    );
    assert_eq!(mixed.code, 1, "the override breaks the validation scenarios: {}", mixed.all());

    let records = [repo.join("green/run.json"), work.join("outside/run.json"), repo.join("mixed/run.json")];
    let paths: Vec<&Path> = records.iter().map(PathBuf::as_path).collect();
    let checked = validate(&paths);
    assert_eq!(checked.code, 0, "{}", checked.all());
    assert_eq!(checked.stdout.matches("valid in-toto Statement v1").count(), 3, "{}", checked.stdout);

    // A subject always: the commit in a work tree, the spec set outside one.
    let green = read_json(&records[0]);
    assert_eq!(green["subject"][0]["digest"]["gitCommit"].as_str().map(str::len), Some(40));
    let outside = read_json(&records[1]);
    assert_eq!(outside["subject"][0]["name"], "ft spec set");
    // Flaky scenarios are warned, never passed; the override is its own descriptor.
    let mixed = read_json(&records[2]);
    let passed = mixed["predicate"]["passedTests"].as_array().expect("passedTests").clone();
    let warned = mixed["predicate"]["warnedTests"].as_array().expect("warnedTests").clone();
    assert!(warned.iter().any(|w| w == "layout and styling"), "{warned:?}");
    assert!(!passed.iter().any(|p| warned.contains(p)), "{passed:?} / {warned:?}");
    let configuration = mixed["predicate"]["configuration"].as_array().expect("configuration").clone();
    assert!(configuration.iter().any(|d| d["name"] == "ft selector overrides"), "{configuration:?}");

    // Each spec file's digest is what sha256sum prints for it.
    let spec = root().join("specs/superlists.toml");
    let sum = Command::new("sha256sum").arg(&spec).output().expect("sha256sum runs");
    let expected = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap_or("").to_string();
    let in_record = green["predicate"]["configuration"][0]["digest"]["sha256"].as_str().unwrap_or("").to_string();
    assert_eq!(in_record, expected, "{}", green["predicate"]["configuration"]);
}

#[test]
fn the_checker_rejects_a_statement_the_reference_implementation_would_not_take() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--filter", "layout"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let mut rec = read_json(&dir.path().join("reports/run.json"));
    rec["subject"] = serde_json::json!([]);
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, rec.to_string()).expect("write");
    let checked = validate(&[&broken]);
    assert_eq!(checked.code, 1, "{}", checked.all());
    assert!(checked.stdout.contains("At least one subject required"), "{}", checked.stdout);
}
