//! Issue 23, the progress line: on a terminal (here a real pseudo-terminal from
//! openpty(3)) ft shows what is done, failed and running, redrawn in place; in a pipe,
//! with TERM=dumb, with --no-progress or `progress = false` in ft.toml, never.

use crate::common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// Erase the line and return to its start: how the progress line is redrawn.
const ERASE: &str = "\r\x1b[2K";

/// Run `cmd` with its stdout and stderr on a new pseudo-terminal 120 columns wide; its
/// exit code and everything it wrote there.
fn under_pty(cmd: &mut Command) -> (i32, String) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize { ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two descriptors into the ints it is given; no name, default termios.
    let made = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(made, 0, "openpty: {}", std::io::Error::last_os_error());
    // openpty(3) sets no close-on-exec: without it, every process another test starts
    // meanwhile would hold the terminal open, and so would keep the reader below waiting.
    for fd in [master, slave] {
        // SAFETY: fcntl on descriptors this function just opened.
        assert_ne!(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) }, -1, "fcntl");
    }
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let out = Stdio::from(slave.try_clone().expect("dup"));
    let mut child = KillOnDrop::new(cmd.stdout(out).stderr(Stdio::from(slave)).spawn().expect("ft starts"));
    // The command keeps what it was given for stdout and stderr: let go of the terminal's
    // side, so that the reader sees its end when ft (and what it started) has gone.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // The reader ends when no process holds the terminal any more (EIO) or at the deadline.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = seen.clone();
        let mut master = std::fs::File::from(master);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().expect("not poisoned").extend_from_slice(&buf[..n]);
            }
        })
    };
    let mut code = None;
    eventually("ft to exit", Duration::from_secs(120), || {
        code = child.try_wait().expect("try_wait").map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    let until = Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = String::from_utf8_lossy(&seen.lock().expect("not poisoned")).into_owned();
    (code.unwrap_or(-1), text)
}

fn ft_on_a_terminal(dir: &std::path::Path, args: &[&str], term: &str) -> (i32, String) {
    let mut cmd = ft_command(dir);
    cmd.args(["--filter", "can start a to-do"]).args(args).env("TERM", term).env("NO_COLOR", "1").env_remove("CI");
    under_pty(&mut cmd)
}

#[test]
fn a_terminal_shows_a_progress_line_with_what_is_running_and_the_result_lines_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, text) = ft_on_a_terminal(dir.path(), &[], "xterm-256color");
    assert_eq!(code, 0, "{text:?}");
    assert!(text.contains(&format!("{ERASE}[")), "the line is drawn in place: {text:?}");
    assert!(text.contains("0/1 done, 0 failed, 1 running: can start a to-do list"), "{text:?}");
    assert!(text.contains("1/1 done, 0 failed, 0 running"), "{text:?}");
    // The scenario's own line is printed on an erased line, whole.
    let pass = text.split('\n').find(|l| l.contains("PASS [")).unwrap_or_else(|| panic!("{text:?}"));
    assert!(pass.rsplit(ERASE).next().is_some_and(|l| l.trim_start().starts_with("PASS [")), "{pass:?}");
    assert!(pass.trim_end().ends_with("can start a to-do list"), "{pass:?}");
    // Erased before the summary: the last line is the summary's, no progress after it.
    let tail = text.rsplit(ERASE).next().unwrap_or_default();
    assert!(tail.contains("OK: 1 scenario") && !tail.contains("running"), "{tail:?}");
    // NO_COLOR: drawn without colour (the only escape sequence is the erase).
    assert!(!text.replace("\x1b[2K", "").contains('\x1b'), "{text:?}");
}

#[test]
fn no_progress_line_in_a_pipe_with_term_dumb_with_no_progress_or_progress_false() {
    let dir = tempfile::tempdir().expect("tempdir");
    let piped = output(ft_command(dir.path()).args(["--filter", "can start a to-do"]).env("TERM", "xterm"));
    assert_eq!(piped.code, 0, "{}", piped.all());
    let mut seen = vec![("a pipe", format!("{}{}", piped.stdout, piped.stderr))];
    for (why, args, term) in
        [("TERM=dumb", &[][..], "dumb"), ("--no-progress", &["--no-progress"][..], "xterm-256color")]
    {
        let (code, text) = ft_on_a_terminal(dir.path(), args, term);
        assert_eq!(code, 0, "{why}: {text:?}");
        seen.push((why, text));
    }
    std::fs::write(dir.path().join("ft.toml"), "[run]\nprogress = false\n").expect("write ft.toml");
    let (code, text) = ft_on_a_terminal(dir.path(), &[], "xterm-256color");
    assert_eq!(code, 0, "{text:?}");
    seen.push(("progress = false", text));
    for (why, text) in seen {
        assert!(text.contains("PASS ["), "{why}: the result lines are there: {text:?}");
        assert!(!text.contains("\x1b[2K") && !text.contains("running"), "{why}: no progress line: {text:?}");
    }
}
