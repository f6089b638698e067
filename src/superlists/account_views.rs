//! HTTP handlers of the accounts: send a login link, log in by it, log out, and "My lists".

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Form;

use super::accounts::parse_email;
use super::mail;
use super::pages;
use super::respond::{redirect, AppError, OneFieldForm, Visit};
use super::session::{self, Flash};
use super::AppState;

/// The longest `token` looked up (a UUID is 36 characters).
const MAX_TOKEN: usize = 64;

/// `POST /accounts/send_login_email`: email a login link to the address given, then say so
/// on the home page (the book's view, word for word). The `no-email` defect says so and
/// sends nothing.
pub(super) async fn send_login_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<OneFieldForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = OneFieldForm::or_empty(form)?;
    form.verify(&headers)?;
    let Some(email) = parse_email(form.email()) else {
        return Ok(redirect("/", &[Flash::InvalidEmail.cookie()]));
    };
    let base = absolute_base(&headers, &uri)?;
    if !state.defects.no_email {
        let to = email.clone();
        let uid = state.with_store(move |store| store.create_token(&to)).await?;
        let message = mail::login_email(&email, &format!("{base}/accounts/login?token={uid}"))?;
        state.mailer.send(message).await?;
    }
    Ok(redirect("/", &[Flash::LoginSent.cookie()]))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct LoginQuery {
    token: Option<String>,
}

/// `GET /accounts/login?token=...`: a known token logs its address in (the user is made
/// on first login); anything else says the link is invalid. Either way, home.
pub(super) async fn login(
    State(state): State<AppState>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    if state.defects.login_link_ignored {
        return Ok(redirect("/", &[]));
    }
    let token = query.ok().and_then(|Query(query)| query.token).filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN);
    let email = match token {
        Some(token) => state.with_store(move |store| store.redeem_token(&token)).await?,
        None => None,
    };
    let Some(email) = email else {
        return Ok(redirect("/", &[Flash::InvalidLink.cookie()]));
    };
    let key = state.with_store(move |store| store.create_session(&email)).await?;
    Ok(redirect("/", &[session::login_cookie(&key)]))
}

/// `POST /accounts/logout`: end the session, then home. The `logout-ignored` defect goes
/// home and keeps it.
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<OneFieldForm>, FormRejection>,
) -> Result<Response, AppError> {
    OneFieldForm::or_empty(form)?.verify(&headers)?;
    if state.defects.logout_ignored {
        return Ok(redirect("/", &[]));
    }
    if let Some(key) = session::session_key(&headers).map(str::to_owned) {
        state.with_store(move |store| store.delete_session(&key)).await?;
    }
    Ok(redirect("/", &[session::logout_cookie()]))
}

/// `GET /lists/users/<email>/`: the lists a user owns and those shared with them (anyone may
/// look, as in the book); 404 for an address that never logged in nor was shared with.
pub(super) async fn my_lists(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let Ok(Path(email)) = path else {
        return Err(AppError::NotFound);
    };
    let visit = Visit::for_page(&state, &headers).await?;
    let owner = email.clone();
    let lists = state.with_store(move |store| store.lists_of(&owner)).await?.ok_or(AppError::NotFound)?;
    let body = pages::my_lists(&visit.frame(state.chrome()), &email, &lists);
    Ok(visit.page(StatusCode::OK, body))
}

/// The scheme and host the visitor used, as Django's `build_absolute_uri` makes a link:
/// the request's Host (validated as a host name or IP literal with an optional port), and
/// https only when a proxy in front says so (`X-Forwarded-Proto: https`).
fn absolute_base(headers: &HeaderMap, uri: &Uri) -> Result<String, AppError> {
    let host = match uri.authority() {
        Some(authority) => Some(authority.as_str()),
        None => headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()),
    };
    let host = host.filter(|h| is_valid_host(h)).ok_or(AppError::BadRequest("no valid Host header"))?;
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

/// Django's `host_validation_re`: a name of letters, digits, dots and hyphens, or an IPv6
/// literal in brackets; then an optional port.
fn is_valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port))
            if !name.ends_with(':') && (name.starts_with('[') == name.ends_with(']')) && !port.contains(']') =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(ip) => ip.contains(':') && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
        None => !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
    };
    port_ok && name_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_names_or_ip_literals_with_an_optional_port() {
        for good in
            ["127.0.0.1:8000", "localhost", "superlists.example.com", "[::1]:8000", "[::1]", "Staging.Example:80"]
        {
            assert!(is_valid_host(good), "{good}");
        }
        for bad in ["", "evil.com/x", "a b", "host:", "host:port", "[::1", "::1", "x@y", "host:123456"] {
            assert!(!is_valid_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_link_base_is_the_requests_host_and_https_only_behind_a_proxy_that_says_so() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:8000".parse().expect("header"));
        let uri: Uri = "/accounts/send_login_email".parse().expect("uri");
        assert_eq!(absolute_base(&headers, &uri).expect("base"), "http://127.0.0.1:8000");
        headers.insert("x-forwarded-proto", "https".parse().expect("header"));
        assert_eq!(absolute_base(&headers, &uri).expect("base"), "https://127.0.0.1:8000");
        headers.insert("host", "evil.com/path".parse().expect("header"));
        assert!(absolute_base(&headers, &uri).is_err());
    }
}
