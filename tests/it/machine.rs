//! Issue 12: what tools and shells read from ft: the JSON event stream, `ft list --format
//! json`, completion scripts, and colour as the flag and the environment decide.

use crate::common;

use common::*;

#[test]
fn message_format_json_streams_every_event_as_a_json_line_and_people_read_stderr() {
    let served = Served::start(&["wrong-title"]);
    let dir = tempfile::tempdir().expect("tempdir");
    // The two smoke scenarios: the title defect fails one, the other passes.
    let smoke = ["--tag", "smoke"];
    let out = ft_in(
        dir.path(),
        &[&["--liveserver", &served.url, "--max-wait", "3", "--message-format", "json"][..], &smoke].concat(),
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{}", out.all())))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().expect("an event name")).collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"), "{kinds:?}");
    let finished: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "scenario_finished").collect();
    assert_eq!(finished.len(), 2, "one per scenario");
    assert_eq!(kinds.iter().filter(|k| **k == "scenario_started").count(), 2);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    for e in &finished {
        let name = e["scenario"].as_str().expect("name");
        let failed = junit.failed_names().iter().any(|n| n == name);
        assert_eq!(e["outcome"], if failed { "failed" } else { "passed" }, "{e}");
        if failed {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "a failure says why: {e}");
            assert!(!e["evidence"].as_array().expect("evidence").is_empty(), "and where its evidence is: {e}");
        }
    }
    let end = events.last().expect("run_finished");
    assert_eq!(
        (end["verdict"].as_str(), end["failed"].as_u64(), end["green"].as_bool()),
        (Some("failed"), Some(1), Some(false))
    );
    assert!(out.stderr.contains("NOT OK (failed): 2 scenarios"), "people's summary is on stderr\n{}", out.all());
}

#[test]
fn list_as_json_names_what_the_text_list_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = ft_in(dir.path(), &["list", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.all());
    let list: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("a JSON array");
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().expect("name")).collect();
    assert_eq!(names.len(), SCENARIOS.len());
    for name in SCENARIOS {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(list.iter().all(|s| s["line"].as_u64().is_some() && s["tags"].is_array() && s["file"].is_string()));
    // A shard's part, as `ft run --shard` would run it.
    let part = ft_in(dir.path(), &["list", "--format", "json", "--shard", "1/2"]);
    let part: Vec<serde_json::Value> = serde_json::from_str(&part.stdout).expect("a JSON array");
    assert_eq!(part.len(), SCENARIOS.len().div_ceil(2), "shard 1 of 2 runs every other scenario");
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish"] {
        let out = ft_in(dir.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.all());
        // fish writes long options as `-l liveserver`.
        for word in ["deploy", "gate", "merge", "liveserver", "shard", "max-failures"] {
            assert!(out.stdout.contains(word), "{shell}: {word} missing");
        }
    }
    let bad = ft_in(dir.path(), &["completions", "cmd.exe"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
}

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Colour shows in the run's headline (standard output is a pipe here, not a terminal).
    let served = Served::start(&[]);
    let summary = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = ft_command(dir.path());
        cmd.args(["--liveserver", &served.url, "--filter", "can start a to-do"]).args(args);
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        output(&mut cmd)
    };
    assert!(!summary(&[], &[]).stdout.contains('\x1b'), "not a terminal: no colour");
    let forced = summary(&[], &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains("\x1b[32;1mOK"), "CLICOLOR_FORCE forces it:\n{}", forced.all());
    assert!(
        !summary(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).stdout.contains('\x1b'),
        "NO_COLOR wins over it"
    );
    let flag = summary(&["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(flag.stdout.contains("\x1b[32;1mOK"), "the flag wins:\n{}", flag.all());
    assert!(!summary(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).stdout.contains('\x1b'));
}
