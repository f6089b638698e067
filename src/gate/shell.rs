//! Deploy, restart and rollback commands: run through `sh -c` with a deadline, their
//! output streamed to the console and kept in a log file under the reports folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("failed to start `{command}`")]
    Spawn { command: String, source: std::io::Error },
    #[error("failed to write the command log {}", path.display())]
    Log { path: PathBuf, source: std::io::Error },
}

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signalled,
    TimedOut(Duration),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exit code {code}"),
            Ended::Signalled => f.write_str("killed by a signal"),
            Ended::TimedOut(t) => write!(f, "no end within {t:?} (killed)"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CommandRun {
    pub ended: Ended,
    pub took: Duration,
    pub log: PathBuf,
}

impl CommandRun {
    pub fn ok(&self) -> bool {
        self.ended == Ended::Exited(0)
    }
}

/// Run `command` with `env` added; echo each output line to `console` and append it
/// to `log` (replaced). The command runs in its own process group, killed whole on time-out.
pub async fn run(
    command: &str,
    env: &[(&str, String)],
    log: &Path,
    timeout: Duration,
    console: &mut dyn Write,
) -> Result<CommandRun, ShellError> {
    let log_err = |source| ShellError::Log { path: log.to_path_buf(), source };
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(log_err)?;
    }
    let mut file = std::fs::File::create(log).map_err(log_err)?;
    writeln!(file, "$ {command}").map_err(log_err)?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(command).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    cmd.kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ShellError::Spawn { command: command.to_string(), source })?;
    let pgid = child.id().map_or(0, |p| p as i32);
    let mut out = child.stdout.take().map(|s| BufReader::new(s).lines());
    let mut err = child.stderr.take().map(|s| BufReader::new(s).lines());
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ended: Option<Ended> = None;
    // Once the command has exited, what is left in the pipes is read for a moment more;
    // a daemon it started may hold them open for ever.
    let mut drain_until: Option<tokio::time::Instant> = None;
    while out.is_some() || err.is_some() {
        let until = drain_until.unwrap_or(deadline);
        let line = tokio::select! {
            l = async { out.as_mut()?.next_line().await.ok().flatten() }, if out.is_some() => match l { Some(l) => l, None => { out = None; continue } },
            l = async { err.as_mut()?.next_line().await.ok().flatten() }, if err.is_some() => match l { Some(l) => l, None => { err = None; continue } },
            status = child.wait(), if ended.is_none() => {
                ended = Some(match status {
                    Ok(s) => s.code().map_or(Ended::Signalled, Ended::Exited),
                    Err(_) => Ended::Signalled,
                });
                drain_until = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                continue;
            }
            () = tokio::time::sleep_until(until) => break,
        };
        let _ = writeln!(console, "    | {line}");
        writeln!(file, "{line}").map_err(log_err)?;
    }
    let ended = match ended {
        Some(e) => e,
        None => match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(Ok(status)) => status.code().map_or(Ended::Signalled, Ended::Exited),
            Ok(Err(_)) => Ended::Signalled,
            Err(_) => {
                kill_group(pgid);
                let _ = child.wait().await;
                Ended::TimedOut(timeout)
            }
        },
    };
    writeln!(file, "# {ended} after {:.1}s", start.elapsed().as_secs_f64()).map_err(log_err)?;
    let _ = console.flush();
    Ok(CommandRun { ended, took: start.elapsed(), log: log.to_path_buf() })
}

fn kill_group(pgid: i32) {
    if pgid > 0 {
        // SAFETY: plain syscall; a stale group only yields ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}
