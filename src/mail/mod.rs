//! Reading email for a capture step (`from_email`): find the newest message to an
//! address with a subject that arrived since the attempt started, read its text, and
//! delete it, so that reruns and parallel workers never take each other's mail.
//!
//! One file per job: `inbox` (the `--inbox` URL and its password), `net` (a connection
//! to a mail server, plain or TLS through ft's own `Trust`, every read with a deadline),
//! `imap` and `pop3` (the two clients), `maildir` (a folder on this machine, such as the
//! embedded app's outbox), `message` (headers, matching and text, by `mail-parser`).
//! Polling is not here: the runner asks again through `wait::until`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::target::tls::Trust;

mod imap;
mod inbox;
mod maildir;
mod message;
mod net;
mod pop3;

pub use inbox::{Inbox, InboxError, Source, DEFAULT_PASSWORD_ENV};

/// How much earlier than the attempt's start a message may say it arrived and still be
/// taken: the server's clock (IMAP's arrival time), the sender's (a POP3 message's Date
/// header) and ours disagree a little, and a Date header counts whole seconds.
pub const CLOCK_SKEW: Duration = Duration::from_secs(10);

/// The most messages looked at, newest first, in one look at an inbox: a test inbox holds
/// a few; a full one is not read whole twice a second.
const NEWEST: usize = 200;

/// What a capture step waits for.
#[derive(Debug)]
pub struct Wanted<'a> {
    /// An address among To and Cc (compared without case).
    pub to: &'a str,
    /// The subject, decoded, exactly.
    pub subject: &'a str,
    /// When the attempt started: an earlier message is someone else's (see `CLOCK_SKEW`).
    pub since: SystemTime,
    /// What to take from the text: the first group, else the whole match; none: all of it,
    /// trimmed.
    pub regex: Option<&'a regex::Regex>,
    /// The text read is not shown in messages (it holds the secret once it matches).
    pub secret: bool,
}

/// What one look at the inbox found.
#[derive(Debug)]
pub enum Look {
    /// The value, from the message now deleted.
    Found(String),
    /// Nothing yet: what the inbox holds instead, in words (recipients and subjects, never
    /// a body).
    NotYet(String),
}

/// The inbox could not be read.
#[derive(Debug, thiserror::Error)]
#[error("failed to read the inbox {inbox}: {problem}")]
pub struct MailError {
    pub inbox: String,
    pub problem: Problem,
}

impl MailError {
    /// Asking again cannot mend it (a refused login, an untrusted certificate); other
    /// problems (a server restarting) are worth another look until the step's deadline.
    pub fn is_fatal(&self) -> bool {
        self.problem.fatal
    }
}

/// What went wrong, in words, with a hint where one helps.
#[derive(Debug)]
pub struct Problem {
    why: String,
    hint: Option<String>,
    fatal: bool,
}

impl Problem {
    fn passing(why: impl Into<String>) -> Problem {
        Problem { why: why.into(), hint: None, fatal: false }
    }

