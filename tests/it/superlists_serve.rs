//! `ft serve` as a real process: it announces its URL, serves, and stops on a signal.

use crate::common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use common::KillOnDrop;

/// How long the process gets to start, answer, or stop.
const DEADLINE: Duration = Duration::from_secs(10);

/// A running `ft serve`; killed when dropped if a test fails before it exits.
struct ServeProcess {
    child: Option<KillOnDrop>,
    pid: u32,
    stdout: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl ServeProcess {
    fn spawn(args: &[&str], db: &Path) -> Result<ServeProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ft"))
            .args(["serve", "--addr", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("failed to spawn ft serve")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("piped stdout")?;
        let mut stderr = child.stderr.take().context("piped stderr")?;
        let (lines, stdout_lines) = mpsc::channel();
        // Readers run on threads so that every read can be given a deadline.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(ServeProcess { child: Some(KillOnDrop::new(child)), pid, stdout: stdout_lines, stderr: Some(stderr) })
    }

    fn next_line(&self) -> Result<String> {
        self.stdout.recv_timeout(DEADLINE).context("no line on stdout before the deadline (or stdout closed)")
    }

    /// The address from the "listening on" line, which must be the first line.
    fn listening_addr(&self) -> Result<SocketAddr> {
        let line = self.next_line()?;
        let url = line
            .strip_prefix("ft serve: listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .with_context(|| format!("unexpected first line: {line:?}"))?;
        Ok(url.parse()?)
    }

    fn signal(&self, signal: libc::c_int) -> Result<()> {
        // The pid is our own unreaped child, so it cannot have been reused.
        common::signal(self.pid, signal).context("failed to signal ft serve")
    }

    /// Wait for the process to exit, killing it if the deadline passes first.
    fn wait(&mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("already waited")?;
        let (done, exited) = mpsc::channel();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = done.send((child, status));
        });
        match exited.recv_timeout(DEADLINE) {
            Ok((child, status)) => {
                self.child = Some(child);
                Ok(status?)
            }
            Err(_) => {
                // Not reaped yet, so the pid is still this process.
                self.signal(libc::SIGKILL)?;
                let (child, _) = exited.recv()?;
                self.child = Some(child);
                bail!("ft serve did not exit within {DEADLINE:?}; killed it");
            }
        }
    }

    /// Everything written to stderr; call after the process exited.
    fn stderr(&mut self) -> Result<String> {
        let reader = self.stderr.take().context("stderr already read")?;
        reader.join().map_err(|_| anyhow::anyhow!("the stderr reader panicked"))
    }
}

/// A plain HTTP/1.1 GET with deadlines; returns the whole response, head and body.
fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.set_write_timeout(Some(DEADLINE))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn serve_announces_its_url_serves_and_stops_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite3");
    let mut serve = ServeProcess::spawn(&[], &db)?;
    let addr = serve.listening_addr()?;
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    let response = http_get(addr, "/")?;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("<title>To-Do lists</title>"), "{response}");
    assert!(response.to_ascii_lowercase().contains("set-cookie: csrftoken="), "{response}");

    serve.signal(libc::SIGTERM)?;
    let status = serve.wait()?;
    assert!(status.success(), "{status}: {}", serve.stderr()?);
    assert_eq!(serve.next_line()?, "ft serve: stopped");
    assert!(db.is_file(), "the database file stays after stopping");
    Ok(())
}

#[test]
fn serve_stops_on_sigint_too() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut serve = ServeProcess::spawn(&[], &dir.path().join("db.sqlite3"))?;
    serve.listening_addr()?;
    serve.signal(libc::SIGINT)?;
    let status = serve.wait()?;
    assert!(status.success(), "{status}: {}", serve.stderr()?);
    Ok(())
}

#[test]
fn serve_warns_on_stderr_when_defects_are_switched_on() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite3");
    let args = ["--defect", "accept-empty", "--defect", "shared-list"];
    let mut serve = ServeProcess::spawn(&args, &db)?;
    serve.listening_addr()?;
    serve.signal(libc::SIGTERM)?;
    assert!(serve.wait()?.success());
    let stderr = serve.stderr()?;
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("accept-empty, shared-list"), "{stderr}");
    Ok(())
}

#[test]
fn serve_refuses_an_older_database_with_duplicates() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("old.db");
    common::version_1_database(&db, &[(1, "Buy wellies"), (1, "Buy wellies")]);

    let mut serve = ServeProcess::spawn(&[], &db)?;
    let status = serve.wait()?;
    let stderr = serve.stderr()?;
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("failed to migrate database"), "{stderr}");
    assert!(stderr.contains("list 1: \"Buy wellies\" appears 2 times"), "{stderr}");
    assert!(stderr.contains("remove or rename the duplicates"), "{stderr}");
    assert!(serve.next_line().is_err(), "it never announced a URL");

    let conn = rusqlite::Connection::open(&db)?;
    let items: i64 = conn.query_row("SELECT COUNT(*) FROM items", [], |row| row.get(0))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    assert_eq!((items, version), (2, 1), "rows and schema version untouched");
    Ok(())
}
