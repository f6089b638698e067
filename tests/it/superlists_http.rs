//! The embedded superlists app over real HTTP on 127.0.0.1, one test per behaviour.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use common::version_1_database;
use ft::superlists::{self, Config, Defects, Server};
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

const EMPTY_ERROR: &str = "You can&#x27;t have an empty list item";
const DUPLICATE_ERROR: &str = "You&#x27;ve already got this in your list";

async fn serve(defects: Defects) -> Result<Server> {
    Ok(superlists::start("127.0.0.1:0".parse()?, Config { db: None, defects, ..Config::default() }).await?)
}

async fn serve_db(db: &Path, defects: Defects) -> Result<Server> {
    let config = Config { db: Some(db.to_owned()), defects, ..Config::default() };
    Ok(superlists::start("127.0.0.1:0".parse()?, config).await?)
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// A response, read whole.
struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    content_type: String,
    body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Result<Page> {
        let header = |name| {
            response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned)
        };
        let location = header(LOCATION);
        let set_cookie = header(SET_COOKIE);
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        Ok(Page { status: response.status(), location, set_cookie, content_type, body: response.text().await? })
    }

    /// The texts of the list table's rows, e.g. ["1: first", "2: second"].
    fn rows(&self) -> Vec<String> {
        self.body
            .split("<tr><td>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</td></tr>"))
            .map(|(cell, _)| cell.to_owned())
            .collect()
    }

    fn csrf_token(&self) -> Result<String> {
        let marker = "name=\"csrfmiddlewaretoken\" value=\"";
        let start = self.body.find(marker).context("no csrfmiddlewaretoken input")? + marker.len();
        let len = self.body[start..].find('"').context("unterminated token")?;
        Ok(self.body[start..start + len].to_owned())
    }
}

/// One browser: its own cookie jar, and the CSRF token from its first page.
struct Visitor {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Visitor {
    /// GET / (which sets the CSRF cookie) and keep the form's token.
    async fn arrive(server: &Server) -> Result<Visitor> {
        let client = client()?;
        let base = server.url().to_owned();
        let home = Page::read(client.get(format!("{base}/")).send().await?).await?;
        let token = home.csrf_token()?;
        Ok(Visitor { client, base, token })
    }

