//! Driver processes: chromedriver and geckodriver started on a free loopback port, each
//! under a guard (`guard`) that ends it with its browsers when ft lets go of it or dies.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::task::JoinHandle;

use super::driver_guard::{members, parse_stat, DRIVER_PID, GUARD_ARG, SPAWN_ERROR};
use super::reaper::kill_group;
use super::BrowserError;

/// How many times a driver that lost the race for its port is started.
const PORT_RACE_TRIES: u32 = 3;

/// What a driver is and how it says which port it listens on.
pub(super) struct DriverKind {
    name: &'static str,
    args: &'static [&'static str],
    /// The port, from one line of the driver's output, once it is ready.
    port: fn(&str) -> Option<u16>,
}

pub(super) const CHROMEDRIVER: DriverKind =
    DriverKind { name: "chromedriver", args: &["--port=0"], port: chromedriver_port };

/// `--port 0` lets the system pick a free port (no race with another process); the
/// BiDi websocket port likewise, so parallel runs do not fight over geckodriver's 9222.
pub(super) const GECKODRIVER: DriverKind =
    DriverKind { name: "geckodriver", args: &["--port", "0", "--websocket-port", "0"], port: geckodriver_port };

/// "ChromeDriver was started successfully on port 41235."
fn chromedriver_port(line: &str) -> Option<u16> {
    let rest = line.split("on port ").nth(1)?;
    let port = rest.trim_end_matches('.').trim().parse::<u16>().ok()?;
    line.contains("successfully").then_some(port)
}

/// "1795676262985<TAB>geckodriver<TAB>INFO<TAB>Listening on 127.0.0.1:44397"
fn geckodriver_port(line: &str) -> Option<u16> {
    let addr = line.split("Listening on ").nth(1)?.trim();
    addr.rsplit_once(':')?.1.parse::<u16>().ok()
}

/// A driver ft started, under its guard (see `guard`): the guard is ft's child, the driver's
/// parent and the leader of the process group the driver and its browsers run in.
pub(super) struct DriverProcess {
    guard: tokio::process::Child,
    /// The guard's pid, which is also the id of the process group it leads.
    pid: i32,
    /// The driver's pid (the guard's child).
    driver: i32,
    /// The write end of the guard's lifeline: closing it (or ft dying) ends the driver
    /// with everything it started.
    lifeline: Option<tokio::process::ChildStdin>,
    /// Keeps reading the driver's output so a full pipe never blocks it.
    drain: JoinHandle<()>,
}

impl DriverProcess {
    /// Start a driver under a guard on a free loopback port, and wait (bounded) until it
    /// says where it listens. chromedriver given port 0 picks a port and then binds it
    /// (IPv4, then IPv6) itself: another process may take it in between, and chromedriver
    /// exits with "port not available". That is a race lost, not a broken driver: it is
    /// started again, a few times.
    pub(super) async fn spawn(kind: &DriverKind, path: &Path) -> Result<(Self, u16), BrowserError> {
        let mut tries = 1;
        loop {
            match Self::spawn_once(kind, path).await {
                Err(BrowserError::DriverNoPort { output, .. })
                    if tries < PORT_RACE_TRIES && output.contains("port not available") =>
                {
                    tries += 1;
                }
                done => return done,
            }
        }
    }

