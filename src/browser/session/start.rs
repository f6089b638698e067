//! Starting a session at a remote end: the capabilities, New Session bounded by
//! `--session-timeout`, Chromium's user agent marked over DevTools, and what a failed start
//! or a browser's error page says, in words.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use thirtyfour::error::WebDriverError;
use thirtyfour::WebDriver;

use super::super::{capabilities, short_message, BrowserConfig, BrowserError, BrowserInfo};

/// Connect to the remote end at `url` with the capabilities for `config`, bounded by
/// `--session-timeout`.
/// Also returns the whole user agent when it marked Chromium's (for the user contexts
/// made later: DevTools marked only the first tab).
pub(super) async fn connect(
    config: &BrowserConfig,
    binary: Option<&Path>,
    url: &str,
) -> Result<(WebDriver, BrowserInfo, Option<String>), BrowserError> {
    let caps = capabilities::for_kind(config, binary);
    // The HTTP client's timeout bounds session creation (which a Grid may queue);
    // every later command is bounded more tightly by `Session::bounded`.
    let waited = config.session_timeout;
    let limit = waited.max(config.command_timeout);
    // thirtyfour joins `session` onto the URL: without a trailing slash a path such as
    // Selenium 3's `/wd/hub` would lose its last segment (`/wd/session`).
    let base = format!("{}/", url.trim_end_matches('/'));
    let builder = WebDriver::builder(base, caps).request_timeout(limit);
    let wd = match tokio::time::timeout(waited, builder).await {
        Ok(Ok(wd)) => wd,
        Ok(Err(e)) => return Err(session_start_error(url, &e, config.webdriver.is_some())),
        Err(_) => {
            let why = if config.webdriver.is_some() {
                format!(
                    "the Grid's queue timed out: no session within {waited:?} (--session-timeout); a Selenium \
                     Grid queues new sessions while all its slots are busy: free or add slots, or raise \
                     --session-timeout"
                )
            } else {
                format!("the driver did not start the browser within {waited:?} (--session-timeout)")
            };
            return Err(BrowserError::SessionTimeout { url: url.to_string(), waited, why });
        }
    };
    let mut user_agent = None;
    if let Some(suffix) =
        config.user_agent_suffix.as_deref().filter(|_| config.kind == super::super::BrowserKind::Chrome)
    {
        match mark_user_agent(&wd, suffix, config.command_timeout).await {
            Ok(agent) => user_agent = Some(agent),
            Err(e) => {
                // Unmarked synthetic traffic would count as real users': no session rather than that.
                let _ = wd.quit().await;
                return Err(BrowserError::SessionStart {
                    url: url.to_string(),
                    message: format!("failed to mark the user agent: {e}"),
                });
            }
        }
    }
    let caps = wd.capabilities();
    let name = caps.get("browserName").and_then(|v| v.as_str()).unwrap_or("browser").to_string();
    let version = caps.get("browserVersion").and_then(|v| v.as_str()).unwrap_or("").to_string();
    Ok((wd, BrowserInfo { name, version }, user_agent))
}

/// The browser's own user agent plus `suffix`, for every request of this session. Chromium's
/// `--user-agent` flag wants the whole string, which is only known once the browser runs:
/// DevTools reads it and overrides it (`Network.setUserAgentOverride`, kept by the tab).
async fn mark_user_agent(wd: &WebDriver, suffix: &str, limit: Duration) -> Result<String, String> {
    let marked = async {
        let version = devtools(wd, "Browser.getVersion", json!({})).await?;
        let own = version["userAgent"].as_str().ok_or("Browser.getVersion named no userAgent")?;
        let agent = format!("{own} {suffix}");
        devtools(wd, "Network.setUserAgentOverride", json!({ "userAgent": agent })).await?;
        Ok::<String, String>(agent)
    };
    tokio::time::timeout(limit, marked).await.map_err(|_| format!("no answer within {limit:?}"))?
}

/// One DevTools command through chromedriver's `goog/cdp/execute`; its result.
async fn devtools(wd: &WebDriver, cmd: &str, params: serde_json::Value) -> Result<serde_json::Value, String> {
    let command = DevTools(json!({ "cmd": cmd, "params": params }));
    let answer = wd.handle().cmd(thirtyfour::common::command::Command::ExtensionCommand(Box::new(command))).await;
    answer.and_then(|r| r.value_json()).map_err(|e| format!("{cmd}: {}", short_message(&e)))
}

#[derive(Debug)]
struct DevTools(serde_json::Value);

impl thirtyfour::common::command::ExtensionCommand for DevTools {
    fn parameters_json(&self) -> Option<serde_json::Value> {
        Some(self.0.clone())
    }
    fn method(&self) -> reqwest::Method {
        reqwest::Method::POST
    }
    fn endpoint(&self) -> std::sync::Arc<str> {
        "/goog/cdp/execute".into()
    }
}

/// A failed New Session, in words that say whose fault it is. A Grid whose queue
/// timed out answers 500 with only a message ("Could not start a new session. New
/// session request timed out"), which thirtyfour reports as an unrecognised response.
fn session_start_error(url: &str, err: &WebDriverError, remote: bool) -> BrowserError {
    let full = err.to_string();
    let message = remote_message(&full).unwrap_or_else(|| short_message(err));
    let message = if remote && message.contains("request timed out") {
        format!(
            "the Selenium Grid's queue timed out: no slot became free within its session-request-timeout \
             (free or add slots); it said: {message}"
        )
    } else {
        message
    };
    BrowserError::SessionStart { url: url.to_string(), message }
}

/// The first line of `value.message` in a remote end's JSON answer quoted in `text`.
fn remote_message(text: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(&text[text.find('{')?..]).ok()?;
    let message = body.get("value")?.get("message")?.as_str()?;
    Some(message.lines().next()?.trim().to_string()).filter(|m| !m.is_empty())
}

/// Firefox does not show its network error page as the current URL (Chromium shows
/// `chrome-error://`); geckodriver fails the navigation with "Reached error page:
/// about:neterror?e=connectionFailure&u=...". Say that in a few words.
pub(super) fn error_page(message: &str) -> Option<String> {
    let query = message.split("about:neterror?").nth(1)?;
    let code = query.split('&').find_map(|kv| kv.strip_prefix("e="))?;
    Some(format!("the browser showed its network error page ({code}, about:neterror)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_error_pages_are_named_by_their_code() {
        let m =
            "unknown error: Reached error page: about:neterror?e=connectionFailure&u=http%3A//127.0.0.1%3A5/&c=UTF-8";
        assert_eq!(
            error_page(m).as_deref(),
            Some("the browser showed its network error page (connectionFailure, about:neterror)")
        );
        assert_eq!(error_page("no such element"), None);
    }

    #[test]
    fn a_grid_answer_without_an_error_code_still_gives_its_message() {
        let text = "The WebDriver server returned an unrecognised response: 500 :: {\n  \"value\": {\n    \
                    \"message\": \"Could not start a new session. New session request timed out \\nHost info: x\"}}";
        assert_eq!(
            remote_message(text).as_deref(),
            Some("Could not start a new session. New session request timed out")
        );
        assert_eq!(remote_message("no json here"), None);
    }
}
