//! The inbox a capture step reads email from: `--inbox URL` read and checked before
//! anything runs (`imap://`, `imaps://`, `pop3://`, `pop3s://`, `maildir:`), and its
//! password, taken from the environment and never shown: it is no part of the URL, its
//! `Debug` says `[secret]`, and no message names it.

use std::fmt;
use std::path::PathBuf;

/// The environment variable that holds the inbox's password unless
/// `--inbox-password-env` names another.
pub const DEFAULT_PASSWORD_ENV: &str = "FT_INBOX_PASSWORD";

/// Where email is read, and the password that opens it.
#[derive(Clone, Debug)]
pub struct Inbox {
    pub source: Source,
    password: Option<Password>,
    /// The variable the password was to come from, for the message when it did not.
    password_env: String,
}

/// An inbox by its kind: a mail server's, or a Maildir folder on this machine (the
/// embedded app's outbox, or what a local delivery agent writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Imap { tls: bool, server: Server, mailbox: String },
    Pop3 { tls: bool, server: Server },
    Maildir(PathBuf),
}

/// A mail server and the user to log in as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub user: String,
    /// A name or an address; an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
}

/// A password that says `[secret]` wherever it is printed by mistake.
#[derive(Clone)]
pub(super) struct Password(String);

impl Password {
    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

/// An `--inbox` that cannot be used: a usage error, found before any browser starts.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("--inbox {url:?} is not an inbox ft can read: {why}")]
    Url { url: String, why: String },
    /// The URL is not repeated: it holds the password.
    #[error("--inbox holds a password in its URL; ft does not take one there, where it would be shown and logged")]
    PasswordInUrl,
    #[error("the inbox {inbox} needs a password, and the environment variable {var} is not set")]
    NoPassword { inbox: String, var: String },
}

impl InboxError {
    /// How to fix it, for the usage error's hint.
    pub fn hint(&self) -> String {
        match self {
            // No `scheme://USER@` here: messages hide whatever stands before a URL's `@`.
            InboxError::Url { .. } => "write imap://HOST:PORT/MAILBOX, imaps://…, pop3://HOST:PORT or pop3s://…, \
                                       each with its user before the host (USER@HOST; an @ in the user is %40), \
                                       or maildir:/PATH"
                .into(),
            InboxError::PasswordInUrl => format!(
                "write the URL without it (imaps://USER@HOST) and put the password in the environment: \
                 {DEFAULT_PASSWORD_ENV}, or the variable --inbox-password-env names"
            ),
            InboxError::NoPassword { var, .. } => {
                format!("export {var}=… before ft runs (or name another variable with --inbox-password-env)")
            }
        }
    }
}

impl Inbox {
    /// The password, for redaction only: whatever a fixture or a server prints, it is shown
    /// as `[secret]`.
    pub fn password_to_hide(&self) -> Option<&str> {
        self.password.as_ref().map(Password::expose)
    }

    /// The inbox `--inbox` names, its password read from the variable `password_env`
    /// (when the inbox needs one: a missing password is an error only when a scenario
    /// reads email, `Inbox::ready`).
    pub fn from_url(url: &str, password_env: &str) -> Result<Inbox, InboxError> {
        let source = Source::parse(url)?;
        let password = match source {
            Source::Maildir(_) => None,
            _ => std::env::var(password_env).ok().filter(|p| !p.is_empty()).map(Password),
        };
        Ok(Inbox { source, password, password_env: password_env.to_string() })
    }

    /// A Maildir folder on this machine (the embedded app's outbox): no password.
    pub fn maildir(path: PathBuf) -> Inbox {
        Inbox { source: Source::Maildir(path), password: None, password_env: DEFAULT_PASSWORD_ENV.into() }
    }

    /// Whether it can be read: a server's inbox needs its password.
    pub fn ready(&self) -> Result<(), InboxError> {
        match (&self.source, &self.password) {
            (Source::Maildir(_), _) | (_, Some(_)) => Ok(()),
            _ => Err(InboxError::NoPassword { inbox: self.source.to_string(), var: self.password_env.clone() }),
        }
    }

    pub(super) fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }
}

