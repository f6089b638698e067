//! Where the tests run: a `--liveserver` host or URL, or the embedded superlists app
//! started on 127.0.0.1; and the preflight that proves the target answers HTTP before
//! any scenario runs (the browser starts meanwhile: `job::run`).

pub mod tls;
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
    /// Down: nothing answered the connection (refused, no such host, no route).
    #[error("target {url} is unreachable: {cause}\n  hint: {hint}; ft checked before starting any browser")]
    Down { url: String, cause: String, hint: &'static str },
    /// Slow: connected, but no answer within the preflight's wait.
    #[error("target {url} accepted the connection but did not answer within {waited:?}\n  hint: the server is up but slow (still starting, or overloaded): wait for it, or give it longer with --preflight-timeout SECS (default: --max-wait)")]
    Slow { url: String, waited: Duration },
    /// It answers HTTPS with a certificate ft does not trust.
    #[error("the certificate of {url} is not trusted: {why}\n  hint: {hint}")]
    Untrusted { url: String, why: String, hint: String },
    #[error("failed to make an HTTP client for the preflight of {url}")]
    Client {
        url: String,
        #[source]
        source: tls::ClientError,
    },
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

    /// The embedded app's database file (its server-side commands open it); none for a
    /// remote target.
    pub fn database(&self) -> Option<&std::path::Path> {
        match self {
            Target::Remote { .. } => None,
            Target::Embedded(server) => Some(server.database()),
        }
    }

    /// The embedded app's outbox (a Maildir folder of the emails it sent), read as the inbox
    /// when no other is given; none for a remote target.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        match self {
            Target::Remote { .. } => None,
            Target::Embedded(server) => server.outbox(),
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
            let config = superlists::Config { mail: superlists::Mail::Outbox(None), ..superlists::Config::default() };
            let server = superlists::start(addr, config).await.map_err(TargetError::Embedded)?;
            Ok(Target::Embedded(server))
        }
    }
}

/// What the preflight found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The URL it ended up at after redirects: a sensitive server may hide behind a harmless name.
    pub landed: String,
    /// The browser's pin (`tls::spki_pin`) of the certificate the preflight verified, so the
    /// browser trusts what ft checked (a private CA's leaf, SSL_CERT_FILE's); none over HTTP
    /// or with `--insecure-certs`.
    pub pin: Option<String>,
}

/// The target must answer HTTP (any status below 500) within `timeout`, over a
/// certificate `trust` accepts. A target that is down fails at once (waiting would not
/// bring it up: that is `ft deploy`'s up-wait); a slow one has the whole `timeout`.
pub async fn preflight(url: &str, timeout: Duration, trust: &tls::Trust) -> Result<Reached, TargetError> {
    let shown = redact(url);
    let client = trust.client(timeout).map_err(|source| TargetError::Client { url: shown.clone(), source })?;
    let response = match client.get(format!("{url}/")).send().await {
        Ok(response) => response,
        Err(err) => return Err(failure(url, &err, timeout, trust).await),
    };
    let status = response.status();
    if status.is_server_error() {
        return Err(TargetError::ServerError { url: shown, status: status.as_u16() });
    }
    let pin = if trust.insecure { None } else { tls::peer_certificate(&response).and_then(|der| tls::spki_pin(&der)) };
    Ok(Reached { landed: response.url().to_string(), pin })
}

/// Why a request to the target failed: a certificate it refused, down, or slow.
async fn failure(url: &str, err: &reqwest::Error, timeout: Duration, trust: &tls::Trust) -> TargetError {
    // The URL whose certificate failed may be a redirect's.
    let at = err.url().map_or_else(|| url.to_string(), |u| u.as_str().trim_end_matches('/').to_string());
    if let Some(problem) = tls::certificate_problem(err) {
        let presented = presented_certificate(&at, timeout, trust).await;
        return TargetError::Untrusted {
            url: redact(&at),
            why: tls::describe(&problem, presented.as_deref()),
            hint: tls::untrusted_hint(trust),
        };
    }
    let shown = redact(url);
    if err.is_timeout() && !err.is_connect() {
        return TargetError::Slow { url: shown, waited: timeout };
    }
    let https = at.starts_with("https:");
    let (cause, hint) = down_cause(err, timeout, https);
    TargetError::Down { url: shown, cause, hint }
}

/// The certificate a server presents, fetched without checking it, only to name it in
/// the error: who issued it says what to do.
async fn presented_certificate(url: &str, timeout: Duration, trust: &tls::Trust) -> Option<Vec<u8>> {
    let insecure = tls::Trust { ca: None, insecure: true, ..trust.clone() };
    let client = insecure.client(timeout.min(Duration::from_secs(5))).ok()?;
    let response = client.get(url).send().await.ok()?;
    tls::peer_certificate(&response)
}

/// Why nothing answered the connection, in plain words, and how to fix it.
fn down_cause(err: &reqwest::Error, timeout: Duration, https: bool) -> (String, &'static str) {
    if err.is_timeout() {
        let what = if https { "no connection (or TLS handshake)" } else { "no connection" };
        return (
            format!("{what} within {timeout:?}"),
            "the host is down, or a firewall drops the packets: check that it is up and reachable from here",
        );
    }
    if let Some(rustls::Error::InvalidMessage(_)) = tls::tls_error(err) {
        return (
            "it does not speak TLS on that port".into(),
            "use http:// for this server, or the port where it serves HTTPS",
        );
    }
    let last = innermost(err);
    let lower = last.to_lowercase();
    if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("no address")
    {
        (
            format!("the host name does not resolve ({last}): no such server"),
            "check the host name's spelling and your DNS",
        )
    } else if lower.contains("connection refused") {
        (
            "connection refused: nothing listens on that port (the server is down)".to_string(),
            "start the server, or check the port (and http vs https)",
        )
    } else if lower.contains("connection closed before message completed") {
        (
            "it closed the connection without answering".into(),
            "the server may have crashed on the request, or it speaks HTTPS on that port (then use https://)",
        )
    } else {
        (last, "is the server up, and is the address spelt right?")
    }
}

/// The innermost cause of a request error, in plain words (for `version`'s messages too).
fn cause_of(err: &reqwest::Error, timeout: Duration) -> String {
    if let Some(problem) = tls::certificate_problem(err) {
        return format!("its certificate is not trusted: {}", tls::describe(&problem, None));
    }
    if err.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    down_cause(err, timeout, false).0
}

fn innermost(err: &reqwest::Error) -> String {
    crate::shared::errors::chain(err).last().map_or_else(|| err.to_string(), |e| e.to_string())
}

/// The one rule for "the same server": host (case ignored), effective port and path,
/// without user info. `ft deploy` refuses staging and live that are one server; `ft gate`
/// opens only for a record of the server `--target` names.
pub fn same_server(a: &str, b: &str) -> bool {
    let key = |u: &str| {
        reqwest::Url::parse(u).ok().map(|u| {
            (
                u.host_str().map(str::to_ascii_lowercase),
                u.port_or_known_default(),
                u.path().trim_end_matches('/').to_string(),
            )
        })
    };
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_one_server_by_host_port_and_path_not_by_spelling() {
        assert!(same_server("http://Staging.example:80/", "http://staging.example"));
        assert!(same_server("https://u:pw@staging.example/app/", "https://staging.example:443/app"));
        assert!(!same_server("http://staging.example:8000", "http://staging.example"));
        assert!(!same_server("http://staging.example/app", "http://staging.example/other"));
    }

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