    async fn spawn_once(kind: &DriverKind, path: &Path) -> Result<(Self, u16), BrowserError> {
        // ft itself, as the guard: `/proc/self/exe` is this very binary even if the file
        // was replaced since (a rebuild during a run).
        let mut cmd = tokio::process::Command::new("/proc/self/exe");
        cmd.arg0("ft")
            .arg(GUARD_ARG)
            .arg(std::process::id().to_string())
            .arg(path)
            .args(kind.args)
            // The lifeline: a pipe whose write end only ft holds (close-on-exec, so no
            // other child inherits it).
            .stdin(Stdio::piped())
            // The driver's own stdout: the guard passes it on untouched.
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Never SIGKILL the guard: it is what cleans up (see `kill`).
            .kill_on_drop(false)
            // Its own process group, led by the guard: a terminal's Ctrl-C (for ft to
            // handle) or a kill of ft's group does not reach it.
            .process_group(0);
        let driver = kind.name;
        let spawn_err = |source| BrowserError::DriverSpawn { driver, path: path.to_path_buf(), source };
        let mut guard = cmd.spawn().map_err(spawn_err)?;
        let pid = guard.id().map_or(0, |p| p as i32);
        let lifeline = guard.stdin.take();
        let stdout = guard.stdout.take();
        let mut process = DriverProcess { guard, pid, driver: 0, lifeline, drain: tokio::spawn(async {}) };
        let Some(stdout) = stdout else {
            process.kill().await;
            let (path, output) = (path.to_path_buf(), "no stdout".into());
            let why = "gave ft no output to read its port from".to_string();
            return Err(BrowserError::DriverNoPort { driver, path, why, output });
        };
        let mut lines = BufReader::new(stdout).lines();
        let timeout = Duration::from_secs(20);
        let mut seen = String::new();
        // The guard's line with the driver's pid and the driver's with its port, in either order.
        let (mut driver_pid, mut port) = (None, None);
        let port = tokio::time::timeout(timeout, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(errno) = line.strip_prefix(SPAWN_ERROR).and_then(|n| n.trim().parse::<i32>().ok()) {
                    return Err(std::io::Error::from_raw_os_error(errno));
                }
                if let Some(pid) = line.strip_prefix(DRIVER_PID).and_then(|n| n.trim().parse::<i32>().ok()) {
                    driver_pid = Some(pid);
                } else {
                    seen.push_str(&line);
                    seen.push('\n');
                    port = port.or((kind.port)(&line));
                }
                if let (Some(pid), Some(port)) = (driver_pid, port) {
                    return Ok(Some((pid, port)));
                }
            }
            Ok(None)
        })
        .await;
        let port = match port {
            Ok(Ok(Some((driver, port)))) => {
                process.driver = driver;
                port
            }
            Ok(Err(source)) => {
                process.kill().await;
                return Err(spawn_err(source));
            }
            Ok(Ok(None)) | Err(_) => {
                // The output ended (the driver exited) or the time ran out first.
                let why = match port {
                    Ok(_) => "exited without reporting a port".to_string(),
                    Err(_) => format!("did not report a port within {timeout:?}"),
                };
                process.kill().await;
                let (path, output) = (path.to_path_buf(), seen.trim().to_string());
                return Err(BrowserError::DriverNoPort { driver, path, why, output });
            }
        };
        process.drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok((process, port))
    }

    /// True while the driver runs. Its guard exits soon after it, but first sweeps up
    /// the driver's browsers: the driver itself is looked at, so a dead one is replaced at once.
    pub(super) fn is_running(&mut self) -> bool {
        matches!(self.guard.try_wait(), Ok(None)) && is_child_alive(self.driver, self.pid)
    }

    /// End the driver and everything it started, without waiting: its process group is
    /// killed at once (so a profile can be removed right after), and the closed lifeline
    /// tells the guard to kill whatever left the group and reap it all, then exit.
    pub(super) fn kill_now(&mut self) {
        self.drain.abort();
        kill_group_but_leader(self.pid);
        self.lifeline = None;
    }

    /// End the driver and everything it started, and wait (bounded) until its guard has
    /// reaped them all and exited.
    pub(super) async fn kill(mut self) {
        self.kill_now();
        if tokio::time::timeout(Duration::from_secs(15), self.guard.wait()).await.is_err() {
            // A guard that does not exit is stuck itself: the group goes with it.
            kill_group(self.pid);
            let _ = self.guard.wait().await;
        }
    }
}

/// True when `pid` is alive (not a zombie) and still `parent`'s child (not a reused pid).
fn is_child_alive(pid: i32, parent: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    parse_stat(&stat).is_some_and(|(state, ppid, _)| state != 'Z' && ppid == parent)
}

/// SIGKILL every live process in the group `leader` leads, but not the leader itself
/// (a guard, which still has to reap them and sweep up what left the group).
fn kill_group_but_leader(leader: i32) {
    if leader <= 0 {
        return;
    }
    for pid in members(leader, Some(leader)) {
        // SAFETY: kill(2); a pid that just exited only yields ESRCH.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_say_their_port_in_their_own_words() {
        assert_eq!(chromedriver_port("ChromeDriver was started successfully on port 41235."), Some(41235));
        assert_eq!(chromedriver_port("Starting ChromeDriver 156 on port 0"), None);
        assert_eq!(geckodriver_port("1795676262985\tgeckodriver\tINFO\tListening on 127.0.0.1:44397"), Some(44397));
        assert_eq!(geckodriver_port("1795676262985\tgeckodriver\tINFO\tsomething else"), None);
    }
}
