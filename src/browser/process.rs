//! Driver processes: chromedriver and geckodriver started on a free loopback port, each
//! in its own process group (registered with the reaper) so its browsers die with it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::task::JoinHandle;

use super::reaper::{kill_group, Leftover, Reaper};
use super::BrowserError;

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

/// A driver ft started; its process group stays registered with the reaper until it is killed.
pub(super) struct DriverProcess {
    child: tokio::process::Child,
    /// The driver's pid, which is also its process group's id.
    pid: i32,
    /// Keeps reading the driver's output so a full pipe never blocks it.
    drain: JoinHandle<()>,
    reaper: Reaper,
}

impl DriverProcess {
    /// Start a driver on a free loopback port, in its own process group, and wait
    /// (bounded) until it says where it listens.
    pub(super) async fn spawn(kind: &DriverKind, path: &Path, reaper: &Reaper) -> Result<(Self, u16), BrowserError> {
        let mut cmd = tokio::process::Command::new(path);
        cmd.args(kind.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so the browsers it starts can be killed with it.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the driver
        // if ft dies without cleaning up (e.g. SIGKILL), so no driver outlives ft.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let driver = kind.name;
        let mut child =
            cmd.spawn().map_err(|source| BrowserError::DriverSpawn { driver, path: path.to_path_buf(), source })?;
        let pid = child.id().map_or(0, |p| p as i32);
        let Some(stdout) = child.stdout.take() else {
            kill_group(pid);
            let _ = child.kill().await;
            let (path, output) = (path.to_path_buf(), "no stdout".into());
            return Err(BrowserError::DriverNoPort { driver, path, timeout: Duration::ZERO, output });
        };
        let mut lines = BufReader::new(stdout).lines();
        let timeout = Duration::from_secs(20);
        let mut seen = String::new();
        let port = tokio::time::timeout(timeout, async {
            while let Ok(Some(line)) = lines.next_line().await {
                seen.push_str(&line);
                seen.push('\n');
                if let Some(port) = (kind.port)(&line) {
                    return Some(port);
                }
            }
            None
        })
        .await;
        let Ok(Some(port)) = port else {
            kill_group(pid);
            let _ = child.kill().await;
            let (path, output) = (path.to_path_buf(), seen.trim().to_string());
            return Err(BrowserError::DriverNoPort { driver, path, timeout, output });
        };
        let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        reaper.track(Leftover::Group(pid));
        Ok((DriverProcess { child, pid, drain, reaper: reaper.clone() }, port))
    }

    /// True while the driver runs.
    pub(super) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kill the driver and everything in its process group (the browsers it started),
    /// without waiting; the child's exit is collected by tokio (`kill_on_drop`).
    pub(super) fn kill_now(&mut self) {
        self.drain.abort();
        self.reaper.end_now(vec![Leftover::Group(self.pid)]);
    }

    /// Kill the driver and its process group, and wait until the driver has exited.
    pub(super) async fn kill(mut self) {
        self.kill_now();
        let _ = self.child.kill().await;
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
