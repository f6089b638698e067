//! The superlists to-do app from "Test-Driven Development with Python" (3rd edition), as it
//! stands at the book's last chapter (lists, item validation, login by emailed link, "My
//! lists", sharing): the reference target ft tests when it is given no server.
//!
//! It knows nothing of the rest of ft. Jobs, one per file: `store` (list queries),
//! `accounts` (user, token and session queries; the server-side commands), `migrate`
//! (schema versions), `routes` (the router and the lists' handlers), `account_views` (the
//! accounts' handlers), `respond` (what every handler answers with: errors, the visit),
//! `pages` (HTML), `csrf` (tokens), `session` (the session and notice cookies), `mail`
//! (the login email and its delivery), `random` (keys), `assets` (CSS, JS); this file holds
//! the configuration and the server's lifecycle.

mod access_log;
mod account_views;
mod accounts;
mod csrf;
mod mail;
mod migrate;
mod pages;
mod random;
mod respond;
mod routes;
mod session;
mod store;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use accounts::{create_session, reset_database, CommandError};
pub use mail::MailError;
pub use migrate::{DuplicateItems, MigrateError};
pub use routes::app;

/// How long `Server::shutdown` lets in-flight requests finish before it cuts them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How to run one instance of the app.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// SQLite database file, created if missing; `None` = a fresh temporary database that is
    /// deleted when the server stops.
    pub db: Option<PathBuf>,
    /// Deliberate defects, so ft's own tests can prove each scenario catches a real bug.
    pub defects: Defects,
    /// What `GET /version` answers (the deployed release, as a deploy script knows it);
    /// `None`: there is no `/version` page.
    pub version: Option<String>,
    /// Append a line per request here (`ft serve --access-log`).
    pub access_log: Option<PathBuf>,
    /// Where the app's emails (login links) go.
    pub mail: Mail,
}

/// Where the app's emails go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Mail {
    /// Printed to standard output, as Django's console email backend does (`ft serve`'s
    /// default).
    #[default]
    Console,
    /// Written one file per message (RFC 5322) into this Maildir folder's `new/` (through
    /// `tmp/`, so a reader never sees half a message), created if missing; `None`: a temporary folder deleted with the server. The
    /// embedded target's: ft reads it as the inbox (`Server::outbox`).
    Outbox(Option<PathBuf>),
    /// Sent over SMTP to this `HOST:PORT` (`ft serve --smtp`).
    Smtp(String),
}

/// Which deliberate defects are switched on; all off is the faithful app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Defects {
    /// No `required` attribute and no server-side empty check: an empty item becomes a row.
    pub accept_empty: bool,
    /// The page keeps `required` (a browser still refuses an empty item), but the server
    /// has no empty check: any client that skips HTML5 validation saves a blank item.
    pub server_saves_empty: bool,
    /// The build from before the duplicate check: no check in the app and no unique index
    /// (migration 2 is left out: the schema version stays 1, the accounts' migrations are
    /// applied all the same), so a repeated item becomes a second row.
    pub accept_duplicates: bool,
    /// `/static/app.js` is neither linked nor served, so an error stays visible while typing.
    pub error_not_cleared: bool,
    /// Every new list goes into one shared list (the first), so all visitors see one URL.
    pub shared_list: bool,
    /// The page container is left-aligned, so the input sits ~150px left of centre at 1024px.
    pub off_centre: bool,
    /// The `<title>` says "Superlists" and never "To-Do".
    pub wrong_title: bool,
    /// Every other `GET /` from a browser (the first, third, ...) answers 503: a flaky
    /// server, for retries.
    pub flaky_home: bool,
    /// Every page runs a tracking snippet that calls an object the page never loads, so
    /// the browser reports an uncaught TypeError; what a visitor sees is unchanged, so only
    /// the browser's signals catch it.
    pub script_error: bool,
    /// The login link leads home without logging anyone in.
    pub login_link_ignored: bool,
    /// The login form says "Check your email" but no email is sent.
    pub no_email: bool,
    /// Log out leads home but the session goes on.
    pub logout_ignored: bool,
    /// Lists started by a logged-in user get no owner (so never appear in "My lists").
    pub lists_not_owned: bool,
    /// The share form answers as usual but nobody is added.
    pub sharing_ignored: bool,
    /// A list's page does not say who owns it.
    pub owner_hidden: bool,
}

