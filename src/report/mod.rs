//! Reporters: they consume the runner's events and write the console, the evidence
//! files, JUnit XML, the run record, the HTML page and Allure results. They never run
//! anything.

mod allure;
mod artifacts;
mod console;
mod failure;
mod github;
mod history;
mod html;
pub mod jsonl;
mod junit;
mod lock;
mod merge;
pub mod record;
mod reserve;
mod signals;
mod stream;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use artifacts::slug;
pub use console::Console;
pub use lock::{flock, RunLock};

/// Evidence files by (scenario index, 1-based attempt number).
pub type Artifacts = HashMap<(usize, usize), Vec<PathBuf>>;
pub use junit::junit_report;

use crate::runner::{RunEvent, RunSummary};
use crate::spec::Scenario;
use crate::verdict::{FlakyPolicy, Verdict};
use crate::wait::Patience;

/// Facts about a run that every report shows.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// How the target's certificates were trusted (`--insecure-certs`, `--ca-cert`).
    pub trust: record::TrustRecord,
    /// The target as shown to people (credentials redacted).
    pub target: String,
    pub specs: String,
    pub spec_digest: String,
    pub workers: usize,
    pub fresh_session: bool,
    pub patience: Patience,
    pub started_at: DateTime<Utc>,
    /// HEAD when run inside a git work tree.
    pub commit: Option<String>,
    /// The pipeline stage (`staging`, `live`) when run by `ft deploy`.
    pub stage: Option<String>,
    /// The target's URL without user info or secrets (what `ft gate --target` compares).
    pub target_url: String,
    /// No target was given: ft tested its own embedded app.
    pub embedded_target: bool,
    /// Each spec file and the sha256 of its bytes.
    pub spec_files: Vec<(String, String)>,
    pub overrides: crate::spec::SelectorOverrides,
    /// Scenarios of the spec set left out by --filter / --tag: (name, file:line).
    pub not_selected: Vec<(String, String)>,
    /// `--shard I/N`: this run is one part of the selection.
    pub shard: Option<crate::shard::Shard>,
    /// `--shard`: the split's sha256 and how it was made ("durations", "spec order").
    pub shard_split: Option<(String, &'static str)>,
    /// Selected scenarios another shard runs: (name, file:line).
    pub other_shards: Vec<(String, String)>,
    /// Tracked files with uncommitted changes (None outside a git work tree).
    pub dirty_paths: Option<Vec<String>>,
    /// The CI job running ft, when known.
    pub ci_url: Option<String>,
    /// Lines the run header adds (the `before_all` hooks run or not run and why; warnings).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to write {}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "failed to lock {}: another ft run{} is using this reports folder\n  hint: wait for it to finish, or give this run its own folder with --reports",
        path.display(),
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error("failed to lock {}", path.display())]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("failed to clear {}", path.display())]
    Clear { path: PathBuf, source: std::io::Error },
    #[error(
        "failed to clear {}: ft did not make it (it holds no {} marker), so ft will not delete it\n  hint: choose another --reports folder (or remove it yourself if it only holds an older ft's evidence)",
        path.display(),
        artifacts::MARKER
    )]
    Foreign { path: PathBuf },
}

pub use crate::settings::ReportPaths;
pub use history::{last_durations, read as read_history, History, HISTORY_FILE};
pub use merge::{merge, MergeError};
pub use stream::EventStream;

impl ReportPaths {
    pub fn artifacts(&self) -> PathBuf {
        self.dir.join("artifacts")
    }

    /// The signed record (a DSSE envelope), beside the record: `run.intoto.json`.
    pub fn envelope(&self) -> PathBuf {
        crate::sign::envelope_path(&self.record)
    }

    /// Make sure every file can be written before any browser starts: an unwritable
    /// folder is a usage problem found in milliseconds, not after the run.
    pub fn check_writable(&self) -> Result<(), ReportError> {
        let folders = [Some(self.dir.as_path()), self.junit.parent(), self.record.parent(), self.allure.as_deref()];
        for dir in folders.into_iter().flatten() {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
            let probe = dir.join(format!(".ft-write-check-{}", std::process::id()));
            std::fs::write(&probe, b"").map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
            let _ = std::fs::remove_file(&probe);
        }
        Ok(())
    }
}

/// Make the reports folder this run's, before anything can fail: take its lock (held
/// until the returned guard drops), then remove an earlier run's JUnit, record and
/// envelope, and its evidence (only if ft made that folder). A run that stops before any
/// scenario then leaves no record at all, never an older one that looks like its own.
pub fn prepare(paths: &ReportPaths) -> Result<RunLock, ReportError> {
    let lock = RunLock::acquire(&paths.dir)?;
    clear(paths)?;
    Ok(lock)
}

