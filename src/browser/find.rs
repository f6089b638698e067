//! Finding the driver and browser binaries: `--driver` / `--browser-binary` when given,
//! else PATH and the places Debian and cargo install them, with an install hint when none is there.

use std::path::{Path, PathBuf};

use super::BrowserError;

pub const INSTALL_HINT: &str = "install them with: sudo apt-get install -y chromium chromium-driver \
(or run ./setup.sh), or point --driver / --browser-binary at them";

/// geckodriver is no Debian package; cargo builds it from crates.io into ~/.cargo/bin.
pub const GECKODRIVER_HINT: &str = "install it with: cargo install geckodriver --locked \
(it goes to ~/.cargo/bin), or point --driver at it";

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

pub(super) fn find_chromium(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    const NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let looked = format!("{} on PATH", NAMES.join(", "));
    find(given, "--browser-binary", path_candidates(&NAMES), looked, |looked| BrowserError::BrowserMissing {
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
    fn a_missing_geckodriver_names_the_install_command() {
        let err = find_geckodriver(Some(Path::new("/nonexistent/geckodriver"))).unwrap_err().to_string();
        assert!(err.contains("failed to find geckodriver (looked for --driver /nonexistent/geckodriver)"), "{err}");
        assert!(err.contains("cargo install geckodriver --locked"), "{err}");
    }
}
