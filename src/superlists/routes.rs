//! HTTP: the routes, and the handlers of the lists' pages (start a list, add an item, share
//! it) and of the static files. The accounts' handlers are in `account_views`.

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Form, Router};

use super::account_views;
use super::accounts::parse_email;
use super::csrf;
use super::pages::{self, ItemError, ItemInput};
use super::respond::{html, redirect, AppError, OneFieldForm, Visit, MAX_BODY};
use super::session::Flash;
use super::store::Insert;
use super::{AppState, Defects};

const STYLE_CSS: &str = include_str!("assets/style.css");
const APP_JS: &str = include_str!("assets/app.js");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// The app's routes over `state`; serve it with `axum::serve`, or call it without a socket.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/", get(home))
        .route("/lists/new", post(new_list))
        .route("/lists/{id}/", get(view_list).post(add_item))
        .route("/lists/{id}", any(append_slash))
        .route("/lists/{id}/share", post(share_list))
        .route("/lists/users/{email}/", get(account_views::my_lists))
        .route("/lists/users/{email}", any(append_slash))
        .route("/accounts/send_login_email", post(account_views::send_login_email))
        .route("/accounts/login", get(account_views::login))
        .route("/accounts/logout", post(account_views::logout))
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

/// A 302 like Django's `redirect()`: the browser then GETs the list.
fn redirect_to_list(list_id: i64) -> Response {
    redirect(&format!("/lists/{list_id}/"), &[])
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
    let visit = Visit::for_page(&state, &headers).await?;
    let body = pages::home(&visit.frame(state.chrome()), ItemInput::blank());
    Ok(visit.page(StatusCode::OK, body))
}

async fn new_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = ItemForm::or_empty(form)?;
    let token = csrf::verify(&headers, form.csrfmiddlewaretoken.as_deref()).map_err(AppError::Csrf)?;
    let visit = Visit::after_post(&state, &headers, token).await?;
    let text = form.text.unwrap_or_default();
    let invalid = |text: &str, error| {
        let body = pages::home(&visit.frame(state.chrome()), ItemInput::invalid(text, error));
        visit.page(StatusCode::OK, body)
    };
    if let Err(error) = validate(&text, &[], state.defects) {
        return Ok(invalid(&text, error));
    }
    let shared = state.defects.shared_list;
    // A list started while logged in is the user's (unless the defect forgets to say so).
    let owner = visit.user.clone().filter(|_| !state.defects.lists_not_owned);
    let stored = text.clone();
    let (list_id, insert) = state
        .with_store(move |store| {
            if shared {
                let list_id = store.shared_list()?;
                Ok((list_id, store.add_item(list_id, &stored)?))
            } else {
                Ok((store.new_list_with_item(&stored, owner.as_deref())?, Insert::Added))
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
    let visit = Visit::for_page(&state, &headers).await?;
    let list = state.with_store(move |store| store.list(list_id)).await?.ok_or(AppError::NotFound)?;
    let body = pages::list(&visit.frame(state.chrome()), list_id, &list, ItemInput::blank());
    Ok(visit.page(StatusCode::OK, body))
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
    let list = state.with_store(move |store| store.list(list_id)).await?.ok_or(AppError::NotFound)?;
    let visit = Visit::after_post(&state, &headers, token).await?;
    let invalid = |list: &super::store::ListDetails, error| {
        let body = pages::list(&visit.frame(state.chrome()), list_id, list, ItemInput::invalid(&text, error));
        visit.page(StatusCode::OK, body)
    };
    if let Err(error) = validate(&text, &list.items, state.defects) {
        return Ok(invalid(&list, error));
    }
    let stored = text.clone();
    let insert = state.with_store(move |store| store.add_item(list_id, &stored)).await?;
    match insert {
        Insert::Added => Ok(redirect_to_list(list_id)),
        Insert::Duplicate => {
            // Another request added the same text after our check; show the list as it is.
            let list = state.with_store(move |store| store.list(list_id)).await?.ok_or(AppError::NotFound)?;
            Ok(invalid(&list, ItemError::Duplicate))
        }
    }
}

/// `POST /lists/<id>/share`: share the list with the address given, then show it again
/// (the book's `redirect(list_)`). The defect answers the same and saves nothing.
async fn share_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<OneFieldForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = OneFieldForm::or_empty(form)?;
    form.verify(&headers)?;
    let list_id = list_id(path)?;
    let Some(sharee) = parse_email(form.sharee()) else {
        state.with_store(move |store| store.items(list_id)).await?.ok_or(AppError::NotFound)?;
        return Ok(redirect(&format!("/lists/{list_id}/"), &[Flash::InvalidEmail.cookie()]));
    };
    let found = if state.defects.sharing_ignored {
        state.with_store(move |store| store.items(list_id)).await?.is_some()
    } else {
        state.with_store(move |store| store.share(list_id, &sharee)).await?
    };
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(redirect_to_list(list_id))
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
