//! Allure 2 results (`--allure DIR`): a `<uuid>-result.json` per scenario attempt with its
//! steps, status, labels and parameters; the evidence copied beside it as
//! `<uuid>-attachment.<ext>`; `environment.properties` and `executor.json` for the run.
//!
//! Allure reads the folder with `allure generate DIR`. The format is Allure's "allure2
//! results" (the one its own adapters write): what each field means, and what Allure does
//! with it, is pinned by `tests/it/allure.rs`, which reads real runs with the real
//! Allure command line. Two of its rules shape this module:
//! - retries: Allure groups every result with the same `historyId` into one test case,
//!   the latest shown, the others under "Retries". So each attempt is a result of its own,
//!   and the id is the scenario's (its spec file's name and its own name), never the
//!   target's or the run's: the embedded app's port changes every run, and trends across
//!   runs (`history/`) need the same id every time.
//! - statuses: `failed` is the app's fault (ft's Failed), `broken` ft's or the browser's
//!   (ft's Error, and a scenario cut short by an interrupt), `skipped` not run.
//!
//! Here the folder: cleared of an earlier run's results and written; the results are
//! made in `results`, the run's own files in `run`.
mod results;
mod run;
#[cfg(test)]
mod tests;

use std::path::Path;

use super::{write_atomic, Artifacts, ReportError, RunInfo};
use crate::runner::RunSummary;
use crate::spec::Scenario;
use results::results;
use run::{environment, executor};

/// The files of an Allure results folder that a run writes, so the next run clears them:
/// results, containers, attachments and the two run files. `history/` (copied in from
/// the last report, for trends) and `categories.json` (the user's) are kept.
fn is_results_file(name: &str) -> bool {
    name.ends_with("-result.json")
        || name.ends_with("-container.json")
        || name.contains("-attachment.")
        || name == "environment.properties"
        || name == "executor.json"
}

/// Clear an earlier run's results from `dir`, so they cannot pass for this run's (Allure
/// would show an earlier failure as this run's retry). Only files at its top.
pub fn clear(dir: &Path) -> Result<(), ReportError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReportError::Clear { path: dir.to_path_buf(), source }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && is_results_file(&name.to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(|source| ReportError::Clear { path: entry.path(), source })?;
        }
    }
    Ok(())
}

/// Write the run's results into `dir`: each result with its attachments, then the
/// environment and the executor. Returns how many results were written.
pub fn write(
    dir: &Path,
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    artifacts: &Artifacts,
) -> Result<usize, ReportError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let written = results(info, scenarios, summary, artifacts);
    for w in &written {
        for (from, name) in &w.copies {
            let to = dir.join(name);
            std::fs::copy(from, &to).map_err(err(&to))?;
        }
        let json = serde_json::to_vec_pretty(&w.result).unwrap_or_default();
        write_atomic(&dir.join(format!("{}-result.json", w.result.uuid)), &json)?;
    }
    let mut props = Vec::new();
    let _ = environment(&mut props, info, summary);
    write_atomic(&dir.join("environment.properties"), &props)?;
    let executor = executor(info, |name| std::env::var(name).ok());
    write_atomic(&dir.join("executor.json"), &serde_json::to_vec_pretty(&executor).unwrap_or_default())?;
    Ok(written.len())
}
