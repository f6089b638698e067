//! `ft serve --access-log PATH`: one line per request, as a web server's access log has it
//! (time, method, path, status, user agent), so a test can see what reached the app.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

type Log = Arc<Mutex<std::fs::File>>;

/// `router` with every request appended to the file at `path` (created if missing).
pub fn layer(router: Router, path: &Path) -> std::io::Result<Router> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    Ok(router.layer(middleware::from_fn_with_state(Arc::new(Mutex::new(file)), log)))
}

async fn log(State(file): State<Log>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let agent = request
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .replace('"', "'");
    let response = next.run(request).await;
    let line = format!(
        "{} {method} {path} {} \"{agent}\"\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        response.status().as_u16()
    );
    // A line is small and the file local: a failed write loses a log line, not a request.
    if let Ok(mut f) = file.lock() {
        let _ = f.write_all(line.as_bytes());
    }
    response
}
