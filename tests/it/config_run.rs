//! Issue 12: ft.toml's [run] table. Every run flag has a key; flag > environment > file
//! > default; a mistake is exit 2 at ft.toml:line:col, before any browser starts.

use crate::common;

use common::*;

fn header(out: &Output) -> String {
    out.stdout.lines().take(3).collect::<Vec<_>>().join("\n")
}

#[test]
fn run_settings_come_from_the_file_unless_a_flag_or_variable_gives_them() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ft.toml"),
        "[run]\nmax_wait = 7\nreports = \"from-file\"\nsensitive_url = \"^http://127\\\\.0\\\\.0\\\\.1\"\nsafe_tag = \"smoke\"\n",
    )
    .expect("ft.toml");
    let sub = dir.path().join("elsewhere");
    std::fs::create_dir(&sub).expect("mkdir");

    // From the file: its wait, its reports folder (relative to ft.toml's folder, as
    // `specs` is), its sensitive pattern (only smoke scenarios run, the rest skipped).
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--config", "ft.toml"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(header(&out).contains("max wait 7s"), "{}", out.all());
    assert!(dir.path().join("from-file/run.json").is_file(), "{}", out.all());
    assert!(out.stdout.contains("skipped on purpose"), "the file's sensitive_url applies\n{}", out.all());

    // A flag beats the file.
    let out = ft_in(dir.path(), &["--liveserver", &served.url, "--max-wait", "3", "--filter", "can start a to-do"]);
    assert!(header(&out).contains("max wait 3s"), "{}", out.all());

    // The environment beats the file: FT_SENSITIVE_URL names another server, so every
    // scenario runs here.
    let mut cmd = ft_command(dir.path());
    cmd.args(["--liveserver", &served.url]).env("FT_SENSITIVE_URL", "^https://superlists\\.example");
    let out = output(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains("skipped on purpose"), "{}", out.all());
    let junit = read_junit(&dir.path().join("from-file/junit.xml"));
    assert_eq!(junit.tests, LIST_SCENARIOS.len(), "the logins are left out: no fixtures or inbox for this server");
    assert_eq!(junit.skipped, 0);

    // The file is found from another folder with --config, its paths still relative to it.
    let out = ft_in(&sub, &["--liveserver", &served.url, "--config", "../ft.toml", "--filter", "can start a to-do"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(sub.join("../from-file/run.json").is_file());
}

#[test]
fn every_mistake_in_the_run_table_is_reported_at_its_place_before_any_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ft.toml"),
        "[run]\nmax_wiat = 30\nworkers = \"two\"\nliveserver = \"staging.example\"\nheaded = \"yes\"\n",
    )
    .expect("ft.toml");
    // A driver that does not exist: reaching it would be exit 3, not 2.
    let out = ft_in(dir.path(), &["--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let err = &out.stderr;
    assert!(
        err.contains("ft.toml:2:1")
            && err.contains("unknown key `max_wiat`")
            && err.contains("did you mean `max_wait`?"),
        "{err}"
    );
    assert!(err.contains("ft.toml:3:11") && err.contains("[run] workers"), "{err}");
    assert!(err.contains("ft.toml:4:1") && err.contains("`liveserver` cannot be set"), "{err}");
    assert!(err.contains("ft.toml:5:10") && err.contains("expected true or false"), "{err}");
    // ft deploy reads the same table.
    let out = ft_in(dir.path(), &["deploy", "--staging", "a.example", "--live", "b.example", "--deploy-cmd", "true"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ft.toml:2:1"), "{}", out.all());
}
