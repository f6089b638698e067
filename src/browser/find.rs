//! Finding the driver and browser binaries: `--driver` / `--browser-binary` when given,
//! else PATH and the places Debian and cargo install them, with an install hint when none is there.

use std::path::{Path, PathBuf};

use super::BrowserError;

pub const INSTALL_HINT: &str = "install them with: sudo apt-get install -y chromium chromium-driver \
(or run ./setup.sh), or point --driver / --browser-binary at them";

/// geckodriver is no Debian package; cargo builds it from crates.io into ~/.cargo/bin.
pub const GECKODRIVER_HINT: &str = "install it with: cargo install geckodriver --locked \
(it goes to ~/.cargo/bin), or point --driver at it";

/// Whether `binary` is a headless shell, which takes no `--headless` (it has no other mode).
pub(super) fn is_headless_shell(binary: &Path) -> bool {
    binary.file_name().and_then(|n| n.to_str()).is_some_and(|n| HEADLESS_SHELLS.contains(&n))
}

pub const FIREFOX_HINT: &str = "install it with: sudo apt-get install -y firefox-esr, or point --browser-binary at it";

pub(super) fn find_chromedriver(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    let mut candidates = path_candidates(&["chromedriver"]);
    candidates.push(PathBuf::from("/usr/bin/chromedriver"));
    let looked = "chromedriver on PATH and /usr/bin/chromedriver".to_string();
    find(given, "--driver", candidates, looked, |looked| BrowserError::DriverMissing {
        driver: "chromedriver",
        looked,
        hint: INSTALL_HINT,
    })
}

/// Chromium's headless shell (Debian's `chromium-headless-shell`, Google's
/// `chrome-headless-shell`): the same engine (Blink, V8, the network stack) without the
/// desktop browser around it, and what Playwright runs headless by default. A session
/// starts on about 0.4 CPU-seconds against 1.0 for the full browser, and the built-in
/// suite runs in about 0.7x the time (BENCHMARKS.md, "Headless shell").
const HEADLESS_SHELLS: [&str; 2] = ["chromium-headless-shell", "chrome-headless-shell"];

/// The Chromium to run: `--browser-binary` when given; else, headless, a headless shell
/// on PATH (it is always headless), then the full browser.
pub(super) fn find_chromium(given: Option<&Path>, headless: bool) -> Result<PathBuf, BrowserError> {
    const NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let shells: &[&str] = if headless { &HEADLESS_SHELLS } else { &[] };
    let names: Vec<&str> = shells.iter().chain(NAMES.iter()).copied().collect();
    let looked = format!("{} on PATH", names.join(", "));
    find(given, "--browser-binary", path_candidates(&names), looked, |looked| BrowserError::BrowserMissing {
        browser: "Chromium",
        looked,
        hint: INSTALL_HINT,
    })
}

/// geckodriver on PATH, else where `cargo install` puts it (a CI PATH may lack ~/.cargo/bin).
pub(super) fn find_geckodriver(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    let mut candidates = path_candidates(&["geckodriver"]);
    let mut looked = "geckodriver on PATH".to_string();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        let p = home.join("bin/geckodriver");
        looked = format!("{looked} and {}", p.display());
        candidates.push(p);
    }
    find(given, "--driver", candidates, looked, |looked| BrowserError::DriverMissing {
        driver: "geckodriver",
        looked,
        hint: GECKODRIVER_HINT,
    })
}

pub(super) fn find_firefox(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    const NAMES: [&str; 2] = ["firefox", "firefox-esr"];
    let looked = format!("{} on PATH", NAMES.join(", "));
    find(given, "--browser-binary", path_candidates(&NAMES), looked, |looked| BrowserError::BrowserMissing {
        browser: "Firefox",
        looked,
        hint: FIREFOX_HINT,
    })
}

