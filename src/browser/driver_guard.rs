//! The driver guard: ft re-executed as a tiny process between ft and each driver it starts,
//! so that no driver or browser outlives ft, whatever ends ft (SIGKILL and the OOM killer
//! included, which no cleanup inside ft can survive).
//!
//! The guard is the driver's parent, leads the process group the driver and its browsers
//! run in, and is a child subreaper (`PR_SET_CHILD_SUBREAPER`): a browser process that
//! leaves the group or loses its parent is re-parented to the guard, not to init. It ends
//! the driver with everything under it (`sweep`) and exits when any of these happens:
//!
//! - its lifeline reaches end-of-file: its stdin is a pipe whose write end only ft holds,
//!   so the kernel closes it when ft exits or dies, and ft closes it to stop the driver;
//! - ft's thread that started it dies (`PR_SET_PDEATHSIG`, a second channel; the race with
//!   ft dying before it is set is closed by re-checking the parent's pid);
//! - the driver exits by itself (its browsers would be orphans): the guard then exits too,
//!   which is how ft sees that the driver has died;
//! - SIGTERM, SIGINT or SIGHUP reach it.
//!
//! The driver and its browsers keep their temporary files (chromedriver's profile folders,
//! geckodriver's, Chromium's own) in a folder of the guard's (`TMPDIR`), removed once they
//! are all gone. chromedriver deletes a session's profile only some time after the session
//! ended, and not at all once killed, which is how ft ends it: every run used to leave a
//! profile in /tmp, the target's cached pages in it.
//!
//! It is synchronous and single-threaded (no runtime): one `poll` over the lifeline and a
//! `signalfd`, no timers on the normal path.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What the guard prints (on the driver's stdout, which ft reads) once the driver runs,
/// followed by the driver's pid: ft tells a dead driver from a live one by it, at once,
/// while the guard may still be sweeping up its browsers.
pub(super) const DRIVER_PID: &str = "ft-guard: driver ";

/// The hidden first argument that makes `ft` a guard (see `main_if_guard`).
pub(super) const GUARD_ARG: &str = "__ft_driver_guard";

/// What the guard prints (on the driver's stdout, which ft reads) when the driver could
/// not be started, followed by the OS error number.
pub(super) const SPAWN_ERROR: &str = "ft-guard: spawn error ";

/// For `main`, before anything else: when this process was started as a guard, be one
/// and return its exit code. `None` for every ordinary `ft` command line.
pub fn main_if_guard() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != GUARD_ARG {
        return None;
    }
    let parent = args.next().and_then(|p| p.into_string().ok()).and_then(|p| p.parse::<i32>().ok());
    let (Some(parent), Some(program)) = (parent, args.next()) else {
        eprintln!("ft: {GUARD_ARG} is internal to ft (usage: ft {GUARD_ARG} PARENT_PID PROGRAM [ARGS...])");
        return Some(ExitCode::from(crate::exit::USAGE));
    };
    Some(ExitCode::from(guard(parent, program, args.collect())))
}

/// Start `program` under this guard and end it with everything it started when told to,
/// when it exits, or when `parent` (ft) dies. The exit code is the driver's when it ended
/// by itself, 0 when it was ended.
fn guard(parent: i32, program: OsString, args: Vec<OsString>) -> u8 {
    set_name(c"ft-guard");
    let Some(signals) = SignalFd::new() else { return 3 };
    // SAFETY: plain prctl/getppid calls on this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
        // ft died before the death signal was armed: there is nobody to guard for.
        if libc::getppid() != parent {
            return 0;
        }
    }
    let mut cmd = std::process::Command::new(&program);
    cmd.args(&args).stdin(std::process::Stdio::null());
    // Removed when it drops: after the sweep below, or at once if the driver cannot start.
    // Without it (no writable TMPDIR) the driver picks its own, as it would without ft.
    let scratch = tempfile::Builder::new().prefix("ft-driver-").tempdir().ok();
    if let Some(dir) = &scratch {
        cmd.env("TMPDIR", dir.path());
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // The driver starts with no signal blocked (the guard blocks the ones it reads
            // from its signalfd), and dies with the guard should the guard be killed.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let driver = match cmd.spawn() {
        // `Child` is not waited on through std: the guard reaps every child itself.
        Ok(child) => {
            use std::io::Write;
            // One line in one write: a pipe keeps it whole among the driver's own lines.
            let _ = std::io::stdout().write_all(format!("{DRIVER_PID}{}\n", child.id()).as_bytes());
            child.id() as i32
        }
        Err(err) => {
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), "{SPAWN_ERROR}{}", err.raw_os_error().unwrap_or(0));
            return 127;
        }
    };
    let code = watch(driver, &signals);
    sweep(Duration::from_secs(10), &signals);
    drop(scratch);
    code
}

