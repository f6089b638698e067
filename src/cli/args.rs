//! The clap definitions of every command: their flags, defaults and value parsers. The
//! doc comments here are the `--help` text and the man pages.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::browser::BrowserKind;
use crate::shared::durations::{parse_millis, parse_positive_secs, parse_secs, parse_secs_long};
use crate::superlists;
use crate::target::version::{self};

/// Examples and exit codes, after the flags of `ft --help`.
const AFTER_HELP: &str = "\
Examples:
  ft                                        the built-in suite against the embedded superlists app
  ft --liveserver superlists-staging        the same against a deployed server (http:// implied)
  ft --liveserver https://staging.example --tag smoke --workers 2
  ft -x --retries 1                         stop at the first failure; one retry per scenario
  ft --last-failed                          only what failed in reports/run.json
  ft --shard 2/4 --reports shard-2          one of four CI machines' part; then `ft merge`
  ft --shard auto                           this CI job's part, from the CI's own variables
  ft gate --record reports/run.json --target superlists-staging
  ft deploy --staging HOST --live HOST --deploy-cmd 'fab deploy:host=$FT_HOST' --bake 10m
  ft watch --liveserver HOST --every 5m --webhook URL --metrics 127.0.0.1:9464

Exit codes:
  0    every selected scenario passed (at least one ran)
  1    a scenario failed (also: flaky with --fail-on-flaky; ft gate shut)
  2    bad usage, config or spec; nothing selected; nothing to rerun
  3    infrastructure: target unreachable, no browser or driver
  130  interrupted (SIGINT); 143 terminated (SIGTERM); the only way `ft watch` ends

Docs: README.md and docs/ (running, writing specs, CI, releasing, watching, browsers); `ft man`.";

/// ft runs browser functional tests against a web app and decides whether a release
/// may go live. With no command it runs the suite (`ft run`).
#[derive(Debug, Parser)]
#[command(name = "ft", version, about, long_about = None, args_conflicts_with_subcommands = true, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the functional tests (the default command).
    Run(RunArgs),
    /// List the scenarios with their tags and where they are defined.
    List(ListArgs),
    /// Serve the embedded superlists to-do app (the reference target) until Ctrl-C.
    Serve(ServeArgs),
    /// The gated release: staging suite, live deploy, live smoke, tags (or rollback).
    Deploy(DeployArgs),
    /// Check a run record before a live deploy (the split form of `ft deploy` for CI).
    Gate(GateArgs),
    /// Make an Ed25519 key pair for signing run records (--sign-key, gate --verify-key).
    Keygen(KeygenArgs),
    /// Merge the reports of the shards of one run (--shard I/N) into one JUnit file and
    /// one run record, which `ft gate` takes like any other.
    Merge(MergeArgs),
    /// Per scenario, how often it ran, failed and passed only on a retry, from the runs'
    /// history (reports/history.jsonl).
    Flakes(FlakesArgs),
    /// Watch live: the safe (smoke) scenarios on a schedule; one alert after N failed runs
    /// in a row, one "recovered" when it passes again; Prometheus metrics. Runs until Ctrl-C.
    Watch(WatchArgs),
    /// Print a completion script: `ft completions bash > /etc/bash_completion.d/ft`.
    Completions(CompletionsArgs),
    /// Print the manual page (`ft man | man -l -`), or write every page with --out.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct FlakesArgs {
    /// The history file every run appends to.
    #[arg(long, value_name = "PATH", default_value = "reports/history.jsonl")]
    pub history: PathBuf,
    /// Only runs that started within this window: 90s, 15m, 24h, 30d.
    #[arg(long, value_name = "AGE", default_value = "30d", value_parser = crate::shared::durations::parse_age)]
    pub since: Duration,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports folder of every shard (each with run.json and junit.xml).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged junit.xml and run.json.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// Demand that every shard is signed (run.intoto.json) by the private half of this key.
    #[arg(long, value_name = "FILE")]
    pub verify_key: Option<PathBuf>,
    /// Sign the merged record (run.intoto.json beside it).
    #[arg(long, value_name = "FILE", env = "FT_SIGN_KEY")]
    pub sign_key: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct SpecArgs {
    /// Spec folder (every *.toml in it) or file. Default: `specs` from ./ft.toml, else the built-in suite.
    #[arg(long, value_name = "PATH")]
    pub specs: Option<PathBuf>,
    /// Config file. Default: ./ft.toml when it exists.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Run only scenarios whose name contains TEXT (case-insensitive); repeatable.
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Run only scenarios with this tag; repeatable (any of them).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Leave out scenarios with this tag (after --tag and --filter); repeatable, e.g.
    /// `--skip-tag accounts` against a server without the logins' fixtures and inbox.
    #[arg(long, value_name = "TAG")]
    pub skip_tag: Vec<String>,
    /// Override a named selector with a locator or CSS, e.g. `--selector error=.has-error`; repeatable.
    #[arg(long, value_name = "NAME=SELECTOR", value_parser = parse_selector)]
    pub selector: Vec<(String, String)>,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Run only part I of N of the selection (e.g. 2/4), for N machines that run the
    /// whole of it between them; `ft merge` makes one record of their reports. `auto`
    /// reads the CI's own variables (GitLab CI_NODE_INDEX/CI_NODE_TOTAL, CircleCI
    /// CIRCLE_NODE_*, Buildkite BUILDKITE_PARALLEL_JOB*); `auto/N` for a Kubernetes
    /// Indexed Job (JOB_COMPLETION_INDEX) of N completions.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<crate::shard::Shard>,
    /// Run only the scenarios that failed or errored in the previous run record (the
    /// --reports folder's run.json); nothing to rerun is exit 2.
    #[arg(long)]
    pub last_failed: bool,
    /// Run every selected scenario N times (hunting a flake); every run is reported.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat_each: u32,
    /// The server to test: HOST, HOST:PORT or a URL (a bare host means http://HOST).
    /// Also read from FT_LIVESERVER, then STAGING_SERVER or TEST_SERVER; one that is set
    /// but blank is an error. With none of them: the embedded superlists app on 127.0.0.1
    /// (never gate-able).
    #[arg(long, value_name = "HOST|URL")]
    pub liveserver: Option<String>,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Where to write JUnit XML. Default: DIR/junit.xml.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Also write Allure 2 results into this folder (`allure generate DIR`): a result per
    /// scenario attempt with its steps and evidence. An earlier run's results there are
    /// removed first (its history/ folder is kept, for trends).
    #[arg(long, value_name = "DIR")]
    pub allure: Option<PathBuf>,
    /// Before any browser starts, require the target's page at --version-path to show TEXT
    /// (e.g. the commit you mean to test; a commit may be shown as its first 12+ hex digits).
    /// Otherwise exit 3: the target is not running what you think.
    #[arg(long, value_name = "TEXT", requires = "version_path", value_parser = version::parse_text)]
    pub expect_version: Option<String>,
    /// The target's version page for --expect-version, e.g. /version.
    #[arg(long, value_name = "PATH", requires = "expect_version", value_parser = version::parse_path)]
    pub version_path: Option<String>,
    /// How the version page must show the version: `states` (its whole text or first
    /// word, a JSON key commit/version/sha/revision, or a line `commit: …`) or `mentions`
    /// (anywhere on the page, as a word of its own: a page that also names the previous
    /// release shows that one too).
    #[arg(long, value_name = "RULE", default_value = "states", requires = "version_path")]
    pub version_match: version::VersionMatch,
}

/// How scenarios run: shared by `ft run` and every stage of `ft deploy`.
#[derive(Debug, Args, Clone)]
pub struct RunSettings {
    /// Browser sessions in parallel.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Colour the console: auto (a terminal, unless NO_COLOR is set or CLICOLOR_FORCE forces it), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_enum)]
    pub color: crate::settings::ColorChoice,
    /// Draw no progress line. It is drawn (and redrawn in place) only when the console is
    /// a terminal, TERM is not `dumb` and CI is not set: never in a log.
    #[arg(long = "no-progress", action = clap::ArgAction::SetFalse)]
    pub progress: bool,
    /// `human`, or `json`: one JSON object per event on stdout (run and scenario start and
    /// finish, failed attempts, run end), people's output on stderr.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json"])]
    pub message_format: String,
    /// Quarantined scenarios (`quarantine = "reason"` in the spec) fail the run like any other.
    #[arg(long)]
    pub no_quarantine: bool,
    /// Stop starting scenarios after the first failed one (--max-failures 1).
    #[arg(short = 'x', long = "exitfirst", conflicts_with = "max_failures")]
    pub exit_first: bool,
    /// Stop starting scenarios once N have failed or errored; the rest are reported as not run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: Option<u32>,
    /// Run a failed scenario again, as a whole new attempt, up to N more times. One that
    /// passes on a retry is reported as flaky.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Make a flaky scenario fail the run.
    #[arg(long)]
    pub fail_on_flaky: bool,
    /// The most one attempt at a scenario may take, in seconds; a stuck browser becomes a
    /// failed scenario with evidence, and the worker gets a new browser.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_positive_secs)]
    pub scenario_timeout: Duration,
    /// Start a new browser for every scenario instead of reusing one per worker.
    #[arg(long)]
    pub fresh_session: bool,
    /// How a reused browser starts each scenario as a new visitor: `user-context` gives
    /// each attempt a user context of its own (every origin and the HTTP cache too, as a
    /// new browser), where the remote end makes them, else resets, and the console says
    /// why; `reset` clears the page's origin (cookies, storage, IndexedDB, Cache Storage,
    /// service workers). Default: reset (a user context costs a renderer process of its own:
    /// 1.2-1.3x the built-in suite's time on Chromium and Firefox; BENCHMARKS.md).
    #[arg(long, value_name = "HOW", value_parser = ["reset", "user-context"])]
    pub isolation: Option<String>,
    /// Keep a screenshot after each of the last N steps that change the page, written
    /// beside a failed attempt's evidence (never for a passing one). Off (0) by default:
    /// it takes a screenshot before every action whatever N is (measured: +31 WebDriver
    /// commands and ~1.3x the built-in suite's time), so turn it on where failures need it.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=50))]
    pub filmstrip: u16,
    /// How long an expectation may take to come true, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub max_wait: Duration,
    /// How long the target may take to answer the preflight (before any scenario runs),
    /// in seconds. Default: --max-wait (at least 1 s). A target that refuses the connection
    /// or whose name does not resolve fails at once, as down; one that connects but does
    /// not answer in time fails as slow.
    #[arg(long, value_name = "SECS", value_parser = parse_positive_secs)]
    pub preflight_timeout: Option<Duration>,
    /// Also trust the CA (or self-signed) certificates of this PEM file for HTTPS targets,
    /// besides the system's roots (SSL_CERT_FILE / SSL_CERT_DIR when set): the preflight
    /// verifies with it, and Chromium trusts it too. Not yet with --browser firefox. Also FT_CA_CERT.
    #[arg(long, value_name = "FILE", env = "FT_CA_CERT", conflicts_with = "insecure_certs")]
    pub ca_cert: Option<PathBuf>,
    /// Check no HTTPS certificate: the preflight accepts any, and the browser is asked for
    /// WebDriver's acceptInsecureCerts. For throwaway test servers only.
    #[arg(long)]
    pub insecure_certs: bool,
    /// Where capture steps read email (`from_email`): imap://USER@HOST:PORT/MAILBOX,
    /// imaps://…, pop3://USER@HOST:PORT, pop3s://… or maildir:/PATH (a user's @ is written
    /// %40). TLS trusts as --ca-cert and --insecure-certs say. The password is never in the
    /// URL: it comes from the variable --inbox-password-env names. Default: the embedded
    /// app's outbox; a remote target whose scenarios read email needs an inbox.
    #[arg(long, value_name = "URL")]
    pub inbox: Option<String>,
    /// The environment variable that holds the --inbox password (never printed).
    #[arg(long, value_name = "NAME", default_value = crate::mail::DEFAULT_PASSWORD_ENV)]
    pub inbox_password_env: String,
    /// How long a capture step waits for its email, in seconds, unless the step gives its
    /// own `timeout` (the book waits 60 s).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_positive_secs)]
    pub mail_wait: Duration,
    /// How often an expectation is re-checked, in milliseconds.
    #[arg(long, value_name = "MS", default_value = "25", value_parser = parse_millis)]
    pub poll: Duration,
    /// The browser to drive.
    #[arg(long, default_value_t = BrowserKind::Chrome, value_parser = browser_kind())]
    pub browser: BrowserKind,
    /// How long creating a browser session may take, in seconds. A Selenium Grid queues
    /// requests while its slots are busy (300 s by default): keep this above its queue timeout.
    #[arg(long, value_name = "SECS", default_value = "310", value_parser = parse_positive_secs)]
    pub session_timeout: Duration,
    /// Show the browser window instead of running headless.
    #[arg(long)]
    pub headed: bool,
    /// Do not collect the browser's signals (console errors, uncaught exceptions, failed
    /// requests) over WebDriver BiDi: the `[suite] signals` check is skipped, and an
    /// `expect_no_console_errors` or `expect_no_failed_requests` step fails.
    #[arg(long)]
    pub no_signals: bool,
    /// The driver to start: chromedriver (default: on PATH, then /usr/bin/chromedriver), or
    /// with --browser firefox geckodriver (default: on PATH, then ~/.cargo/bin/geckodriver).
    #[arg(long, value_name = "PATH")]
    pub driver: Option<PathBuf>,
    /// The browser binary. Default: chromium, chromium-browser or google-chrome on PATH; with
    /// --browser firefox: firefox or firefox-esr on PATH.
    #[arg(long, value_name = "PATH")]
    pub browser_binary: Option<PathBuf>,
    /// Use an already-running WebDriver remote end (chromedriver, Selenium Grid) instead of starting one.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Folder for the run record and evidence of failures.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// Targets whose URL matches this regex hold real users' data: only scenarios tagged
    /// with --safe-tag run there, the rest are skipped with the reason. Also FT_SENSITIVE_URL
    /// or `sensitive_url` in ft.toml.
    #[arg(long, value_name = "REGEX", env = "FT_SENSITIVE_URL", hide_env_values = true)]
    pub sensitive_url: Option<String>,
    /// The tag of scenarios safe to run on a sensitive target.
    #[arg(long, value_name = "TAG", default_value = "smoke")]
    pub safe_tag: String,
    /// Also write the run record signed with this private key (from `ft keygen`), as a
    /// DSSE envelope beside it: DIR/run.intoto.json. Also FT_SIGN_KEY.
    #[arg(long, value_name = "FILE", env = "FT_SIGN_KEY")]
    pub sign_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The staging server: HOST, HOST:PORT or a URL. Its full suite opens the gate.
    #[arg(long, value_name = "HOST|URL")]
    pub staging: String,
    /// The live server: HOST, HOST:PORT or a URL. Only its smoke scenarios run.
    #[arg(long, value_name = "HOST|URL")]
    pub live: String,
    /// Deploy command, run with `sh -c`; `{host}` is replaced by the target's host[:port],
    /// and FT_COMMIT, FT_HOST and FT_STAGE (staging/live) are set.
    #[arg(long, value_name = "CMD")]
    pub deploy_cmd: String,
    /// Restart command, run after the deploy command the same way.
    #[arg(long, value_name = "CMD")]
    pub restart_cmd: Option<String>,
    /// Also deploy (and restart) staging before testing it.
    #[arg(long)]
    pub staging_deploy: bool,
    /// The tag of the scenarios that verify live after the deploy.
    #[arg(long, value_name = "TAG", default_value = "smoke")]
    pub smoke_tag: String,
    /// Run when live verification fails, with FT_ROLLBACK_TO = the commit LIVE named before.
    #[arg(long, value_name = "CMD")]
    pub rollback_cmd: Option<String>,
    /// Push the LIVE (forced) and DEPLOYED-… tags to this remote.
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,
    /// Print the plan with every command resolved, and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Let a stage whose scenarios passed only on a retry (flaky) open the gate.
    #[arg(long)]
    pub allow_flaky: bool,
    /// Let a staging run that left scenarios of the specs out (--filter, --tag) open the gate.
    #[arg(long)]
    pub allow_partial: bool,
    /// Let a staging run made with --insecure-certs (no HTTPS certificate checked) open the gate.
    #[arg(long)]
    pub allow_insecure: bool,
    /// How long a server may take to answer after its deploy, in seconds.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_positive_secs)]
    pub up_timeout: Duration,
    /// Upper bound for each deploy, restart or rollback command, in seconds.
    #[arg(long, value_name = "SECS", default_value = "1800", value_parser = parse_secs_long)]
    pub command_timeout: Duration,
    /// The targets' version page, e.g. /version: before staging is tested (deployed by ft or
    /// not) and after the live deploy, it must show the released commit (in full, or its
    /// first 12+ hex digits) within --up-timeout, or the release stops.
    #[arg(long, value_name = "PATH", value_parser = version::parse_path)]
    pub version_path: Option<String>,
    /// How the version page must show the commit: `states` (its whole text or first word,
    /// a JSON key commit/version/sha/revision, or a line `commit: …`) or `mentions`
    /// (anywhere on the page, as a word of its own).
    #[arg(long, value_name = "RULE", default_value = "states", requires = "version_path")]
    pub version_match: version::VersionMatch,
    /// After live verification passed, keep running the smoke scenarios against live for
    /// this long (90s, 15m, 1h) before the release is done and tagged; failures in a row
    /// (--bake-failures) roll back as a failed verification does.
    #[arg(long, value_name = "DURATION", value_parser = crate::shared::durations::parse_age)]
    pub bake: Option<Duration>,
    /// How often the smoke scenarios run during --bake (from one run's start to the next).
    #[arg(long, value_name = "DURATION", default_value = "60s", requires = "bake", value_parser = crate::shared::durations::parse_age)]
    pub bake_every: Duration,
    /// This many failed bake runs in a row fail the release (1: any failure does).
    #[arg(long, value_name = "N", default_value_t = 2, requires = "bake", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub bake_failures: u32,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub settings: RunSettings,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The live server to watch: HOST, HOST:PORT or a URL. Always treated as sensitive:
    /// only scenarios tagged --safe-tag (smoke) run there.
    #[arg(long, value_name = "HOST|URL")]
    pub liveserver: String,
    /// How often the scenarios run, from one run's start to the next: 30s, 5m, 1h.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub every: Duration,
    /// Failed runs in a row before the one alert.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub alert_after: u32,
    /// POST alerts and recoveries here as JSON (http or https).
    #[arg(long, value_name = "URL", value_parser = parse_webhook)]
    pub webhook: Option<String>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Runs whose reports are kept under DIR/watch (a failed run's until this many newer ones failed).
    #[arg(long, value_name = "K", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub keep: u32,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub settings: RunSettings,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    match crate::shared::durations::parse_age(s)? {
        d if d.is_zero() => Err("the interval must be above zero".into()),
        d => Ok(d),
    }
}

fn parse_webhook(s: &str) -> Result<String, String> {
    match reqwest::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(s.to_string()),
        Ok(u) => Err(format!("a webhook is an http:// or https:// URL, not {}:", u.scheme())),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The run record (run.json) the staging job wrote.
    #[arg(long, value_name = "PATH")]
    pub record: PathBuf,
    /// The oldest record that may open the gate: 90s, 15m, 24h, 2d.
    #[arg(long, value_name = "AGE", default_value = "24h", value_parser = crate::shared::durations::parse_age)]
    pub max_age: Duration,
    /// Accept a record whose scenarios passed only on a retry (verdict flaky).
    #[arg(long)]
    pub allow_flaky: bool,
    /// Accept a record in which some scenarios of the specs did not run (--filter, --tag,
    /// or skipped as unsafe on a sensitive target).
    #[arg(long)]
    pub allow_partial: bool,
    /// Accept a record made in a work tree with uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Open only for a record of this target (HOST, HOST:PORT or URL, compared without
    /// user info), e.g. the staging server about to be promoted.
    #[arg(long, value_name = "HOST|URL")]
    pub target: Option<String>,
    /// Count quarantined scenarios' failures like any other.
    #[arg(long)]
    pub no_quarantine: bool,
    /// Accept a record of a run made with --insecure-certs (no HTTPS certificate checked).
    #[arg(long)]
    pub allow_insecure: bool,
    /// Demand a signed record: --record must then be the envelope `ft run --sign-key`
    /// wrote (run.intoto.json), signed by the private half of this public key.
    #[arg(long, value_name = "FILE")]
    pub verify_key: Option<PathBuf>,
    /// The specs the record must have been made with (as for `ft run`).
    #[command(flatten)]
    pub spec: SpecArgs,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Folder for ft-sign.key (private, 0600) and ft-sign.pub; existing files are never overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Only the part a shard runs (as `ft run --shard I/N` or `--shard auto` would).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<crate::shard::Shard>,
    /// `text` for people, `json` for tools (an array of {name, tags, file, line}).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write ft.1 and a page per subcommand (ft-run.1, ...) into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print every long flag of every command (`ft run<TAB>--workers<TAB>shown`), for the docs test.
    #[arg(long, hide = true, conflicts_with = "out")]
    pub flags: bool,
    /// Print every step verb of the spec language with an example (`visit<TAB>{ visit = "/" }`), for the docs test.
    #[arg(long, hide = true, conflicts_with_all = ["out", "flags"])]
    pub verbs: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// SQLite database file (created if missing). Default: a fresh temporary database.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Switch on a deliberate defect (for testing ft itself); repeatable.
    #[arg(long = "defect", value_name = "NAME", hide = true)]
    pub defects: Vec<superlists::Defect>,
    /// Answer GET /version with TEXT (what a deploy knows it released, e.g. its commit).
    #[arg(long = "version", value_name = "TEXT")]
    pub app_version: Option<String>,
    /// Append one line per request (time, method, path, status, user agent) to this file.
    #[arg(long, value_name = "PATH")]
    pub access_log: Option<PathBuf>,
    /// Send the login emails over plain SMTP to this server (e.g. 127.0.0.1:2525).
    /// Default: print them on standard output.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "outbox", value_parser = parse_host_port)]
    pub smtp: Option<String>,
    /// Write the login emails as files into this Maildir folder (tmp/, new/, cur/ are
    /// created if missing), one per message. Default: print them on standard output.
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
}

/// The app's server-side commands (the book's `manage.py create_session` and `flush`), run
/// against the database of an app that may be serving.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Log EMAIL in without an email: make the user if needed and a session, and print the
    /// session's key (the `sessionid` cookie's value) and nothing else.
    CreateSession(CreateSessionArgs),
    /// Delete every list, item, user, login token and session; the schema stays.
    ResetDatabase(ResetDatabaseArgs),
}

