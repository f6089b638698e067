//! One email as a capture step judges it: to whom (To and Cc), its subject (RFC 2047
//! decoded), when it arrived, and its text (the text/plain part decoded, else the HTML
//! part's text). MIME is read by the `mail-parser` crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::MessageParser;

/// What the inbox's listing tells of a message: its headers, and when the server (or the
/// folder) says it arrived, if it says.
#[derive(Clone, Debug)]
pub(super) struct Headers {
    pub(super) to: Vec<String>,
    pub(super) subject: Option<String>,
    /// The server's arrival time (IMAP INTERNALDATE, a Maildir file's mtime), else the
    /// Date header.
    pub(super) arrived: Option<SystemTime>,
}

/// Read the headers of a message (the whole message, or its header alone). `arrived`:
/// what the server says, which wins over the Date header, written by the sender.
pub(super) fn headers(raw: &[u8], arrived: Option<SystemTime>) -> Headers {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return Headers { to: Vec::new(), subject: None, arrived };
    };
    let mut to = Vec::new();
    for list in [message.to(), message.cc()].into_iter().flatten() {
        to.extend(list.iter().filter_map(|a| a.address()).map(str::to_string));
    }
    let dated = message.date().and_then(|d| {
        let secs = d.to_timestamp();
        (secs >= 0).then(|| UNIX_EPOCH + Duration::from_secs(secs as u64))
    });
    Headers { to, subject: message.subject().map(str::to_string), arrived: arrived.or(dated) }
}

impl Headers {
    /// Addressed to `address` (To or Cc), compared without case.
    pub(super) fn is_to(&self, address: &str) -> bool {
        self.to.iter().any(|a| a.trim().eq_ignore_ascii_case(address.trim()))
    }

    /// Its subject is `subject`, as decoded, outer spaces aside.
    pub(super) fn has_subject(&self, subject: &str) -> bool {
        self.subject.as_deref().is_some_and(|s| s.trim() == subject.trim())
    }

    /// Arrived at `since` or later, less `skew` for clocks that disagree (a server's, a
    /// sender's Date). A message that says nothing of when it arrived counts as new.
    pub(super) fn arrived_since(&self, since: SystemTime, skew: Duration) -> bool {
        let earliest = since.checked_sub(skew).unwrap_or(UNIX_EPOCH);
        self.arrived.is_none_or(|at| at >= earliest)
    }
}

/// The text of a whole message: its first text/plain part decoded, else its HTML part as
/// text; `None` for a message with neither.
pub(super) fn text(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    let text = message.body_text(0)?;
    // Line ends as a person reads them, so a pattern's `\s+` or `$` need not know CRLF.
    Some(text.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &[u8] = b"Date: Mon, 07 Dec 2026 08:00:00 +0000\r\n\
From: noreply@superlists\r\n\
To: Edith <EDITH@example.com>\r\n\
Cc: someone@example.com\r\n\
Subject: =?utf-8?q?Your_login_link_for_Superlists?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Use this link to log in:\r\n\
\r\n\
http://localhost:8000/accounts/login?token=3D1234-abcd\r\n";

    #[test]
    fn a_message_is_for_any_of_its_recipients_without_case_and_its_subject_decoded() {
        let h = headers(LOGIN, None);
        assert!(h.is_to("edith@example.com") && h.is_to("Someone@Example.com"), "{h:?}");
        assert!(!h.is_to("francis@example.com"));
        assert!(h.has_subject("Your login link for Superlists"), "{h:?}");
        assert!(!h.has_subject("Your login link"));
    }

    #[test]
    fn its_text_is_the_plain_part_decoded() {
        let text = text(LOGIN).expect("text");
        assert_eq!(text, "Use this link to log in:\n\nhttp://localhost:8000/accounts/login?token=1234-abcd\n");
    }

    #[test]
    fn an_html_only_message_is_read_as_its_text() {
        let raw =
            b"To: a@b.c\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p>\r\n";
        assert!(text(raw).expect("text").contains("Hello there"));
    }

    #[test]
    fn arrival_is_the_servers_word_else_the_date_header_with_room_for_skew() {
        let dated = UNIX_EPOCH + Duration::from_secs(1_796_630_400); // 2026-12-07 08:00:00 UTC
        assert_eq!(headers(LOGIN, None).arrived, Some(dated));
        let server = dated + Duration::from_secs(60);
        assert_eq!(headers(LOGIN, Some(server)).arrived, Some(server));
        let h = headers(LOGIN, None);
        let skew = Duration::from_secs(10);
        assert!(h.arrived_since(dated + Duration::from_secs(5), skew), "within the skew");
        assert!(!h.arrived_since(dated + Duration::from_secs(11), skew), "before the attempt");
        assert!(headers(b"To: a@b.c\r\n\r\n", None).arrived_since(SystemTime::now(), skew), "undated counts as new");
    }
}
