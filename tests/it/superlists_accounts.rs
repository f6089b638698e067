//! The embedded app's accounts over real HTTP: login by emailed link, logout, "My lists",
//! owners and sharing, mail delivery (Maildir outbox, SMTP), the server-side commands, the
//! schema upgrade, and each accounts defect doing exactly its wrong thing.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use ft::superlists::{self, Config, Defects, Mail, Server};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;

const SENT: &str = "Check your email, we&#x27;ve sent you a link you can use to log in.";
const INVALID: &str = "Invalid login link, please request a new one";

async fn serve_with(db: Option<&Path>, defects: Defects, mail: Mail) -> Result<Server> {
    let config = Config { db: db.map(Path::to_owned), defects, mail, ..Config::default() };
    Ok(superlists::start("127.0.0.1:0".parse()?, config).await?)
}

/// The app with a temporary database and a temporary outbox, as ft's embedded target.
async fn serve(defects: Defects) -> Result<Server> {
    serve_with(None, defects, Mail::Outbox(None)).await
}

/// A response, read whole.
struct Page {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Result<Page> {
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let cookies =
            response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        Ok(Page { status: response.status(), location, cookies, body: response.text().await? })
    }

    fn token(&self) -> Result<String> {
        let marker = "name=\"csrfmiddlewaretoken\" value=\"";
        let start = self.body.find(marker).context("no csrfmiddlewaretoken input")? + marker.len();
        let len = self.body[start..].find('"').context("unterminated token")?;
        Ok(self.body[start..start + len].to_owned())
    }

    fn logged_in_as(&self) -> Option<String> {
        let (_, rest) = self.body.split_once("<span class=\"navbar-text\">Logged in as ")?;
        Some(rest.split_once("</span>")?.0.to_owned())
    }

    /// The texts of the list table's rows.
    fn rows(&self) -> Vec<String> {
        self.body
            .split("<tr><td>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</td></tr>"))
            .map(|(cell, _)| cell.to_owned())
            .collect()
    }
}

/// One browser: its own cookie jar and CSRF token.
struct Browser {
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    token: String,
}

impl Browser {
    async fn open(server: &Server) -> Result<Browser> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()?;
        let base = server.url().to_owned();
        let home = Page::read(client.get(format!("{base}/")).send().await?).await?;
        let token = home.token()?;
        Ok(Browser { client, jar, base, token })
    }

    /// A browser whose `sessionid` cookie was set by hand (the book's
    /// `create_pre_authenticated_session`).
    async fn with_session(server: &Server, key: &str) -> Result<Browser> {
        let browser = Browser::open(server).await?;
        let url: reqwest::Url = browser.base.parse()?;
        browser.jar.add_cookie_str(&format!("sessionid={key}; Path=/"), &url);
        Ok(browser)
    }

    async fn get(&self, path: &str) -> Result<Page> {
        Page::read(self.client.get(format!("{}{path}", self.base)).send().await?).await
    }

    async fn post(&self, path: &str, field: &str, value: &str) -> Result<Page> {
        let form = [("csrfmiddlewaretoken", self.token.as_str()), (field, value)];
        Page::read(self.client.post(format!("{}{path}", self.base)).form(&form).send().await?).await
    }

    async fn send_login_email(&self, email: &str) -> Result<Page> {
        self.post("/accounts/send_login_email", "email", email).await
    }

    async fn log_out(&self) -> Result<Page> {
        self.post("/accounts/logout", "x", "").await
    }

    /// Start a list with one item; its path.
    async fn start_list(&self, text: &str) -> Result<String> {
        let page = self.post("/lists/new", "text", text).await?;
        if page.status != StatusCode::FOUND {
            bail!("starting a list gave {}: {}", page.status, page.body);
        }
        page.location.context("a Location")
    }
}

/// The messages in a Maildir's new/, oldest first.
fn outbox_messages(dir: &Path) -> Result<Vec<String>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir.join("new"))?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
    files.iter().map(|path| Ok(std::fs::read_to_string(path)?)).collect()
}

/// The link in a login email's body.
fn link_in(message: &str) -> Result<String> {
    let body = message.split_once("\r\n\r\n").context("a body")?.1;
    let link =
        body.strip_prefix("Use this link to log in:\r\n\r\n").with_context(|| format!("the book's words: {body:?}"))?;
    Ok(link.trim_end().to_owned())
}

