//! A small POP3 client (RFC 1939), as the book's tests read their mail: USER/PASS, STAT,
//! TOP n 0 for the newest messages' headers, RETR for a body, DELE, and QUIT, which is
//! when the server deletes. POP3 keeps no arrival time: the Date header stands for it.

use super::inbox::{Password, Server};
use super::net::{Conn, MAX_MESSAGE};
use super::{message, Key, Listed, Problem};
use crate::target::tls::Trust;

pub(super) struct Session {
    conn: Conn,
    /// Hidden from whatever the server says back, in case it repeats it.
    password: Password,
}

impl Session {
    pub(super) async fn open(
        server: &Server,
        tls: bool,
        password: &Password,
        trust: &Trust,
    ) -> Result<Session, Problem> {
        let conn = Conn::open(server, tls, trust).await?;
        let mut s = Session { conn, password: password.clone() };
        let greeting = s.conn.line().await?;
        if !greeting.starts_with(b"+OK") {
            return Err(Problem::fatal(
                format!("the server did not greet as POP3 does: {}", s.shown(&greeting)),
                Some("is it a POP3 port? pop3:// is 110, pop3s:// 995".into()),
            ));
        }
        if server.user.contains(['\r', '\n']) || password.expose().contains(['\r', '\n']) {
            return Err(Problem::fatal("the user or the password holds a line break", None));
        }
        let login = async {
            s.command(&format!("USER {}", server.user)).await?;
            s.command(&format!("PASS {}", password.expose())).await
        };
        if let Err(problem) = login.await {
            return Err(Problem::fatal(
                format!("failed to log in as {}: {problem}", server.user),
                Some("check the user in --inbox and the password in the variable --inbox-password-env names".into()),
            ));
        }
        Ok(s)
    }

    pub(super) async fn list(&mut self, newest: usize) -> Result<Vec<Listed>, Problem> {
        let stat = self.command("STAT").await?;
        let count: u32 =
            String::from_utf8_lossy(&stat).split(' ').nth(1).and_then(|n| n.parse().ok()).ok_or_else(|| {
                Problem::passing(format!("the server's STAT answer is not a count: {}", self.shown(&stat)))
            })?;
        let from = count.saturating_sub(newest.saturating_sub(1) as u32).max(1);
        let mut listed = Vec::new();
        for n in from..=count {
            // A message deleted in this session (none are) or gone: skip it.
            let Ok(header) = self.multi_line(&format!("TOP {n} 0")).await else { continue };
            listed.push(Listed { key: Key::Number(n), headers: message::headers(&header, None) });
        }
        Ok(listed)
    }

    pub(super) async fn fetch(&mut self, key: &Key) -> Result<Vec<u8>, Problem> {
        let Key::Number(n) = key else { return Err(Problem::passing("a message of another inbox")) };
        self.multi_line(&format!("RETR {n}")).await
    }

    /// Marked for deletion; deleted at QUIT (`close`).
    pub(super) async fn delete(&mut self, key: &Key) -> Result<bool, Problem> {
        let Key::Number(n) = key else { return Err(Problem::passing("a message of another inbox")) };
        self.command(&format!("DELE {n}")).await?;
        Ok(true)
    }

    /// QUIT: the server deletes what was marked only now.
    pub(super) async fn close(mut self) -> Result<(), Problem> {
        self.command("QUIT").await.map(drop)
    }

    /// A command and its one-line `+OK` answer.
    async fn command(&mut self, command: &str) -> Result<Vec<u8>, Problem> {
        self.conn.send(command).await?;
        let answer = self.conn.line().await?;
        if answer.starts_with(b"+OK") {
            return Ok(answer);
        }
        Err(Problem::passing(format!("the server answered {}", self.shown(&answer))))
    }

    /// A command whose `+OK` is followed by lines up to a lone `.`, dot-stuffing undone.
    async fn multi_line(&mut self, command: &str) -> Result<Vec<u8>, Problem> {
        self.command(command).await?;
        let mut body = Vec::new();
        loop {
            let line = self.conn.line().await?;
            if line == b"." {
                return Ok(body);
            }
            body.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
            body.extend_from_slice(b"\r\n");
            if body.len() > MAX_MESSAGE {
                return Err(Problem::passing("the message is larger than ft reads"));
            }
        }
    }

    /// What the server said, fit for a message: one line, clipped, the password hidden.
    fn shown(&self, said: &[u8]) -> String {
        let text = String::from_utf8_lossy(said).replace(self.password.expose(), "[secret]");
        crate::shared::text::clip(text.trim(), 200)
    }
}