/// `prepare` for a folder whose lock the caller already holds (`lock`, taken on
/// `paths.dir`): `ft deploy` holds its stages' folders for the whole pipeline, so that no
/// other run can take one between two of its stages.
pub fn prepare_held(paths: &ReportPaths, lock: &RunLock) -> Result<(), ReportError> {
    if !lock.holds(&paths.dir) {
        // A lock of another folder protects nothing here: take this one's as usual.
        return Err(ReportError::Lock {
            path: paths.dir.join(lock::LOCK_FILE),
            source: std::io::Error::other(format!("the lock held is {}", lock.path().display())),
        });
    }
    clear(paths)
}

/// Remove an earlier run's JUnit, record, envelope, page and evidence from a folder
/// whose lock is held.
fn clear(paths: &ReportPaths) -> Result<(), ReportError> {
    for file in [&paths.junit, &paths.record, &paths.envelope(), &paths.html()] {
        match std::fs::remove_file(file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ReportError::Clear { path: file.clone(), source }),
        }
    }
    artifacts::clear(&paths.artifacts())?;
    if let Some(dir) = &paths.allure {
        allure::clear(dir)?;
    }
    Ok(())
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename,
/// so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Write { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    // Reports are read by CI servers, often as another user: 0644, not tempfile's 0600.
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ft-tmp-")
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// All reporters of one run, fed event by event.
pub struct Reports {
    pub paths: ReportPaths,
    pub console: Console,
    info: RunInfo,
    artifacts: Artifacts,
    /// Each scenario's evidence folder and file stem, by index.
    places: Vec<artifacts::Place>,
    scenarios: Vec<Scenario>,
    sign_key: Option<crate::sign::SignKey>,
    /// Disk space held for the files `finish` writes (evidence may fill the disk first).
    reserve: reserve::Reserve,
    /// `--message-format json`: every event as a JSON line.
    stream: Option<EventStream>,
}

impl Reports {
    /// The folder was made this run's by `prepare`: nothing earlier is left to pass for ours.
    pub fn new(paths: ReportPaths, console: Console, info: RunInfo, scenarios: Vec<Scenario>) -> Reports {
        let places = artifacts::places(&scenarios);
        let html = paths.html();
        let reserve = reserve::Reserve::hold(&[&paths.record, &paths.junit, &html], reserve::size_for(scenarios.len()));
        Reports {
            paths,
            console,
            info,
            artifacts: HashMap::new(),
            places,
            scenarios,
            sign_key: None,
            reserve,
            stream: None,
        }
    }

    /// Also write the record signed with `key`, in a DSSE envelope (`ReportPaths::envelope`).
    pub fn sign_with(&mut self, key: Option<crate::sign::SignKey>) {
        self.sign_key = key;
    }

    /// Also write every event as a JSON line to `stream` (`--message-format json`).
    pub fn stream_to(&mut self, stream: EventStream) {
        self.stream = Some(stream);
    }

    pub fn start(&mut self) {
        if let Some(stream) = &mut self.stream {
            stream.run_started(&self.info, &self.scenarios);
        }
        self.console.header(&self.info, self.scenarios.len());
    }

    pub fn event(&mut self, event: &RunEvent) {
        // Evidence is written as soon as it arrives, so a later crash cannot lose it.
        let attempt = match event {
            RunEvent::AttemptFailed { index, number, attempt, .. } => Some((*index, *number, &attempt.outcome)),
            RunEvent::ScenarioFinished(r) => Some((r.index, r.earlier.len() + 1, &r.outcome)),
            _ => None,
        };
        if let Some((index, number, outcome)) = attempt {
            if let Some(place) = self.places.get(index) {
                // A failed evidence write is a warning: it never changes the verdict or the exit code.
                match artifacts::write(&self.paths.artifacts(), place, number, outcome) {
                    Ok(files) if !files.is_empty() => {
                        self.artifacts.insert((index, number), files);
                    }
                    Ok(_) => {}
                    Err(err) => {
                        let cause = std::error::Error::source(&err).map(|c| format!(": {c}")).unwrap_or_default();
                        self.console.warn(&format!("{err}{cause}; the failure's evidence is incomplete"))
                    }
                }
            }
        }
        if let Some(stream) = &mut self.stream {
            stream.event(event, &self.scenarios, &self.artifacts);
        }
        self.console.event(event, &self.scenarios, &self.artifacts);
    }

