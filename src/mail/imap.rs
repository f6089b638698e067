//! A small IMAP4rev1 client (RFC 3501), enough to read one mailbox: LOGIN, SELECT, FETCH
//! of the newest messages' headers and arrival times (INTERNALDATE), a message's body,
//! and its deletion (`\Deleted` then UID EXPUNGE, RFC 4315, else EXPUNGE). Where the
//! server has CONDSTORE (RFC 7162) the `\Deleted` flag is set only if no one changed the
//! message since it was read, so two readers never both take it.

use std::time::SystemTime;

use super::inbox::{Password, Server};
use super::net::Conn;
use super::{message, Key, Listed, Problem};
use crate::target::tls::Trust;

pub(super) struct Session {
    conn: Conn,
    tag: u32,
    /// Hidden from whatever the server says back, in case it repeats it.
    password: Password,
    condstore: bool,
    /// How many messages the mailbox holds, as the server last said (`* N EXISTS`, less
    /// each `* N EXPUNGE` since).
    exists: u32,
}

/// One parsed item of a response: an atom, a string (quoted or literal), a list, NIL.
#[derive(Clone, Debug, PartialEq)]
enum Item {
    Atom(String),
    Str(Vec<u8>),
    List(Vec<Item>),
}

impl Session {
    pub(super) async fn open(
        server: &Server,
        tls: bool,
        mailbox: &str,
        password: &Password,
        trust: &Trust,
    ) -> Result<Session, Problem> {
        let conn = Conn::open(server, tls, trust).await?;
        let mut s = Session { conn, tag: 0, password: password.clone(), condstore: false, exists: 0 };
        let greeting = s.conn.line().await?;
        if !greeting.starts_with(b"* OK") && !greeting.starts_with(b"* PREAUTH") {
            return Err(Problem::fatal(
                format!("the server did not greet as IMAP does: {}", s.shown(&greeting)),
                Some("is it an IMAP port? imap:// is 143, imaps:// 993".into()),
            ));
        }
        let user = quoted(&server.user).ok_or_else(|| Problem::fatal("the user name cannot be sent to IMAP", None))?;
        if let Err(problem) = s.login(&user, password).await {
            return Err(Problem::fatal(
                format!("failed to log in as {}: {problem}", server.user),
                Some("check the user in --inbox and the password in the variable --inbox-password-env names".into()),
            ));
        }
        let capabilities = s.command("CAPABILITY").await?;
        s.condstore = capabilities.iter().any(|line| {
            line.starts_with(b"* CAPABILITY")
                && String::from_utf8_lossy(line).split(' ').any(|c| c.eq_ignore_ascii_case("CONDSTORE"))
        });
        let mailbox_q =
            quoted(mailbox).ok_or_else(|| Problem::fatal("the mailbox name cannot be sent to IMAP", None))?;
        if let Err(problem) = s.command(&format!("SELECT {mailbox_q}")).await {
            return Err(Problem::fatal(format!("failed to open the mailbox {mailbox:?}: {problem}"), None));
        }
        Ok(s)
    }

    pub(super) async fn list(&mut self, newest: usize) -> Result<Vec<Listed>, Problem> {
        // The count SELECT gave, brought up to date.
        self.command("NOOP").await?;
        let count = self.exists;
        if count == 0 {
            return Ok(Vec::new());
        }
        let from = count.saturating_sub(newest.saturating_sub(1) as u32).max(1);
        let lines = self.command(&format!("FETCH {from}:* (UID FLAGS INTERNALDATE BODY.PEEK[HEADER])")).await?;
        let mut listed = Vec::new();
        for fetched in lines.iter().filter_map(|l| fetch_items(l)) {
            let Some(Item::Atom(uid)) = get(&fetched, "UID") else { continue };
            let Ok(uid) = uid.parse::<u32>() else { continue };
            // Being taken by another reader.
            if flags(&fetched).iter().any(|f| f.eq_ignore_ascii_case("\\Deleted")) {
                continue;
            }
            let arrived = match get(&fetched, "INTERNALDATE") {
                Some(Item::Str(date)) => internal_date(&String::from_utf8_lossy(date)),
                _ => None,
            };
            let header = match get(&fetched, "BODY[HEADER]") {
                Some(Item::Str(h)) => h.clone(),
                _ => Vec::new(),
            };
            listed.push(Listed { key: Key::Number(uid), headers: message::headers(&header, arrived) });
        }
        Ok(listed)
    }

