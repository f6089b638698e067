//! How a failure reads for people: the same lines in the console and in JUnit.

use std::path::PathBuf;

use crate::runner::Failure;
use crate::shared::redact::redact_text;
use crate::spec::Scenario;

/// The lines under a failed scenario: where, what was expected, what was seen, evidence.
pub fn failure_lines(scenario: &Scenario, f: &Failure, files: Option<&Vec<PathBuf>>) -> Vec<String> {
    let mut lines = Vec::new();
    match &f.step {
        Some((line, col, what)) => lines.push(format!("at {}:{line}:{col}: {what}", scenario.file)),
        None => lines.push(format!("in {}", scenario.location())),
    }
    lines.push(redact_text(&f.message));
    if let Some(seen) = &f.last_seen {
        lines.push(format!("last seen: {}", redact_text(seen)));
    }
    if let Some(files) = files {
        let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        lines.push(format!("evidence: {}", shown.join(", ")));
    }
    lines
}
