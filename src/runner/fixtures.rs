//! Fixtures run: a fixture's command filled in (every value shell-quoted), run through
//! `sh -c` as the leader of a process group of its own, with a deadline. Its stdout
//! (trimmed) is the value a step captures; its stderr, clipped and redacted, is the
//! evidence when it fails. The whole group is killed at the deadline, and whenever ft
//! stops waiting for it (a second interrupt, the end of the grace period, the scenario's
//! deadline): dropping a running fixture kills its group, children and all.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ScenarioState, StepError};
use crate::shared::process::signal_group;
use crate::shared::redact::redact_text;
use crate::spec::fixture::FixtureCall;
use crate::spec::values::redact;
use crate::spec::BeforeAll;

/// The most of a fixture's stdout kept (a session key is a line; a fixture printing a
/// dump is cut here, and read to its end so it never blocks on a full pipe).
const MAX_STDOUT: usize = 1024 * 1024;
/// The most of its stderr kept, and the most shown in a failure (its end: where an error
/// usually is).
const MAX_STDERR: usize = 64 * 1024;
const SHOWN_STDERR: usize = 1500;
/// How long the pipes are read after the command exited: a daemon it started may hold
/// them open for ever.
const DRAIN: Duration = Duration::from_secs(1);

/// What the placeholders ft fills in are, for one target.
#[derive(Clone, Debug, Default)]
pub struct Places {
    /// The target's base URL (`{url}`, and `{host}`, `{port}` from it).
    pub url: String,
    /// The embedded app's database (`{db}`); none for a remote target.
    pub db: Option<std::path::PathBuf>,
}

impl Places {
    /// The value of the target placeholder `name`, if this target has one.
    fn value(&self, name: &str) -> Option<String> {
        let parsed = reqwest::Url::parse(&self.url).ok();
        match name {
            "url" => Some(self.url.clone()),
            "host" => parsed?.host_str().map(str::to_string),
            "port" => parsed?.port_or_known_default().map(|p| p.to_string()),
            "ft" => std::env::current_exe().ok().map(|p| p.display().to_string()),
            "db" => self.db.as_deref().map(|p| p.display().to_string()),
            _ => None,
        }
    }
}

/// How a fixture went wrong, for a message.
#[derive(Debug)]
pub enum Failed {
    /// A placeholder had no value (`{db}` on a remote target): found before it ran.
    NoValue(String),
    Spawn(std::io::Error),
    /// Its stdout is kept only to be redacted when the step captures a secret: a key
    /// printed before the command failed must not show in its stderr either.
    Exited {
        code: Option<i32>,
        took: Duration,
        stdout: String,
        stderr: String,
    },
    TimedOut {
        after: Duration,
        stderr: String,
    },
}

