//! What each `ft` command does, given its options: each returns an exit code for how its
//! work ended, or the one `Error`; `cli::main` prints that error and picks the code.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::deploy::{self, DeployOptions, DeployOutcome};
use crate::error::Error;
use crate::exit;
use crate::gate::{self, GateError, GateOptions};
use crate::interrupts::{self, Listener, StopSignal};
use crate::job::{self, JobOptions};
use crate::report::Console;
use crate::shared::terminal::escape_line;
use crate::spec::{self, Selection, SelectorOverrides, SpecSource};
use crate::superlists;

/// `ft run`: the suite against the target; the code from its verdict, or from the
/// signal that stopped it.
pub async fn run(options: JobOptions) -> Result<u8, Error> {
    let signals = Listener::new().map_err(Error::Signals)?;
    let (result, signal) =
        interrupts::counting(signals, |rx| job::run(&options, Console::for_run(&options.settings), rx)).await;
    let by_signal = signal.map(StopSignal::exit_code);
    match result {
        Ok(done) => Ok(by_signal.unwrap_or_else(|| done.verdict.exit_code(options.settings.flaky))),
        // An interrupted run that could not finish still ends with the signal's code.
        Err(err) => match by_signal {
            Some(code) => {
                eprintln!("{}", Error::from(err).render());
                Ok(code)
            }
            None => Err(err.into()),
        },
    }
}

/// `ft list`: the selected scenarios with their tags and where they are defined.
/// What `ft list` takes from ft.toml and the flags beside the specs.
pub struct ListConfig {
    pub selectors: SelectorOverrides,
    pub fixtures: crate::spec::fixture::Fixtures,
    pub values: Vec<crate::spec::config::ValueOverride>,
}

pub fn list(
    specs: SpecSource,
    config: ListConfig,
    selection: Selection,
    shard: Option<crate::shard::Shard>,
    json: bool,
) -> Result<u8, Error> {
    let ListConfig { selectors, fixtures, values } = config;
    let options = JobOptions {
        specs,
        selectors,
        fixtures,
        values,
        selection,
        liveserver: None,
        stage: None,
        shard,
        last_failed: false,
        repeat_each: 1,
        settings: Default::default(),
        folder_lock: None,
    };
    let selected = job::plan(&options)?.scenarios;
    let mut out = std::io::stdout().lock();
    // `ft list | head -1` closes the pipe early: that is not an error worth a panic.
    let _ = if json { write_list_json(&mut out, &selected) } else { write_list(&mut out, &selected, &options.specs) };
    Ok(exit::PASSED)
}

fn write_list_json(out: &mut impl Write, selected: &[spec::Scenario]) -> std::io::Result<()> {
    let list: Vec<serde_json::Value> = selected
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "tags": s.tags, "file": s.file, "line": s.line}))
        .collect();
    let text = serde_json::to_string_pretty(&list).unwrap_or_default();
    writeln!(out, "{text}")
}