    pub(super) async fn fetch(&mut self, key: &Key) -> Result<Vec<u8>, Problem> {
        let Key::Number(uid) = key else { return Err(Problem::passing("a message of another inbox")) };
        let lines = self.command(&format!("UID FETCH {uid} (BODY.PEEK[])")).await?;
        for fetched in lines.iter().filter_map(|l| fetch_items(l)) {
            if let Some(Item::Str(body)) = get(&fetched, "BODY[]") {
                return Ok(body.clone());
            }
        }
        // Expunged meanwhile by another reader: nothing to read.
        Ok(Vec::new())
    }

    pub(super) async fn delete(&mut self, key: &Key) -> Result<bool, Problem> {
        let Key::Number(uid) = key else { return Err(Problem::passing("a message of another inbox")) };
        // With CONDSTORE: only if unchanged since this reader looked (its MODSEQ).
        let mut unchanged_since = String::new();
        if self.condstore {
            let lines = self.command(&format!("UID FETCH {uid} (FLAGS MODSEQ)")).await?;
            let Some(fetched) = lines.iter().find_map(|l| fetch_items(l)) else { return Ok(false) };
            if flags(&fetched).iter().any(|f| f.eq_ignore_ascii_case("\\Deleted")) {
                return Ok(false);
            }
            if let Some(Item::List(m)) = get(&fetched, "MODSEQ") {
                if let Some(Item::Atom(modseq)) = m.first() {
                    unchanged_since = format!(" (UNCHANGEDSINCE {modseq})");
                }
            }
        }
        let (_, done) =
            self.command_with_status(&format!("UID STORE {uid}{unchanged_since} +FLAGS.SILENT (\\Deleted)")).await?;
        // `OK [MODIFIED uid]`: another reader flagged it first.
        if done.to_ascii_uppercase().windows(9).any(|w| w == b"[MODIFIED") {
            return Ok(false);
        }
        if self.command(&format!("UID EXPUNGE {uid}")).await.is_err() {
            self.command("EXPUNGE").await?;
        }
        Ok(true)
    }

    pub(super) async fn close(mut self) {
        let _ = self.command("LOGOUT").await;
    }

    /// Send a command and read until its tagged answer: the untagged lines (literals
    /// inline), or the server's refusal.
    async fn command(&mut self, command: &str) -> Result<Vec<Vec<u8>>, Problem> {
        self.command_with_status(command).await.map(|(lines, _)| lines)
    }

    /// LOGIN with the password quoted, or sent as a literal where a quoted string cannot
    /// hold it (a non-ASCII or control character).
    async fn login(&mut self, user: &str, password: &Password) -> Result<(), Problem> {
        if let Some(pass) = quoted(password.expose()) {
            return self.command(&format!("LOGIN {user} {pass}")).await.map(drop);
        }
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.conn.send(&format!("{tag} LOGIN {user} {{{}}}", password.expose().len())).await?;
        let go_on = self.conn.line().await?;
        if !go_on.starts_with(b"+") {
            return Err(Problem::passing(format!("the server answered {}", self.shown(&go_on))));
        }
        self.conn.send(password.expose()).await?;
        self.tagged(&tag).await.map(drop)
    }

    async fn command_with_status(&mut self, command: &str) -> Result<(Vec<Vec<u8>>, Vec<u8>), Problem> {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.conn.send(&format!("{tag} {command}")).await?;
        self.tagged(&tag).await
    }

