//! Fixtures (issue 25): server-side commands named in ft.toml, run as steps and as the
//! `[suite]` hooks, against the embedded target in a real browser. The commands are plain
//! shell: what they print, how they fail, what they leave running is read back here.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// A project folder: `ft.toml` (with `specs = "specs"`) and `specs/fixtures.toml`.
fn project(fixtures: &str, spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ft.toml"), format!("specs = \"specs\"\n\n[fixtures]\n{fixtures}"))
        .expect("ft.toml");
    std::fs::create_dir(dir.path().join("specs")).expect("specs");
    std::fs::write(dir.path().join("specs/fixtures.toml"), spec).expect("spec");
    dir
}

/// `ft run` in `dir` with its reports in `dir/reports`.
fn run(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["run", "--reports", "reports"];
    if !args.contains(&"--max-wait") {
        all.extend(["--max-wait", "5s"]);
    }
    all.extend(args);
    ft_in(dir, &all)
}

/// A path as a shell word inside a TOML basic string (temp paths hold no quote).
fn sh(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Every file under `dir`, with its text (lossy).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

#[test]
fn a_fixtures_output_is_typed_into_the_page_and_expected_there() {
    // The argument holds what a shell would expand or split: quoted, it arrives whole.
    let dir = project(
        "greet = \"printf 'item %s\\\\n' {word}\"\nversion = \"test -f {db} && {ft} --version\"\n",
        r##"
[[scenario]]
name = "a fixture's output becomes a list item"
steps = [
  { visit = "/" },
  { fixture = "greet", word = "it's $(echo not run) *", capture = "item" },
  { type = "${item}", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "1: item it's $(echo not run) *", in = "#id_list_table" },
  { fixture = "version", capture = "version", regex = '^ft (\S+)' },
  { type = "version ${version}", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "2: version 0.1.0", in = "#id_list_table" },
]
"##,
    );
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 passed"), "{}", out.all());
}

#[test]
fn a_fixture_exiting_3_fails_its_step_with_its_stderr() {
    let dir = project(
        "create_user = \"echo 'creating {email}'; echo \\\"no such host: staging\\\" >&2; exit 3\"\n",
        r#"
[[scenario]]
name = "the user cannot be created"
steps = [
  { visit = "/" },
  { fixture = "create_user", email = "edith@example.com" },
  { expect_title = "To-Do" },
]
"#,
    );
    let started = Instant::now();
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 1, "a failed fixture fails its scenario: {}", out.all());
    let all = out.all();
    assert!(all.contains("fixtures.toml:6:3"), "the step's position: {all}");
    assert!(all.contains("fixture `create_user` failed with exit code 3"), "{all}");
    assert!(all.contains("no such host: staging"), "its stderr is the evidence: {all}");
    assert!(!all.contains("creating edith"), "its stdout is not: {all}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_secret_printed_on_stderr_is_redacted_everywhere_written() {
    let dir = project(
        "mint = \"echo tok-81f3e2aa-secret\"\nleak = \"echo using key {key} >&2; exit 3\"\n\
         half = \"echo tok-5eed77c0-secret; echo made tok-5eed77c0-secret, then failed >&2; exit 2\"\n",
        r#"
[[scenario]]
name = "a key leaks into stderr"
steps = [
  { visit = "/" },
  { fixture = "mint", capture = "key", secret = true },
  { fixture = "leak", key = "${key}" },
  { expect_title = "To-Do" },
]

[[scenario]]
name = "a fixture prints its key, then fails"
steps = [
  { visit = "/" },
  { fixture = "half", capture = "key", secret = true },
  { expect_title = "To-Do" },
]
"#,
    );
    let out = run(dir.path(), &["--allure", "reports/allure"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(all.contains("using key [secret]"), "the stderr is shown, redacted: {all}");
    assert!(all.contains("made [secret], then failed"), "{all}");
    for secret in ["tok-81f3e2aa", "tok-5eed77c0"] {
        assert!(!all.contains(secret), "the secret is in no output: {all}");
    }
    let written = files_under(&dir.path().join("reports"));
    assert!(written.iter().any(|(p, _)| p.ends_with("run.json")), "{written:?}");
    for (path, text) in written {
        assert!(!text.contains("tok-81f3e2aa") && !text.contains("tok-5eed77c0"), "a secret is written in {path}");
    }
}

#[test]
fn a_fixture_sleeping_past_its_deadline_is_killed_with_its_children() {
    let pids = tempfile::tempdir().expect("tempdir");
    let file = pids.path().join("pids");
    let dir = project(
        "wedge = { command = \"sleep 60 & echo $! > {file}; echo $$ >> {file}; wait\", timeout = 1 }\n",
        r#"
[[scenario]]
name = "the server never answers"
steps = [
  { visit = "/" },
  { fixture = "wedge", file = "PIDS" },
  { expect_title = "To-Do" },
]
"#
        .replace("PIDS", &file.display().to_string())
        .as_str(),
    );
    let started = Instant::now();
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("did not finish within 1.0s and was killed"), "{}", out.all());
    assert!(started.elapsed() < Duration::from_secs(50), "not waited for: {:?}", started.elapsed());
    let written = std::fs::read_to_string(&file).expect("the fixture wrote its pids");
    let pids: Vec<u32> = written.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(pids.len(), 2, "{written}");
    eventually("the fixture's shell and its sleep to be gone", Duration::from_secs(5), || {
        pids.iter().all(|p| !alive(*p))
    });
}

#[test]
fn a_failing_before_all_stops_the_run_before_any_scenario() {
    let dir = project(
        "reset_database = \"echo 'database is locked' >&2; exit 4\"\n",
        r#"
[suite]
before_all = ["reset_database"]

[[scenario]]
name = "never starts"
steps = [{ visit = "/" }, { expect_title = "To-Do" }]
"#,
    );
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 3, "server-side set-up failing is infrastructure: {}", out.all());
    let all = out.all();
    assert!(all.contains("before_all hook at"), "{all}");
    assert!(all.contains("fixtures.toml:3:15"), "where it is named: {all}");
    assert!(all.contains("exit code 4") && all.contains("database is locked"), "{all}");
    assert!(!all.contains("never starts"), "no scenario ran: {all}");
}

#[test]
fn before_each_runs_before_every_attempt_retries_included_and_before_all_once() {
    let logs = tempfile::tempdir().expect("tempdir");
    let each = logs.path().join("each");
    let once = logs.path().join("once");
    let dir = project(
        &format!("count = \"echo attempt >> {}\"\nmark = \"echo once >> {}\"\n", sh(&each), sh(&once)),
        r#"
[suite]
before_all = ["mark"]
before_each = ["count"]

[[scenario]]
name = "passes"
steps = [{ visitor = "Edith" }, { visit = "/" }, { expect_title = "To-Do" }]

[[scenario]]
name = "always fails"
steps = [{ visit = "/" }, { expect_title = "Not this app" }]
"#,
    );
    let out = run(dir.path(), &["--retries", "1", "--max-wait", "3s", "--workers", "2"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let count = std::fs::read_to_string(&each).unwrap_or_default();
    assert_eq!(count.lines().count(), 3, "once for `passes`, twice for `always fails`: {count:?}");
    assert_eq!(std::fs::read_to_string(&once).unwrap_or_default(), "once\n");
    let all = out.all();
    assert!(all.contains("before_all: fixture `mark` ran in"), "the header says so: {all}");
    assert!(all.contains("warning: before_each (count) runs before every attempt while 2 workers"), "{all}");
    // The hook is the attempt's first step, at the hook's position.
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit");
    assert!(junit.contains("before_each: fixture count"), "{junit}");
}

#[test]
fn a_sensitive_target_skips_a_writing_before_all_and_runs_a_read_only_one() {
    let logs = tempfile::tempdir().expect("tempdir");
    let wiped = logs.path().join("wiped");
    let peeked = logs.path().join("peeked");
    let dir = project(
        &format!("wipe = \"touch {}\"\npeek = {{ command = \"touch {}\", writes = false }}\n", sh(&wiped), sh(&peeked)),
        r#"
[suite]
before_all = ["wipe", "peek"]

[[scenario]]
name = "home page"
tags = ["smoke"]
steps = [{ visit = "/" }, { expect_title = "To-Do" }]
"#,
    );
    let out = run(dir.path(), &["--sensitive-url", "^http://127\\.0\\.0\\.1"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!wiped.exists(), "a writing fixture never runs as before_all on a sensitive target");
    assert!(peeked.exists(), "a read-only one does");
    let all = out.all();
    assert!(all.contains("before_all: fixture `wipe` (") && all.contains("was not run: it writes"), "{all}");
    assert!(all.contains("matches --sensitive-url"), "and why: {all}");
}

#[test]
fn a_remote_target_using_an_unconfigured_fixture_exits_2_before_any_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("login.toml"),
        r#"
[[scenario]]
name = "logged in"
steps = [
  { visit = "/" },
  { fixture = "create_session", email = "edith@example.com", capture = "key", secret = true },
  { set_cookie = "sessionid", value = "${key}" },
  { expect_title = "To-Do" },
]
"#,
    )
    .expect("spec");
    // Nothing listens there: a preflight would fail with 3, a browser would be started
    // first; 2 (and at once) says the fixture was refused before either.
    let started = Instant::now();
    let out = ft_in(
        dir.path(),
        &["run", "--specs", "login.toml", "--liveserver", &format!("http://127.0.0.1:{}", free_port())],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    let all = out.all();
    assert!(all.contains("fixture `create_session` (used at login.toml:6:3) is not configured"), "{all}");
    assert!(all.contains("create_session = \"ssh elspeth@{host}"), "an example ft.toml line: {all}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// Needs the embedded app's `ft serve create-session` and `reset-database` (helper happ's
/// branch): the embedded target's default fixtures, with no ft.toml at all.
#[test]
fn the_embedded_targets_default_fixtures_log_a_visitor_in_without_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("login.toml"),
        r#"
[suite]
before_each = ["reset_database"]

[[scenario]]
name = "logged in by a session made on the server"
steps = [
  { visit = "/" },
  { fixture = "create_session", email = "edith@example.com", capture = "key", secret = true },
  { set_cookie = "sessionid", value = "${key}" },
  { visit = "/" },
  { expect_text_contains = "Logged in as edith@example.com", in = ".navbar" },
]
"#,
    )
    .expect("spec");
    let out = ft_in(dir.path(), &["run", "--specs", "login.toml", "--reports", "reports"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

// Load-time mistakes: each at its file:line:col, before any browser.

fn load_error(fixtures: &str, spec: &str) -> String {
    let dir = project(fixtures, spec);
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    out.stderr
}

#[test]
fn an_unknown_fixture_is_refused_at_its_name_with_a_suggestion() {
    let err = load_error(
        "reset_db = \"./reset.sh\"\n",
        "[[scenario]]\nname = \"x\"\nsteps = [\n  { fixture = \"reset_bd\" },\n  { expect_title = \"To-Do\" },\n]\n",
    );
    assert!(err.contains("fixtures.toml:4:15"), "{err}");
    assert!(err.contains("unknown fixture `reset_bd`") && err.contains("did you mean `reset_db`?"), "{err}");
}

#[test]
fn an_argument_the_command_does_not_use_and_a_placeholder_without_a_value_are_refused() {
    let err = load_error(
        "login = \"ssh elspeth@{host} manage.py create_session {email}\"\n",
        "[[scenario]]\nname = \"x\"\nsteps = [\n  { fixture = \"login\", emial = \"e@x.com\" },\n  { expect_title = \"To-Do\" },\n]\n",
    );
    assert!(err.contains("fixtures.toml:4:24"), "at the argument: {err}");
    assert!(err.contains("fixture `login`'s command does not use {emial}"), "{err}");
    assert!(err.contains("its command uses {email}"), "{err}");
    assert!(err.contains("fixture `login` needs `email`: its command uses {email}"), "{err}");
}

#[test]
fn a_hook_naming_a_fixture_with_arguments_is_refused() {
    let err = load_error(
        "login = \"./login.sh {email}\"\n",
        "[suite]\nbefore_each = [\"login\"]\n\n[[scenario]]\nname = \"x\"\nsteps = [{ expect_title = \"To-Do\" }]\n",
    );
    assert!(err.contains("fixtures.toml:2:16"), "{err}");
    assert!(err.contains("before_each runs fixtures without arguments, but `login`'s command uses {email}"), "{err}");
}

#[test]
fn a_bad_placeholder_in_ft_toml_is_refused_at_its_brace() {
    let dir = project(
        "reset = \"ssh {host} 'echo ${HOME}' {a,b}\"\n",
        "[[scenario]]\nname = \"x\"\nsteps = [{ expect_title = \"To-Do\" }]\n",
    );
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ft.toml:4:27"), "at the shell's ${{HOME}}: {}", out.stderr);
    assert!(out.stderr.contains("${HOME} would be the placeholder {HOME}"), "{}", out.stderr);
    assert!(out.stderr.contains("write ${{HOME}}"), "{}", out.stderr);
}

/// ft running a spec whose fixture (as a step, or as `before_all`) starts a child and
/// waits for ever; the fixture's pids are written to a file of the test's.
fn wedged(hook: bool) -> (Running, [tempfile::TempDir; 2], std::path::PathBuf) {
    let pids = tempfile::tempdir().expect("tempdir");
    let file = pids.path().join("pids");
    let fixtures = format!(
        "wedge = {{ command = \"sleep 120 & echo $! > {f}; echo $$ >> {f}; wait\", timeout = 300 }}\n",
        f = sh(&file)
    );
    let spec = if hook {
        "[suite]\nbefore_all = [\"wedge\"]\n\n[[scenario]]\nname = \"x\"\nsteps = [{ visit = \"/\" }, { expect_title = \"To-Do\" }]\n"
    } else {
        "[[scenario]]\nname = \"x\"\nsteps = [{ visit = \"/\" }, { fixture = \"wedge\" }, { expect_title = \"To-Do\" }]\n"
    };
    let dir = project(&fixtures, spec);
    let config = dir.path().join("ft.toml").display().to_string();
    let specs = dir.path().join("specs").display().to_string();
    let reports = dir.path().join("reports").display().to_string();
    let ft = Running::start(&["run", "--config", &config, "--specs", &specs, "--reports", &reports]);
    (ft, [dir, pids], file)
}

fn pids_in(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[test]
fn interrupting_ft_kills_a_running_fixture_with_its_children() {
    for hook in [false, true] {
        let (mut ft, _dirs, file) = wedged(hook);
        eventually("the fixture to start", Duration::from_secs(60), || pids_in(&file).len() == 2);
        let pids = pids_in(&file);
        ft.signal(libc::SIGINT);
        std::thread::sleep(Duration::from_millis(200));
        ft.signal(libc::SIGINT);
        let code = ft.wait();
        assert_eq!(code, 130, "stopped by the interrupt (before_all: {hook}): {:?}", ft.seen);
        eventually("the fixture's shell and its sleep to be gone", Duration::from_secs(5), || {
            pids.iter().all(|p| !alive(*p))
        });
    }
}

#[test]
fn every_mistake_of_a_fixture_step_and_of_the_fixtures_table_is_reported_at_once() {
    let err = load_error(
        "reset = \"./reset.sh\"\nlogin = \"./login.sh {email}\"\n",
        r#"[[scenario]]
name = "x"
steps = [
  { fixture = "reset", regex = "k" },
  { fixture = "login", email = "e@x.com", host = "elsewhere" },
  { fixture = "reset", timeout = 0 },
  { fixture = "login", email = "e@x.com", capture = "attempt" },
  { expect_title = "To-Do" },
]
"#,
    );
    assert!(err.contains("fixtures.toml:4:24: error: `regex` goes with `capture`"), "{err}");
    assert!(err.contains("fixtures.toml:5:43: error: fixture `login`'s command does not use {host}"), "{err}");
    assert!(err.contains("{host} is filled in by ft from the target"), "{err}");
    assert!(err.contains("fixtures.toml:6:34: error: `timeout` is seconds"), "{err}");
    assert!(err.contains("fixtures.toml:7:53: error: `attempt` is a built-in value"), "{err}");
    let dir = project(
        "a = 3\nb = { command = \"x\", writes = \"no\" }\nc = { command = \"x\", retries = 2 }\n",
        "[[scenario]]\nname = \"x\"\nsteps = [{ expect_title = \"To-Do\" }]\n",
    );
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    for expected in [
        "ft.toml:4:5: error: [fixtures] `a` is integer, expected a command",
        "ft.toml:5:5: error: [fixtures] `b`: `writes` is true or false",
        "ft.toml:6:5: error: [fixtures] `c` does not take `retries`",
    ] {
        assert!(out.stderr.contains(expected), "{expected}: {}", out.stderr);
    }
}

#[test]
fn a_remote_targets_host_port_and_url_fill_in_a_configured_fixture() {
    let served = Served::start(&[]);
    let dir = project(
        "where = \"echo {host} {port} {url}\"\n",
        r##"
[[scenario]]
name = "the fixture knows the target"
steps = [
  { visit = "/" },
  { fixture = "where", capture = "where" },
  { type = "${where}", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "1: EXPECTED", in = "#id_list_table" },
]
"##
        .replace("EXPECTED", &{
            let port = served.url.rsplit(':').next().expect("a port").to_string();
            format!("127.0.0.1 {port} {}", served.url)
        })
        .as_str(),
    );
    let out = run(dir.path(), &["--liveserver", &served.url]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_remote_target_refuses_a_fixture_using_the_embedded_database() {
    let dir = project(
        "reset_database = \"sqlite3 {db} 'delete from lists_item'\"\n",
        "[suite]\nbefore_all = [\"reset_database\"]\n\n[[scenario]]\nname = \"x\"\nsteps = [{ expect_title = \"To-Do\" }]\n",
    );
    let out = run(dir.path(), &["--liveserver", &format!("http://127.0.0.1:{}", free_port())]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("fixture `reset_database` (used at specs/fixtures.toml:2:15) uses {db}"),
        "{}",
        out.stderr
    );
}

/// A fixture (or a `before_all` hook) that prints the inbox password on stderr shows it as
/// `[secret]`: the password is hidden wherever a step's output could carry it.
#[test]
fn the_inbox_password_a_fixture_prints_is_redacted() {
    let leak = "leak = \"echo logging in with $FT_INBOX_PASSWORD >&2; exit 1\"\n";
    let dir = project(
        leak,
        r#"
[[scenario]]
name = "a fixture prints the inbox password"
steps = [
  { visit = "/" },
  { fixture = "leak" },
  { expect_title = "To-Do" },
]
"#,
    );
    let password = "pw-7c1e0b93-inbox";
    let mut cmd = ft_command(dir.path());
    cmd.args(["run", "--reports", "reports", "--inbox", "imap://tests@127.0.0.1:9/INBOX"])
        .env("FT_INBOX_PASSWORD", password);
    let out = output(&mut cmd);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("logging in with [secret]"), "{}", out.all());
    assert!(!out.all().contains(password), "{}", out.all());
    for (path, text) in files_under(&dir.path().join("reports")) {
        assert!(!text.contains(password), "the password is written in {path}");
    }
    // The same as a before_all hook: the run's error shows it redacted.
    let hooked = project(leak, "[suite]\nbefore_all = [\"leak\"]\n\n[[scenario]]\nname = \"n\"\nsteps = [ { visit = \"/\" }, { expect_title = \"To-Do\" } ]\n");
    let mut cmd = ft_command(hooked.path());
    cmd.args(["run", "--reports", "reports", "--inbox", "imap://tests@127.0.0.1:9/INBOX"])
        .env("FT_INBOX_PASSWORD", password);
    let out = output(&mut cmd);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.all().contains("logging in with [secret]"), "{}", out.all());
    assert!(!out.all().contains(password), "{}", out.all());
}