    fn fatal(why: impl Into<String>, hint: Option<String>) -> Problem {
        Problem { why: why.into(), hint, fatal: true }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A message as an inbox lists it: how to name it again, and its headers.
struct Listed {
    key: Key,
    headers: message::Headers,
}

/// A message's name in its inbox for the rest of one look.
#[derive(Clone, Debug)]
enum Key {
    /// IMAP: a UID; POP3: a message number.
    Number(u32),
    /// Maildir: the file.
    File(PathBuf),
}

/// An open inbox, for one look.
enum Reader {
    Imap(imap::Session),
    Pop3(pop3::Session),
    Maildir(maildir::Folder),
}

impl Reader {
    async fn open(inbox: &Inbox, trust: &Trust) -> Result<Reader, Problem> {
        let password = || inbox.password().ok_or_else(|| Problem::fatal("no password was given", None));
        Ok(match &inbox.source {
            Source::Imap { tls, server, mailbox } => {
                Reader::Imap(imap::Session::open(server, *tls, mailbox, password()?, trust).await?)
            }
            Source::Pop3 { tls, server } => Reader::Pop3(pop3::Session::open(server, *tls, password()?, trust).await?),
            Source::Maildir(path) => Reader::Maildir(maildir::Folder::open(path)?),
        })
    }

    /// The newest `NEWEST` messages, oldest first.
    async fn list(&mut self) -> Result<Vec<Listed>, Problem> {
        match self {
            Reader::Imap(s) => s.list(NEWEST).await,
            Reader::Pop3(s) => s.list(NEWEST).await,
            Reader::Maildir(f) => f.list(NEWEST),
        }
    }

    /// The whole message.
    async fn fetch(&mut self, key: &Key) -> Result<Vec<u8>, Problem> {
        match self {
            Reader::Imap(s) => s.fetch(key).await,
            Reader::Pop3(s) => s.fetch(key).await,
            Reader::Maildir(f) => f.fetch(key),
        }
    }

    /// Delete it; `false` when another reader took it first.
    async fn delete(&mut self, key: &Key) -> Result<bool, Problem> {
        match self {
            Reader::Imap(s) => s.delete(key).await,
            Reader::Pop3(s) => s.delete(key).await,
            Reader::Maildir(f) => f.delete(key),
        }
    }

    /// End the session (POP3 deletes only now); a failure to say goodbye is no failure.
    async fn close(self) -> Result<(), Problem> {
        match self {
            Reader::Imap(s) => {
                s.close().await;
                Ok(())
            }
            Reader::Pop3(s) => s.close().await,
            Reader::Maildir(_) => Ok(()),
        }
    }
}

/// Look once: the newest message `wanted` describes whose text matches, taken (deleted),
/// or what the inbox holds instead.
pub async fn take(inbox: &Inbox, trust: &Trust, wanted: &Wanted<'_>) -> Result<Look, MailError> {
    let failed = |problem| MailError { inbox: inbox.source.to_string(), problem };
    let mut reader = Reader::open(inbox, trust).await.map_err(failed)?;
    let look = look(&mut reader, wanted).await;
    let closed = reader.close().await;
    let look = look.map_err(failed)?;
    match (look, closed) {
        // POP3 deletes at the session's end: a message not deleted is not taken.
        (Look::Found(_), Err(problem)) => Err(failed(problem)),
        (look, _) => Ok(look),
    }
}

async fn look(reader: &mut Reader, wanted: &Wanted<'_>) -> Result<Look, Problem> {
    let listed = reader.list().await?;
    let mut candidates: Vec<&Listed> = listed
        .iter()
        .filter(|m| {
            m.headers.is_to(wanted.to)
                && m.headers.has_subject(wanted.subject)
                && m.headers.arrived_since(wanted.since, CLOCK_SKEW)
        })
        .collect();
    // The newest first; the inbox's own order (oldest first) breaks ties.
    candidates.reverse();
    candidates.sort_by_key(|m| std::cmp::Reverse(m.headers.arrived));
    let mut unmatched = 0;
    for candidate in candidates {
        let raw = reader.fetch(&candidate.key).await?;
        let Some(text) = message::text(&raw) else {
            unmatched += 1;
            continue;
        };
        let value = match wanted.regex {
            // Trimmed: a trailing line end typed into a field would press Enter.
            None => text.trim().to_string(),
            Some(re) => match re.captures(&text) {
                Some(found) => found.get(1).or_else(|| found.get(0)).map_or("", |m| m.as_str()).to_string(),
                None => {
                    unmatched += 1;
                    continue;
                }
            },
        };
        if reader.delete(&candidate.key).await? {
            return Ok(Look::Found(value));
        }
    }
    Ok(Look::NotYet(describe(&listed, wanted, unmatched)))
}

/// What the inbox holds, for a step still waiting: how many messages, the newest few
/// recipients and subjects (not secret), never a body.
fn describe(listed: &[Listed], wanted: &Wanted<'_>, unmatched: usize) -> String {
    let mut said = match unmatched {
        0 => format!("no message to {} with subject {:?} since the attempt started", wanted.to, wanted.subject),
        n => {
            let what = match (wanted.regex, wanted.secret) {
                (Some(re), false) => format!("does not match /{}/", re.as_str()),
                (Some(re), true) => format!("does not match /{}/ (not shown: secret)", re.as_str()),
                (None, _) => "has no text".into(),
            };
            format!("{n} message{} to {} with subject {:?}, but its text {what}", plural(n), wanted.to, wanted.subject)
        }
    };
    said.push_str(&format!("; the inbox holds {} message{}", listed.len(), plural(listed.len())));
    let newest: Vec<String> = listed
        .iter()
        .rev()
        .take(3)
        .map(|m| {
            let subject = m.headers.subject.as_deref().map_or("(no subject)".into(), |s| format!("{s:?}"));
            let to = if m.headers.to.is_empty() { "(no recipient)".into() } else { m.headers.to.join(", ") };
            let when = match m.headers.arrived.map(|at| at.duration_since(wanted.since)) {
                Some(Ok(after)) => format!(", {}s after the attempt started", after.as_secs()),
                Some(Err(before)) => format!(", {}s before the attempt started", before.duration().as_secs()),
                None => String::new(),
            };
            format!("{subject} to {to}{when}")
        })
        .collect();
    if !newest.is_empty() {
        said.push_str(&format!("; the newest: {}", newest.join("; ")));
    }
    said
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn maildir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        dir
    }

    fn deliver(dir: &Path, name: &str, to: &str, subject: &str, body: &str, age: Duration) {
        let path = dir.join("new").join(name);
        std::fs::write(&path, format!("To: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n")).expect("write");
        let at = SystemTime::now() - age;
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(at)).expect("mtime");
    }

