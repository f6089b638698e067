//! Issue 24, hostile input: names, history lines and spec files written to break ft.
//! A name too long for any report, a history line from before the cap, control
//! characters in `ft flakes`, names that look alike but are encoded apart, and spec
//! "files" that never end (a FIFO, /dev/zero).

use std::path::Path;

use crate::common::*;

/// One scenario named `name`, as a spec file's text.
fn spec_named(name: &str) -> String {
    format!(
        "[[scenario]]\nname = {}\nsteps = [ {{ visit = \"/\" }}, {{ expect_title = \"To-Do\" }} ]\n",
        toml_string(name)
    )
}

/// `text` as a TOML basic string, every character outside printable ASCII escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A history line for `name`, as `ft run` appends it.
fn history_line(name: &str, outcome: &str) -> String {
    serde_json::json!({
        "run_started_at": chrono_now(),
        "scenario": name,
        "file": "specs/a.toml",
        "line": 1,
        "outcome": outcome,
        "seconds": 1.5,
        "attempts": 1,
        "commit": null,
        "target": "http://127.0.0.1:1",
    })
    .to_string()
}

/// Now, as RFC 3339, from `date` (the tests do not link chrono).
fn chrono_now() -> String {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().expect("date");
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8 path").to_string()
}

// Issue 24 finding 3: a 70,000-character name ran, landed in history.jsonl, and then
// `ft list` and `ft flakes` panicked ("Formatting argument out of range").
#[test]
fn a_name_longer_than_the_cap_is_a_spec_error_at_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = write(dir.path(), "long.toml", &spec_named(&"n".repeat(70_000)));
    let out = ft_in(dir.path(), &["list", "--specs", &spec]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{spec}:2:8: error: scenario name is 70000 characters long; the limit is 200")),
        "{}",
        out.stderr
    );
    // The cap itself is allowed, and listed.
    let spec = write(dir.path(), "long.toml", &spec_named(&"n".repeat(200)));
    let out = ft_in(dir.path(), &["list", "--specs", &spec]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_history_line_with_a_huge_name_is_shown_cut_and_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = [history_line(&"n".repeat(70_000), "failed"), history_line("short", "passed")];
    let history = write(dir.path(), "history.jsonl", &(lines.join("\n") + "\n"));
    let out = ft_in(dir.path(), &["flakes", "--history", &history]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let huge = out.stdout.lines().find(|l| l.starts_with("nnn")).expect("the long name's row");
    assert!(huge.starts_with(&format!("{}…  ", "n".repeat(200))), "{huge}");
    assert!(out.stdout.lines().any(|l| l.starts_with("short ")), "{}", out.stdout);
}

// Issue 24 finding 4: `ft flakes` printed names from the history raw.
#[test]
fn flakes_prints_control_characters_from_the_history_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evil = "x\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e} evil";
    let history = write(dir.path(), "history.jsonl", &(history_line(evil, "failed") + "\n"));
    let out = ft_in(dir.path(), &["flakes", "--history", &history]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(raw_controls(&out.stdout), Vec::<char>::new(), "{}", out.stdout.escape_debug());
    assert!(out.stdout.contains("x\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\u{202e} evil"), "{}", out.stdout);
}

// Issue 24 finding 16: `café` (NFC), `café` (NFD) and `café` + a zero-width space were
// three scenarios that every report showed alike.
#[test]
fn names_that_look_the_same_are_one_name_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = [spec_named("caf\u{e9}"), spec_named("cafe\u{301}"), spec_named("caf\u{e9}\u{200b}")].join("\n");
    let spec = write(dir.path(), "alike.toml", &text);
    let out = ft_in(dir.path(), &["list", "--specs", &spec]);
    assert_eq!(out.code, 2, "{}", out.all());
    for line in [6, 10] {
        let at = format!("{spec}:{line}:8: error: duplicate scenario name");
        let error = out.stderr.lines().find(|l| l.starts_with(&at)).unwrap_or_else(|| panic!("{at}\n{}", out.stderr));
        assert!(error.contains("look the same"), "{error}");
    }
    assert!(out.stderr.contains(&format!("it is first defined at {spec}:2:8")), "{}", out.stderr);
}

