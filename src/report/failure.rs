//! How a failure reads for people: the same lines in the console and in JUnit.

use std::path::PathBuf;

use super::artifacts::is_frame;
use crate::runner::Failure;
use crate::shared::redact::redact_text;
use crate::shared::terminal::{escape_controls, escape_line};
use crate::spec::Scenario;

/// The lines under a failed scenario: where, what was expected, what was seen, what the
/// browser reported (its one-line summary), the evidence files and the filmstrip.
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
    if let Some(browser) = super::signals::summary_line(&f.evidence.signals) {
        lines.push(browser);
    }
    if let Some(files) = files {
        let (frames, others): (Vec<&PathBuf>, Vec<&PathBuf>) = files.iter().partition(|p| is_frame(p));
        if !others.is_empty() {
            let shown: Vec<String> = others.iter().map(|p| p.display().to_string()).collect();
            lines.push(format!("evidence: {}", shown.join(", ")));
        }
        // The frames by their first and last: their names say the rest.
        match frames.as_slice() {
            [] => {}
            [one] => lines.push(format!("filmstrip: {}", one.display())),
            [first, .., last] => lines.push(format!(
                "filmstrip: {} frames, {} ... {}",
                frames.len(),
                first.display(),
                last.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
            )),
        }
    }
    lines
}