impl Source {
    /// `imap://USER@HOST[:PORT][/MAILBOX]`, `imaps://…`, `pop3://USER@HOST[:PORT]`,
    /// `pop3s://…` or `maildir:PATH`. The user and the mailbox are percent-decoded.
    pub fn parse(url: &str) -> Result<Source, InboxError> {
        let bad = |why: &str| InboxError::Url { url: url.to_string(), why: why.to_string() };
        if let Some(path) = url.strip_prefix("maildir:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad("maildir: needs the folder's path, e.g. maildir:/var/mail/edith"));
            }
            return Ok(Source::Maildir(PathBuf::from(path)));
        }
        // Before anything else, so that no message below repeats a password.
        if let Some((_, rest)) = url.split_once("://") {
            let authority = rest.split('/').next().unwrap_or("");
            if authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':')) {
                return Err(InboxError::PasswordInUrl);
            }
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad("it has no scheme (imap://, imaps://, pop3://, pop3s:// or maildir:)"));
        };
        let (imap, tls, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "imap" => (true, false, 143),
            "imaps" => (true, true, 993),
            "pop3" | "pop" => (false, false, 110),
            "pop3s" | "pops" => (false, true, 995),
            _ => return Err(bad("the scheme is none of imap, imaps, pop3, pop3s or maildir")),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        // The last @ ends the user info: a user's own @ is written %40, but some write it bare.
        let Some((userinfo, hostport)) = authority.rsplit_once('@') else {
            return Err(bad("it names no user (USER@HOST)"));
        };
        let user = percent_decode(userinfo).ok_or_else(|| bad("its user is not valid percent-encoded UTF-8"))?;
        if user.is_empty() {
            return Err(bad("it names no user (USER@HOST)"));
        }
        let (host, port) = host_port(hostport).ok_or_else(|| bad("its host or port is not valid"))?;
        let server = Server { user, host, port: port.unwrap_or(default_port) };
        if !imap {
            if !path.is_empty() {
                return Err(bad("a POP3 inbox has no folders: write pop3://USER@HOST:PORT"));
            }
            return Ok(Source::Pop3 { tls, server });
        }
        let mailbox = percent_decode(path).ok_or_else(|| bad("its mailbox is not valid percent-encoded UTF-8"))?;
        let mailbox = if mailbox.is_empty() { "INBOX".to_string() } else { mailbox };
        if mailbox.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(bad("its mailbox name holds a quote, a backslash or a control character"));
        }
        Ok(Source::Imap { tls, server, mailbox })
    }
}

fn host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let good_host = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c));
    if !good_host {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => None,
    };
    Some((host.to_string(), port))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL as written back: never a password (there is none in it).
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = |f: &mut fmt::Formatter<'_>, scheme: &str, s: &Server| {
            let user = s.user.replace('%', "%25").replace('@', "%40").replace('/', "%2F");
            match s.host.contains(':') {
                true => write!(f, "{scheme}://{user}@[{}]:{}", s.host, s.port),
                false => write!(f, "{scheme}://{user}@{}:{}", s.host, s.port),
            }
        };
        match self {
            Source::Imap { tls, server: s, mailbox } => {
                server(f, if *tls { "imaps" } else { "imap" }, s)?;
                write!(f, "/{mailbox}")
            }
            Source::Pop3 { tls, server: s } => server(f, if *tls { "pop3s" } else { "pop3" }, s),
            Source::Maildir(path) => write!(f, "maildir:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_inbox_reads_with_its_default_port() {
        let imap = Source::parse("imaps://edith%40example.com@mail.example.com/Login%20links").expect("imaps");
        assert_eq!(
            imap,
            Source::Imap {
                tls: true,
                server: Server { user: "edith@example.com".into(), host: "mail.example.com".into(), port: 993 },
                mailbox: "Login links".into(),
            }
        );
        assert_eq!(imap.to_string(), "imaps://edith%40example.com@mail.example.com:993/Login links");
        let Source::Imap { mailbox, server, .. } = Source::parse("imap://u@127.0.0.1:1143").expect("imap") else {
            panic!("imap")
        };
        assert_eq!((mailbox.as_str(), server.port), ("INBOX", 1143));
        let Source::Pop3 { tls, server } = Source::parse("pop3s://u@[::1]").expect("pop3s") else { panic!("pop3s") };
        assert_eq!((tls, server.host.as_str(), server.port), (true, "::1", 995));
        assert_eq!(Source::parse("maildir:/tmp/box").expect("maildir"), Source::Maildir("/tmp/box".into()));
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_repeating_it() {
        for url in ["imaps://edith:hunter2@mail.example.com", "smtp://edith:hunter2@mail.example.com:99999/x"] {
            let err = Source::parse(url).expect_err("password");
            assert!(matches!(err, InboxError::PasswordInUrl), "{url}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(!err.hint().contains("hunter2"));
        }
    }

    #[test]
    fn urls_ft_cannot_read_say_what_is_wrong() {
        for (url, why) in [
            ("mail.example.com", "no scheme"),
            ("smtp://u@h", "none of imap"),
            ("imap://mail.example.com", "names no user"),
            ("imap://u@h:99999", "host or port"),
            ("pop3://u@h/INBOX", "no folders"),
            ("maildir:", "needs the folder"),
        ] {
            let err = Source::parse(url).expect_err(url);
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn the_password_is_never_in_debug_output() {
        let inbox = Inbox {
            source: Source::parse("imap://u@h").expect("url"),
            password: Some(Password("hunter2".into())),
            password_env: "X".into(),
        };
        let debug = format!("{inbox:?}");
        assert!(!debug.contains("hunter2") && debug.contains("[secret]"), "{debug}");
    }

    #[test]
    fn a_server_inbox_without_its_password_names_the_variable() {
        let inbox = Inbox::from_url("pop3://u@h", "FT_TEST_SURELY_UNSET_PASSWORD").expect("url");
        let err = inbox.ready().expect_err("no password");
        assert!(err.to_string().contains("FT_TEST_SURELY_UNSET_PASSWORD"), "{err}");
        assert!(Inbox::maildir("/tmp/x".into()).ready().is_ok());
    }
}