/// Send a login email to `email` and follow its link; the browser is then logged in.
async fn log_in_by_email(server: &Server, browser: &Browser, email: &str) -> Result<()> {
    let outbox = server.outbox().context("an outbox")?;
    let before = outbox_messages(outbox)?.len();
    browser.send_login_email(email).await?;
    let messages = outbox_messages(outbox)?;
    let message = messages.get(before).context("a new message")?;
    let link = link_in(message)?;
    let path = link.strip_prefix(&browser.base).context("a link to this server")?;
    let page = browser.get(path).await?;
    if page.status != StatusCode::FOUND {
        bail!("the login link gave {}", page.status);
    }
    Ok(())
}

fn temp_db() -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite3");
    Ok((dir, db))
}

fn count(db: &Path, sql: &str) -> Result<i64> {
    Ok(rusqlite::Connection::open(db)?.query_row(sql, [], |row| row.get(0))?)
}

#[tokio::test]
async fn a_visitor_sees_the_login_form_in_the_navbar() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let body = Browser::open(&server).await?.get("/").await?.body;
    assert!(body.contains("<nav class=\"navbar\">"), "{body}");
    assert!(body.contains("<form method=\"POST\" action=\"/accounts/send_login_email\">"), "{body}");
    assert!(
        body.contains(
            "<input id=\"id_email_input\" name=\"email\" class=\"form-control\" placeholder=\"your@email.com\">"
        ),
        "{body}"
    );
    assert!(!body.contains("Logged in as") && !body.contains("id_logout") && !body.contains("My lists"), "{body}");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn the_login_email_lands_in_the_outbox_and_its_link_logs_the_visitor_in() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Browser::open(&server).await?;
    let sent = edith.send_login_email("edith@example.com").await?;
    assert_eq!((sent.status, sent.location.as_deref()), (StatusCode::FOUND, Some("/")));
    let home = edith.get("/").await?;
    assert!(home.body.contains(&format!("<div class=\"alert alert-success\">{SENT}</div>")), "{}", home.body);
    assert!(!edith.get("/").await?.body.contains("alert"), "the notice is shown once");

    let messages = outbox_messages(server.outbox().context("an outbox")?)?;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    for header in [
        "Subject: Your login link for Superlists\r\n",
        "From: noreply@superlists\r\n",
        "To: edith@example.com\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "MIME-Version: 1.0\r\n",
        "Message-ID: <",
        "Date: ",
    ] {
        assert!(message.contains(header), "{header:?} in {message}");
    }
    let link = link_in(message)?;
    let prefix = format!("{}/accounts/login?token=", server.url());
    let token = link.strip_prefix(&prefix).with_context(|| format!("an absolute link: {link}"))?;
    assert_eq!(token.len(), 36, "a UUID: {token}");

    let login = edith.get(&format!("/accounts/login?token={token}")).await?;
    assert_eq!((login.status, login.location.as_deref()), (StatusCode::FOUND, Some("/")));
    let cookie = login.cookies.iter().find(|c| c.starts_with("sessionid=")).context("a session cookie")?;
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let home = edith.get("/").await?;
    assert_eq!(home.logged_in_as().as_deref(), Some("edith@example.com"), "{}", home.body);
    assert!(home.body.contains("<a class=\"nav-link\" href=\"/lists/users/edith@example.com/\">My lists</a>"));
    assert!(home.body.contains("<button id=\"id_logout\""), "{}", home.body);
    assert!(!home.body.contains("id_email_input"), "{}", home.body);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn the_link_is_built_from_the_host_the_visitor_used() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Browser::open(&server).await?;
    let form = [("csrfmiddlewaretoken", edith.token.as_str()), ("email", "edith@example.com")];
    let url = format!("{}/accounts/send_login_email", edith.base);
    edith.client.post(&url).header("host", "superlists.example:8080").form(&form).send().await?;
    let messages = outbox_messages(server.outbox().context("an outbox")?)?;
    let link = link_in(&messages[0])?;
    assert!(link.starts_with("http://superlists.example:8080/accounts/login?token="), "{link}");
    let refused = edith.client.post(&url).header("host", "evil.example/x").form(&form).send().await?;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(outbox_messages(server.outbox().context("an outbox")?)?.len(), 1, "nothing sent for a bad Host");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn an_unknown_or_used_token_shows_the_invalid_link_warning_and_logs_nobody_in() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Browser::open(&server).await?;
    for path in ["/accounts/login?token=abcd", "/accounts/login?token=", "/accounts/login"] {
        let page = edith.get(path).await?;
        assert_eq!((page.status, page.location.as_deref()), (StatusCode::FOUND, Some("/")), "{path}");
        let home = edith.get("/").await?;
        assert!(home.body.contains(&format!("<div class=\"alert alert-warning\">{INVALID}</div>")), "{}", home.body);
        assert_eq!(home.logged_in_as(), None);
    }
    // A link works once.
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let messages = outbox_messages(server.outbox().context("an outbox")?)?;
    let link = link_in(&messages[0])?;
    let francis = Browser::open(&server).await?;
    francis.get(link.strip_prefix(&francis.base).context("this server")?).await?;
    let home = francis.get("/").await?;
    assert!(home.body.contains(INVALID), "{}", home.body);
    assert_eq!(home.logged_in_as(), None);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_malformed_address_is_refused_with_a_warning_and_nothing_sent() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Browser::open(&server).await?;
    edith.send_login_email("not an address").await?;
    let home = edith.get("/").await?;
    assert!(home.body.contains("<div class=\"alert alert-warning\">"), "{}", home.body);
    assert!(outbox_messages(server.outbox().context("an outbox")?)?.is_empty());
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn logout_ends_the_session_for_good() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_with(Some(&db), Defects::default(), Mail::Outbox(None)).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let out = edith.log_out().await?;
    assert_eq!((out.status, out.location.as_deref()), (StatusCode::FOUND, Some("/")));
    assert!(
        out.cookies.iter().any(|c| c.starts_with("sessionid=\"\"") && c.contains("Max-Age=0")),
        "{:?}",
        out.cookies
    );
    let home = edith.get("/").await?;
    assert_eq!(home.logged_in_as(), None);
    assert!(home.body.contains("id_email_input"));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sessions")?, 0, "the session is gone, not only the cookie");
    // Logout is a form post like any other: no token, no logout.
    let stranger = reqwest::Client::new();
    let refused = stranger.post(format!("{}/accounts/logout", server.url())).send().await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn my_lists_shows_owned_lists_by_first_item_and_lists_shared_with_their_owner() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let first = edith.start_list("Reticulate splines").await?;
    edith.post(&first, "text", "Immanentize eschaton").await?;
    let second = edith.start_list("Click cows").await?;
    let list = edith.get(&first).await?;
    assert!(list.body.contains("List owner: <span id=\"id_list_owner\">edith@example.com</span>"), "{}", list.body);
    // A list started by a visitor who is not logged in has no owner and is nobody's.
    let anonymous = Browser::open(&server).await?;
    let theirs = anonymous.start_list("Anonymous item").await?;
    assert!(!anonymous.get(&theirs).await?.body.contains("List owner"));

    let mine = edith.get("/lists/users/edith@example.com/").await?;
    assert_eq!(mine.status, StatusCode::OK);
    let body = &mine.body;
    assert!(body.contains("<h1 class=\"display-1\">My Lists</h1>"), "{body}");
    assert!(body.contains("<h2>edith@example.com&#x27;s lists</h2>"), "{body}");
    assert!(body.contains(&format!("<li><a href=\"{first}\">Reticulate splines</a></li>")), "{body}");
    assert!(body.contains(&format!("<li><a href=\"{second}\">Click cows</a></li>")), "{body}");
    assert!(!body.contains("Anonymous item"), "{body}");
    assert!(body.contains("<h2>Lists shared by other users</h2>"), "{body}");
    assert_eq!(edith.get("/lists/users/nobody@example.com/").await?.status, StatusCode::NOT_FOUND);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn sharing_a_list_names_the_sharee_and_shows_it_in_their_lists_with_its_owner() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_with(Some(&db), Defects::default(), Mail::Outbox(None)).await?;
    let edith_key = superlists::create_session(&db, "edith@example.com")?;
    let oni_key = superlists::create_session(&db, "onesiphorus@example.com")?;
    let edith = Browser::with_session(&server, &edith_key).await?;
    let oni = Browser::with_session(&server, &oni_key).await?;
    let list = edith.start_list("Get help").await?;
    let page = edith.get(&list).await?;
    assert!(page.body.contains(&format!("<form method=\"POST\" action=\"{list}share\"")), "{}", page.body);
    assert!(page.body.contains("name=\"sharee\" class=\"form-control\" placeholder=\"your-friend@example.com\""));

    let shared = edith.post(&format!("{list}share"), "sharee", "onesiphorus@example.com").await?;
    assert_eq!((shared.status, shared.location.as_deref()), (StatusCode::FOUND, Some(list.as_str())));
    let page = edith.get(&list).await?;
    assert!(page.body.contains("<li class=\"list-sharee\">onesiphorus@example.com</li>"), "{}", page.body);

    let his = oni.get("/lists/users/onesiphorus@example.com/").await?;
    assert!(
        his.body.contains(&format!(
            "<li><a href=\"{list}\">Get help</a> (<span class=\"list-owner\">edith@example.com</span>)</li>"
        )),
        "{}",
        his.body
    );
    // He adds an item; she sees it.
    oni.post(&list, "text", "Hi Edith!").await?;
    assert_eq!(edith.get(&list).await?.rows(), ["1: Get help", "2: Hi Edith!"]);
    // A share without a token is refused; to a missing list, 404.
    let refused = reqwest::Client::new().post(format!("{}{list}share", server.url())).send().await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(edith.post("/lists/999/share", "sharee", "a@example.com").await?.status, StatusCode::NOT_FOUND);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn create_session_in_another_process_logs_a_client_in_while_the_app_runs() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_with(Some(&db), Defects::default(), Mail::Outbox(None)).await?;
    let db_arg = db.to_str().context("a UTF-8 path")?;
    let out = common::output(std::process::Command::new(common::FT).args([
        "serve",
        "create-session",
        "--db",
        db_arg,
        "edith@example.com",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    let key = out.stdout.strip_suffix('\n').context("a newline")?;
    assert_eq!(key.len(), 32, "the key and nothing else: {:?}", out.stdout);
    assert!(key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{key}");
    assert_eq!(out.stderr, "");
    let edith = Browser::with_session(&server, key).await?;
    assert_eq!(edith.get("/").await?.logged_in_as().as_deref(), Some("edith@example.com"));
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn reset_database_in_another_process_empties_the_running_apps_tables() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_with(Some(&db), Defects::default(), Mail::Outbox(None)).await?;
    let key = superlists::create_session(&db, "edith@example.com")?;
    let edith = Browser::with_session(&server, &key).await?;
    let list = edith.start_list("Reticulate splines").await?;
    edith.post(&format!("{list}share"), "sharee", "oni@example.com").await?;
    let db_arg = db.to_str().context("a UTF-8 path")?;
    let out = common::output(std::process::Command::new(common::FT).args(["serve", "reset-database", "--db", db_arg]));
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.all());
    for table in ["lists", "items", "users", "tokens", "sessions", "sharees"] {
        assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM {table}"))?, 0, "{table}");
    }
    assert_eq!(edith.get("/").await?.logged_in_as(), None, "the session went with it");
    assert_eq!(edith.get(&list).await?.status, StatusCode::NOT_FOUND);
    assert!(edith.start_list("again").await?.starts_with("/lists/"), "the app goes on");
    server.shutdown().await?;
    Ok(())
}

#[test]
fn the_server_side_commands_refuse_bad_input_with_exit_2() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite3");
    let db_arg = db.to_str().context("a UTF-8 path")?;
    let out = common::output(std::process::Command::new(common::FT).args([
        "serve",
        "create-session",
        "--db",
        db_arg,
        "not-an-email",
    ]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("\"not-an-email\"") && out.stderr.contains("hint:"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let nowhere = dir.path().join("missing").join("db.sqlite3");
    let nowhere = nowhere.to_str().context("a UTF-8 path")?;
    let out = common::output(std::process::Command::new(common::FT).args(["serve", "reset-database", "--db", nowhere]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("its folder does not exist"), "{}", out.stderr);
    let out = common::output(std::process::Command::new(common::FT).args([
        "serve",
        "--smtp",
        "127.0.0.1:25",
        "--outbox",
        db_arg,
    ]));
    assert_eq!(out.code, 2, "--smtp and --outbox conflict: {}", out.all());
    let out = common::output(std::process::Command::new(common::FT).args(["serve", "--smtp", "nowhere"]));
    assert_eq!(out.code, 2, "not HOST:PORT: {}", out.all());
    assert!(out.stderr.contains("expected HOST:PORT"), "{}", out.stderr);
    Ok(())
}

#[tokio::test]
async fn a_version_2_database_with_data_is_upgraded_and_loses_nothing() -> Result<()> {
    let (_dir, db) = temp_db()?;
    common::version_1_database(&db, &[(1, "buy milk"), (1, "tea"), (2, "peacock feathers")]);
    {
        let conn = rusqlite::Connection::open(&db)?;
        conn.execute_batch(
            "CREATE UNIQUE INDEX items_list_id_text ON items (list_id, text); PRAGMA user_version = 2;",
        )?;
    }
    let server = serve_with(Some(&db), Defects::default(), Mail::Outbox(None)).await?;
    let edith = Browser::open(&server).await?;
    assert_eq!(edith.get("/lists/1/").await?.rows(), ["1: buy milk", "2: tea"]);
    assert_eq!(edith.get("/lists/2/").await?.rows(), ["1: peacock feathers"]);
    assert!(!edith.get("/lists/1/").await?.body.contains("List owner"), "old lists have no owner");
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let list = edith.start_list("mine").await?;
    assert!(edith.get(&list).await?.body.contains("id_list_owner"));
    server.shutdown().await?;
    let version: i64 = rusqlite::Connection::open(&db)?.pragma_query_value(None, "user_version", |row| row.get(0))?;
    assert_eq!(version, 4);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 4);
    Ok(())
}

#[test]
fn ft_serve_outbox_writes_each_login_email_into_the_maildir() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let outbox = dir.path().join("outbox");
    let served = common::Served::start_with(&["--outbox", outbox.to_str().context("a UTF-8 path")?]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let home = client.get(format!("{}/", served.url)).send().await?.text().await?;
        let token = Page { status: StatusCode::OK, location: None, cookies: vec![], body: home }.token()?;
        let form = [("csrfmiddlewaretoken", token.as_str()), ("email", "edith@example.com")];
        let page = client.post(format!("{}/accounts/send_login_email", served.url)).form(&form).send().await?;
        assert_eq!(page.status(), StatusCode::OK, "followed the redirect home");
        anyhow::Ok(())
    })?;
    let messages = outbox_messages(&outbox)?;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(&format!("{}/accounts/login?token=", served.url)), "{}", messages[0]);
    assert!(outbox.join("tmp").is_dir() && outbox.join("cur").is_dir());
    Ok(())
}

/// A one-message SMTP server on loopback: it says yes to everything and hands back what
/// came after DATA.
async fn smtp_listener() -> Result<(String, tokio::task::JoinHandle<Result<String>>)> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let task = tokio::spawn(async move {
        let (stream, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept()).await??;
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await?;
        let mut data = String::new();
        while let Some(line) = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await?? {
            let command = line.to_ascii_uppercase();
            if command.starts_with("EHLO") || command.starts_with("HELO") {
                write.write_all(b"250 test\r\n").await?;
            } else if command.starts_with("DATA") {
                write.write_all(b"354 go on\r\n").await?;
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push_str(&line);
                    data.push('\n');
                }
                write.write_all(b"250 queued\r\n").await?;
            } else if command.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                break;
            } else {
                write.write_all(b"250 ok\r\n").await?;
            }
        }
        Ok(data)
    });
    Ok((addr, task))
}

