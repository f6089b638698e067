//! The W3C capabilities a new session asks for: Chromium's and Firefox's arguments,
//! headless or headed, at the configured window size, trusting the certificates ft trusts.

use std::path::Path;

use serde_json::json;
use thirtyfour::Capabilities;

use super::{BrowserConfig, BrowserKind};

/// Set (to anything) by ft's own tests: ask for no BiDi (nor use DevTools), as a remote end
/// without it would answer, so the fallback is exercised on a real browser. Debug builds only (the
/// tests' binary): a release build has no such hook.
#[cfg(debug_assertions)]
const NO_BIDI_FOR_TESTS: &str = "FT_TEST_NO_BIDI";

/// Whether to ask for WebDriver BiDi (always, but in ft's own tests of the fallback).
fn want_bidi() -> bool {
    #[cfg(debug_assertions)]
    if std::env::var_os(NO_BIDI_FOR_TESTS).is_some() {
        return false;
    }
    true
}

/// Whether a session for `config` talks to its browser over the DevTools endpoint of the
/// Chromium ft's own chromedriver started (`goog:chromeOptions.debuggerAddress`), for its
/// signals and its user contexts (`contexts::Maker::connect`), rather than over BiDi, which
/// would start chromedriver's BiDi mapper. Not through a Grid, whose browsers' DevTools ft
/// cannot reach.
pub(super) fn over_devtools(config: &BrowserConfig) -> bool {
    config.kind == BrowserKind::Chrome && config.webdriver.is_none() && want_bidi()
}

