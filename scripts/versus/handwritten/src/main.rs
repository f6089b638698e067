//! The book's six superlists scenarios (the lists, layout and validation functional tests
//! of "Test-Driven Development with Python") written by hand with thirtyfour: what a careful
//! person writes without a test runner, the floor ft is measured against
//! (`scripts/bench.py --versus`). One chromedriver and one browser session for all six;
//! explicit waits are the book's own: retry an assertion every 25 ms for at most 5 s.
//!
//! Usage: versus-handwritten BASE_URL (or VERSUS_BASE_URL). Prints one line per scenario
//! and a summary "N passed, M failed"; exits 1 when any failed.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use thirtyfour::prelude::*;

/// The book's MAX_WAIT.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(25);
/// The browser ft starts for a headless Chrome run (Debian's chromium-headless-shell).
const CHROMIUM: &str = "/usr/lib/chromium/chromium-headless-shell";

const ROWS: &str = "#id_list_table tr";
const INPUT: &str = "#id_text";
const ERROR: &str = ".invalid-feedback";

/// The book's `wait` decorator: call `check` until it succeeds or MAX_WAIT has passed, and
/// then give its last error.
async fn wait<T, F, Fut>(mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(e) if start.elapsed() > MAX_WAIT => return Err(e),
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

async fn row_texts(d: &WebDriver) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for row in d.find_all(By::Css(ROWS)).await? {
        texts.push(row.text().await?);
    }
    Ok(texts)
}

/// The book's wait_for_row_in_list_table.
async fn wait_for_row(d: &WebDriver, row: &str) -> Result<()> {
    wait(|| async move {
        let rows = row_texts(d).await?;
        if rows.iter().any(|r| r == row) {
            Ok(())
        } else {
            bail!("no row {row:?} in {rows:?}")
        }
    })
    .await
}

/// The book's ListPage.add_list_item: count the rows, type, press Enter, wait for the row.
async fn add_list_item(d: &WebDriver, text: &str) -> Result<()> {
    let before = d.find_all(By::Css(ROWS)).await?.len();
    let input = d.find(By::Css(INPUT)).await?;
    input.send_keys(text).await?;
    input.send_keys(Key::Enter).await?;
    wait_for_row(d, &format!("{}: {text}", before + 1)).await
}

async fn wait_present(d: &WebDriver, css: &str) -> Result<()> {
    wait(|| async move { d.find(By::Css(css)).await.map(drop).map_err(Into::into) }).await
}

async fn wait_displayed(d: &WebDriver, css: &str, want: bool) -> Result<()> {
    wait(|| async move {
        let shown = d.find(By::Css(css)).await?.is_displayed().await?;
        if shown == want {
            Ok(())
        } else {
            bail!("{css} displayed: {shown}, wanted {want}")
        }
    })
    .await
}

async fn body_text(d: &WebDriver) -> Result<String> {
    Ok(d.find(By::Tag("body")).await?.text().await?)
}

async fn assert_centred(d: &WebDriver) -> Result<()> {
    let rect = d.find(By::Css(INPUT)).await?.rect().await?;
    let centre = rect.x + rect.width / 2.0;
    if (centre - 512.0).abs() > 10.0 {
        bail!("the input's centre is at {centre}, not 512 ± 10");
    }
    Ok(())
}

async fn can_start_a_list(d: &WebDriver, base: &str) -> Result<()> {
    d.goto(base).await?;
    let title = d.title().await?;
    if !title.contains("To-Do") {
        bail!("title {title:?} does not say To-Do");
    }
    let header = d.find(By::Tag("h1")).await?.text().await?;
    if !header.contains("To-Do") {
        bail!("header {header:?} does not say To-Do");
    }
    let placeholder = d.find(By::Css(INPUT)).await?.attr("placeholder").await?;
    if placeholder.as_deref() != Some("Enter a to-do item") {
        bail!("placeholder {placeholder:?}");
    }
    add_list_item(d, "Buy peacock feathers").await?;
    add_list_item(d, "Use peacock feathers to make a fly").await?;
    wait_for_row(d, "1: Buy peacock feathers").await
}

async fn wait_for_list_url(d: &WebDriver) -> Result<String> {
    wait(|| async move {
        let url = d.current_url().await?.to_string();
        match url.split_once("/lists/") {
            Some((_, rest)) if !rest.is_empty() => Ok(url),
            _ => bail!("{url} is not a list's URL"),
        }
    })
    .await
}

async fn multiple_users(d: &WebDriver, base: &str) -> Result<()> {
    d.goto(base).await?;
    add_list_item(d, "Buy peacock feathers").await?;
    let edith = wait_for_list_url(d).await?;
    // A new user, Francis: in one session, a browser without Edith's cookies.
    d.delete_all_cookies().await?;
    d.goto(base).await?;
    if body_text(d).await?.contains("Buy peacock feathers") {
        bail!("Francis sees Edith's list on the home page");
    }
    add_list_item(d, "Buy milk").await?;
    let francis = wait_for_list_url(d).await?;
    if francis == edith {
        bail!("Francis got Edith's URL {edith}");
    }
    let text = body_text(d).await?;
    if text.contains("Buy peacock feathers") || !text.contains("Buy milk") {
        bail!("Francis's list shows {text:?}");
    }
    Ok(())
}