/// `ft ARGS` in `dir`, killed if it has not ended within 10 s (a hang is the bug).
fn ft_within_10s(dir: &Path, args: &[&str]) -> Output {
    let child = ft_command(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ft starts");
    let mut child = KillOnDrop::new(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        assert!(std::time::Instant::now() < deadline, "ft {args:?} still running after 10 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("read");
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read");
    let code = child.wait().expect("wait").code().unwrap_or(-1);
    Output { code, stdout, stderr }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

// Issue 24 finding 13: a FIFO among the specs hung `ft list` (and `ft gate`) forever.
#[test]
fn a_fifo_among_the_specs_is_refused_by_name_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).expect("mkdir");
    std::fs::write(specs.join("a.toml"), spec_named("fine")).expect("write");
    mkfifo(&specs.join("b.toml"));
    let out = ft_within_10s(dir.path(), &["list", "--specs", "specs"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("specs/b.toml: error: failed to read specs: this is a FIFO (named pipe), not a regular file"),
        "{}",
        out.stderr
    );
}

// ... and a link to /dev/zero (or --specs /dev/zero) grew ft by ~1 GB a second.
#[test]
fn dev_zero_as_a_spec_is_refused_by_name_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_within_10s(dir.path(), &["list", "--specs", "/dev/zero"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("/dev/zero: error: failed to read specs: this is a device, not a regular file"),
        "{}",
        out.stderr
    );

    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", specs.join("zero.toml")).expect("symlink");
    let out = ft_within_10s(dir.path(), &["list", "--specs", "specs"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("specs/zero.toml: error: failed to read specs: this is a device"), "{}", out.stderr);
}

#[test]
fn a_spec_file_over_the_size_cap_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = format!("{}# {}\n", spec_named("big"), "x".repeat(4 * 1024 * 1024));
    let spec = write(dir.path(), "big.toml", &big);
    let out = ft_within_10s(dir.path(), &["list", "--specs", &spec]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("big.toml: error: failed to read specs: the file is larger than 4 MiB"),
        "{}",
        out.stderr
    );
}

// Issue 24 findings 13 and 17: a symlink loop got the hint "check the file's permissions".
#[test]
fn a_symlink_loop_among_the_specs_gets_a_hint_about_the_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).expect("mkdir");
    std::os::unix::fs::symlink("b.toml", specs.join("a.toml")).expect("symlink");
    std::os::unix::fs::symlink("a.toml", specs.join("b.toml")).expect("symlink");
    let out = ft_within_10s(dir.path(), &["list", "--specs", "specs"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("specs/a.toml: error: failed to read specs:"), "{}", out.stderr);
    assert!(out.stderr.contains("hint: symbolic links here point at each other in a loop"), "{}", out.stderr);
    assert!(!out.stderr.contains("permissions"), "{}", out.stderr);
}

// The same hole in ft.toml: a FIFO there hung every command.
#[test]
fn a_fifo_as_ft_toml_is_refused_by_name_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("ft.toml"));
    let out = ft_within_10s(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "ft.toml: error: failed to read the config file: this is a FIFO (named pipe), not a regular file"
        ),
        "{}",
        out.stderr
    );
}

// The same hole one step on: a run record, envelope, key or certificate that is a FIFO or
// a device (`ft gate --record`, `--verify-key`, `--sign-key`, `--ca-cert`) hung or grew ft.
#[test]
fn a_fifo_or_a_device_as_a_record_key_or_certificate_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("run.json");
    mkfifo(&fifo);
    let fifo = fifo.display().to_string();
    let gate = ft_within_10s(dir.path(), &["gate", "--record", &fifo]);
    assert_eq!(gate.code, 2, "{}", gate.all());
    assert!(gate.stderr.contains("this is a FIFO (named pipe), not a regular file"), "{}", gate.all());
    let key = ft_within_10s(dir.path(), &["gate", "--record", &fifo, "--verify-key", "/dev/zero"]);
    assert_eq!(key.code, 2, "{}", key.all());
    assert!(key.stderr.contains("this is a device, not a regular file"), "{}", key.all());
    let ca = ft_within_10s(dir.path(), &["--liveserver", "https://127.0.0.1:9", "--ca-cert", "/dev/zero"]);
    assert_eq!(ca.code, 2, "{}", ca.all());
    assert!(ca.stderr.contains("this is a device, not a regular file"), "{}", ca.all());
}