fn write_list(out: &mut impl Write, selected: &[spec::Scenario], source: &SpecSource) -> std::io::Result<()> {
    use crate::shared::terminal::{escape_cell, escape_line};
    let names: Vec<String> = selected.iter().map(|s| escape_cell(&s.name, spec::MAX_NAME_CHARS)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (s, name) in selected.iter().zip(&names) {
        let tags = if s.tags.is_empty() { String::new() } else { format!("[{}]", s.tags.join(", ")) };
        writeln!(out, "{name:width$}  {:24}  {}", escape_line(&tags), escape_line(&s.location()))?;
    }
    writeln!(out, "{} scenario{} from {source}", selected.len(), if selected.len() == 1 { "" } else { "s" })
}

/// `ft serve`: the reference app until SIGINT or SIGTERM.
pub async fn serve(addr: SocketAddr, config: superlists::Config) -> Result<u8, Error> {
    // Listen before announcing, so a signal sent as soon as the line is read is not lost.
    let mut signals = Listener::new().map_err(Error::Signals)?;
    let defects = config.defects;
    let server = superlists::start(addr, config).await?;
    if defects.any() {
        let names: Vec<&str> = defects.list().into_iter().map(superlists::Defect::name).collect();
        eprintln!(
            "ft serve: warning: deliberate defects switched on: {} (this app is broken on purpose)",
            names.join(", ")
        );
    }
    announce(&format!("ft serve: listening on {}/", server.url()));
    signals.next().await;
    server.shutdown().await?;
    announce("ft serve: stopped");
    Ok(exit::PASSED)
}

/// `ft serve create-session --db PATH EMAIL`: the new session's key and a newline on
/// stdout, nothing else (a fixture captures it as the `sessionid` cookie's value).
pub fn serve_create_session(db: &Path, email: &str) -> Result<u8, Error> {
    let key = superlists::create_session(db, email).map_err(serve_command_error)?;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{key}");
    let _ = stdout.flush();
    Ok(exit::PASSED)
}

/// `ft serve reset-database --db PATH`: an emptied database, silently.
pub fn serve_reset_database(db: &Path) -> Result<u8, Error> {
    superlists::reset_database(db).map_err(serve_command_error)?;
    Ok(exit::PASSED)
}

/// A server-side command's failure is the caller's to fix (an address, a path): exit 2.
fn serve_command_error(err: superlists::CommandError) -> Error {
    let hint = match err {
        superlists::CommandError::Email { .. } => "give the address as a person types it, e.g. edith@example.com",
        superlists::CommandError::NoFolder { .. } => {
            "give --db the database file the app serves (`ft serve --db PATH`)"
        }
        _ => "check that --db is the app's SQLite database (`ft serve --db PATH`) and that it can be written",
    };
    Error::Usage { what: crate::shared::errors::one_line(&err), hint: hint.to_owned() }
}

/// One line to stdout, flushed: a parent process may be waiting for it on a pipe. Paths
/// and names in it are the user's: shown escaped, never as raw control characters.
fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", crate::shared::terminal::escape_controls(line));
    let _ = stdout.flush();
}

/// `ft deploy`: the gated release; the code from how it ended.
pub async fn deploy(options: DeployOptions) -> Result<u8, Error> {
    let signals = Listener::new().map_err(Error::Signals)?;
    let mut out = std::io::stdout();
    let (report, signal) =
        interrupts::counting_first(signals, |rx, first| deploy::deploy(&options, &mut out, rx, first)).await;
    let headline = match report.outcome {
        DeployOutcome::Released | DeployOutcome::Planned => "OK",
        DeployOutcome::RolledBack => "ROLLED BACK",
        _ => "NOT RELEASED",
    };
    let reason = crate::shared::redact::redact_text(&report.reason);
    println!("{headline}: {}", escape_line(&reason));
    Ok(report.outcome.exit_code_after(signal))
}

/// `ft watch`: scheduled runs until a signal, whose code it exits with.
pub async fn watch(options: crate::watch::WatchOptions) -> Result<u8, Error> {
    let signals = Listener::new().map_err(Error::Signals)?;
    let mut out = std::io::stdout();
    let (result, signal) = interrupts::counting(signals, |rx| crate::watch::watch(&options, &mut out, rx)).await;
    result?;
    Ok(signal.map(StopSignal::exit_code).unwrap_or(exit::SIGINT))
}