#[tokio::test]
async fn smtp_mail_reaches_the_server_given() -> Result<()> {
    let (addr, received) = smtp_listener().await?;
    let server = serve_with(None, Defects::default(), Mail::Smtp(addr)).await?;
    let edith = Browser::open(&server).await?;
    let sent = edith.send_login_email("edith@example.com").await?;
    assert_eq!(sent.status, StatusCode::FOUND, "{}", sent.body);
    let data = tokio::time::timeout(Duration::from_secs(20), received).await???;
    assert!(data.contains("Subject: Your login link for Superlists"), "{data}");
    assert!(data.contains("To: edith@example.com"), "{data}");
    assert!(data.contains(&format!("Use this link to log in:\n\n{}/accounts/login?token=", server.url())), "{data}");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn an_smtp_failure_is_an_error_page_and_the_app_goes_on() -> Result<()> {
    // A port nobody listens on: bound, then closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let server = serve_with(None, Defects::default(), Mail::Smtp(addr.to_string())).await?;
    let edith = Browser::open(&server).await?;
    let page = edith.send_login_email("edith@example.com").await?;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.body.contains("Something went wrong on our side"), "{}", page.body);
    assert_eq!(edith.get("/").await?.status, StatusCode::OK);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn login_link_ignored_defect_goes_home_without_logging_in() -> Result<()> {
    let server = serve(Defects { login_link_ignored: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let home = edith.get("/").await?;
    assert_eq!(home.logged_in_as(), None);
    assert!(!home.body.contains(INVALID), "no warning either: {}", home.body);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn no_email_defect_says_check_your_email_and_sends_nothing() -> Result<()> {
    let server = serve(Defects { no_email: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    edith.send_login_email("edith@example.com").await?;
    assert!(edith.get("/").await?.body.contains(SENT));
    assert!(outbox_messages(server.outbox().context("an outbox")?)?.is_empty());
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn logout_ignored_defect_redirects_and_keeps_the_session() -> Result<()> {
    let server = serve(Defects { logout_ignored: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let out = edith.log_out().await?;
    assert_eq!((out.status, out.location.as_deref()), (StatusCode::FOUND, Some("/")));
    assert_eq!(edith.get("/").await?.logged_in_as().as_deref(), Some("edith@example.com"));
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn lists_not_owned_defect_leaves_new_lists_out_of_my_lists() -> Result<()> {
    let server = serve(Defects { lists_not_owned: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let list = edith.start_list("Reticulate splines").await?;
    assert!(!edith.get(&list).await?.body.contains("List owner"));
    let mine = edith.get("/lists/users/edith@example.com/").await?;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(!mine.body.contains("Reticulate splines"), "{}", mine.body);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn sharing_ignored_defect_answers_the_share_form_and_saves_nothing() -> Result<()> {
    let server = serve(Defects { sharing_ignored: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let list = edith.start_list("Get help").await?;
    let shared = edith.post(&format!("{list}share"), "sharee", "oni@example.com").await?;
    assert_eq!((shared.status, shared.location.as_deref()), (StatusCode::FOUND, Some(list.as_str())));
    assert!(!edith.get(&list).await?.body.contains("list-sharee"));
    assert_eq!(edith.get("/lists/users/oni@example.com/").await?.status, StatusCode::NOT_FOUND);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn owner_hidden_defect_leaves_the_owner_off_the_list_page_only() -> Result<()> {
    let server = serve(Defects { owner_hidden: true, ..Defects::default() }).await?;
    let edith = Browser::open(&server).await?;
    log_in_by_email(&server, &edith, "edith@example.com").await?;
    let list = edith.start_list("Get help").await?;
    assert!(!edith.get(&list).await?.body.contains("id_list_owner"));
    let mine = edith.get("/lists/users/edith@example.com/").await?;
    assert!(mine.body.contains("Get help"), "still owned: {}", mine.body);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn accept_duplicates_defect_still_has_accounts() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let defects = Defects { accept_duplicates: true, ..Defects::default() };
    let server = serve_with(Some(&db), defects, Mail::Outbox(None)).await?;
    let key = superlists::create_session(&db, "edith@example.com")?;
    let edith = Browser::with_session(&server, &key).await?;
    assert_eq!(edith.get("/").await?.logged_in_as().as_deref(), Some("edith@example.com"));
    let list = edith.start_list("x").await?;
    edith.post(&list, "text", "x").await?;
    assert_eq!(edith.get(&list).await?.rows(), ["1: x", "2: x"], "no index came in under the running app");
    server.shutdown().await?;
    Ok(())
}

#[test]
fn ft_serve_prints_the_login_email_on_stdout_by_default() -> Result<()> {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir()?;
    let mut child = common::ends_with_this_thread(&mut std::process::Command::new(common::FT))
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("db.sqlite3"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let _process = common::KillOnDrop::new(child);
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let first = received.recv_timeout(Duration::from_secs(10))?;
    let url = first.strip_prefix("ft serve: listening on ").context("the URL line")?.trim_end_matches('/').to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let home = client.get(format!("{url}/")).send().await?.text().await?;
        let token = Page { status: StatusCode::OK, location: None, cookies: vec![], body: home }.token()?;
        let form = [("csrfmiddlewaretoken", token.as_str()), ("email", "edith@example.com")];
        client.post(format!("{url}/accounts/send_login_email")).form(&form).send().await?;
        anyhow::Ok(())
    })?;
    let mut printed = Vec::new();
    while let Ok(line) = received.recv_timeout(Duration::from_secs(10)) {
        let done = line.starts_with("---");
        printed.push(line);
        if done {
            break;
        }
    }
    let printed = printed.join("\n");
    assert!(printed.contains("Subject: Your login link for Superlists"), "{printed}");
    assert!(printed.contains(&format!("Use this link to log in:\n\n{url}/accounts/login?token=")), "{printed}");
    Ok(())
}