    /// Read up to the answer tagged `tag`: the untagged lines before it (literals inline)
    /// and its status text, or the server's refusal.
    async fn tagged(&mut self, tag: &str) -> Result<(Vec<Vec<u8>>, Vec<u8>), Problem> {
        let mut untagged = Vec::new();
        loop {
            let line = self.response().await?;
            if let Some(status) = line.strip_prefix(format!("{tag} ").as_bytes()) {
                let upper = status.to_ascii_uppercase();
                if upper.starts_with(b"OK") {
                    return Ok((untagged, status.to_vec()));
                }
                return Err(Problem::passing(format!("the server answered {}", self.shown(status))));
            }
            if line.starts_with(b"* BYE") {
                return Err(Problem::passing(format!("the server ended the session: {}", self.shown(&line))));
            }
            self.note_size(&line);
            untagged.push(line);
        }
    }

    /// Keep the mailbox's size as the server tells it, whatever the command.
    fn note_size(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let mut words = text.split(' ');
        if let (Some("*"), Some(n), Some(what)) = (words.next(), words.next(), words.next()) {
            match (n.parse::<u32>(), what.to_ascii_uppercase().as_str()) {
                (Ok(n), "EXISTS") => self.exists = n,
                (Ok(_), "EXPUNGE") => self.exists = self.exists.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// One response: a line, and the literals it announces (`{n}` at a line's end) with
    /// the lines that follow them, as one run of bytes.
    async fn response(&mut self) -> Result<Vec<u8>, Problem> {
        let mut whole = self.conn.line().await?;
        while let Some(n) = literal_length(&whole) {
            whole.extend_from_slice(b"\r\n");
            let literal = self.conn.exact(n).await?;
            whole.extend_from_slice(&literal);
            if whole.len() > super::net::MAX_MESSAGE {
                return Err(Problem::passing("the server's answer is larger than ft reads"));
            }
            let rest = self.conn.line().await?;
            whole.extend_from_slice(&rest);
        }
        Ok(whole)
    }

    /// What the server said, fit for a message: one line, clipped, the password hidden.
    fn shown(&self, said: &[u8]) -> String {
        let text = String::from_utf8_lossy(said).replace(self.password.expose(), "[secret]");
        crate::shared::text::clip(text.trim(), 200)
    }
}

/// An IMAP quoted string, or `None` for what one cannot hold.
fn quoted(s: &str) -> Option<String> {
    if s.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return None;
    }
    Some(format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// `{n}` (or `{n+}`) ending a line: a literal of n bytes follows it.
fn literal_length(line: &[u8]) -> Option<usize> {
    let open = line.strip_suffix(b"}")?;
    let start = open.iter().rposition(|b| *b == b'{')?;
    let digits = open[start + 1..].strip_suffix(b"+").unwrap_or(&open[start + 1..]);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The items of `* N FETCH (...)`, as name/value pairs.
fn fetch_items(line: &[u8]) -> Option<Vec<(String, Item)>> {
    let mut at = 0;
    let items = parse_list(line, &mut at, false);
    let [Item::Atom(star), Item::Atom(_), Item::Atom(fetch), Item::List(pairs), ..] = items.as_slice() else {
        return None;
    };
    if star != "*" || !fetch.eq_ignore_ascii_case("FETCH") {
        return None;
    }
    let mut out = Vec::new();
    let mut it = pairs.iter();
    while let (Some(Item::Atom(name)), Some(value)) = (it.next(), it.next()) {
        out.push((name.to_ascii_uppercase(), value.clone()));
    }
    Some(out)
}

fn get<'a>(items: &'a [(String, Item)], name: &str) -> Option<&'a Item> {
    items.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn flags(items: &[(String, Item)]) -> Vec<String> {
    match get(items, "FLAGS") {
        Some(Item::List(flags)) => {
            flags.iter().filter_map(|f| if let Item::Atom(a) = f { Some(a.clone()) } else { None }).collect()
        }
        _ => Vec::new(),
    }
}

/// Items up to the end of the input, or to the `)` closing a list (`nested`).
fn parse_list(s: &[u8], at: &mut usize, nested: bool) -> Vec<Item> {
    let mut items = Vec::new();
    while *at < s.len() {
        match s[*at] {
            b' ' | b'\r' | b'\n' => *at += 1,
            b')' if nested => {
                *at += 1;
                return items;
            }
            b'(' => {
                *at += 1;
                items.push(Item::List(parse_list(s, at, true)));
            }
            b'"' => {
                *at += 1;
                let mut text = Vec::new();
                while *at < s.len() && s[*at] != b'"' {
                    if s[*at] == b'\\' && *at + 1 < s.len() {
                        *at += 1;
                    }
                    text.push(s[*at]);
                    *at += 1;
                }
                *at += 1;
                items.push(Item::Str(text));
            }
            b'{' => {
                let close = s[*at..].iter().position(|b| *b == b'}').map(|p| *at + p);
                let n = close.and_then(|c| literal_length(&s[*at..=c]));
                match (close, n) {
                    (Some(close), Some(n)) => {
                        // `}` then CRLF, then the n bytes.
                        let start = (close + 3).min(s.len());
                        let end = (start + n).min(s.len());
                        items.push(Item::Str(s[start..end].to_vec()));
                        *at = end;
                    }
                    _ => {
                        items.push(Item::Atom("{".into()));
                        *at += 1;
                    }
                }
            }
            _ => {
                let start = *at;
                // An atom; `BODY[HEADER]` keeps its brackets (ft asks for no field list).
                while *at < s.len() && !b" ()\"\r\n".contains(&s[*at]) {
                    *at += 1;
                }
                items.push(Item::Atom(String::from_utf8_lossy(&s[start..*at]).into_owned()));
            }
        }
    }
    items
}

/// INTERNALDATE: `" 7-Dec-2026 08:00:00 +0000"`.
fn internal_date(text: &str) -> Option<SystemTime> {
    let parsed = chrono::DateTime::parse_from_str(text.trim(), "%d-%b-%Y %H:%M:%S %z").ok()?;
    Some(SystemTime::from(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_response_with_a_literal_reads_as_its_items() {
        let header = b"To: a@b.c\r\nSubject: (hi) \"there\"\r\n\r\n";
        let mut line =
            b"* 3 FETCH (UID 17 FLAGS (\\Seen \\Recent) INTERNALDATE \" 7-Dec-2026 08:00:00 +0000\" BODY[HEADER] {"
                .to_vec();
        line.extend_from_slice(format!("{}}}\r\n", header.len()).as_bytes());
        line.extend_from_slice(header);
        line.extend_from_slice(b")");
        let items = fetch_items(&line).expect("a fetch");
        assert_eq!(get(&items, "UID"), Some(&Item::Atom("17".into())));
        assert_eq!(flags(&items), ["\\Seen", "\\Recent"]);
        assert_eq!(get(&items, "BODY[HEADER]"), Some(&Item::Str(header.to_vec())));
        let Some(Item::Str(date)) = get(&items, "INTERNALDATE") else { panic!("date") };
        let at = internal_date(&String::from_utf8_lossy(date)).expect("a date");
        assert_eq!(at, SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_630_400));
    }

    #[test]
    fn a_literal_is_announced_at_a_lines_end() {
        assert_eq!(literal_length(b"* 1 FETCH (BODY[] {342}"), Some(342));
        assert_eq!(literal_length(b"a1 LOGIN u {5+}"), Some(5));
        assert_eq!(literal_length(b"* OK ready"), None);
    }

    #[test]
    fn quoted_strings_escape_and_refuse_what_they_cannot_hold() {
        assert_eq!(quoted("pa\"ss\\word").as_deref(), Some("\"pa\\\"ss\\\\word\""));
        assert_eq!(quoted("line\r\nbreak"), None);
    }
}