/// The capabilities for `config.kind`, with `binary` as the browser when known.
pub(super) fn for_kind(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let mut caps = match config.kind {
        BrowserKind::Chrome => chrome_capabilities(config, binary),
        BrowserKind::Firefox => firefox_capabilities(config, binary),
    };
    if config.accept_insecure_certs {
        let _ = caps.set("acceptInsecureCerts", true);
    }
    // WebDriver BiDi, for the browser's signals (console, exceptions, failed requests)
    // and for a user context per visitor (per attempt, or per visitor a scenario names);
    // a local Chromium's signals and user contexts come over DevTools, without BiDi's
    // mapper (browser/devtools/); Chromium's log as the signals' fallback where the remote
    // end offers neither.
    let bidi_signals = config.signals && !over_devtools(config);
    let bidi_contexts = (config.user_contexts || config.visitors) && !over_devtools(config);
    if (bidi_signals || bidi_contexts) && want_bidi() {
        let _ = caps.set("webSocketUrl", true);
    }
    if config.signals && config.kind == BrowserKind::Chrome {
        let _ = caps.set("goog:loggingPrefs", super::browser_log::capability());
    }
    caps
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
    // Chromium on Linux trusts its own NSS database, not the system's roots nor
    // SSL_CERT_FILE, and has no flag to add a CA. It does take public keys to trust: a
    // chain the server sends with a listed key passes *whatever else is wrong with it*
    // (expired, another host's name). So only the keys of certificates the preflight
    // verified are listed (`target::Reached::pin`), never a CA's, which would waive every
    // error of every certificate that CA signed. chromedriver always gives a
    // --user-data-dir, without which Chromium ignores this flag.
    if !config.trusted_keys.is_empty() {
        args.push(format!("--ignore-certificate-errors-spki-list={}", config.trusted_keys.join(",")));
    }
    if !config.headed && !binary.is_some_and(super::find::is_headless_shell) {
        args.push("--headless=new".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Chromium refuses to run as root with its sandbox on.
        args.push("--no-sandbox".into());
    }
    capabilities("chrome", "goog:chromeOptions", args, binary)
}

/// Headless Firefox through geckodriver, which gives every session a fresh profile, or
/// in the fresh copy of the run's template profile ft made for it (`profile`), which
/// geckodriver uses in place.
fn firefox_capabilities(config: &BrowserConfig, binary: Option<&Path>) -> Capabilities {
    let (w, h) = config.window;
    let mut args = vec!["-width".to_string(), w.to_string(), "-height".into(), h.to_string()];
    if !config.headed {
        args.push("-headless".into());
    }
    if let Some(profile) = &config.firefox_profile {
        args.extend(["-profile".to_string(), profile.display().to_string()]);
    }
    let mut caps = capabilities("firefox", "moz:firefoxOptions", args, binary);
    if let Some(ua) = &config.firefox_user_agent {
        if let Some(options) = caps.get_mut("moz:firefoxOptions") {
            options["prefs"] = json!({ "general.useragent.override": ua });
        }
    }
    caps
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
    // A dialog the page opens stays open for a step to read and answer
    // (`accept_dialog`, `dismiss_dialog`); WebDriver's default dismisses it at the next
    // command, unseen. One left open is dismissed when the next visitor starts.
    let _ = caps.set("unhandledPromptBehavior", "ignore");
    let _ = caps.set(options_key, options);
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_trusts_the_given_keys_and_insecure_certs_are_asked_of_any_browser() {
        let config = BrowserConfig {
            trusted_keys: vec!["a2V5MQ==".into(), "a2V5Mg==".into()],
            accept_insecure_certs: true,
            ..BrowserConfig::default()
        };
        let caps = for_kind(&config, None);
        let args = caps.get("goog:chromeOptions").map(|o| o["args"].clone()).unwrap_or_default();
        assert!(
            args.as_array()
                .is_some_and(|a| a.contains(&json!("--ignore-certificate-errors-spki-list=a2V5MQ==,a2V5Mg=="))),
            "{args}"
        );
        assert_eq!(caps.get("acceptInsecureCerts"), Some(&json!(true)));
        let firefox = for_kind(&BrowserConfig { kind: BrowserKind::Firefox, ..config }, None);
        assert_eq!(firefox.get("acceptInsecureCerts"), Some(&json!(true)));
        let plain = for_kind(&BrowserConfig::default(), None);
        assert_eq!(plain.get("acceptInsecureCerts"), None);
        assert!(!plain.get("goog:chromeOptions").map(|o| o.to_string()).unwrap_or_default().contains("spki"));
    }

    #[test]
    fn signals_ask_for_bidi_and_chromium_s_log_and_user_contexts_for_bidi_alone() {
        // A local Chromium: signals and user contexts over DevTools, no BiDi asked.
        let chrome = for_kind(&BrowserConfig::default(), None);
        assert_eq!(chrome.get("webSocketUrl"), None);
        assert_eq!(chrome.get("goog:loggingPrefs"), Some(&json!({ "browser": "ALL" })));
        let firefox = for_kind(&BrowserConfig { kind: BrowserKind::Firefox, ..BrowserConfig::default() }, None);
        assert_eq!((firefox.get("webSocketUrl"), firefox.get("goog:loggingPrefs")), (Some(&json!(true)), None));
        let off = BrowserConfig { signals: false, kind: BrowserKind::Firefox, ..BrowserConfig::default() };
        let off = for_kind(&off, None);
        assert_eq!((off.get("webSocketUrl"), off.get("goog:loggingPrefs")), (Some(&json!(true)), None));
        let grid = BrowserConfig {
            signals: false,
            user_contexts: false,
            visitors: true,
            webdriver: Some("http://127.0.0.1:4444".into()),
            ..BrowserConfig::default()
        };
        let grid = for_kind(&grid, None);
        assert_eq!((grid.get("webSocketUrl"), grid.get("goog:loggingPrefs")), (Some(&json!(true)), None));
        let fresh = BrowserConfig {
            signals: false,
            user_contexts: false,
            kind: BrowserKind::Firefox,
            ..BrowserConfig::default()
        };
        let fresh = for_kind(&fresh, None);
        assert_eq!((fresh.get("webSocketUrl"), fresh.get("goog:loggingPrefs")), (None, None));
    }

    #[test]
    fn chromium_is_asked_to_run_headless_but_its_headless_shell_is_not() {
        let args = |binary: &str, headed: bool| {
            let config = BrowserConfig { headed, ..BrowserConfig::default() };
            let caps = chrome_capabilities(&config, Some(Path::new(binary)));
            let options = caps.get("goog:chromeOptions").cloned().unwrap_or_default();
            assert_eq!(options["binary"], binary);
            options["args"].as_array().cloned().unwrap_or_default()
        };
        let headless = json!("--headless=new");
        assert!(args("/usr/bin/chromium", false).contains(&headless));
        assert!(!args("/usr/bin/chromium", true).contains(&headless));
        assert!(!args("/usr/bin/chromium-headless-shell", false).contains(&headless));
    }

    #[test]
    fn a_local_chromium_s_signals_alone_ask_for_no_bidi_and_a_grid_s_do() {
        let reset = BrowserConfig { user_contexts: false, ..BrowserConfig::default() };
        assert!(over_devtools(&reset));
        let local = for_kind(&reset, None);
        assert_eq!((local.get("webSocketUrl"), local.get("goog:loggingPrefs").is_some()), (None, true));
        let grid = BrowserConfig { webdriver: Some("http://127.0.0.1:4444".into()), ..reset.clone() };
        assert!(!over_devtools(&grid));
        assert_eq!(for_kind(&grid, None).get("webSocketUrl"), Some(&json!(true)));
        let firefox = BrowserConfig { kind: BrowserKind::Firefox, ..reset.clone() };
        assert_eq!(for_kind(&firefox, None).get("webSocketUrl"), Some(&json!(true)));
        let visitors = BrowserConfig { visitors: true, ..reset.clone() };
        assert!(over_devtools(&visitors));
        assert_eq!(for_kind(&visitors, None).get("webSocketUrl"), None, "visitors are made over DevTools");
        let contexts = BrowserConfig { user_contexts: true, signals: false, ..reset.clone() };
        assert_eq!(for_kind(&contexts, None).get("webSocketUrl"), None, "so are user contexts per attempt");
        let grid_visitors = BrowserConfig { visitors: true, webdriver: Some("http://127.0.0.1:4444".into()), ..reset };
        assert!(!over_devtools(&grid_visitors));
        assert_eq!(for_kind(&grid_visitors, None).get("webSocketUrl"), Some(&json!(true)));
    }

    #[test]
    fn firefox_runs_headless_at_the_configured_size() {
        let caps = firefox_capabilities(&BrowserConfig::default(), Some(Path::new("/usr/bin/firefox-esr")));
        let options = caps.get("moz:firefoxOptions").cloned().unwrap_or_default();
        assert_eq!(options["binary"], "/usr/bin/firefox-esr");
        assert_eq!(options["args"], json!(["-width", "1280", "-height", "800", "-headless"]));
        let copy =
            BrowserConfig { firefox_profile: Some("/tmp/ft-firefox-1-x/session-1".into()), ..BrowserConfig::default() };
        let caps = firefox_capabilities(&copy, None);
        let args = caps.get("moz:firefoxOptions").map(|o| o["args"].clone()).unwrap_or_default();
        assert_eq!(
            args,
            json!(["-width", "1280", "-height", "800", "-headless", "-profile", "/tmp/ft-firefox-1-x/session-1"])
        );
        assert_eq!(caps.get("browserName").and_then(|v| v.as_str()), Some("firefox"));
        assert_eq!(caps.get("unhandledPromptBehavior"), Some(&json!("ignore")), "dialogs wait for a step");
    }
}