    async fn get(&self, path: &str) -> Result<Page> {
        Page::read(self.client.get(format!("{}{path}", self.base)).send().await?).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<Page> {
        let response = self.client.post(format!("{}{path}", self.base)).form(form).send().await?;
        Page::read(response).await
    }

    /// Submit the item form at `path` with this visitor's token.
    async fn submit(&self, path: &str, text: &str) -> Result<Page> {
        self.post(path, &[("csrfmiddlewaretoken", &self.token), ("text", text)]).await
    }

    /// Start a list with one item; returns the list's path, e.g. "/lists/3/".
    async fn start_list(&self, text: &str) -> Result<String> {
        let page = self.submit("/lists/new", text).await?;
        if page.status != StatusCode::FOUND {
            bail!("starting a list gave {}: {}", page.status, page.body);
        }
        page.location.context("no Location on the redirect")
    }

    /// Add an item to a list and expect the redirect back to it.
    async fn add(&self, list: &str, text: &str) -> Result<()> {
        let page = self.submit(list, text).await?;
        if page.status != StatusCode::FOUND || page.location.as_deref() != Some(list) {
            bail!("adding {text:?} gave {} {:?}", page.status, page.location);
        }
        Ok(())
    }
}

fn count(db: &Path, sql: &str) -> Result<i64> {
    let conn = rusqlite::Connection::open(db)?;
    Ok(conn.query_row(sql, [], |row| row.get(0))?)
}

fn temp_db() -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("db.sqlite3");
    Ok((dir, db))
}

fn user_version(db: &Path) -> Result<i64> {
    let conn = rusqlite::Connection::open(db)?;
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

#[tokio::test]
async fn home_page_has_the_item_form() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let home = Visitor::arrive(&server).await?.get("/").await?;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.content_type.starts_with("text/html"), "{}", home.content_type);
    let body = &home.body;
    assert!(body.contains("<title>To-Do lists</title>"), "{body}");
    assert!(body.contains("<h1 class=\"display-1\">Start a new To-Do list</h1>"), "{body}");
    assert!(body.contains("<form method=\"POST\" action=\"/lists/new\">"), "{body}");
    assert!(
        body.contains(
            "<input type=\"text\" class=\"form-control form-control-lg\" name=\"text\" \
             id=\"id_text\" placeholder=\"Enter a to-do item\" required>"
        ),
        "{body}"
    );
    assert_eq!(body.matches("type=\"text\"").count(), 1, "one text input");
    assert!(!body.contains("invalid-feedback"), "no error yet: {body}");
    assert!(body.contains("<link rel=\"stylesheet\" href=\"/static/style.css\">"), "{body}");
    assert!(body.contains("<script src=\"/static/app.js\" defer></script>"), "{body}");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn home_page_sets_a_csrf_cookie_once_and_the_form_carries_its_token() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let client = client()?;
    let first = Page::read(client.get(format!("{}/", server.url())).send().await?).await?;
    let cookie = first.set_cookie.clone().context("a csrftoken cookie")?;
    let token = first.csrf_token()?;
    assert_eq!(token.len(), 64, "{token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    assert!(cookie.starts_with(&format!("csrftoken={token};")), "{cookie}");
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let second = Page::read(client.get(format!("{}/", server.url())).send().await?).await?;
    assert_eq!(second.set_cookie, None, "the cookie is kept, not replaced");
    assert_eq!(second.csrf_token()?, token);
    let other = Visitor::arrive(&server).await?;
    assert_ne!(other.token, token, "each visitor gets their own token");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn new_item_redirects_to_a_new_list_showing_it() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let page = edith.submit("/lists/new", "Buy peacock feathers").await?;
    assert_eq!(page.status, StatusCode::FOUND);
    let list = page.location.context("a Location")?;
    assert!(list.starts_with("/lists/") && list.ends_with('/'), "{list}");
    let id = &list["/lists/".len()..list.len() - 1];
    assert!(id.parse::<i64>().is_ok(), "integer id: {list}");
    let shown = edith.get(&list).await?;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.rows(), ["1: Buy peacock feathers"]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn list_page_has_the_table_and_a_form_posting_to_the_list() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("first item").await?;
    let body = edith.get(&list).await?.body;
    assert!(body.contains("<title>To-Do lists</title>"), "{body}");
    assert!(body.contains("<h1 class=\"display-1\">Your To-Do list</h1>"), "{body}");
    assert!(body.contains("<table id=\"id_list_table\""), "{body}");
    assert!(body.contains(&format!("<form method=\"POST\" action=\"{list}\">")), "{body}");
    assert!(body.contains("id=\"id_text\" placeholder=\"Enter a to-do item\" required>"), "{body}");
    assert!(body.contains(&format!("value=\"{}\"", edith.token)), "{body}");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn items_are_listed_in_insertion_order() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("first item").await?;
    edith.add(&list, "second item").await?;
    edith.add(&list, "a third").await?;
    assert_eq!(edith.get(&list).await?.rows(), ["1: first item", "2: second item", "3: a third"]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn each_new_list_has_its_own_url_and_items() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let francis = Visitor::arrive(&server).await?;
    let hers = edith.start_list("Buy peacock feathers").await?;
    let his = francis.start_list("Buy milk").await?;
    assert_ne!(hers, his);
    assert_eq!(francis.get(&his).await?.rows(), ["1: Buy milk"]);
    assert_eq!(edith.get(&hers).await?.rows(), ["1: Buy peacock feathers"]);
    assert!(!francis.get("/").await?.body.contains("peacock"));
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn list_url_without_a_slash_redirects_to_the_slashed_url() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("x").await?;
    let page = edith.get(list.trim_end_matches('/')).await?;
    assert!(page.status.is_redirection(), "{}", page.status);
    assert_eq!(page.location.as_deref(), Some(list.as_str()));
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn unknown_list_is_404_not_500() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    for path in
        ["/lists/999/", "/lists/abc/", "/lists/-1/", "/lists/99999999999999999999999/", "/lists/new/", "/no/such/page"]
    {
        let page = edith.get(path).await?;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(page.content_type.starts_with("text/html"), "GET {path}");
        assert!(page.body.contains("Not found"), "GET {path}: {}", page.body);
    }
    let posted = edith.submit("/lists/999/", "orphan").await?;
    assert_eq!(posted.status, StatusCode::NOT_FOUND, "POST to a missing list");
    let posted = edith.submit("/lists/abc/", "orphan").await?;
    assert_eq!(posted.status, StatusCode::NOT_FOUND, "POST to a malformed list");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn wrong_method_gets_an_html_405() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let page = Visitor::arrive(&server).await?.get("/lists/new").await?;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.content_type.starts_with("text/html"), "{}", page.content_type);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn empty_item_is_refused_with_an_error_and_nothing_saved() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    for text in ["", "   ", "\t\n"] {
        let page = edith.submit("/lists/new", text).await?;
        assert_eq!(page.status, StatusCode::OK, "{text:?}");
        let body = &page.body;
        assert!(body.contains("Start a new To-Do list"), "the home page again: {body}");
        assert!(
            body.contains(&format!("<div class=\"invalid-feedback\" id=\"id_text_feedback\">{EMPTY_ERROR}</div>")),
            "{body}"
        );
        assert!(body.contains("form-control form-control-lg is-invalid"), "{body}");
        assert!(body.contains("aria-describedby=\"id_text_feedback\""), "{body}");
    }
    // A missing field counts as empty too.
    let page = edith.post("/lists/new", &[("csrfmiddlewaretoken", &edith.token)]).await?;
    assert!(page.body.contains(EMPTY_ERROR), "{}", page.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lists")?, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 0);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn empty_item_on_a_list_is_refused_with_an_error_and_nothing_saved() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("Purchase milk").await?;
    let page = edith.submit(&list, " ").await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your To-Do list"), "the list page again");
    assert!(page.body.contains(EMPTY_ERROR), "{}", page.body);
    assert_eq!(page.rows(), ["1: Purchase milk"]);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 1);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn duplicate_item_is_refused_with_an_error_and_nothing_saved() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("Buy wellies").await?;
    let page = edith.submit(&list, "Buy wellies").await?;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(
        body.contains(&format!("<div class=\"invalid-feedback\" id=\"id_text_feedback\">{DUPLICATE_ERROR}</div>")),
        "{body}"
    );
    assert!(
        body.contains(
            "class=\"form-control form-control-lg is-invalid\" name=\"text\" id=\"id_text\" \
             placeholder=\"Enter a to-do item\" value=\"Buy wellies\" \
             aria-describedby=\"id_text_feedback\" required>"
        ),
        "{body}"
    );
    assert_eq!(page.rows(), ["1: Buy wellies"]);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 1);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn duplicate_in_another_list_is_fine() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let first = edith.start_list("bla").await?;
    let second = edith.start_list("other").await?;
    edith.add(&second, "bla").await?;
    assert_eq!(edith.get(&first).await?.rows(), ["1: bla"]);
    assert_eq!(edith.get(&second).await?.rows(), ["1: other", "2: bla"]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn item_text_is_escaped() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let evil = "<script>alert(1)</script> & \"quotes\" 'too'";
    let list = edith.start_list(evil).await?;
    let page = edith.get(&list).await?;
    assert_eq!(page.rows(), ["1: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;"]);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    // The re-shown value of a refused item is escaped as well.
    let refused = edith.submit(&list, evil).await?;
    assert!(
        refused
            .body
            .contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;\""),
        "{}",
        refused.body
    );
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn item_text_is_stored_as_submitted() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    edith.start_list("  padded  ").await?;
    let stored: String = rusqlite::Connection::open(&db)?.query_row("SELECT text FROM items", [], |row| row.get(0))?;
    assert_eq!(stored, "  padded  ");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn post_without_csrf_token_is_refused_403_and_nothing_written() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let wrong = "0".repeat(64);
    let attempts: [(&str, Vec<(&str, &str)>); 3] = [
        ("no token", vec![("text", "sneaky")]),
        ("empty token", vec![("csrfmiddlewaretoken", ""), ("text", "sneaky")]),
        ("wrong token", vec![("csrfmiddlewaretoken", wrong.as_str()), ("text", "sneaky")]),
    ];
    for (what, form) in &attempts {
        let page = edith.post("/lists/new", form).await?;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{what}");
        assert!(page.content_type.starts_with("text/html"), "{what}");
        assert!(page.body.contains("CSRF verification failed"), "{what}: {}", page.body);
    }
    // A token without the cookie it came from (another browser) is refused too.
    let stranger = client()?;
    let response = stranger
        .post(format!("{}/lists/new", server.url()))
        .form(&[("csrfmiddlewaretoken", edith.token.as_str()), ("text", "sneaky")])
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no cookie");
    // A body that is not a form at all carries no token.
    let response = edith.client.post(format!("{}/lists/new", server.url())).body("text=sneaky").send().await?;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "not a form");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lists")?, 0);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn post_to_a_list_without_csrf_token_is_refused_403_and_nothing_written() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("mine").await?;
    let page = edith.post(&list, &[("text", "sneaky")]).await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("CSRF verification failed"), "{}", page.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 1);
    server.shutdown().await?;
    Ok(())
}

