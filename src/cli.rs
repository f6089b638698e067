//! Command-line parsing (clap) and the mapping from results to exit codes. The doc
//! comments here are the `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;

use crate::browser::{BrowserConfig, BrowserKind};
use crate::job::{self, JobOptions};
use crate::report::{Console, ReportPaths};
use crate::spec::{self, config::Config, Selection, SpecSource};
use crate::superlists;
use crate::wait::Patience;

/// ft runs browser functional tests against a web app and decides whether a release
/// may go live. With no command it runs the suite (`ft run`).
#[derive(Debug, Parser)]
#[command(name = "ft", version, about, long_about = None, args_conflicts_with_subcommands = true)]
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
    /// Override a named selector, e.g. `--selector error=.has-error`; repeatable.
    #[arg(long, value_name = "NAME=CSS", value_parser = parse_selector)]
    pub selector: Vec<(String, String)>,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The server to test: HOST, HOST:PORT or a URL (a bare host means http://HOST).
    /// Also read from FT_LIVESERVER, then STAGING_SERVER or TEST_SERVER. Default: start
    /// the embedded superlists app on 127.0.0.1 and test that.
    #[arg(long, value_name = "HOST|URL", env = "FT_LIVESERVER")]
    pub liveserver: Option<String>,
    /// Browser sessions in parallel.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Start a new browser for every scenario instead of reusing one per worker.
    #[arg(long)]
    pub fresh_session: bool,
    /// How long an expectation may take to come true, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub max_wait: Duration,
    /// How often an expectation is re-checked, in milliseconds.
    #[arg(long, value_name = "MS", default_value = "25", value_parser = parse_millis)]
    pub poll: Duration,
    /// The browser to drive.
    #[arg(long, value_enum, default_value_t = BrowserKind::Chrome)]
    pub browser: BrowserKind,
    /// How long creating a browser session may take, in seconds. A Selenium Grid queues
    /// requests while its slots are busy (300 s by default): keep this above its queue timeout.
    #[arg(long, value_name = "SECS", default_value = "310", value_parser = parse_secs)]
    pub session_timeout: Duration,
    /// Show the browser window instead of running headless.
    #[arg(long)]
    pub headed: bool,
    /// The chromedriver to start. Default: chromedriver on PATH, then /usr/bin/chromedriver.
    #[arg(long, value_name = "PATH")]
    pub driver: Option<PathBuf>,
    /// The Chromium/Chrome binary. Default: chromium, chromium-browser or google-chrome on PATH.
    #[arg(long, value_name = "PATH")]
    pub browser_binary: Option<PathBuf>,
    /// Use an already-running WebDriver remote end (chromedriver, Selenium Grid) instead of starting one.
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
    /// Folder for the run record and evidence of failures.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// Where to write JUnit XML. Default: DIR/junit.xml.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
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
}

/// Exit codes, as documented in the README.
pub mod exit {
    /// Every selected scenario passed (and at least one ran).
    pub const PASSED: u8 = 0;
    /// A scenario failed: the app did not behave as specified.
    pub const FAILED: u8 = 1;
    /// Bad usage, config or spec; nothing was run.
    pub const USAGE: u8 = 2;
    /// Infrastructure: target unreachable, driver or browser would not start.
    pub const INFRA: u8 = 3;
    /// Interrupted by SIGINT (Ctrl-C) / SIGTERM.
    pub const SIGINT: u8 = 130;
    pub const SIGTERM: u8 = 143;
}

fn parse_selector(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, css)) if !name.trim().is_empty() && !css.trim().is_empty() => {
            Ok((name.trim().trim_start_matches('@').to_string(), css.trim().to_string()))
        }
        _ => Err("expected NAME=CSS, e.g. error=.has-error".into()),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err("expected seconds between 0 and 3600, e.g. 10 or 2.5".into()),
    }
}

fn parse_millis(s: &str) -> Result<Duration, String> {
    match s.parse::<u64>() {
        Ok(v) if (1..=10_000).contains(&v) => Ok(Duration::from_millis(v)),
        _ => Err("expected milliseconds between 1 and 10000, e.g. 25".into()),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: failed to start the async runtime: {err}");
            return ExitCode::from(exit::INFRA);
        }
    };
    let code = runtime.block_on(dispatch(cli));
    // Do not wait for blocking tasks (e.g. a stuck DNS lookup) on the way out.
    runtime.shutdown_timeout(Duration::from_secs(1));
    ExitCode::from(code)
}

async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Some(Command::Run(args)) => run(args).await,
        Some(Command::List(args)) => list(args),
        Some(Command::Serve(args)) => serve(args).await,
        None => run(cli.run).await,
    }
}

/// Where the specs come from: --specs, else ft.toml's `specs`, else the built-in suite.
fn spec_source(args: &SpecArgs) -> Result<(SpecSource, spec::SelectorOverrides), spec::SpecErrors> {
    let config = Config::load(args.config.as_deref())?;
    let source = match (&args.specs, &config.specs) {
        (Some(p), _) => SpecSource::Path(p.clone()),
        (None, Some(p)) => SpecSource::Path(p.clone()),
        (None, None) => SpecSource::BuiltIn,
    };
    let mut selectors = config.selectors;
    selectors.extend(args.selector.iter().cloned());
    Ok((source, selectors))
}

