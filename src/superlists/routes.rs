//! HTTP: the routes, their handlers, and the one error type that knows its status code.

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Form, Router};

use super::csrf;
use super::pages::{self, Chrome, ItemError, ItemInput};
use super::store::{Insert, Store, StoreError};
use super::{AppState, Defects};

const STYLE_CSS: &str = include_str!("assets/style.css");
const APP_JS: &str = include_str!("assets/app.js");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// The largest request body read, as Django's default `DATA_UPLOAD_MAX_MEMORY_SIZE`
/// (2.5 MiB); a bigger one is answered 413 rather than read as an empty, token-less form.
pub(super) const MAX_BODY: usize = 2_621_440;

/// The app's routes over `state`; serve it with `axum::serve`, or call it without a socket.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/", get(home))
        .route("/lists/new", post(new_list))
        .route("/lists/{id}/", get(view_list).post(add_item))
        .route("/lists/{id}", any(append_slash))
        .route("/static/style.css", get(style_css))
        .route("/static/favicon.svg", get(favicon));
    if !state.defects.error_not_cleared {
        router = router.route("/static/app.js", get(app_js));
    }
    if state.version.is_some() {
        router = router.route("/version", get(version));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// A request that declares a body over `MAX_BODY` is answered 413 at once, before any of
/// its body is read: waiting for 99999999999 declared bytes would hold the connection for
/// as long as the client likes. (A body without a declared length is still cut off at
/// `MAX_BODY` as it is read.)
async fn refuse_declared_oversize(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return AppError::TooLarge.into_response();
    }
    next.run(request).await
}

/// On every response, as Django's defaults send them: the page may not be framed by
/// another site (clickjacking), and no browser may guess a type other than the one given.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The item form as posted; both fields are optional so a missing one gets the app's own
/// answer (a CSRF refusal, an empty-item error) rather than an extractor's.
#[derive(Debug, Default, serde::Deserialize)]
struct ItemForm {
    text: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

impl ItemForm {
    /// Like Django, read an unreadable body as an empty form (its token is then missing),
    /// but one over `MAX_BODY` is refused as too large before anything else.
    fn or_empty(form: Result<Form<ItemForm>, FormRejection>) -> Result<ItemForm, AppError> {
        match form {
            Ok(Form(form)) => Ok(form),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::TooLarge),
            Err(_) => Ok(ItemForm::default()),
        }
    }
}

/// Every way a request can fail; each knows its status and page.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("not found")]
    NotFound,
    #[error("request body larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("failed CSRF verification: {}", .0.reason())]
    Csrf(csrf::Failure),
    #[error(transparent)]
    Token(#[from] csrf::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("failed to run a database task to completion")]
    Join(#[from] tokio::task::JoinError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => html(StatusCode::NOT_FOUND, pages::not_found(), None),
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
    fn chrome(&self) -> Chrome {
        Chrome::from(self.defects)
    }

    /// Run a database operation on the blocking pool, so a slow disk never stalls the async
    /// workers; the connection's lock is taken and released inside `operation`.
    async fn with_store<T, F>(&self, operation: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = std::sync::Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || operation(&store)).await??)
    }
}

fn html(status: StatusCode, body: String, header: Option<(HeaderName, HeaderValue)>) -> Response {
    let mut response = (status, Html(body)).into_response();
    if let Some((name, value)) = header {
        response.headers_mut().insert(name, value);
    }
    response
}

/// A 302 like Django's `redirect()`: the browser then GETs the list.
fn redirect_to_list(list_id: i64) -> Response {
    // Digits and slashes only, so always a valid header value.
    match HeaderValue::try_from(format!("/lists/{list_id}/")) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A list id as Django's `<int:list_id>` reads it: ASCII digits only.
fn list_id(path: Result<Path<String>, PathRejection>) -> Result<i64, AppError> {
    let Ok(Path(raw)) = path else {
        return Err(AppError::NotFound);
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::NotFound);
    }
    raw.parse().map_err(|_| AppError::NotFound)
}

/// The book's item validation; the defects switch its checks off.
fn validate(text: &str, existing: &[String], defects: Defects) -> Result<(), ItemError> {
    let checks_empty = !defects.accept_empty && !defects.server_saves_empty;
    if checks_empty && text.trim().is_empty() {
        return Err(ItemError::Empty);
    }
    if !defects.accept_duplicates && existing.iter().any(|item| item == text) {
        return Err(ItemError::Duplicate);
    }
    Ok(())
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    // Only browsers count, so a health check (ft's preflight) does not take a turn.
    let browser = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mozilla"));
    if state.defects.flaky_home && browser && state.home_hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 2 == 0
    {
        let body = "<!doctype html><title>503 Service Unavailable</title><h1>Service Unavailable</h1>".to_string();
        return Ok(html(StatusCode::SERVICE_UNAVAILABLE, body, None));
    }
    let token = csrf::for_page(&headers)?;
    let body = pages::home(state.chrome(), &token.value, ItemInput::blank());
    Ok(html(StatusCode::OK, body, token.set_cookie))
}