/// Issue 13: a form over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) is "too large",
/// not a CSRF failure of a form read as empty; one just under it is read as usual.
#[tokio::test]
async fn a_form_over_the_body_limit_is_413_not_a_csrf_refusal() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let big = "x".repeat(3 * 1024 * 1024);
    for path in ["/lists/new".to_string(), edith.start_list("mine").await?] {
        let page = edith.submit(&path, &big).await?;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {}", page.body);
        assert!(page.content_type.starts_with("text/html"), "{path}");
        assert!(page.body.contains("larger than this site accepts (2560 KiB at most)"), "{}", page.body);
        assert!(!page.body.contains("CSRF"), "{}", page.body);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 1, "nothing of the big forms was saved");
    // Just under the limit, with its token: an item like any other.
    let under = "y".repeat(2_621_440 - 200);
    let list = edith.start_list(&under).await?;
    assert!(list.starts_with("/lists/"), "{list}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 2);
    server.shutdown().await?;
    Ok(())
}

/// Issue 13: every response carries the two headers Django sends by default (pages,
/// redirects, assets, errors), so no other site can frame it and no browser sniffs a type.
#[tokio::test]
async fn every_response_forbids_framing_and_type_sniffing() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("mine").await?;
    let base = server.url();
    let requests = [
        edith.client.get(format!("{base}/")),
        edith.client.get(format!("{base}{list}")),
        edith.client.get(format!("{base}/static/style.css")),
        edith.client.get(format!("{base}/nowhere")),
        edith
            .client
            .post(format!("{base}/lists/new"))
            .form(&[("csrfmiddlewaretoken", edith.token.as_str()), ("text", "x")]),
        edith.client.post(format!("{base}/lists/new")).form(&[("text", "no token")]),
        edith.client.delete(format!("{base}/")),
    ];
    for request in requests {
        let response = request.send().await?;
        let what = format!("{} {}", response.status(), response.url());
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{what}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    }
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn static_assets_are_served() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let visitor = Visitor::arrive(&server).await?;
    let css = visitor.get("/static/style.css").await?;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"), "{}", css.content_type);
    let rules: String = css.body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(rules.contains(".invalid-feedback { display: none;"), "{rules}");
    assert!(rules.contains("color: #b00;"), "{rules}");
    assert!(rules.contains(".is-invalid ~ .invalid-feedback { display: block; }"), "{rules}");
    assert!(rules.contains("scrollbar-gutter: stable both-edges;"), "{rules}");
    assert!(!css.body.contains("http"), "no network resources");
    let js = visitor.get("/static/app.js").await?;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"), "{}", js.content_type);
    assert!(js.body.contains("addEventListener(\"input\""), "{}", js.body);
    assert!(js.body.contains("classList.remove(\"is-invalid\")"), "{}", js.body);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn older_database_with_duplicates_refuses_to_start_and_keeps_rows() -> Result<()> {
    let (_dir, db) = temp_db()?;
    version_1_database(
        &db,
        &[(1, "buy milk"), (1, "buy milk"), (1, "tea"), (2, "buy milk"), (2, "x"), (2, "x"), (2, "x")],
    );
    let Err(err) = serve_db(&db, Defects::default()).await else {
        bail!("the server started over duplicate items");
    };
    let message = format!("{err:#}");
    assert!(message.contains(&format!("failed to migrate database {}", db.display())), "{message}");
    assert!(message.contains("list 1: \"buy milk\" appears 2 times"), "{message}");
    assert!(message.contains("list 2: \"x\" appears 3 times"), "{message}");
    assert!(!message.contains("\"tea\""), "{message}");
    assert!(message.contains("remove or rename the duplicates"), "{message}");
    assert!(message.contains(&format!("sqlite3 {} \"DELETE FROM items", db.display())), "{message}");
    assert!(message.contains("still at schema version 1"), "{message}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM items")?, 7);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lists")?, 2);
    assert_eq!(user_version(&db)?, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'")?,
        0,
        "no unique index was created"
    );
    Ok(())
}