    fn wanted<'a>(regex: Option<&'a regex::Regex>, secret: bool) -> Wanted<'a> {
        Wanted { to: "edith@example.com", subject: "Link", since: SystemTime::now(), regex, secret }
    }

    #[tokio::test]
    async fn the_newest_message_whose_text_matches_is_taken_and_only_it_deleted() {
        let dir = maildir();
        let fresh = Duration::from_secs(1);
        deliver(dir.path(), "1", "edith@example.com", "Link", "token=older", Duration::from_secs(3));
        deliver(dir.path(), "2", "edith@example.com", "Link", "token=newer", fresh);
        deliver(dir.path(), "3", "edith@example.com", "Link", "no token here", Duration::ZERO);
        deliver(dir.path(), "4", "francis@example.com", "Link", "token=francis", Duration::ZERO);
        let inbox = Inbox::maildir(dir.path().to_path_buf());
        let re = regex::Regex::new("token=(\\w+)").expect("regex");
        let look = take(&inbox, &Trust::default(), &wanted(Some(&re), false)).await.expect("a look");
        assert!(matches!(&look, Look::Found(v) if v == "newer"), "{look:?}");
        let left: Vec<String> = std::fs::read_dir(dir.path().join("new"))
            .expect("ls")
            .map(|e| e.expect("e").file_name().into_string().expect("name"))
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(!left.contains(&"2".to_string()), "{left:?}");
    }

    #[tokio::test]
    async fn nothing_yet_says_what_the_inbox_holds_and_never_a_secret_body() {
        let dir = maildir();
        deliver(dir.path(), "1", "edith@example.com", "Link", "no token here", Duration::ZERO);
        deliver(dir.path(), "2", "edith@example.com", "Old", "token=old", Duration::from_secs(3600));
        let inbox = Inbox::maildir(dir.path().to_path_buf());
        let re = regex::Regex::new("token=(\\w+)").expect("regex");
        let Look::NotYet(said) = take(&inbox, &Trust::default(), &wanted(Some(&re), true)).await.expect("a look")
        else {
            panic!("nothing matches")
        };
        assert!(said.starts_with("1 message to edith@example.com with subject \"Link\", but its text does not match /token=(\\w+)/ (not shown: secret)"), "{said}");
        assert!(said.contains("the inbox holds 2 messages"), "{said}");
        assert!(
            said.contains("\"Old\" to edith@example.com, 3600s before the attempt started")
                || said.contains("\"Old\" to edith@example.com, 3599s before"),
            "{said}"
        );
        assert!(!said.contains("no token here"), "{said}");
    }
}