async fn layout_and_styling(d: &WebDriver, base: &str) -> Result<()> {
    d.set_window_rect(0, 0, 1024, 768).await?;
    d.goto(base).await?;
    assert_centred(d).await?;
    add_list_item(d, "testing").await?;
    assert_centred(d).await
}

async fn cannot_add_empty_items(d: &WebDriver, base: &str) -> Result<()> {
    d.goto(base).await?;
    d.find(By::Css(INPUT)).await?.send_keys(Key::Enter).await?;
    wait_present(d, "#id_text:invalid").await?;
    d.find(By::Css(INPUT)).await?.send_keys("Purchase milk").await?;
    wait_present(d, "#id_text:valid").await?;
    d.find(By::Css(INPUT)).await?.send_keys(Key::Enter).await?;
    wait_for_row(d, "1: Purchase milk").await?;
    d.find(By::Css(INPUT)).await?.send_keys(Key::Enter).await?;
    wait_for_row(d, "1: Purchase milk").await?;
    wait_present(d, "#id_text:invalid").await?;
    d.find(By::Css(INPUT)).await?.send_keys("Make tea").await?;
    wait_present(d, "#id_text:valid").await?;
    d.find(By::Css(INPUT)).await?.send_keys(Key::Enter).await?;
    wait_for_row(d, "1: Purchase milk").await?;
    wait_for_row(d, "2: Make tea").await
}

async fn cannot_add_duplicates(d: &WebDriver, base: &str) -> Result<()> {
    d.goto(base).await?;
    add_list_item(d, "Buy wellies").await?;
    let input = d.find(By::Css(INPUT)).await?;
    input.send_keys("Buy wellies").await?;
    input.send_keys(Key::Enter).await?;
    wait(|| async move {
        let text = d.find(By::Css(ERROR)).await?.text().await?;
        if text == "You've already got this in your list" {
            Ok(())
        } else {
            bail!("error says {text:?}")
        }
    })
    .await?;
    wait_displayed(d, ERROR, true).await
}

async fn errors_cleared_on_input(d: &WebDriver, base: &str) -> Result<()> {
    d.goto(base).await?;
    add_list_item(d, "Banter too thick").await?;
    let input = d.find(By::Css(INPUT)).await?;
    input.send_keys("Banter too thick").await?;
    input.send_keys(Key::Enter).await?;
    wait_displayed(d, ERROR, true).await?;
    d.find(By::Css(INPUT)).await?.send_keys("a").await?;
    wait_displayed(d, ERROR, false).await
}

/// chromedriver on a port of its choosing; returns it and the port it said.
fn start_chromedriver() -> Result<(Child, u16)> {
    let mut child = Command::new("chromedriver")
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("failed to start chromedriver")?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            let port = rest.trim_end_matches('.').trim().parse()?;
            // Keep reading (and dropping) its output so it never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, port));
        }
    }
    bail!("chromedriver did not say its port")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("VERSUS_BASE_URL").ok())
        .ok_or_else(|| anyhow!("failed to find the app's URL: give it as the argument or VERSUS_BASE_URL"))?;
    let base = format!("{}/", base.trim_end_matches('/'));
    let (mut chromedriver, port) = start_chromedriver()?;
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(&std::env::var("VERSUS_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into()))?;
    for arg in ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"] {
        caps.add_arg(arg)?;
    }
    let result = async {
        let d = WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await?;
        let (mut passed, mut failed) = (0, 0);
        macro_rules! scenario {
            ($name:literal, $f:ident) => {
                let start = Instant::now();
                match $f(&d, &base).await {
                    Ok(()) => {
                        passed += 1;
                        println!("ok   {} ({:.2}s)", $name, start.elapsed().as_secs_f64());
                    }
                    Err(e) => {
                        failed += 1;
                        // The first line: chromedriver's message without its stack trace.
                        let e = format!("{e:#}");
                        let first = e.lines().next().unwrap_or_default();
                        println!("FAIL {} ({:.2}s): {first}", $name, start.elapsed().as_secs_f64());
                    }
                }
                // The next scenario starts without this one's cookies.
                d.delete_all_cookies().await?;
            };
        }
        scenario!("can start a to-do list", can_start_a_list);
        scenario!("multiple users can start lists at different urls", multiple_users);
        scenario!("layout and styling", layout_and_styling);
        scenario!("cannot add empty list items", cannot_add_empty_items);
        scenario!("cannot add duplicate items", cannot_add_duplicates);
        scenario!("error messages are cleared on input", errors_cleared_on_input);
        d.quit().await?;
        println!("{passed} passed, {failed} failed");
        anyhow::Ok(failed)
    }
    .await;
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
    if result? > 0 {
        std::process::exit(1);
    }
    Ok(())
}
