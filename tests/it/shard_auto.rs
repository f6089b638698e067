//! Issue 23: `--shard auto` takes this machine's part from the CI's own variables
//! (GitLab, CircleCI, Buildkite; a Kubernetes Indexed Job with `auto/N`), through the real
//! binary with those variables set; without them, or out of range, it is a usage error.

use crate::common;

use std::path::Path;

use common::*;

const CI_VARIABLES: [&str; 7] = [
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "CIRCLE_NODE_INDEX",
    "CIRCLE_NODE_TOTAL",
    "BUILDKITE_PARALLEL_JOB",
    "BUILDKITE_PARALLEL_JOB_COUNT",
    "JOB_COMPLETION_INDEX",
];

/// `ft ARGS` in `dir` with exactly `vars` of the CIs' shard variables set (none of the
/// environment this test runs in, which may be a CI's parallel job).
fn ft_on_ci(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = ft_command(dir);
    for name in CI_VARIABLES {
        cmd.env_remove(name);
    }
    output(cmd.envs(vars.iter().copied()).args(args))
}

#[test]
fn shard_auto_lists_the_part_each_cis_variables_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixed = ft_on_ci(dir.path(), &[], &["list", "--shard", "2/3"]);
    assert_eq!(fixed.code, 0, "{}", fixed.all());
    assert!(fixed.stdout.contains("3 scenarios"), "{}", fixed.all());
    let second_of_three: [&[(&str, &str)]; 4] = [
        &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")],
        &[("CIRCLE_NODE_INDEX", "1"), ("CIRCLE_NODE_TOTAL", "3")],
        &[("BUILDKITE_PARALLEL_JOB", "1"), ("BUILDKITE_PARALLEL_JOB_COUNT", "3")],
        &[("JOB_COMPLETION_INDEX", "1")],
    ];
    for vars in second_of_three {
        let shard = if vars[0].0 == "JOB_COMPLETION_INDEX" { "auto/3" } else { "auto" };
        let out = ft_on_ci(dir.path(), vars, &["list", "--shard", shard]);
        assert_eq!((out.code, &out.stdout), (0, &fixed.stdout), "{vars:?}\n{}", out.all());
    }
}

#[test]
fn shard_auto_runs_and_records_the_part_the_ci_names() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = [("CI_NODE_INDEX", "7"), ("CI_NODE_TOTAL", "7")];
    let out = ft_on_ci(dir.path(), &vars, &["--liveserver", &served.url, "--shard", "auto"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let record = read_json(&dir.path().join("reports/run.json"));
    assert_eq!(record["predicate"]["ft.run/v1"]["shard"], serde_json::json!({"index": 7, "total": 7}), "{record:#}");
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let listed = ft_on_ci(dir.path(), &[], &["list", "--shard", "7/7"]);
    let names: Vec<&str> = junit.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), 1, "{}", out.all());
    assert!(listed.stdout.starts_with(names[0]), "the part --shard 7/7 lists: {}", listed.all());
}

#[test]
fn shard_auto_without_a_cis_variables_or_out_of_range_is_a_usage_error_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = ft_on_ci(dir.path(), &[], &["run", "--shard", "auto"]);
    assert_eq!(none.code, 2, "{}", none.all());
    for name in CI_VARIABLES {
        assert!(none.stderr.contains(name), "{name}: {}", none.all());
    }
    assert!(!dir.path().join("reports").exists(), "refused before anything ran");

    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("CIRCLE_NODE_INDEX", "3"), ("CIRCLE_NODE_TOTAL", "3")],
            "CIRCLE_NODE_INDEX=3 is out of range for CIRCLE_NODE_TOTAL=3 (CircleCI counts from 0: 0 to 2)",
        ),
        (&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "3")], "CI_NODE_INDEX=0 is out of range"),
        (&[("JOB_COMPLETION_INDEX", "2")], "give it as --shard auto/N"),
    ];
    for (vars, want) in cases {
        let out = ft_on_ci(dir.path(), vars, &["run", "--shard", "auto"]);
        assert_eq!(out.code, 2, "{vars:?}\n{}", out.all());
        assert!(out.stderr.contains(want), "{vars:?}: {}", out.all());
    }

    // Not in ft.toml, not even `auto`: the file is read on laptops too, where no CI's
    // variables are set; the message says where a shard goes instead.
    std::fs::write(dir.path().join("ft.toml"), "[run]\nshard = \"auto\"\n").expect("write");
    let vars = [("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "2")];
    let out = ft_on_ci(dir.path(), &vars, &["run", "--liveserver", "http://127.0.0.1:9"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ft.toml:2:1: error: `shard` cannot be set in ft.toml's [run]"), "{}", out.all());
    assert!(out.stderr.contains("or --shard auto in the CI job"), "{}", out.all());
}