#[tokio::test]
async fn older_database_without_duplicates_is_migrated_and_keeps_rows() -> Result<()> {
    let (_dir, db) = temp_db()?;
    version_1_database(&db, &[(1, "buy milk"), (1, "tea"), (2, "buy milk")]);
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    assert_eq!(edith.get("/lists/1/").await?.rows(), ["1: buy milk", "2: tea"]);
    let page = edith.submit("/lists/1/", "tea").await?;
    assert!(page.body.contains(DUPLICATE_ERROR), "{}", page.body);
    server.shutdown().await?;
    // Migration 2 and the accounts' migrations after it (3: users, tokens, sessions; 4: owners, sharees).
    assert_eq!(user_version(&db)?, 4);
    Ok(())
}

#[tokio::test]
async fn newer_database_is_refused() -> Result<()> {
    let (_dir, db) = temp_db()?;
    rusqlite::Connection::open(&db)?.pragma_update(None, "user_version", 99)?;
    let Err(err) = serve_db(&db, Defects::default()).await else {
        bail!("the server started over a newer schema");
    };
    let message = format!("{err:#}");
    assert!(message.contains("schema version 99"), "{message}");
    Ok(())
}

#[tokio::test]
async fn unopenable_database_is_a_clear_error() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("no-such-directory").join("db.sqlite3");
    let Err(err) = serve_db(&db, Defects::default()).await else {
        bail!("the server started without its database");
    };
    assert!(err.to_string().starts_with(&format!("failed to open database {}", db.display())), "{err}");
    Ok(())
}

