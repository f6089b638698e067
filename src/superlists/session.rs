//! The visitor's cookies beyond CSRF: `sessionid` (who is logged in; the session itself is
//! a row in the database) and `messages` (a one-time notice for the next page, as Django's
//! messages framework shows "Check your email").

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use super::accounts::SESSION_AGE;
use super::random;

/// Django's session cookie name, which the book's tests set by hand (`create_session`).
pub(crate) const SESSION_COOKIE: &str = "sessionid";
/// The one-time notice for the next page.
const MESSAGES_COOKIE: &str = "messages";

/// The value of cookie `name` in the request, if any.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// The well-formed session key in the request's `sessionid` cookie, if any.
pub(crate) fn session_key(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE).filter(|key| random::is_session_key(key))
}

/// Set-Cookie for a new session, as Django sends it: HttpOnly, SameSite=Lax, two weeks.
pub(crate) fn login_cookie(key: &str) -> HeaderValue {
    let cookie = format!("{SESSION_COOKIE}={key}; HttpOnly; Max-Age={}; Path=/; SameSite=Lax", SESSION_AGE.as_secs());
    // A session key is [a-z0-9] only, so always a valid header value.
    HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Set-Cookie that ends the session in the browser.
pub(crate) fn logout_cookie() -> HeaderValue {
    HeaderValue::from_static("sessionid=\"\"; HttpOnly; Max-Age=0; Path=/; SameSite=Lax")
}

/// The notices the app shows once, on the next page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flash {
    /// After the login form: the book's `messages.success`.
    LoginSent,
    /// After an unknown or used login link: the book's `messages.error`.
    InvalidLink,
    /// After a login or share form whose address is not one (beyond the book, which sends
    /// to whatever was typed).
    InvalidEmail,
}

impl Flash {
    const ALL: [Flash; 3] = [Flash::LoginSent, Flash::InvalidLink, Flash::InvalidEmail];

    /// What the cookie carries: a code, never text, so a visitor cannot make the app say
    /// something else.
    fn code(self) -> &'static str {
        match self {
            Flash::LoginSent => "login_sent",
            Flash::InvalidLink => "invalid_link",
            Flash::InvalidEmail => "invalid_email",
        }
    }

    /// The words shown.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Flash::LoginSent => "Check your email, we've sent you a link you can use to log in.",
            Flash::InvalidLink => "Invalid login link, please request a new one",
            Flash::InvalidEmail => "That is not an email address we can send to",
        }
    }

    /// The alert's class: success, or a warning for everything else (as the book's
    /// base.html shows `messages.error`).
    pub(crate) fn class(self) -> &'static str {
        match self {
            Flash::LoginSent => "alert alert-success",
            Flash::InvalidLink | Flash::InvalidEmail => "alert alert-warning",
        }
    }

    /// The notice waiting in the request's cookie, if any.
    pub(crate) fn pending(headers: &HeaderMap) -> Option<Flash> {
        let code = cookie(headers, MESSAGES_COOKIE)?;
        Flash::ALL.into_iter().find(|flash| flash.code() == code)
    }

    /// Set-Cookie that leaves this notice for the next page.
    pub(crate) fn cookie(self) -> HeaderValue {
        let cookie = format!("{MESSAGES_COOKIE}={}; HttpOnly; Path=/; SameSite=Lax", self.code());
        HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Set-Cookie that removes a notice once shown.
    pub(crate) fn shown() -> HeaderValue {
        HeaderValue::from_static("messages=\"\"; HttpOnly; Max-Age=0; Path=/; SameSite=Lax")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).expect("cookie header"));
        headers
    }

    #[test]
    fn only_a_well_formed_session_key_is_read() {
        let key = "a".repeat(32);
        assert_eq!(session_key(&with_cookie(&format!("csrftoken=x; sessionid={key}"))), Some(key.as_str()));
        assert_eq!(session_key(&with_cookie("sessionid=' OR 1=1 --")), None);
        assert_eq!(session_key(&HeaderMap::new()), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_and_lax() {
        let cookie = login_cookie(&"k".repeat(32));
        let cookie = cookie.to_str().expect("ascii");
        assert!(cookie.starts_with(&format!("sessionid={};", "k".repeat(32))), "{cookie}");
        for part in ["HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=1209600"] {
            assert!(cookie.contains(part), "{part} in {cookie}");
        }
    }

    #[test]
    fn a_notice_round_trips_through_its_cookie_and_unknown_codes_are_ignored() {
        for flash in Flash::ALL {
            let set = flash.cookie();
            let pair = set.to_str().expect("ascii").split(';').next().expect("a pair").to_owned();
            assert_eq!(Flash::pending(&with_cookie(&pair)), Some(flash));
        }
        assert_eq!(Flash::pending(&with_cookie("messages=<script>")), None);
    }
}
