//! Deploy, restart and rollback commands: run through `sh -c` with a deadline, their
//! output streamed to the console and kept in a log file under the reports folder; a
//! second Ctrl-C / SIGTERM to ft stops one at once.
//!
//! Output is bytes, not text: a deploy tool may print anything (a Latin-1 name, a binary
//! blob). Every line is read to the end of the pipe, shown lossily (`String::from_utf8_lossy`)
//! and logged; a pipe is never closed while the command runs, or its next write would
//! kill it with SIGPIPE half-way through a deploy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

use crate::shared::process::signal_group;

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
    /// Stopped by a second Ctrl-C / SIGTERM to ft.
    Interrupted,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exit code {code}"),
            Ended::Signalled => f.write_str("killed by a signal"),
            Ended::TimedOut(t) => write!(f, "no end within {t:?} (killed)"),
            Ended::Interrupted => f.write_str("stopped by a second interrupt"),
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

/// How long a command stopped by a second signal gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Run `command` with `env` added; echo each output line to `console` and append it
/// to `log` (replaced). The command runs in its own process group, killed whole on time-out.
///
/// `interrupts` counts Ctrl-C / SIGTERM, as for a run: at the first the command is left
/// to finish (a deploy cut off half-way leaves a server in a state nobody tested; the
/// pipeline stops after it), and the console says so; at the second its process group
/// gets SIGTERM, then SIGKILL after `STOP_GRACE`.
pub async fn run(
    command: &str,
    env: &[(&str, String)],
    log: &Path,
    timeout: Duration,
    console: &mut dyn Write,
    mut interrupts: watch::Receiver<u32>,
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
    let mut out = child.stdout.take().map(Lines::new);
    let mut err = child.stderr.take().map(Lines::new);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ended: Option<Ended> = None;
    // Once the command has exited, what is left in the pipes is read for a moment more;
    // a daemon it started may hold them open for ever.
    let mut drain_until: Option<tokio::time::Instant> = None;
    let (mut listening, mut noted, mut stopping) = (true, false, false);
    // Set by a second signal: when the group gets SIGKILL if it is still there.
    let mut kill_at: Option<tokio::time::Instant> = None;
    // Until the command has exited and its output is read (or the drain time is up).
    while ended.is_none() || out.is_some() || err.is_some() {
        let until = drain_until.unwrap_or(deadline);
        let line = tokio::select! {
            l = async { out.as_mut()?.next().await }, if out.is_some() => match l { Some(l) => l, None => { out = None; continue } },
            l = async { err.as_mut()?.next().await }, if err.is_some() => match l { Some(l) => l, None => { err = None; continue } },
            status = child.wait(), if ended.is_none() => {
                ended = Some(match status {
                    _ if stopping => Ended::Interrupted,
                    Ok(s) => s.code().map_or(Ended::Signalled, Ended::Exited),
                    Err(_) => Ended::Signalled,
                });
                drain_until = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                continue;
            }
            changed = interrupts.changed(), if listening && !stopping && ended.is_none() => {
                let count = if changed.is_ok() { *interrupts.borrow_and_update() } else { 0 };
                listening = changed.is_ok();
                if count >= 2 {
                    signal_group(pgid, libc::SIGTERM);
                    stopping = true;
                    kill_at = Some(tokio::time::Instant::now() + STOP_GRACE);
                    format!("ft: stopping `{command}` (second interrupt): SIGTERM now, SIGKILL in {}s", STOP_GRACE.as_secs())
                } else if count == 1 && !noted {
                    noted = true;
                    "ft: interrupted: letting this command finish, then stopping; interrupt again to stop it now".to_string()
                } else {
                    continue;
                }
            }
            () = async { tokio::time::sleep_until(kill_at.unwrap_or(deadline)).await }, if kill_at.is_some() && ended.is_none() => {
                signal_group(pgid, libc::SIGKILL);
                kill_at = None;
                continue;
            }
            () = tokio::time::sleep_until(until) => break,
        };
        // The log keeps what was said; the console shows it with control characters
        // escaped, so a command's output cannot forge or hide one of ft's own lines.
        let _ = writeln!(console, "    | {}", crate::shared::terminal::escape_line(&line));
        writeln!(file, "{line}").map_err(log_err)?;
    }
    let ended = match ended {
        Some(e) => e,
        None => {
            signal_group(pgid, libc::SIGKILL);
            let _ = child.wait().await;
            Ended::TimedOut(timeout)
        }
    };
    writeln!(file, "# {ended} after {:.1}s", start.elapsed().as_secs_f64()).map_err(log_err)?;
    let _ = console.flush();
    Ok(CommandRun { ended, took: start.elapsed(), log: log.to_path_buf() })
}

/// The longest line kept whole; a longer one is cut into lines of this length, so a
/// command printing megabytes without a line break costs no more memory than this.
const MAX_LINE: usize = 16 * 1024;

/// A pipe's output as lines of text: split at `\n` (or every `MAX_LINE` bytes), invalid
/// UTF-8 replaced, read to the end whatever the bytes.
struct Lines<R> {
    reader: BufReader<R>,
    /// The line read so far: kept here, not in the future, so that `next` can be
    /// cancelled (in a `select!`) at its await without losing what it read.
    line: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    fn new(pipe: R) -> Self {
        Lines { reader: BufReader::new(pipe), line: Vec::new() }
    }

    /// The next line; `None` at the end of the pipe (or if reading it fails, which
    /// leaves nothing more to read).
    async fn next(&mut self) -> Option<String> {
        loop {
            let available = match self.reader.fill_buf().await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => &[],
            };
            if available.is_empty() {
                return (!self.line.is_empty()).then(|| self.take());
            }
            let room = MAX_LINE - self.line.len();
            let chunk = &available[..available.len().min(room)];
            match chunk.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.line.extend_from_slice(&chunk[..end]);
                    self.reader.consume(end + 1);
                    return Some(self.take());
                }
                None => {
                    let n = chunk.len();
                    self.line.extend_from_slice(chunk);
                    self.reader.consume(n);
                    if self.line.len() >= MAX_LINE {
                        return Some(self.take());
                    }
                }
            }
        }
    }

    fn take(&mut self) -> String {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8_lossy(&line).into_owned()
    }
}
