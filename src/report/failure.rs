//! How a failure reads for people: the same lines in the console and in JUnit.

use std::path::PathBuf;

use crate::runner::Failure;
use crate::shared::redact::redact_text;
use crate::shared::terminal::{escape_controls, escape_line};
use crate::spec::Scenario;

/// The lines under a failed scenario: where, what was expected, what was seen, evidence.
/// What a page, driver or browser said has its control characters shown escaped.
pub fn failure_lines(scenario: &Scenario, f: &Failure, files: Option<&Vec<PathBuf>>) -> Vec<String> {
    let mut lines = Vec::new();
    match &f.step {
        Some((line, col, what)) => lines.push(format!("at {}:{line}:{col}: {}", scenario.file, escape_line(what))),
        None => lines.push(format!("in {}", scenario.location())),
    }
    lines.push(escape_controls(&redact_text(&f.message)).into_owned());
    if let Some(seen) = &f.last_seen {
        lines.push(format!("last seen: {}", escape_controls(&redact_text(seen))));
    }
    if let Some(files) = files {
        let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        lines.push(format!("evidence: {}", shown.join(", ")));
    }
    lines
}
