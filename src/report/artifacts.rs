//! Evidence files of a failure: a screenshot and the page HTML, under
//! `artifacts/<spec file>/<scenario>/`.

use std::path::{Path, PathBuf};

use super::{write_atomic, ReportError};
use crate::runner::Outcome;
use crate::spec::Scenario;

/// Write the evidence a failed or errored attempt carries; returns the files written.
/// The first attempt's go in the scenario's folder, a retry's in `attempt-N/` inside it.
pub fn write(root: &Path, scenario: &Scenario, attempt: usize, outcome: &Outcome) -> Result<Vec<PathBuf>, ReportError> {
    let failure = match outcome {
        Outcome::Failed(f) | Outcome::Error(f) => f,
        _ => return Ok(Vec::new()),
    };
    let mut dir = root.join(slug(&scenario.group)).join(slug(&scenario.name));
    if attempt > 1 {
        dir = dir.join(format!("attempt-{attempt}"));
    }
    let mut files = Vec::new();
    if let Some(png) = &failure.evidence.screenshot {
        let path = dir.join("screenshot.png");
        write_atomic(&path, png)?;
        files.push(path);
    }
    if let Some(html) = &failure.evidence.html {
        let path = dir.join("page.html");
        write_atomic(&path, html.as_bytes())?;
        files.push(path);
    }
    Ok(files)
}

/// A file-name-safe form of a name: lower-case letters, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "scenario".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(super::slug("Cannot add duplicate items!"), "cannot-add-duplicate-items");
        assert_eq!(super::slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(super::slug("???"), "scenario");
    }
}