/// One deliberate defect, as named on the command line (`--defect accept-empty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Defect {
    AcceptEmpty,
    ServerSavesEmpty,
    AcceptDuplicates,
    ErrorNotCleared,
    SharedList,
    OffCentre,
    WrongTitle,
    FlakyHome,
    ScriptError,
    LoginLinkIgnored,
    NoEmail,
    LogoutIgnored,
    ListsNotOwned,
    SharingIgnored,
    OwnerHidden,
}

impl Defect {
    /// The command-line name, e.g. "accept-empty".
    pub fn name(self) -> &'static str {
        match self {
            Defect::AcceptEmpty => "accept-empty",
            Defect::ServerSavesEmpty => "server-saves-empty",
            Defect::AcceptDuplicates => "accept-duplicates",
            Defect::ErrorNotCleared => "error-not-cleared",
            Defect::SharedList => "shared-list",
            Defect::OffCentre => "off-centre",
            Defect::WrongTitle => "wrong-title",
            Defect::FlakyHome => "flaky-home",
            Defect::ScriptError => "script-error",
            Defect::LoginLinkIgnored => "login-link-ignored",
            Defect::NoEmail => "no-email",
            Defect::LogoutIgnored => "logout-ignored",
            Defect::ListsNotOwned => "lists-not-owned",
            Defect::SharingIgnored => "sharing-ignored",
            Defect::OwnerHidden => "owner-hidden",
        }
    }
}

impl Defects {
    pub fn from_list(list: &[Defect]) -> Defects {
        let mut defects = Defects::default();
        for defect in list {
            match defect {
                Defect::AcceptEmpty => defects.accept_empty = true,
                Defect::ServerSavesEmpty => defects.server_saves_empty = true,
                Defect::AcceptDuplicates => defects.accept_duplicates = true,
                Defect::ErrorNotCleared => defects.error_not_cleared = true,
                Defect::SharedList => defects.shared_list = true,
                Defect::OffCentre => defects.off_centre = true,
                Defect::WrongTitle => defects.wrong_title = true,
                Defect::FlakyHome => defects.flaky_home = true,
                Defect::ScriptError => defects.script_error = true,
                Defect::LoginLinkIgnored => defects.login_link_ignored = true,
                Defect::NoEmail => defects.no_email = true,
                Defect::LogoutIgnored => defects.logout_ignored = true,
                Defect::ListsNotOwned => defects.lists_not_owned = true,
                Defect::SharingIgnored => defects.sharing_ignored = true,
                Defect::OwnerHidden => defects.owner_hidden = true,
            }
        }
        defects
    }

    /// The defects switched on, in declaration order.
    pub fn list(&self) -> Vec<Defect> {
        [
            (self.accept_empty, Defect::AcceptEmpty),
            (self.server_saves_empty, Defect::ServerSavesEmpty),
            (self.accept_duplicates, Defect::AcceptDuplicates),
            (self.error_not_cleared, Defect::ErrorNotCleared),
            (self.shared_list, Defect::SharedList),
            (self.off_centre, Defect::OffCentre),
            (self.wrong_title, Defect::WrongTitle),
            (self.flaky_home, Defect::FlakyHome),
            (self.script_error, Defect::ScriptError),
            (self.login_link_ignored, Defect::LoginLinkIgnored),
            (self.no_email, Defect::NoEmail),
            (self.logout_ignored, Defect::LogoutIgnored),
            (self.lists_not_owned, Defect::ListsNotOwned),
            (self.sharing_ignored, Defect::SharingIgnored),
            (self.owner_hidden, Defect::OwnerHidden),
        ]
        .into_iter()
        .filter_map(|(on, defect)| on.then_some(defect))
        .collect()
    }

