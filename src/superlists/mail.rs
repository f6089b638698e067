//! The app's email: the login message, and its delivery as `Mail` says (printed, written
//! into a Maildir, or sent over SMTP with lettre).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::random::{self, RandomError};
use super::Mail;

/// The book's login email, word for word.
pub(crate) const LOGIN_SUBJECT: &str = "Your login link for Superlists";
pub(crate) const LOGIN_FROM: &str = "noreply@superlists";

/// How long one SMTP delivery may take (connect, greet, send), so a dead mail server gives
/// the visitor an error page rather than a request that hangs.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a message could not be made or delivered.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("failed to use {0:?} as an SMTP server: expected HOST:PORT, e.g. 127.0.0.1:2525")]
    SmtpAddress(String),
    #[error("failed to address a message to {to:?}")]
    Address {
        to: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("failed to build a message")]
    Build(#[source] lettre::error::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("failed to write a message into the outbox {}", path.display())]
    Outbox {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to send a message over SMTP to {server}")]
    Smtp {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("failed to run a mail task to completion")]
    Task(#[source] tokio::task::JoinError),
}

/// The one login email: "Use this link to log in:", a blank line, and the link.
pub(crate) fn login_email(to: &str, link: &str) -> Result<Message, MailError> {
    let address = |text: &str| text.parse().map_err(|source| MailError::Address { to: text.to_owned(), source });
    Message::builder()
        .message_id(Some(format!("<{}@superlists>", random::uuid()?)))
        .from(address(LOGIN_FROM)?)
        .to(address(to)?)
        .subject(LOGIN_SUBJECT)
        .singlepart(text_part(&format!("Use this link to log in:\n\n{link}")))
        .map_err(MailError::Build)
}

/// One text/plain part (MIME-Version and its Content-Type come with it), sent as it is
/// (7bit) whenever the text allows: lettre would quote-print any line over 76 characters,
/// and a login link usually is one, which a reader that does not decode (a regex over the
/// raw message) would then see cut and with `=3D` for each `=`. RFC 5322 allows 998.
fn text_part(text: &str) -> SinglePart {
    let plain = text.is_ascii() && !text.contains(['\0', '\r']) && text.lines().all(|line| line.len() <= 998);
    if !plain {
        return SinglePart::plain(text.to_owned());
    }
    let body = Body::dangerous_pre_encoded(text.replace('\n', "\r\n").into_bytes(), ContentTransferEncoding::SevenBit);
    SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body)
}

/// Delivers messages; one per app instance.
pub(crate) enum Mailer {
    Console,
    Outbox(PathBuf),
    Smtp { server: String, transport: AsyncSmtpTransport<Tokio1Executor> },
}

impl Mailer {
    /// The mailer for `mail`; `outbox` is the Maildir folder an `Outbox` writes into (the
    /// temporary one already made for `Outbox(None)`).
    pub(crate) fn new(mail: &Mail, outbox: Option<&Path>) -> Result<Mailer, MailError> {
        Ok(match (mail, outbox) {
            (Mail::Smtp(server), _) => {
                let (host, port) = split_host_port(server).ok_or_else(|| MailError::SmtpAddress(server.clone()))?;
                // Plain SMTP, no TLS: the servers this app is pointed at are on loopback (a
                // test's, or a staging relay beside it).
                let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .port(port)
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Mailer::Smtp { server: server.clone(), transport }
            }
            (Mail::Outbox(_), Some(dir)) => Mailer::Outbox(dir.to_owned()),
            (Mail::Outbox(Some(dir)), None) => Mailer::Outbox(dir.clone()),
            (Mail::Console | Mail::Outbox(None), _) => Mailer::Console,
        })
    }

    /// Deliver `message`, or say why not.
    pub(crate) async fn send(&self, message: Message) -> Result<(), MailError> {
        match self {
            Mailer::Console => {
                // A full pipe that nobody reads blocks the write: not on an async worker.
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || print_message(&bytes)).await.map_err(MailError::Task)
            }
            Mailer::Outbox(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || deliver_to_maildir(&dir, &bytes)).await.map_err(MailError::Task)?
            }
            Mailer::Smtp { server, transport } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|source| MailError::Smtp { server: server.clone(), source }),
        }
    }
}

/// As Django's console backend: the message, then a line of dashes. Standard output may be
/// a closed pipe (a parent that read only the first line): a failed write is ignored.
fn print_message(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}\n{}", text.trim_end(), "-".repeat(79));
    let _ = stdout.flush();
}