async fn new_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = ItemForm::or_empty(form)?;
    let token = csrf::verify(&headers, form.csrfmiddlewaretoken.as_deref()).map_err(AppError::Csrf)?;
    let text = form.text.unwrap_or_default();
    let invalid = |text: &str, error| {
        let body = pages::home(state.chrome(), &token, ItemInput::invalid(text, error));
        html(StatusCode::OK, body, None)
    };
    if let Err(error) = validate(&text, &[], state.defects) {
        return Ok(invalid(&text, error));
    }
    let shared = state.defects.shared_list;
    let stored = text.clone();
    let (list_id, insert) = state
        .with_store(move |store| {
            if shared {
                let list_id = store.shared_list()?;
                Ok((list_id, store.add_item(list_id, &stored)?))
            } else {
                Ok((store.new_list_with_item(&stored)?, Insert::Added))
            }
        })
        .await?;
    Ok(match insert {
        Insert::Added => redirect_to_list(list_id),
        Insert::Duplicate => invalid(&text, ItemError::Duplicate),
    })
}

async fn view_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let list_id = list_id(path)?;
    let token = csrf::for_page(&headers)?;
    let items = state.with_store(move |store| store.items(list_id)).await?.ok_or(AppError::NotFound)?;
    let body = pages::list(state.chrome(), list_id, &items, &token.value, ItemInput::blank());
    Ok(html(StatusCode::OK, body, token.set_cookie))
}

async fn add_item(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = ItemForm::or_empty(form)?;
    // Before anything else, as Django's middleware runs before the view.
    let token = csrf::verify(&headers, form.csrfmiddlewaretoken.as_deref()).map_err(AppError::Csrf)?;
    let list_id = list_id(path)?;
    let text = form.text.unwrap_or_default();
    let items = state.with_store(move |store| store.items(list_id)).await?.ok_or(AppError::NotFound)?;
    let invalid = |items: &[String], error| {
        let body = pages::list(state.chrome(), list_id, items, &token, ItemInput::invalid(&text, error));
        html(StatusCode::OK, body, None)
    };
    if let Err(error) = validate(&text, &items, state.defects) {
        return Ok(invalid(&items, error));
    }
    let stored = text.clone();
    let insert = state.with_store(move |store| store.add_item(list_id, &stored)).await?;
    match insert {
        Insert::Added => Ok(redirect_to_list(list_id)),
        Insert::Duplicate => {
            // Another request added the same text after our check; show the list as it is.
            let items = state.with_store(move |store| store.items(list_id)).await?.unwrap_or_default();
            Ok(invalid(&items, ItemError::Duplicate))
        }
    }
}

/// `/lists/1` → `/lists/1/`, like Django's APPEND_SLASH; 308 keeps a POST a POST.
async fn append_slash(uri: Uri) -> Response {
    let target = match uri.query() {
        Some(query) => format!("{}/?{query}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    // The path came from a valid request line, so it is a valid header value.
    match HeaderValue::try_from(target) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, location)]).into_response(),
        Err(_) => AppError::NotFound.into_response(),
    }
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON_SVG)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            // Revalidate every time: a new ft binary may embed a new version.
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The release this instance runs, as it was configured: plain text, never cached, so a
/// deploy tool can tell which release answers (a Django app has the same few lines).
async fn version(State(state): State<AppState>) -> Response {
    let text = state.version.as_deref().unwrap_or_default();
    ([(CONTENT_TYPE, "text/plain; charset=utf-8"), (CACHE_CONTROL, "no-cache")], format!("{text}\n")).into_response()
}

async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

async fn method_not_allowed() -> Response {
    html(StatusCode::METHOD_NOT_ALLOWED, pages::method_not_allowed(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn blank_text_is_empty() {
        let defects = Defects::default();
        assert_eq!(validate("", &[], defects), Err(ItemError::Empty));
        assert_eq!(validate(" \t\n", &[], defects), Err(ItemError::Empty));
        assert_eq!(validate(" x ", &[], defects), Ok(()));
    }

    #[test]
    fn repeated_text_is_a_duplicate_only_when_exactly_equal() {
        let defects = Defects::default();
        let items = existing(&["milk"]);
        assert_eq!(validate("milk", &items, defects), Err(ItemError::Duplicate));
        assert_eq!(validate("Milk", &items, defects), Ok(()));
        assert_eq!(validate("milk ", &items, defects), Ok(()));
    }

    #[test]
    fn the_defects_switch_the_checks_off() {
        let defects = Defects { accept_empty: true, accept_duplicates: true, ..Defects::default() };
        assert_eq!(validate("", &[], defects), Ok(()));
        assert_eq!(validate("milk", &existing(&["milk"]), defects), Ok(()));
        let server_only = Defects { server_saves_empty: true, ..Defects::default() };
        assert_eq!(validate(" ", &[], server_only), Ok(()));
    }

    #[test]
    fn list_ids_are_digits_only() {
        let id = |raw: &str| list_id(Ok(Path(raw.to_owned()))).ok();
        assert_eq!(id("12"), Some(12));
        assert_eq!(id("007"), Some(7));
        assert_eq!(id("abc"), None);
        assert_eq!(id("+1"), None);
        assert_eq!(id("-1"), None);
        assert_eq!(id(""), None);
        assert_eq!(id("99999999999999999999999"), None);
    }
}