/// The user agent the Firefox at `binary` sends (`Mozilla/5.0 (X11; Linux x86_64; rv:153.0)
/// Gecko/20100101 Firefox/153.0`: the major version is all that varies), plus `suffix`.
/// Read from `firefox --version`, bounded: a local Firefox must say it before it starts.
pub(super) async fn firefox_user_agent(binary: &Path, suffix: &str) -> Result<String, BrowserError> {
    let failed = |why: String| BrowserError::SessionStart {
        url: binary.display().to_string(),
        message: format!("failed to mark the user agent: `{} --version` {why}", binary.display()),
    };
    let mut command = tokio::process::Command::new(binary);
    command.arg("--version").kill_on_drop(true).stdin(std::process::Stdio::null());
    let out = match tokio::time::timeout(std::time::Duration::from_secs(20), command.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(failed(format!("could not run: {e}"))),
        Err(_) => return Err(failed("did not answer within 20s".into())),
    };
    let said = String::from_utf8_lossy(&out.stdout);
    let major = firefox_major(&said).ok_or_else(|| failed(format!("printed no version ({:?})", said.trim())))?;
    Ok(firefox_ua(major, std::env::consts::ARCH, suffix))
}

/// `Mozilla Firefox 153.8.0esr` -> 153.
fn firefox_major(version_line: &str) -> Option<u32> {
    let version = version_line.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    version.split('.').next()?.parse().ok()
}

fn firefox_ua(major: u32, arch: &str, suffix: &str) -> String {
    format!("Mozilla/5.0 (X11; Linux {arch}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0 {suffix}")
}

/// `--driver` / `--browser-binary` when given (it must exist), else the first candidate
/// that exists; `looked` says where we looked, for the error.
fn find(
    given: Option<&Path>,
    flag: &str,
    candidates: Vec<PathBuf>,
    looked: String,
    missing: impl Fn(String) -> BrowserError,
) -> Result<PathBuf, BrowserError> {
    match given {
        Some(p) if is_executable(p) => Ok(p.to_path_buf()),
        // A bare name (`--browser-binary chromium`) is looked for on PATH, as a shell would.
        Some(p) if p.components().count() == 1 => {
            on_path(&p.to_string_lossy()).ok_or_else(|| missing(format!("{flag} {} (on PATH)", p.display())))
        }
        Some(p) => Err(missing(format!("{flag} {}", p.display()))),
        None => candidates.into_iter().find(|p| is_executable(p)).ok_or_else(|| missing(looked)),
    }
}

/// Every `name` found on PATH, in order.
fn path_candidates(names: &[&str]) -> Vec<PathBuf> {
    names.iter().filter_map(|n| on_path(n)).collect()
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_s_user_agent_follows_its_major_version() {
        assert_eq!(firefox_major("Mozilla Firefox 153.8.0esr\n"), Some(153));
        assert_eq!(firefox_major("Mozilla Firefox 128.0"), Some(128));
        assert_eq!(firefox_major("no version here"), None);
        assert_eq!(
            firefox_ua(153, "x86_64", "ft-synthetic/1.0"),
            "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0 ft-synthetic/1.0"
        );
    }

    #[test]
    fn only_a_headless_shell_s_own_names_count_as_one() {
        assert!(is_headless_shell(Path::new("/usr/bin/chromium-headless-shell")));
        assert!(is_headless_shell(Path::new("/opt/chrome-headless-shell-linux64/chrome-headless-shell")));
        assert!(!is_headless_shell(Path::new("/usr/bin/chromium")));
        assert!(!is_headless_shell(Path::new("/opt/headless-shell/chromium-wrapper")));
    }

    #[test]
    fn a_missing_geckodriver_names_the_install_command() {
        let err = find_geckodriver(Some(Path::new("/nonexistent/geckodriver"))).unwrap_err().to_string();
        assert!(err.contains("failed to find geckodriver (looked for --driver /nonexistent/geckodriver)"), "{err}");
        assert!(err.contains("cargo install geckodriver --locked"), "{err}");
    }
}