#[derive(Debug, Args)]
pub struct CreateSessionArgs {
    /// The app's SQLite database file (as given to `ft serve --db`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// The user's email address, e.g. edith@example.com.
    pub email: String,
}

#[derive(Debug, Args)]
pub struct ResetDatabaseArgs {
    /// The app's SQLite database file (as given to `ft serve --db`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
}

/// `--browser`'s values with their help, parsed by `BrowserKind`'s own `FromStr`.
fn browser_kind() -> impl TypedValueParser<Value = BrowserKind> {
    let values = BrowserKind::ALL.map(|k| PossibleValue::new(k.name()).help(k.about()));
    PossibleValuesParser::new(values).try_map(|s| s.parse::<BrowserKind>())
}

/// `--smtp`: a host and a port (an IPv6 host in brackets), so a typo is a usage error
/// rather than a server that starts and fails at its first email.
fn parse_host_port(s: &str) -> Result<String, String> {
    let valid = s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.trim_matches(['[', ']']).is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
    });
    if valid {
        Ok(s.to_owned())
    } else {
        Err("expected HOST:PORT, e.g. 127.0.0.1:2525 or [::1]:25".into())
    }
}

fn parse_selector(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, css)) if !name.trim().is_empty() && !css.trim().is_empty() => {
            Ok((name.trim().trim_start_matches('@').to_string(), css.trim().to_string()))
        }
        _ => Err("expected NAME=SELECTOR, e.g. error=.has-error or save=role=button[name=\"Save\"]".into()),
    }
}
