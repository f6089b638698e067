//! Django-style CSRF protection: a random token in a `csrftoken` cookie, echoed by each form.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The cookie that carries the token.
pub(crate) const COOKIE_NAME: &str = "csrftoken";
/// The hidden form field that must echo it.
pub(crate) const FIELD: &str = "csrfmiddlewaretoken";
/// Random bytes per token; hex-encoded to twice as many characters.
const TOKEN_BYTES: usize = 32;
/// Django's default cookie lifetime: one year.
const MAX_AGE_SECONDS: u32 = 31_449_600;

/// The token a page's forms carry, and the cookie to set if the visitor had none.
pub(crate) struct PageToken {
    pub(crate) value: String,
    pub(crate) set_cookie: Option<(HeaderName, HeaderValue)>,
}

#[derive(Debug, thiserror::Error)]
// getrandom's error is `std::error::Error` only with its "std" feature, so it is shown
// in the message rather than chained as a source.
#[error("failed to generate a CSRF token: {0}")]
pub(crate) struct TokenError(getrandom::Error);

/// Why a POST was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    CookieNotSet,
    TokenMissing,
    TokenIncorrect,
}

impl Failure {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Failure::CookieNotSet => "CSRF cookie not set.",
            Failure::TokenMissing => "CSRF token missing.",
            Failure::TokenIncorrect => "CSRF token incorrect.",
        }
    }
}

/// The visitor's token, or a fresh one (with its cookie) if they have none yet.
pub(crate) fn for_page(headers: &HeaderMap) -> Result<PageToken, TokenError> {
    if let Some(value) = from_cookie(headers) {
        return Ok(PageToken { value: value.to_owned(), set_cookie: None });
    }
    let value = new_token()?;
    let cookie = format!("{COOKIE_NAME}={value}; Path=/; Max-Age={MAX_AGE_SECONDS}; SameSite=Lax");
    // Hex and ASCII punctuation only, so always a valid header value.
    let set_cookie = HeaderValue::try_from(cookie).ok().map(|cookie| (SET_COOKIE, cookie));
    Ok(PageToken { value, set_cookie })
}

/// Check a POST: the form's token must equal the cookie's. Returns the token on success.
pub(crate) fn verify(headers: &HeaderMap, submitted: Option<&str>) -> Result<String, Failure> {
    let cookie = from_cookie(headers).ok_or(Failure::CookieNotSet)?;
    let submitted = submitted.filter(|token| !token.is_empty()).ok_or(Failure::TokenMissing)?;
    if constant_time_eq(cookie.as_bytes(), submitted.as_bytes()) {
        Ok(cookie.to_owned())
    } else {
        Err(Failure::TokenIncorrect)
    }
}

/// The well-formed token in the request's `csrftoken` cookie, if any.
fn from_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
        .filter(|value| is_well_formed(value))
}

fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn new_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(TokenError)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equality whose running time does not depend on where the inputs first differ, so a
/// token cannot be guessed byte by byte from response times.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // The length is not secret: every token has the same length.
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
    fn new_tokens_are_64_hex_characters_and_differ() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_visitor_without_a_cookie_gets_one() {
        let token = for_page(&HeaderMap::new()).expect("token");
        let (name, cookie) = token.set_cookie.expect("a cookie to set");
        assert_eq!(name, SET_COOKIE);
        let cookie = cookie.to_str().expect("ascii");
        assert!(cookie.starts_with(&format!("csrftoken={}; ", token.value)), "{cookie}");
        assert!(cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    }

    #[test]
    fn a_visitor_with_a_cookie_keeps_it() {
        let value = "ab".repeat(32);
        let token = for_page(&with_cookie(&format!("other=1; csrftoken={value}"))).expect("token");
        assert_eq!(token.value, value);
        assert!(token.set_cookie.is_none());
    }

    #[test]
    fn a_malformed_cookie_is_replaced() {
        let token = for_page(&with_cookie("csrftoken=<script>")).expect("token");
        assert!(token.set_cookie.is_some());
    }

    #[test]
    fn verify_wants_the_cookie_and_an_equal_token() {
        let value = "0f".repeat(32);
        let headers = with_cookie(&format!("csrftoken={value}"));
        assert_eq!(verify(&headers, Some(&value)), Ok(value.clone()));
        assert_eq!(verify(&headers, None), Err(Failure::TokenMissing));
        assert_eq!(verify(&headers, Some("")), Err(Failure::TokenMissing));
        assert_eq!(verify(&headers, Some(&"0e".repeat(32))), Err(Failure::TokenIncorrect));
        assert_eq!(verify(&HeaderMap::new(), Some(&value)), Err(Failure::CookieNotSet));
    }

    #[test]
    fn constant_time_eq_compares_whole_inputs() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