    pub fn any(&self) -> bool {
        *self != Defects::default()
    }
}

/// What the request handlers share: the database, the mailer and the defect switches.
#[derive(Clone)]
pub struct AppState {
    store: Arc<store::Store>,
    mailer: Arc<mail::Mailer>,
    defects: Defects,
    /// Browsers' `GET /` requests so far (for the flaky-home defect).
    home_hits: Arc<std::sync::atomic::AtomicU64>,
    /// What `GET /version` answers, if anything.
    version: Option<Arc<str>>,
}

impl AppState {
    /// Open (creating if missing) and migrate the database at `path`; emails are printed
    /// until `with_mail` says otherwise. Blocking.
    pub fn open(path: &Path, defects: Defects) -> Result<AppState, ServeError> {
        // The accept-duplicates build predates migration 2 (the unique index), see `Defects`.
        let plan = if defects.accept_duplicates { migrate::Plan::WITHOUT_UNIQUE_ITEMS } else { migrate::Plan::LATEST };
        let store = store::Store::open(path, plan)?;
        Ok(AppState {
            store: Arc::new(store),
            mailer: Arc::new(mail::Mailer::Console),
            defects,
            home_hits: Arc::default(),
            version: None,
        })
    }

    /// Deliver emails as `mail` says; `outbox` is the Maildir folder for `Mail::Outbox`.
    pub fn with_mail(mut self, mail: &Mail, outbox: Option<&Path>) -> Result<AppState, ServeError> {
        self.mailer = Arc::new(mail::Mailer::new(mail, outbox).map_err(ServeError::Mail)?);
        Ok(self)
    }

    /// Answer `GET /version` with `version`.
    pub fn with_version(mut self, version: Option<&str>) -> AppState {
        self.version = version.map(Arc::from);
        self
    }
}

