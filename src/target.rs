//! Where the tests run: a `--liveserver` host or URL, or the embedded superlists app
//! started on 127.0.0.1; and the preflight that proves the target answers HTTP before
//! any browser starts.

pub mod version;

use std::time::Duration;

use crate::superlists;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("invalid {flag} {given:?}: {why}\n  hint: give a host (superlists-staging.ottg.eu), host:port (localhost:8000) or a URL (https://example.com)")]
    /// `flag` names where the value came from (`--liveserver`, `--staging`, `--target`...).
    Invalid { flag: &'static str, given: String, why: String },
    #[error("failed to start the embedded superlists app")]
    Embedded(#[source] superlists::ServeError),
    #[error("target {url} is unreachable: {cause}\n  hint: is the server up, and is the address spelt right? ft checked before starting any browser")]
    Unreachable { url: String, cause: String },
    #[error("target {url} answered HTTP {status}: the server is up but failing\n  hint: check the app's logs (a 502/503 usually means the app behind the web server is down)")]
    ServerError { url: String, status: u16 },
    /// It answers, but not as the release we mean (`--expect-version`).
    #[error(transparent)]
    Version(#[from] version::VersionError),
}

/// A target to run against; the embedded app stops when this is stopped or dropped.
pub enum Target {
    Remote { url: String },
    Embedded(superlists::Server),
}

impl Target {
    /// Base URL without a trailing slash.
    pub fn url(&self) -> String {
        match self {
            Target::Remote { url } => url.clone(),
            Target::Embedded(server) => server.url().to_string(),
        }
    }

    /// No target was given: this is ft's own embedded app.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Target::Embedded(_))
    }

    /// How the target is shown to people: credentials in the URL are never printed.
    pub fn display(&self) -> String {
        match self {
            Target::Remote { url } => redact(url),
            Target::Embedded(server) => format!("{} (embedded superlists)", server.url()),
        }
    }

    pub async fn stop(self) {
        if let Target::Embedded(server) = self {
            if let Err(err) = server.shutdown().await {
                eprintln!("warning: the embedded app did not stop cleanly: {err}");
            }
        }
    }
}

/// Turn what the user gave (`host`, `host:port` or a URL) into a base URL, the way the
/// book's `--liveserver` does: a bare host means `http://host`.
pub fn resolve(given: &str) -> Result<String, TargetError> {
    resolve_as(given, "--liveserver")
}

/// `resolve`, for a value given as `flag` (named in the error).
pub fn resolve_as(given: &str, flag: &'static str) -> Result<String, TargetError> {
    let trimmed = given.trim();
    let invalid = |why: &str| TargetError::Invalid { flag, given: given.to_string(), why: why.to_string() };
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let with_scheme = if trimmed.contains("://") { trimmed.to_string() } else { format!("http://{trimmed}") };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&format!("scheme {:?} is not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a target URL cannot have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

use crate::shared::redact::redact;

/// Use `liveserver` if given, else start the embedded app on 127.0.0.1 with a fresh
/// temporary database.
pub async fn start(liveserver: Option<&str>) -> Result<Target, TargetError> {
    match liveserver {
        Some(given) => Ok(Target::Remote { url: resolve(given)? }),
        None => {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let server = superlists::start(addr, superlists::Config::default()).await.map_err(TargetError::Embedded)?;
            Ok(Target::Embedded(server))
        }
    }
}

/// The target must answer HTTP (any status below 500) within `timeout`. Returns the URL
/// it ended up at after redirects: a sensitive server may hide behind a harmless name.
pub async fn preflight(url: &str, timeout: Duration) -> Result<String, TargetError> {
    let shown = redact(url);
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| TargetError::Unreachable { url: shown.clone(), cause: e.to_string() })?;
    let response = client
        .get(format!("{url}/"))
        .send()
        .await
        .map_err(|e| TargetError::Unreachable { url: shown.clone(), cause: cause_of(&e, timeout) })?;
    let status = response.status();
    if status.is_server_error() {
        return Err(TargetError::ServerError { url: shown, status: status.as_u16() });
    }
    Ok(response.url().to_string())
}

/// The innermost cause of a request error, in plain words.
fn cause_of(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut last = err.to_string();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    let lower = last.to_lowercase();
    if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("no address")
    {
        format!("the host name does not resolve ({last})")
    } else if lower.contains("connection refused") {
        "connection refused (nothing listens on that port)".to_string()
    } else {
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_means_http_like_the_book() {
        assert_eq!(resolve("superlists-staging.ottg.eu").ok().as_deref(), Some("http://superlists-staging.ottg.eu"));
        assert_eq!(resolve("localhost:8000").ok().as_deref(), Some("http://localhost:8000"));
        assert_eq!(resolve("https://example.com/").ok().as_deref(), Some("https://example.com"));
        assert_eq!(resolve("http://h/app/").ok().as_deref(), Some("http://h/app"));
    }

    #[test]
    fn nonsense_targets_are_refused_with_the_reason() {
        for bad in ["", "ftp://x", "http://", "http://h/?q=1", "exa mple.com"] {
            let err = resolve(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid --liveserver"), "{bad}: {err}");
        }
    }
}