impl Failed {
    /// What went wrong, with its stderr (clipped to its end) with every secret redacted.
    pub fn message(&self, name: &str, secrets: &[String]) -> String {
        let with_stderr = |head: String, stderr: &str| {
            // Secret values, and credentials in any URL it printed (`{url}`'s user info).
            let stderr = redact_text(&redact(secrets, stderr.trim()));
            if stderr.is_empty() {
                return format!("{head}; it printed nothing on stderr");
            }
            let chars = stderr.chars().count();
            let tail: String = if chars > SHOWN_STDERR {
                let skip = chars - SHOWN_STDERR;
                format!("…{}", stderr.chars().skip(skip).collect::<String>())
            } else {
                stderr
            };
            format!("{head}; its stderr:\n{}", tail.lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n"))
        };
        match self {
            Failed::NoValue(p) => format!(
                "fixture `{name}` was not run: {{{p}}} has no value for this target ({{db}} is the embedded app's only)"
            ),
            Failed::Spawn(e) => format!("failed to start fixture `{name}` (sh -c): {e}"),
            Failed::Exited { code: Some(code), took, stderr, .. } => with_stderr(
                format!("fixture `{name}` failed with exit code {code} after {:.1}s", took.as_secs_f64()),
                stderr,
            ),
            Failed::Exited { code: None, took, stderr, .. } => {
                with_stderr(format!("fixture `{name}` was killed by a signal after {:.1}s", took.as_secs_f64()), stderr)
            }
            Failed::TimedOut { after, stderr } => with_stderr(
                format!(
                    "fixture `{name}` did not finish within {:.1}s and was killed with its process group",
                    after.as_secs_f64()
                ),
                stderr,
            ),
        }
    }
}

/// A fixture that ran to exit code 0: its stdout and how long it took.
#[derive(Debug)]
pub struct Ran {
    pub stdout: String,
    pub took: Duration,
}

/// Kills the fixture's process group unless it is disarmed: dropped with the future that
/// runs the fixture (a deadline or an interrupt cut it short), it takes the children too.
struct Group(i32);

impl Drop for Group {
    fn drop(&mut self) {
        signal_group(self.0, libc::SIGKILL);
    }
}

/// Run the fixture of `call` with `args` (its step's, values filled in) against `places`.
pub async fn run(call: &FixtureCall, args: &[(String, String)], places: &Places) -> Result<Ran, Failed> {
    let value = |name: &str| match args.iter().find(|(k, _)| k == name) {
        Some((_, v)) => Some(v.clone()),
        None => places.value(name),
    };
    let line = call.fixture.command.render(value).map_err(Failed::NoValue)?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&line)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(Failed::Spawn)?;
    let group = Group(child.id().map_or(0, |p| p as i32));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let ended = {
        let reading = async {
            tokio::join!(read_capped(stdout, &mut out, MAX_STDOUT), read_capped(stderr, &mut err, MAX_STDERR))
        };
        let mut reading = std::pin::pin!(reading);
        let mut read_all = false;
        let deadline = tokio::time::sleep(call.timeout);
        let mut deadline = std::pin::pin!(deadline);
        let ended = loop {
            tokio::select! {
                _ = &mut reading, if !read_all => read_all = true,
                status = child.wait() => break Some(status.ok().and_then(|s| s.code())),
                () = &mut deadline => break None,
            }
        };
        match ended {
            Some(code) => {
                if !read_all {
                    let _ = tokio::time::timeout(DRAIN, &mut reading).await;
                }
                Some(code)
            }
            None => {
                // Kill the group now, and read what it said before it died.
                signal_group(group.0, libc::SIGKILL);
                let _ = child.wait().await;
                if !read_all {
                    let _ = tokio::time::timeout(DRAIN, &mut reading).await;
                }
                None
            }
        }
    };
    let took = start.elapsed();
    // It exited: what it left running is its own business (it may start a daemon on
    // purpose); only a command cut short is killed whole.
    std::mem::forget(group);
    let stderr = String::from_utf8_lossy(&err).into_owned();
    match ended {
        Some(Some(0)) => Ok(Ran { stdout: String::from_utf8_lossy(&out).into_owned(), took }),
        Some(code) => Err(Failed::Exited { code, took, stdout: String::from_utf8_lossy(&out).into_owned(), stderr }),
        None => Err(Failed::TimedOut { after: call.timeout, stderr }),
    }
}

/// Read `pipe` to its end, keeping its first `max` bytes in `into`.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, into: &mut Vec<u8>, max: usize) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => {
                let room = max.saturating_sub(into.len());
                into.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The value `stdout` holds for `call`: trimmed, then the first group of the regex's first
/// match (else the whole match).
pub fn captured(call: &FixtureCall, stdout: &str) -> Result<String, String> {
    let text = stdout.trim();
    let Some(re) = &call.regex else { return Ok(text.to_string()) };
    match re.captures(text) {
        Some(found) => Ok(found.get(1).or_else(|| found.get(0)).map_or("", |m| m.as_str()).to_string()),
        None if call.secret => Err(format!(
            "fixture `{}`'s stdout does not match /{}/ (not shown: secret)",
            call.fixture.name,
            re.as_str()
        )),
        None => Err(format!(
            "fixture `{}`'s stdout does not match /{}/: {:?}",
            call.fixture.name,
            re.as_str(),
            super::clip(text)
        )),
    }
}