fn selection(args: &SpecArgs) -> Selection {
    Selection { filters: args.filter.clone(), tags: args.tag.clone() }
}

/// The target from the flag or FT_LIVESERVER (clap), else the book's variables.
fn liveserver(args: &RunArgs) -> Option<String> {
    args.liveserver
        .clone()
        .or_else(|| std::env::var("STAGING_SERVER").ok())
        .or_else(|| std::env::var("TEST_SERVER").ok())
        .filter(|s| !s.trim().is_empty())
}

pub fn job_options(args: &RunArgs) -> Result<JobOptions, spec::SpecErrors> {
    let (specs, selectors) = spec_source(&args.spec)?;
    let junit = args.junit.clone().unwrap_or_else(|| args.reports.join("junit.xml"));
    Ok(JobOptions {
        specs,
        selectors,
        selection: selection(&args.spec),
        liveserver: liveserver(args),
        workers: usize::from(args.workers),
        fresh_session: args.fresh_session,
        patience: Patience { max_wait: args.max_wait, poll: args.poll },
        browser: BrowserConfig {
            kind: args.browser,
            session_timeout: args.session_timeout,
            driver: args.driver.clone(),
            binary: args.browser_binary.clone(),
            headed: args.headed,
            webdriver: args.webdriver.clone(),
            ..BrowserConfig::default()
        },
        paths: ReportPaths { dir: args.reports.clone(), junit, record: args.reports.join("run.json") },
        stage: None,
        preflight_timeout: Duration::from_secs(10),
        grace: Duration::from_secs(10),
    })
}

async fn run(args: RunArgs) -> u8 {
    let options = match job_options(&args) {
        Ok(o) => o,
        Err(errors) => {
            eprintln!("{errors}");
            return exit::USAGE;
        }
    };
    let (tx, rx) = watch::channel(0u32);
    let signals = Signals::new();
    let first_signal = std::sync::Mutex::new(None);
    let job = job::run(&options, Console::stdout(), rx);
    let listen = async {
        let Ok(mut signals) = signals else { return std::future::pending().await };
        loop {
            let code = signals.next().await;
            if let Ok(mut first) = first_signal.lock() {
                first.get_or_insert(code);
            }
            tx.send_modify(|n| *n += 1);
        }
    };
    let result = tokio::select! {
        r = job => r,
        () = listen => unreachable_pending(),
    };
    let interrupted_by = first_signal.lock().ok().and_then(|f| *f);
    match result {
        Ok(done) => interrupted_by.unwrap_or_else(|| done.exit_code()),
        Err(err) => {
            match &err {
                // Diagnostics carry their own `file:line:col: error:` prefixes.
                job::JobError::Spec(errors) => eprintln!("{errors}"),
                other => print_error(other),
            }
            interrupted_by.unwrap_or_else(|| err.exit_code())
        }
    }
}

/// `listen` never finishes; this keeps `select!`'s arms the same type.
fn unreachable_pending() -> Result<job::JobResult, job::JobError> {
    unreachable!("the signal listener loops forever")
}

/// SIGINT and SIGTERM as one stream of exit codes (130, 143).
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? })
    }

    async fn next(&mut self) -> u8 {
        tokio::select! {
            _ = self.int.recv() => exit::SIGINT,
            _ = self.term.recv() => exit::SIGTERM,
        }
    }
}

fn list(args: ListArgs) -> u8 {
    let loaded = spec_source(&args.spec).and_then(|(source, selectors)| Ok((spec::load(&source, &selectors)?, source)));
    let (suite, source) = match loaded {
        Ok(x) => x,
        Err(errors) => {
            eprintln!("{errors}");
            return exit::USAGE;
        }
    };
    let selected = suite.select(&selection(&args.spec));
    if selected.is_empty() {
        eprintln!("error: no scenario matches the selection (of {} in {source})", suite.scenarios.len());
        return exit::USAGE;
    }
    let width = selected.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    for s in &selected {
        let tags = if s.tags.is_empty() { String::new() } else { format!("[{}]", s.tags.join(", ")) };
        println!("{:width$}  {:24}  {}", s.name, tags, s.location());
    }
    println!("{} scenario{} from {source}", selected.len(), if selected.len() == 1 { "" } else { "s" });
    exit::PASSED
}

async fn serve(args: ServeArgs) -> u8 {
    let config = superlists::Config { db: args.db, defects: superlists::Defects::from_list(&args.defects) };
    match superlists::serve_until_signal(args.addr, config).await {
        Ok(()) => exit::PASSED,
        Err(err) => {
            print_error(&err);
            exit::INFRA
        }
    }
}

/// Print an error and its "caused by:" chain to stderr.
pub fn print_error(err: &dyn std::error::Error) {
    eprintln!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}