    /// GitHub Actions: annotations through the console, the markdown summary appended to
    /// `$GITHUB_STEP_SUMMARY`. Best effort: a CI nicety must not fail the run.
    fn github(&mut self, summary: &RunSummary, verdict: Verdict, flaky: FlakyPolicy) {
        let mut lines = Vec::new();
        let _ = github::annotations(&mut lines, &self.scenarios, summary);
        for line in String::from_utf8_lossy(&lines).lines() {
            self.console.line(line);
        }
        let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else { return };
        let mut text = Vec::new();
        let _ = github::step_summary(&mut text, &self.info, &self.scenarios, summary, verdict, flaky);
        let appended =
            std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut f| f.write_all(&text));
        if let Err(e) = appended {
            self.console
                .warn(&format!("failed to write the GitHub step summary {}: {e}", PathBuf::from(&path).display()));
        }
    }

    /// Write JUnit and the run record, then print the summary.
    ///
    /// A file that cannot be written (a full disk, a folder gone read-only) is a warning
    /// with the OS error: the others are still tried, the summary still printed, and the
    /// exit code still says what happened to the scenarios. Returns whether all were written.
    pub fn finish(&mut self, summary: &RunSummary, verdict: Verdict, flaky: FlakyPolicy) -> bool {
        let finished_at = Utc::now();
        self.reserve.release();
        let mut failed = Vec::new();
        let mut written = Vec::new();
        // The record first: it is small and it is what `ft gate` reads.
        let rec = record::RunRecord::new(&self.info, &self.scenarios, summary, verdict, flaky, finished_at);
        let json = serde_json::to_vec_pretty(&rec).unwrap_or_default();
        let record_written = write_atomic(&self.paths.record, &json).map_err(|e| failed.push(e)).is_ok();
        if record_written {
            written.push(self.paths.record.clone());
        }
        // The envelope carries these very bytes: what is signed is what run.json says.
        if let (Some(key), true) = (&self.sign_key, record_written) {
            if let Err(e) = write_atomic(&self.paths.envelope(), &crate::sign::seal(&json, key)) {
                failed.push(e);
            }
        }
        let report = junit_report(&self.info, &self.scenarios, summary, verdict, flaky, &self.artifacts);
        match write_atomic(&self.paths.junit, report.to_xml().as_bytes()) {
            Ok(()) => written.insert(0, self.paths.junit.clone()),
            Err(e) => failed.push(e),
        }
        // The scenarios' history across runs (`ft flakes`): appended, never rewritten.
        let history_path = self.paths.dir.join(history::HISTORY_FILE);
        let this_run = history::lines(&self.info, &self.scenarios, summary);
        if let Err(e) = history::append(&history_path, &this_run) {
            failed.push(e);
        }
        for e in &failed {
            let cause = std::error::Error::source(e).map(|c| format!(": {c}")).unwrap_or_default();
            self.console.warn(&format!("{e}{cause}"));
        }
        // The page is for people: failing to write it is a warning, never a verdict or an exit code.
        // Its history: the earlier runs as the file has them, and this run as it was (even
        // if appending it failed).
        let mut recent = history::recent(&history_path);
        recent.retain(|r| r.run_started_at != self.info.started_at);
        recent.extend(this_run);
        let mut page = Vec::new();
        let _ = html::write_run(
            &mut page,
            &html::RunPage {
                info: &self.info,
                scenarios: &self.scenarios,
                summary,
                verdict,
                flaky,
                artifacts: &self.artifacts,
                dir: &self.paths.dir,
                history: &recent,
            },
        );
        match write_atomic(&self.paths.html(), &page) {
            Ok(()) => written.push(self.paths.html()),
            Err(err) => self.console.warn(&format!("{err}; no HTML report this run")),
        }
        // Allure is for people too: a warning, like the page.
        if let Some(dir) = &self.paths.allure {
            match allure::write(dir, &self.info, &self.scenarios, summary, &self.artifacts) {
                Ok(_) => written.push(dir.clone()),
                Err(err) => {
                    let cause = std::error::Error::source(&err).map(|c| format!(": {c}")).unwrap_or_default();
                    self.console.warn(&format!("{err}{cause}; the Allure results are incomplete"))
                }
            }
        }
        self.console.summary(summary, verdict, flaky, &written);
        if let Some(stream) = &mut self.stream {
            stream.run_finished(summary, verdict, flaky, &written);
        }
        if github::active(|name| std::env::var(name).ok()) {
            self.github(summary, verdict, flaky);
        }
        if let Some(key) = &self.sign_key {
            self.console.line(&format!("signed: {} (keyid {})", self.paths.envelope().display(), key.keyid()));
        }
        failed.is_empty()
    }
}

#[cfg(test)]
mod tests;
