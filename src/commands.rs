//! What each `ft` command does, given its options: each returns an exit code for how its
//! work ended, or the one `Error`; `cli::main` prints that error and picks the code.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::exit;
use crate::gate::record_check::{GateError, GateOptions};
use crate::gate::{self, DeployOptions, DeployOutcome};
use crate::job::{self, JobOptions};
use crate::report::Console;
use crate::signals::{self, Signals};
use crate::spec::{self, Selection, SelectorOverrides, SpecSource};
use crate::superlists;

/// `ft run`: the suite against the target; the code from its verdict, or from the
/// signal that stopped it.
pub async fn run(options: JobOptions) -> Result<u8, Error> {
    let signals = Signals::new().map_err(Error::Signals)?;
    let (result, signal) = signals::counting(signals, |rx| job::run(&options, Console::stdout(), rx)).await;
    let by_signal = signal.map(exit::for_signal);
    match result {
        Ok(done) => Ok(by_signal.unwrap_or_else(|| exit::for_verdict(done.verdict, options.settings.flaky))),
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
pub fn list(specs: SpecSource, selectors: SelectorOverrides, selection: Selection) -> Result<u8, Error> {
    let options =
        JobOptions { specs, selectors, selection, liveserver: None, stage: None, settings: Default::default() };
    let (_, selected) = job::plan(&options)?;
    let mut out = std::io::stdout().lock();
    // `ft list | head -1` closes the pipe early: that is not an error worth a panic.
    let _ = write_list(&mut out, &selected, &options.specs);
    Ok(exit::PASSED)
}

fn write_list(out: &mut impl Write, selected: &[spec::Scenario], source: &SpecSource) -> std::io::Result<()> {
    use crate::shared::terminal::escape_line;
    let width = selected.iter().map(|s| escape_line(&s.name).chars().count()).max().unwrap_or(0);
    for s in selected {
        let tags = if s.tags.is_empty() { String::new() } else { format!("[{}]", s.tags.join(", ")) };
        writeln!(out, "{:width$}  {:24}  {}", escape_line(&s.name), escape_line(&tags), s.location())?;
    }
    writeln!(out, "{} scenario{} from {source}", selected.len(), if selected.len() == 1 { "" } else { "s" })
}

/// `ft serve`: the reference app until SIGINT or SIGTERM.
pub async fn serve(addr: SocketAddr, config: superlists::Config) -> Result<u8, Error> {
    // Listen before announcing, so a signal sent as soon as the line is read is not lost.
    let mut signals = Signals::new().map_err(Error::Signals)?;
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

/// One line to stdout, flushed: a parent process may be waiting for it on a pipe.
fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// `ft deploy`: the gated release; the code from how it ended.
pub async fn deploy(options: DeployOptions) -> Result<u8, Error> {
    let signals = Signals::new().map_err(Error::Signals)?;
    let mut out = std::io::stdout();
    let (report, signal) = signals::counting(signals, |rx| gate::deploy(&options, &mut out, rx)).await;
    let headline = match report.outcome {
        DeployOutcome::Released | DeployOutcome::Planned => "OK",
        DeployOutcome::RolledBack => "ROLLED BACK",
        _ => "NOT RELEASED",
    };
    let reason = crate::shared::redact::redact_text(&report.reason);
    println!("{headline}: {}", crate::shared::terminal::escape_controls(&reason));
    Ok(signal.map(exit::for_signal).unwrap_or_else(|| exit::for_deploy(report.outcome)))
}

/// `ft gate`: may this commit go live, by the record a staging run left?
pub async fn gate(options: GateOptions) -> Result<u8, Error> {
    let decision = match gate::record_check::check(&options).await {
        // A signature that does not hold is a reason like a failed run: shut, exit 1.
        Err(GateError::Envelope(e)) if e.shuts_gate() => return Ok(gate_shut(&options.record, &[e.to_string()])),
        result => result?,
    };
    let mut out = std::io::stdout().lock();
    if decision.shut_because.is_empty() {
        let ft = &decision.record.predicate.ft;
        let _ = writeln!(
            out,
            "gate open: {} passed {} of {} scenarios against {} at {} (verdict {})",
            options.record.display(),
            ft.passed,
            ft.total,
            ft.target,
            ft.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
            ft.verdict
        );
        if let Some(key) = &options.verify_key {
            let _ = writeln!(out, "  signature verified: keyid {} ({})", key.keyid(), key.path().display());
        }
        Ok(exit::PASSED)
    } else {
        drop(out);
        Ok(gate_shut(&options.record, &decision.shut_because))
    }
}

fn gate_shut(record: &Path, reasons: &[String]) -> u8 {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "gate shut: {} does not allow a live deploy:", record.display());
    for why in reasons {
        let _ = writeln!(out, "  - {why}");
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

/// The folder ft runs in: the git work tree a deploy or gate is about.
pub fn here() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