/// Run the `before_all` hooks in order; on a sensitive target (`sensitive`: why it is) a
/// fixture that writes is not run. Answers the run header's notes on them, or the first
/// failure: where the hook is named, and what went wrong.
pub async fn before_all(
    hooks: &[BeforeAll],
    places: &Places,
    sensitive: Option<&str>,
    secrets: &[String],
) -> Result<Vec<String>, (String, String)> {
    let mut notes = Vec::new();
    for hook in hooks {
        let name = &hook.call.fixture.name;
        if let (Some(why), true) = (sensitive, hook.call.fixture.writes) {
            notes.push(format!(
                "before_all: fixture `{name}` ({}) was not run: it writes (writes = false marks a read-only fixture in ft.toml), and {why}",
                hook.at
            ));
            continue;
        }
        match run(&hook.call, &[], places).await {
            Ok(ran) => notes.push(format!("before_all: fixture `{name}` ran in {:.1}s", ran.took.as_secs_f64())),
            Err(failed) => return Err((hook.at.clone(), failed.message(name, secrets))),
        }
    }
    Ok(notes)
}

/// A fixture step: run it, and set the value it captures.
pub(super) async fn step(call: &FixtureCall, places: &Places, state: &mut ScenarioState) -> Result<(), StepError> {
    let ran = run(call, &call.args, places).await;
    let name = &call.fixture.name;
    let ran = ran.map_err(|failed| {
        if let (Failed::Exited { stdout, .. }, Some(value_name), true) = (&failed, &call.capture, call.secret) {
            // What it printed was to be a secret: known as one before its stderr is shown.
            for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
                state.values.set(value_name, line.to_string(), true);
            }
        }
        StepError::Failed { message: failed.message(name, state.values.secrets()), last_seen: None }
    })?;
    if let Some(value_name) = &call.capture {
        // A secret is known as one before anything of it can be shown.
        if call.secret {
            let whole = ran.stdout.trim().to_string();
            state.values.set(value_name, whole, true);
        }
        let value = captured(call, &ran.stdout).map_err(|message| StepError::Failed { message, last_seen: None })?;
        state.values.set(value_name, value, call.secret);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::fixture::{Command, Fixture, FixtureCall};

    fn call(command: &str, regex: Option<&str>, secret: bool, timeout: Duration) -> FixtureCall {
        let fixture = Fixture {
            name: "f".into(),
            command: Command::parse(command).expect("parses"),
            timeout,
            writes: true,
            defined_at: None,
        };
        FixtureCall {
            fixture,
            args: Vec::new(),
            capture: Some("v".into()),
            regex: regex.map(|r| regex::Regex::new(r).expect("regex")),
            secret,
            timeout,
            hook: None,
        }
    }

    #[test]
    fn the_target_placeholders_come_from_its_url() {
        let places = Places { url: "https://u:pw@staging.example".into(), db: None };
        assert_eq!(places.value("host").as_deref(), Some("staging.example"));
        assert_eq!(places.value("port").as_deref(), Some("443"));
        assert_eq!(places.value("db"), None);
        assert!(places.value("ft").is_some());
    }

    #[test]
    fn a_capture_is_trimmed_and_a_regex_takes_its_first_group() {
        let second = Duration::from_secs(1);
        assert_eq!(captured(&call("x", None, false, second), "  abc\n"), Ok("abc".into()));
        assert_eq!(captured(&call("x", Some("key=(\\w+)"), false, second), "key=k1 rest"), Ok("k1".into()));
        let secret = captured(&call("x", Some("key=(\\w+)"), true, second), "nothing here").expect_err("no match");
        assert!(!secret.contains("nothing here"), "{secret}");
    }

    #[tokio::test]
    async fn stdout_stderr_and_the_exit_code_are_read_and_a_wedged_command_is_killed() {
        let places = Places::default();
        let second = Duration::from_secs(5);
        let ran = run(&call("echo out; echo err >&2", None, false, second), &[], &places).await.expect("runs");
        assert_eq!(ran.stdout, "out\n");
        let failed = run(&call("echo oops >&2; exit 3", None, false, second), &[], &places).await.expect_err("3");
        assert!(matches!(&failed, Failed::Exited { code: Some(3), stderr, .. } if stderr == "oops\n"), "{failed:?}");
        let started = Instant::now();
        let wedged = call("sleep 30", None, false, Duration::from_millis(200));
        assert!(matches!(run(&wedged, &[], &places).await, Err(Failed::TimedOut { .. })));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
