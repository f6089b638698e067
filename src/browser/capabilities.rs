//! The W3C capabilities a new session asks for: Chromium's and Firefox's arguments,
//! headless or headed, at the configured window size.

use std::path::Path;

use serde_json::json;
use thirtyfour::Capabilities;

use super::{BrowserConfig, BrowserKind};

/// The capabilities for `config.kind`, with `binary` as the browser when known.
pub(super) fn for_kind(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    match config.kind {
        BrowserKind::Chrome => chrome_capabilities(config, binary),
        BrowserKind::Firefox => firefox_capabilities(config, binary),
    }
}

fn chrome_capabilities(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let mut args = vec![
        "--no-first-run".to_string(),
        "--no-default-browser-check".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        // This machine's network is closed: background fetches only cost time.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--disable-extensions".into(),
        "--disable-features=Translate,MediaRouter,OptimizationHints,PasswordLeakDetection".into(),
        "--password-store=basic".into(),
        // One renderer process per site costs a process start on every cross-site
        // navigation, and `reset`'s about:blank is one: 89 -> 40 ms (BENCHMARKS.md).
        // ft drives one app per browser; the isolation buys nothing here.
        "--disable-site-isolation-trials".into(),
        format!("--window-size={},{}", config.window.0, config.window.1),
    ];
    if !config.headed {
        args.push("--headless=new".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Chromium refuses to run as root with its sandbox on.
        args.push("--no-sandbox".into());
    }
    capabilities("chrome", "goog:chromeOptions", args, binary)
}

/// Headless Firefox through geckodriver, which gives every session a fresh profile.
fn firefox_capabilities(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let (w, h) = config.window;
    let mut args = vec!["-width".to_string(), w.to_string(), "-height".into(), h.to_string()];
    if !config.headed {
        args.push("-headless".into());
    }
    capabilities("firefox", "moz:firefoxOptions", args, binary)
}

/// W3C capabilities: the browser, a normal page-load strategy, and the vendor options
/// (`options_key`) with the arguments and binary.
fn capabilities(browser: &str, options_key: &str, args: Vec<String>, binary: Option<&Path>) -> Capabilities {
    let mut options = json!({ "args": args });
    if let Some(b) = binary {
        options["binary"] = json!(b.display().to_string());
    }
    let mut caps = Capabilities::new();
    // Setting plain JSON values cannot fail; ignore the Result rather than unwrap.
    let _ = caps.set("browserName", browser);
    let _ = caps.set("pageLoadStrategy", "normal");
    let _ = caps.set(options_key, options);
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_runs_headless_at_the_configured_size() {
        let caps = firefox_capabilities(&BrowserConfig::default(), Some(Path::new("/usr/bin/firefox-esr")));
        let options = caps.get("moz:firefoxOptions").cloned().unwrap_or_default();
        assert_eq!(options["binary"], "/usr/bin/firefox-esr");
        assert_eq!(options["args"], json!(["-width", "1280", "-height", "800", "-headless"]));
        assert_eq!(caps.get("browserName").and_then(|v| v.as_str()), Some("firefox"));
    }
}
