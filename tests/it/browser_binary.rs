//! Which Chromium a local run starts: headless, a headless shell on PATH first (the same
//! engine at less than half the CPU per session), the full browser otherwise;
//! `--browser-binary` (a path, or a name looked for on PATH) always wins.

use crate::common;

use std::path::Path;

use common::*;

/// The `browser:` line of the run's header.
fn browser_line(out: &Output) -> String {
    out.stdout.lines().find(|l| l.trim_start().starts_with("browser: ")).unwrap_or_default().trim().to_string()
}

/// A PATH of one folder linking `names` to the binaries they stand for.
fn path_of(dir: &Path, links: &[(&str, &str)]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    for (name, target) in links {
        std::os::unix::fs::symlink(target, bin.join(name)).expect("symlink");
    }
    bin.display().to_string()
}

#[test]
fn a_headless_run_starts_chromium_s_headless_shell_when_one_is_installed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--tag", "smoke", "--no-progress"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(browser_line(&out).starts_with("browser: chrome-headless-shell "), "{}", out.stdout);
    let named = ft_in(dir.path(), &["--tag", "smoke", "--no-progress", "--browser-binary", "chromium"]);
    assert_eq!(named.code, 0, "{}", named.all());
    assert!(browser_line(&named).starts_with("browser: chrome "), "the full browser, by name: {}", named.stdout);
}

#[test]
fn without_a_headless_shell_on_path_the_full_chromium_runs_headless() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path =
        path_of(dir.path(), &[("chromium", "/usr/lib/chromium/chromium"), ("chromedriver", "/usr/bin/chromedriver")]);
    let out = output(ft_command(dir.path()).env("PATH", path).args(["--tag", "smoke", "--no-progress"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(browser_line(&out).starts_with("browser: chrome "), "{}", out.stdout);
}

#[test]
fn a_browser_binary_named_but_not_on_path_is_exit_3_saying_where_ft_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--tag", "smoke", "--browser-binary", "no-such-chromium"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("--browser-binary no-such-chromium (on PATH)"), "{}", out.stderr);
}