/// Why the app could not start, serve or stop.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("failed to create a temporary directory for the database")]
    TempDir(#[source] io::Error),
    #[error("failed to open database {}", path.display())]
    OpenDatabase {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("failed to migrate database {}", path.display())]
    MigrateDatabase {
        path: PathBuf,
        #[source]
        source: MigrateError,
    },
    #[error("failed to make the outbox {} (a Maildir: tmp/, new/, cur/)", path.display())]
    Outbox {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to set up the app's email")]
    Mail(#[source] MailError),
    #[error("failed to bind {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("failed to open the access log {}", path.display())]
    AccessLog {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to read the address the server is bound to")]
    LocalAddr(#[source] io::Error),
    #[error("failed to serve HTTP")]
    Serve(#[source] io::Error),
    #[error("failed to run a server task to completion")]
    Task(#[source] tokio::task::JoinError),
}

/// A running instance; stop it with `shutdown`. Dropping it aborts the serve task.
pub struct Server {
    url: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
    /// The SQLite database file (a server-side command such as `ft serve create-session`
    /// may open it while the app runs).
    database: PathBuf,
    /// The Maildir folder the app writes its emails into (`Mail::Outbox`).
    outbox: Option<PathBuf>,
    // Declared last so the database directory outlives the task that uses it.
    _tempdir: Option<tempfile::TempDir>,
}

/// Bind `addr` (port 0 picks a free port), open and migrate the database, and serve in the
/// background. Returns once the socket is listening.
pub async fn start(addr: SocketAddr, config: Config) -> Result<Server, ServeError> {
    let mut tempdir = None;
    let mut temporary = || -> Result<PathBuf, ServeError> {
        if tempdir.is_none() {
            let dir = tempfile::Builder::new().prefix("superlists-").tempdir().map_err(ServeError::TempDir)?;
            tempdir = Some(dir);
        }
        Ok(tempdir.as_ref().map(|d| d.path().to_owned()).unwrap_or_default())
    };
    let path = match config.db {
        Some(path) => path,
        None => temporary()?.join("db.sqlite3"),
    };
    let outbox = match &config.mail {
        Mail::Outbox(Some(dir)) => Some(dir.clone()),
        Mail::Outbox(None) => Some(temporary()?.join("outbox")),
        Mail::Console | Mail::Smtp(_) => None,
    };
    if let Some(dir) = &outbox {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|source| ServeError::Outbox { path: dir.clone(), source })?;
        }
    }
    let database = path.clone();
    let defects = config.defects;
    // Opening may migrate a large database: keep that off the async workers.
    let state =
        tokio::task::spawn_blocking(move || AppState::open(&path, defects)).await.map_err(ServeError::Task)??;
    let state = state.with_version(config.version.as_deref()).with_mail(&config.mail, outbox.as_deref())?;

    let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let addr = listener.local_addr().map_err(ServeError::LocalAddr)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let router = match &config.access_log {
        Some(path) => access_log::layer(app(state), path)
            .map_err(|source| ServeError::AccessLog { path: path.clone(), source })?,
        None => app(state),
    };
    let task = tokio::spawn(serve(listener, router, async move {
        // A dropped sender means the same as a sent stop: shut down.
        let _ = stopped.await;
    }));
    Ok(Server {
        url: format!("http://{}", browsable(addr)),
        addr,
        stop: Some(stop),
        task: Some(task),
        database,
        outbox,
        _tempdir: tempdir,
    })
}

/// How long a client may take to send a request's headers (from the connection's start,
/// or from the end of the request before on a kept-alive one). A browser sends them at
/// once; a client that dribbles them, or sends none, holds a connection and a task for
/// nothing (3,000 such clients kept the app busy for over a minute).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Accept and serve connections until `stop` ends, then let the open ones finish their
/// requests (`Server::shutdown` bounds how long). Each connection is HTTP/1.1 with a
/// header read timeout, which `axum::serve` does not set.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (closing, _) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => break,
            Some(_) = connections.join_next() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before it was taken: the
                // next accept may work; the listener itself is fine.
                Err(_) => continue,
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut closing = closing.subscribe();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = closing.wait_for(|c| *c) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// An address a browser can reach: a wildcard bind is reached through loopback.
fn browsable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
}

impl Server {
    /// The base URL, e.g. "http://127.0.0.1:8000", without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the socket is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SQLite database file the app serves from.
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// The Maildir folder the app writes its emails into, if it keeps an outbox.
    pub fn outbox(&self) -> Option<&Path> {
        self.outbox.as_deref()
    }

    /// Stop accepting connections, let in-flight requests finish (up to a grace period), and
    /// wait for the serve task. A temporary database is deleted afterwards.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(joined) => joined.map_err(ServeError::Task)?.map_err(ServeError::Serve),
            Err(_elapsed) => {
                // A client that never finishes its request must not keep the server up.
                task.abort();
                let _ = task.await;
                eprintln!(
                    "superlists: requests still running after {}s were cut off at shutdown",
                    SHUTDOWN_GRACE.as_secs()
                );
                Ok(())
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Backstop only (`shutdown` is the graceful path): Drop cannot wait, so make sure
        // the serve task does not outlive its Server.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn defect_names_match_the_command_line() {
        for defect in Defect::value_variants() {
            let value = defect.to_possible_value().expect("every defect is visible to clap");
            assert_eq!(value.get_name(), defect.name());
        }
    }

    #[test]
    fn defects_from_list_round_trips() {
        let all = Defect::value_variants();
        let defects = Defects::from_list(all);
        assert_eq!(defects.list(), all);
        assert!(defects.any());
        assert!(!Defects::default().any());
        assert_eq!(Defects::from_list(&[]), Defects::default());
    }

    #[test]
    fn wildcard_binds_are_browsed_through_loopback() {
        let wildcard: SocketAddr = "0.0.0.0:8000".parse().expect("literal address");
        assert_eq!(browsable(wildcard).to_string(), "127.0.0.1:8000");
        let v6: SocketAddr = "[::]:8000".parse().expect("literal address");
        assert_eq!(browsable(v6).to_string(), "[::1]:8000");
    }
}