/// `HOST:PORT` (an IPv6 host in brackets) into its parts.
fn split_host_port(server: &str) -> Option<(String, u16)> {
    let (host, port) = server.rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = port.parse().ok().filter(|&p| p != 0)?;
    (!host.is_empty() && !host.contains(['[', ']', '/', ' '])).then(|| (host.to_owned(), port))
}

/// Maildir delivery: write the whole file under `tmp/`, then rename it into `new/`, so a
/// reader never sees half a message.
fn deliver_to_maildir(dir: &Path, bytes: &[u8]) -> Result<(), MailError> {
    let name = unique_name();
    let tmp = dir.join("tmp").join(&name);
    let new = dir.join("new").join(&name);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &new)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        MailError::Outbox { path: dir.to_owned(), source }
    })
}

/// A Maildir file name no other delivery uses: time, process and a counter
/// (`1765000000.M123456P42Q7.superlists`).
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}.M{}P{}Q{count}.superlists", now.as_secs(), now.subsec_micros(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_email_has_the_books_words_and_the_headers_a_reader_needs() {
        let message =
            login_email("edith@example.com", "http://127.0.0.1:8000/accounts/login?token=abc").expect("builds");
        let text = String::from_utf8(message.formatted()).expect("ascii");
        for header in [
            "From: noreply@superlists\r\n",
            "To: edith@example.com\r\n",
            "Subject: Your login link for Superlists\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: 7bit\r\n",
            "Date: ",
            "Message-ID: <",
        ] {
            assert!(text.contains(header), "{header:?} in {text}");
        }
        assert!(
            text.trim_end()
                .ends_with("\r\n\r\nUse this link to log in:\r\n\r\nhttp://127.0.0.1:8000/accounts/login?token=abc"),
            "{text}"
        );
    }

    #[test]
    fn a_long_link_stays_on_one_line_and_other_text_is_still_encoded() {
        let link = format!("http://superlists.example.com:8000/accounts/login?token={}", "a".repeat(36));
        let message = login_email("edith@example.com", &link).expect("builds");
        let text = String::from_utf8(message.formatted()).expect("ascii");
        assert!(text.contains(&format!("\r\n\r\n{link}")), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit\r\n"), "{text}");
        let other = String::from_utf8(
            Message::builder()
                .from(LOGIN_FROM.parse().expect("address"))
                .to("a@example.com".parse().expect("address"))
                .singlepart(text_part("caf\u{e9}"))
                .expect("builds")
                .formatted(),
        )
        .expect("ascii");
        assert!(!other.contains("Content-Transfer-Encoding: 7bit"), "{other}");
    }

    #[test]
    fn smtp_servers_are_host_and_port() {
        assert_eq!(split_host_port("127.0.0.1:2525"), Some(("127.0.0.1".into(), 2525)));
        assert_eq!(split_host_port("[::1]:25"), Some(("::1".into(), 25)));
        assert_eq!(split_host_port("mail.example.com:587"), Some(("mail.example.com".into(), 587)));
        for bad in ["127.0.0.1", ":25", "host:0", "host:port", "host:99999", "a b:25"] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
        assert!(matches!(Mailer::new(&Mail::Smtp("nowhere".into()), None), Err(MailError::SmtpAddress(_))));
    }

    #[tokio::test]
    async fn the_outbox_gets_one_whole_file_in_new_and_nothing_left_in_tmp() {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(dir.path().join(sub)).expect("maildir");
        }
        let mailer = Mailer::new(&Mail::Outbox(Some(dir.path().to_owned())), None).expect("mailer");
        mailer.send(login_email("a@example.com", "http://x/1").expect("builds")).await.expect("first");
        mailer.send(login_email("b@example.com", "http://x/2").expect("builds")).await.expect("second");
        let new: Vec<_> = std::fs::read_dir(dir.path().join("new")).expect("new/").collect();
        assert_eq!(new.len(), 2);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp/").count(), 0);
    }

    #[tokio::test]
    async fn an_outbox_that_is_not_a_maildir_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mailer = Mailer::new(&Mail::Outbox(Some(dir.path().join("missing"))), None).expect("mailer");
        let err = mailer.send(login_email("a@example.com", "http://x/1").expect("builds")).await.expect_err("fails");
        assert!(err.to_string().starts_with("failed to write a message into the outbox"), "{err}");
    }
}