/// Wait until the guard must end the driver: the driver's exit code if it exited by itself.
fn watch(driver: i32, signals: &SignalFd) -> u8 {
    let mut fds = [
        libc::pollfd { fd: libc::STDIN_FILENO, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: signals.fd, events: libc::POLLIN, revents: 0 },
    ];
    loop {
        // SAFETY: `fds` is a valid array of two pollfd.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return 0;
        }
        if fds[0].revents != 0 && lifeline_ended() {
            return 0;
        }
        if fds[1].revents != 0 {
            match signals.read() {
                Some(libc::SIGCHLD) => {
                    if let Some(code) = reap_driver(driver) {
                        return code;
                    }
                }
                Some(_) => return 0,
                None => {}
            }
        }
    }
}

/// The lifeline is readable: true when it reached end-of-file (ft closed it or died).
fn lifeline_ended() -> bool {
    let mut buf = [0u8; 64];
    // SAFETY: reading into a local buffer of the given length.
    let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
    n == 0 || (n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted)
}

/// Reap every child that has exited; the driver's exit code if it was among them.
fn reap_driver(driver: i32) -> Option<u8> {
    let mut code = None;
    reap(|pid, status| {
        if pid == driver {
            code = Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status) as u8
            } else {
                128u8.wrapping_add(libc::WTERMSIG(status) as u8)
            });
        }
    });
    code
}

/// Reap every child that has exited, telling `each` its pid and status; whether any child
/// is left.
fn reap(mut each: impl FnMut(i32, i32)) -> bool {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            // 0: children left, none exited; -1 (ECHILD): no child at all.
            return pid == 0;
        }
        each(pid, status);
    }
}

/// Kill everything in the guard's process group but itself and every child it has
/// (browsers re-parented to it included), and reap them, until none is left or `limit`
/// has passed (a process stuck in the kernel cannot be helped). SIGKILL: a browser being
/// torn down has nothing to save.
fn sweep(limit: Duration, signals: &SignalFd) {
    // SAFETY: plain getters.
    let (me, group) = unsafe { (libc::getpid(), libc::getpgrp()) };
    // Only a group the guard leads is its own to kill (never ft's).
    let group = (group == me).then_some(group);
    let deadline = Instant::now() + limit;
    loop {
        let victims = members(me, group);
        for pid in &victims {
            // SAFETY: kill(2); a pid that just exited only yields ESRCH.
            unsafe {
                libc::kill(*pid, libc::SIGKILL);
            }
        }
        let children_left = reap(|_, _| {});
        if (victims.is_empty() && !children_left) || Instant::now() >= deadline {
            return;
        }
        // The next child to die wakes us; a bounded wait covers one that dies elsewhere.
        let mut fd = libc::pollfd { fd: signals.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut fd, 1, 20) } > 0 {
            let _ = signals.read();
        }
    }
}

/// Live processes other than `me` in `group` or whose parent is `me`, from /proc.
pub(super) fn members(me: i32, group: Option<i32>) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        if let Some((state, ppid, pgrp)) = parse_stat(&stat) {
            if state != 'Z' && (ppid == me || Some(pgrp) == group) {
                out.push(pid);
            }
        }
    }
    out
}

/// State, parent pid and process group from a /proc/PID/stat line. The command name is
/// in parentheses and may hold spaces or parentheses: the fields start after the last ')'.
pub(super) fn parse_stat(stat: &str) -> Option<(char, i32, i32)> {
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, ppid, pgrp))
}

fn set_name(name: &std::ffi::CStr) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0);
    }
}

/// SIGCHLD, SIGTERM, SIGINT and SIGHUP, blocked and read from a file descriptor, so one
/// `poll` waits for the lifeline and the signals together.
struct SignalFd {
    fd: i32,
}

impl SignalFd {
    fn new() -> Option<SignalFd> {
        // SAFETY: sigset manipulation on a local set, then sigprocmask/signalfd on it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                libc::sigaddset(&mut set, sig);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return None;
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            (fd >= 0).then_some(SignalFd { fd })
        }
    }

    /// The next pending signal, if any.
    fn read(&self) -> Option<i32> {
        // SAFETY: signalfd_siginfo is plain data; read fills at most its size.
        unsafe {
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let n = libc::read(self.fd, (&mut info as *mut libc::signalfd_siginfo).cast(), size);
            (n == size as isize).then_some(info.ssi_signo as i32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_state_parent_and_group_even_with_parentheses_in_the_name() {
        let stat = "4242 (chrome (renderer)) S 4200 4100 4100 0 -1 4194560 1 0 0 0";
        assert_eq!(parse_stat(stat), Some(('S', 4200, 4100)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_guard_finds_its_own_children_in_the_process_table() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep starts");
        let me = std::process::id() as i32;
        let found = members(me, None);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&(child.id() as i32)), "{found:?}");
    }
}