#[tokio::test]
async fn data_survives_a_restart_with_the_same_db_file() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("remember me").await?;
    edith.add(&list, "and me").await?;
    server.shutdown().await?;

    let server = serve_db(&db, Defects::default()).await?;
    let edith = Visitor::arrive(&server).await?;
    assert_eq!(edith.get(&list).await?.rows(), ["1: remember me", "2: and me"]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_from_many_clients_all_land() -> Result<()> {
    const CLIENTS: usize = 8;
    const POSTS: usize = 10;
    let server = serve(Defects::default()).await?;
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let visitor = Visitor::arrive(&server).await?;
        clients.spawn(async move {
            let list = visitor.start_list(&format!("client {client} item 1")).await?;
            for post in 2..=POSTS {
                visitor.add(&list, &format!("client {client} item {post}")).await?;
            }
            let rows = visitor.get(&list).await?.rows();
            anyhow::Ok((client, list, rows))
        });
    }
    let mut lists = Vec::new();
    while let Some(joined) = clients.join_next().await {
        let (client, list, rows) = joined??;
        let expected: Vec<String> = (1..=POSTS).map(|post| format!("{post}: client {client} item {post}")).collect();
        assert_eq!(rows, expected, "client {client}");
        lists.push(list);
    }
    lists.sort();
    lists.dedup();
    assert_eq!(lists.len(), CLIENTS, "each client has its own list");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn server_url_names_its_address_and_shutdown_stops_listening() -> Result<()> {
    let server = serve(Defects::default()).await?;
    let addr = server.addr();
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", addr.port()));
    assert_ne!(addr.port(), 0);
    server.shutdown().await?;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still listening");
    Ok(())
}

#[tokio::test]
async fn accept_empty_defect_adds_an_empty_row_and_drops_required() -> Result<()> {
    let defects = Defects { accept_empty: true, ..Defects::default() };
    let server = serve(defects).await?;
    let edith = Visitor::arrive(&server).await?;
    assert!(!edith.get("/").await?.body.contains("required"));
    let list = edith.start_list("").await?;
    edith.add(&list, "   ").await?;
    assert_eq!(edith.get(&list).await?.rows(), ["1: ", "2:    "]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn accept_duplicates_defect_lists_the_item_twice() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let defects = Defects { accept_duplicates: true, ..Defects::default() };
    let server = serve_db(&db, defects).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("Buy wellies").await?;
    edith.add(&list, "Buy wellies").await?;
    let page = edith.get(&list).await?;
    assert_eq!(page.rows(), ["1: Buy wellies", "2: Buy wellies"]);
    assert!(!page.body.contains("invalid-feedback"));
    server.shutdown().await?;
    // The defective build is the one before migration 2; the real app then refuses the data.
    assert_eq!(user_version(&db)?, 1);
    let Err(err) = serve_db(&db, Defects::default()).await else {
        bail!("the real app started over the defect's duplicates");
    };
    assert!(format!("{err:#}").contains("\"Buy wellies\" appears 2 times"), "{err:#}");
    Ok(())
}

#[tokio::test]
async fn shared_list_defect_puts_every_visitor_in_one_list() -> Result<()> {
    let defects = Defects { shared_list: true, ..Defects::default() };
    let server = serve(defects).await?;
    let edith = Visitor::arrive(&server).await?;
    let francis = Visitor::arrive(&server).await?;
    let hers = edith.start_list("Buy peacock feathers").await?;
    let his = francis.start_list("Buy milk").await?;
    assert_eq!(hers, his);
    assert_eq!(francis.get(&his).await?.rows(), ["1: Buy peacock feathers", "2: Buy milk"]);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn wrong_title_defect_drops_to_do_from_the_title() -> Result<()> {
    let defects = Defects { wrong_title: true, ..Defects::default() };
    let server = serve(defects).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("x").await?;
    for path in ["/", list.as_str()] {
        let body = edith.get(path).await?.body;
        let title = body
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(title, _)| title.to_owned())
            .context("a title")?;
        assert!(!title.contains("To-Do"), "{path}: {title}");
    }
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn error_not_cleared_defect_neither_links_nor_serves_the_script() -> Result<()> {
    let defects = Defects { error_not_cleared: true, ..Defects::default() };
    let server = serve(defects).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("x").await?;
    let refused = edith.submit(&list, "x").await?;
    assert!(refused.body.contains(DUPLICATE_ERROR), "the error is still shown");
    assert!(!refused.body.contains("app.js"), "{}", refused.body);
    assert!(!edith.get("/").await?.body.contains("<script"));
    assert_eq!(edith.get("/static/app.js").await?.status, StatusCode::NOT_FOUND);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn off_centre_defect_left_aligns_the_container() -> Result<()> {
    let faithful = serve(Defects::default()).await?;
    let body = Visitor::arrive(&faithful).await?.get("/").await?.body;
    assert!(body.contains("<main class=\"container\">"), "{body}");
    faithful.shutdown().await?;

    let defects = Defects { off_centre: true, ..Defects::default() };
    let server = serve(defects).await?;
    let edith = Visitor::arrive(&server).await?;
    let list = edith.start_list("x").await?;
    for path in ["/", list.as_str()] {
        let body = edith.get(path).await?.body;
        assert!(body.contains("<main class=\"container off-centre\">"), "{path}: {body}");
    }
    let css = edith.get("/static/style.css").await?.body;
    let rules: String = css.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(rules.contains(".container.off-centre { margin-left: 0; }"), "{rules}");
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn the_version_page_answers_the_configured_text_and_is_absent_otherwise() -> Result<()> {
    let config = Config { version: Some("0123456789abcdef0123456789abcdef01234567".into()), ..Config::default() };
    let server = superlists::start("127.0.0.1:0".parse()?, config).await?;
    let edith = Visitor::arrive(&server).await?;
    let page = edith.get("/version").await?;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, "0123456789abcdef0123456789abcdef01234567\n");
    assert!(page.content_type.starts_with("text/plain"), "{}", page.content_type);
    server.shutdown().await?;

    let plain = serve(Defects::default()).await?;
    assert_eq!(Visitor::arrive(&plain).await?.get("/version").await?.status, StatusCode::NOT_FOUND);
    plain.shutdown().await?;
    Ok(())
}
