//! How a run goes: the one settings type that flows from the flags (and ft.toml) through
//! `job` and the deploy stages down to the runner. Plain data, no parsing here.

use std::path::PathBuf;
use std::time::Duration;

use crate::browser::BrowserConfig;
use crate::target::tls::Trust;
use crate::target::version::ExpectedVersion;
use crate::wait::Patience;

/// Every setting of a run but the target and the scenarios.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Browser sessions in parallel.
    pub workers: usize,
    /// A new browser for every scenario instead of one per worker.
    pub fresh_session: bool,
    pub patience: Patience,
    pub browser: BrowserConfig,
    /// Whole new attempts for a failed scenario.
    pub retries: u32,
    /// The most one attempt at a scenario may take.
    pub scenario_timeout: Duration,
    /// After the first interrupt, how long running scenarios may take to finish.
    pub grace: Duration,
    /// How long the target may take to answer the preflight (`--preflight-timeout`, else `--max-wait`).
    pub preflight_timeout: Duration,
    /// Whose certificates HTTPS targets may present (`--ca-cert`, `--insecure-certs`).
    pub trust: Trust,
    /// Whether a scenario that passed only on a retry counts as green.
    pub flaky: FlakyPolicy,
    /// Targets whose URL matches are precious (live): only scenarios tagged `safe_tag` run there.
    pub sensitive: Option<regex::Regex>,
    pub safe_tag: String,
    pub paths: ReportPaths,
    /// After the preflight, the target's version page must show this (`--expect-version`).
    pub expect_version: Option<ExpectedVersion>,
    /// Sign the run record with this key (`--sign-key`): `run.intoto.json` beside `run.json`.
    pub sign_key: Option<crate::sign::SignKey>,
    /// Stop starting scenarios once this many have failed or errored (`-x`, `--max-failures`).
    pub max_failures: Option<usize>,
    /// Quarantined scenarios' failures do not fail the run (off with --no-quarantine).
    pub honour_quarantine: bool,
    /// Colour on the console (`--color`).
    pub color: ColorChoice,
    /// `--message-format json`: events as JSON lines on stdout, people's output on stderr.
    pub json_events: bool,
    /// Screenshots kept after each of a failed attempt's last N page-changing steps (`--filmstrip`).
    pub filmstrip: usize,
    /// The progress line on a terminal (off with `--no-progress`).
    pub progress: bool,
    /// Where capture steps read email (`--inbox`); the embedded target's outbox when none
    /// is given (`job` decides).
    pub inbox: Option<crate::mail::Inbox>,
    /// How long a capture step waits for its email unless it says (`--mail-wait`).
    pub mail_wait: Duration,
}

/// `--color`: `auto` colours a terminal unless NO_COLOR is set (or CLICOLOR_FORCE forces
/// it); `always` and `never` decide alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream, given whether it is a terminal and the environment.
    pub fn enabled(self, is_terminal: bool, var: impl Fn(&str) -> Option<String>) -> bool {
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("CLICOLOR_FORCE") && var("CLICOLOR_FORCE").as_deref() != Some("0") => true,
            ColorChoice::Auto => is_terminal,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            workers: 1,
            fresh_session: false,
            patience: Patience { max_wait: Duration::from_secs(10), poll: Duration::from_millis(25) },
            browser: BrowserConfig::default(),
            retries: 0,
            scenario_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(10),
            preflight_timeout: Duration::from_secs(10),
            trust: Trust::default(),
            flaky: FlakyPolicy::Accept,
            sensitive: None,
            safe_tag: "smoke".into(),
            paths: ReportPaths::in_dir(PathBuf::from("reports")),
            expect_version: None,
            sign_key: None,
            max_failures: None,
            honour_quarantine: true,
            color: ColorChoice::Auto,
            json_events: false,
            filmstrip: 0,
            progress: true,
            inbox: None,
            mail_wait: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// Everything this run sends is synthetic traffic (`ft watch`, live in `ft deploy`):
    /// the browser's user agent and ft's own requests (preflight, version check) both
    /// end in `ft-synthetic/VERSION`, so the app's analytics can drop them.
    pub fn mark_synthetic(&mut self) {
        let marker = crate::browser::synthetic_marker();
        self.browser.user_agent_suffix = Some(marker.clone());
        self.trust.user_agent_suffix = Some(marker);
    }
}

/// Whether a scenario that passed only on a retry may count as green. `ft run` accepts it
/// unless `--fail-on-flaky`; `ft deploy` and `ft gate` refuse it unless `--allow-flaky`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlakyPolicy {
    Accept,
    Reject,
}

impl FlakyPolicy {
    pub fn accept_if(accept: bool) -> FlakyPolicy {
        if accept {
            FlakyPolicy::Accept
        } else {
            FlakyPolicy::Reject
        }
    }
}

/// Where a run's reports go.
#[derive(Clone, Debug)]
pub struct ReportPaths {
    pub dir: PathBuf,
    pub junit: PathBuf,
    pub record: PathBuf,
    /// `--allure DIR`: Allure 2 results are written there too.
    pub allure: Option<PathBuf>,
}

impl ReportPaths {
    /// `DIR/junit.xml` and `DIR/run.json`.
    pub fn in_dir(dir: PathBuf) -> ReportPaths {
        ReportPaths { junit: dir.join("junit.xml"), record: dir.join("run.json"), allure: None, dir }
    }

    /// The HTML report for people, `DIR/index.html`: in the folder, since it links the
    /// evidence relative to itself.
    pub fn html(&self) -> PathBuf {
        self.dir.join("index.html")
    }
}

#[cfg(test)]
mod tests {
    use super::ColorChoice;

    #[test]
    fn colour_follows_the_flag_then_no_color_then_clicolor_force_then_the_terminal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert!(ColorChoice::Auto.enabled(true, env(&[])));
        assert!(!ColorChoice::Auto.enabled(false, env(&[])));
        assert!(!ColorChoice::Auto.enabled(true, env(&[("NO_COLOR", "1")])));
        assert!(ColorChoice::Auto.enabled(true, env(&[("NO_COLOR", "")])), "an empty NO_COLOR is unset");
        assert!(ColorChoice::Auto.enabled(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!ColorChoice::Auto.enabled(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!ColorChoice::Auto.enabled(false, env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])));
        assert!(ColorChoice::Always.enabled(false, env(&[("NO_COLOR", "1")])), "the flag wins");
        assert!(!ColorChoice::Never.enabled(true, env(&[("CLICOLOR_FORCE", "1")])));
    }
}