/// `ft gate`: may this commit go live, by the record a staging run left?
pub async fn gate(options: GateOptions) -> Result<u8, Error> {
    let decision = match gate::check(&options).await {
        // A signature that does not hold is a reason like a failed run: shut, exit 1.
        Err(GateError::Envelope(e)) if e.shuts_gate() => return Ok(gate_shut(&options.record, &[e.to_string()])),
        result => result?,
    };
    let code = if decision.shut_because.is_empty() {
        let mut out = std::io::stdout().lock();
        let ft = &decision.record.predicate.ft;
        let _ = writeln!(
            out,
            "gate open: {} passed {} of {} scenarios against {} at {} (verdict {})",
            escape_line(&options.record.display().to_string()),
            ft.passed,
            ft.total,
            escape_line(&ft.target),
            ft.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
            ft.verdict
        );
        if let Some(key) = &options.verify_key {
            let _ = writeln!(out, "  signature verified: keyid {} ({})", key.keyid(), key.path().display());
        }
        exit::PASSED
    } else {
        gate_shut(&options.record, &decision.shut_because)
    };
    // Never silently: every quarantined scenario is named, whatever the gate decided.
    let mut out = std::io::stdout().lock();
    let said = if code == exit::PASSED { "quarantined, let through" } else { "quarantined" };
    for q in &decision.quarantined {
        let _ = writeln!(out, "  {said}: {}", escape_line(&crate::shared::redact::redact_text(q)));
    }
    Ok(code)
}

/// Every reason on a line of its own, whatever the record's names hold: a scenario named
/// `x\r\ngate open: …` must not print a line of its own into a CI log.
fn gate_shut(record: &Path, reasons: &[String]) -> u8 {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "gate shut: {} does not allow a live deploy:", escape_line(&record.display().to_string()));
    for why in reasons {
        let _ = writeln!(out, "  - {}", escape_line(&crate::shared::redact::redact_text(why)));
    }
    exit::FAILED
}

/// `ft keygen`: a new key pair for signed records; never overwrites one.
pub fn keygen(dir: &Path) -> Result<u8, Error> {
    let pair = crate::sign::keygen(dir)?;
    announce(&format!(
        "ft keygen: wrote {} (private: keep it secret, e.g. as a CI secret for `ft run --sign-key` / FT_SIGN_KEY)",
        pair.private.display()
    ));
    announce(&format!("ft keygen: wrote {} (public: for `ft gate --verify-key`)", pair.public.display()));
    announce(&format!("ft keygen: keyid {}", pair.keyid));
    Ok(exit::PASSED)
}

/// `ft man`: the manual page of `ft` on stdout; with `out`, every page written there;
/// with `flags`, every long flag (what the docs test checks the docs against).
/// `ft man --verbs`: every step verb and its example, one a line, from the one verb table.
pub fn verbs() -> Result<u8, Error> {
    let mut stdout = std::io::stdout().lock();
    let _ = crate::spec::verbs::VERBS.iter().try_for_each(|v| writeln!(stdout, "{}\t{}", v.name, v.example));
    Ok(exit::PASSED)
}

pub fn man(cmd: clap::Command, out: Option<&Path>, flags: bool) -> Result<u8, Error> {
    let failed = |e: std::io::Error, what: String| Error::Usage {
        what: format!("failed to write {what}: {e}"),
        hint: "give --out a folder you can write to".into(),
    };
    if flags {
        let mut stdout = std::io::stdout().lock();
        let _ = crate::man::long_flags(cmd).iter().try_for_each(|f| writeln!(stdout, "{f}"));
    } else if let Some(dir) = out {
        for path in crate::man::write_pages(cmd, dir).map_err(|e| failed(e, dir.display().to_string()))? {
            announce(&format!("ft man: wrote {}", path.display()));
        }
    } else {
        let pages = crate::man::pages(cmd).map_err(|e| failed(e, "the manual page".into()))?;
        if let Some((_, roff)) = pages.first() {
            // `ft man | head` closes the pipe early: not an error.
            let _ = std::io::stdout().lock().write_all(roff);
        }
    }
    Ok(exit::PASSED)
}

