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
        }
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
}

impl ReportPaths {
    /// `DIR/junit.xml` and `DIR/run.json`.
    pub fn in_dir(dir: PathBuf) -> ReportPaths {
        ReportPaths { junit: dir.join("junit.xml"), record: dir.join("run.json"), dir }
    }

    /// The HTML report for people, `DIR/index.html`: in the folder, since it links the
    /// evidence relative to itself.
    pub fn html(&self) -> PathBuf {
        self.dir.join("index.html")
    }
}
