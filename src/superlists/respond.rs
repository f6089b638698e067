//! What every handler answers with: the one error type that knows its status code, HTML and
//! redirect responses, and the visit (who asks: CSRF token, logged-in user, pending notice).

use axum::extract::rejection::FormRejection;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;

use super::csrf;
use super::mail::MailError;
use super::pages::{self, Chrome, Frame};
use super::session::{self, Flash};
use super::store::{Store, StoreError};
use super::AppState;

/// The largest request body read, as Django's default `DATA_UPLOAD_MAX_MEMORY_SIZE`
/// (2.5 MiB); a bigger one is answered 413 rather than read as an empty, token-less form.
pub(super) const MAX_BODY: usize = 2_621_440;

/// Every way a request can fail; each knows its status and page.
#[derive(Debug, thiserror::Error)]
pub(super) enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("request body larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("failed CSRF verification: {}", .0.reason())]
    Csrf(csrf::Failure),
    #[error(transparent)]
    Token(#[from] csrf::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("failed to run a database task to completion")]
    Join(#[from] tokio::task::JoinError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => html(StatusCode::NOT_FOUND, pages::not_found(), None),
            AppError::BadRequest(why) => html(StatusCode::BAD_REQUEST, pages::bad_request(why), None),
            AppError::TooLarge => html(StatusCode::PAYLOAD_TOO_LARGE, pages::too_large(MAX_BODY), None),
            AppError::Csrf(failure) => html(StatusCode::FORBIDDEN, pages::csrf_failed(failure), None),
            internal => {
                // The visitor gets a generic page; the operator gets the cause.
                log_error(&internal);
                html(StatusCode::INTERNAL_SERVER_ERROR, pages::server_error(), None)
            }
        }
    }
}

fn log_error(err: &dyn std::error::Error) {
    let mut line = format!("superlists: error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("{line}");
}

impl AppState {
    pub(super) fn chrome(&self) -> Chrome {
        Chrome::from(self.defects)
    }

    /// Run a database operation on the blocking pool, so a slow disk never stalls the async
    /// workers; the connection's lock is taken and released inside `operation`.
    pub(super) async fn with_store<T, F>(&self, operation: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = std::sync::Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || operation(&store)).await??)
    }
}

pub(super) fn html(status: StatusCode, body: String, header: Option<(HeaderName, HeaderValue)>) -> Response {
    let mut response = (status, Html(body)).into_response();
    if let Some((name, value)) = header {
        response.headers_mut().insert(name, value);
    }
    response
}

/// A 302 like Django's `redirect()`, setting `cookies` on the way.
pub(super) fn redirect(location: &str, cookies: &[HeaderValue]) -> Response {
    let Ok(location) = HeaderValue::try_from(location) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response = (StatusCode::FOUND, [(LOCATION, location)]).into_response();
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie.clone());
    }
    response
}

/// A form that carries one field besides its CSRF token (`email`, `sharee`), read as
/// leniently as `ItemForm`.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct OneFieldForm {
    email: Option<String>,
    sharee: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

impl OneFieldForm {
    pub(super) fn or_empty(form: Result<Form<OneFieldForm>, FormRejection>) -> Result<OneFieldForm, AppError> {
        match form {
            Ok(Form(form)) => Ok(form),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::TooLarge),
            Err(_) => Ok(OneFieldForm::default()),
        }
    }

    /// Check the CSRF token before anything else, as Django's middleware runs before the view.
    pub(super) fn verify(&self, headers: &HeaderMap) -> Result<String, AppError> {
        csrf::verify(headers, self.csrfmiddlewaretoken.as_deref()).map_err(AppError::Csrf)
    }

    pub(super) fn email(&self) -> &str {
        self.email.as_deref().unwrap_or_default()
    }

    pub(super) fn sharee(&self) -> &str {
        self.sharee.as_deref().unwrap_or_default()
    }
}

/// Who is asking: their CSRF token, who is logged in (from the session in the database),
/// and the notice waiting for them.
pub(super) struct Visit {
    pub(super) token: String,
    set_csrf: Option<(HeaderName, HeaderValue)>,
    pub(super) user: Option<String>,
    flash: Option<Flash>,
}

impl Visit {
    /// A page view: the visitor's token (a new one and its cookie if they have none).
    pub(super) async fn for_page(state: &AppState, headers: &HeaderMap) -> Result<Visit, AppError> {
        let token = csrf::for_page(headers)?;
        Visit::with_token(state, headers, token.value, token.set_cookie).await
    }

    /// A form post whose CSRF `token` has been verified.
    pub(super) async fn after_post(state: &AppState, headers: &HeaderMap, token: String) -> Result<Visit, AppError> {
        Visit::with_token(state, headers, token, None).await
    }

    async fn with_token(
        state: &AppState,
        headers: &HeaderMap,
        token: String,
        set_csrf: Option<(HeaderName, HeaderValue)>,
    ) -> Result<Visit, AppError> {
        let user = match session::session_key(headers).map(str::to_owned) {
            Some(key) => state.with_store(move |store| store.session_user(&key)).await?,
            None => None,
        };
        Ok(Visit { token, set_csrf, user, flash: Flash::pending(headers) })
    }

    /// What the page's furniture shows for this visit.
    pub(super) fn frame(&self, chrome: Chrome) -> Frame<'_> {
        Frame { chrome, token: &self.token, user: self.user.as_deref(), flash: self.flash }
    }

    /// The page `body`, with the CSRF cookie if the visitor had none, and the shown notice
    /// taken away.
    pub(super) fn page(&self, status: StatusCode, body: String) -> Response {
        let mut response = html(status, body, self.set_csrf.clone());
        if self.flash.is_some() {
            response.headers_mut().append(SET_COOKIE, Flash::shown());
        }
        response
    }
}