/// `ft merge`: one record and one JUnit file from the shards' reports. Exits like the run
/// they make up would have (0 green, 1 failed, ...); a set that is not one whole run is 2.
pub fn merge(
    dirs: &[PathBuf],
    reports: &Path,
    verify: Option<&crate::sign::VerifyKey>,
    sign: Option<&crate::sign::SignKey>,
) -> Result<u8, Error> {
    let out = crate::report::ReportPaths::in_dir(reports.to_path_buf());
    let target = std::path::absolute(reports).unwrap_or_else(|_| reports.to_path_buf());
    for dir in dirs {
        let dir_abs = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        let same =
            dir_abs == target || dir.canonicalize().ok().zip(reports.canonicalize().ok()).is_some_and(|(a, b)| a == b);
        if same {
            return Err(Error::Usage {
                what: format!("ft merge: {} is both a shard to merge and the folder to write", dir.display()),
                hint: "write the merged reports elsewhere with --reports DIR".into(),
            });
        }
    }
    // The folder is this merge's: no earlier record may outlive a refused merge.
    let _lock = crate::report::prepare(&out).map_err(crate::report::MergeError::from)?;
    let merged = crate::report::merge(dirs, &out, verify, sign)?;
    let ft = &merged.record.predicate.ft;
    let policy = crate::verdict::FlakyPolicy::accept_if(ft.flaky_accepted);
    let names: Vec<String> = merged.written.iter().map(|p| p.display().to_string()).collect();
    announce(&format!(
        "ft merge: {} shards: {}: {} scenarios: {} passed{}, {} failed, {} errors, {} not run",
        dirs.len(),
        ft.verdict.headline(policy),
        ft.total,
        ft.passed,
        if ft.flaky > 0 { format!(" ({} flaky)", ft.flaky) } else { String::new() },
        ft.failed,
        ft.errors,
        ft.not_run
    ));
    if verify.is_some() {
        announce("ft merge: every shard's signature verified");
    }
    announce(&format!("reports: {}", names.join(", ")));
    Ok(ft.verdict.exit_code(policy))
}

/// `ft flakes`: the history's scenarios, worst first. No history is exit 2.
pub fn flakes(path: &Path, since: std::time::Duration) -> Result<u8, Error> {
    let from = chrono::Utc::now() - chrono::Duration::from_std(since).unwrap_or(chrono::Duration::MAX);
    let history = crate::report::read_history(path, from).map_err(|e| Error::Usage {
        what: format!("ft flakes: cannot read {}: {e}", path.display()),
        hint: "every `ft run` appends to history.jsonl in its --reports folder; pass --history PATH".into(),
    })?;
    let mut out = std::io::stdout().lock();
    let _ = write_flakes(&mut out, path, from, &history);
    Ok(exit::PASSED)
}

fn write_flakes(
    out: &mut impl Write,
    path: &Path,
    from: chrono::DateTime<chrono::Utc>,
    history: &crate::report::History,
) -> std::io::Result<()> {
    writeln!(
        out,
        "ft flakes: {} run{} since {} ({})",
        history.runs,
        if history.runs == 1 { "" } else { "s" },
        from.format("%Y-%m-%d %H:%M UTC"),
        crate::shared::terminal::escape_line(&path.display().to_string())
    )?;
    if history.unreadable > 0 {
        writeln!(
            out,
            "  ({} unreadable line{} skipped)",
            history.unreadable,
            if history.unreadable == 1 { "" } else { "s" }
        )?;
    }
    // The history is a file anyone could have written: its names are escaped and cut
    // like any, never trusted to be short or printable.
    let names: Vec<String> = history
        .scenarios
        .iter()
        .map(|f| {
            crate::shared::terminal::escape_cell(&crate::shared::redact::redact_text(&f.scenario), spec::MAX_NAME_CHARS)
        })
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(8).max(8);
    writeln!(out, "{:<width$}  RUNS  FAILED  FLAKY  FAIL%  FLAKY%  MEDIAN  LAST FAILURE", "SCENARIO")?;
    for (f, name) in history.scenarios.iter().zip(&names) {
        writeln!(
            out,
            "{:<width$}  {:>4}  {:>6}  {:>5}  {:>4.0}%  {:>5.0}%  {:>5.1}s  {}",
            name,
            f.runs,
            f.failed,
            f.flaky,
            f.fail_rate() * 100.0,
            f.flaky_rate() * 100.0,
            f.median_seconds,
            f.last_failure.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into())
        )?;
    }
    Ok(())
}

/// The folder ft runs in: the git work tree a deploy or gate is about.
pub fn here() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
