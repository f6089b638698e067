//! GitHub Actions: with `GITHUB_ACTIONS=true`, every failure is also an `::error`
//! annotation on its spec line, and a markdown summary of the run goes to the file named
//! by `GITHUB_STEP_SUMMARY`. Both are written to any `io::Write`, so tests read them back.

use std::io::Write;

use super::RunInfo;
use crate::runner::{Outcome, RunSummary};
use crate::shared::redact::redact_text;
use crate::shared::terminal::{escape_controls, escape_line};
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

/// Whether ft runs inside GitHub Actions.
pub fn active(var: impl Fn(&str) -> Option<String>) -> bool {
    var("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// One `::error` (failed, errored) or `::warning` (flaky) line per scenario that needs a look.
pub fn annotations(out: &mut impl Write, scenarios: &[Scenario], summary: &RunSummary) -> std::io::Result<()> {
    for r in &summary.results {
        let Some(scenario) = scenarios.get(r.index) else { continue };
        let quarantined = summary.quarantined.contains(&r.index);
        let (level, failure) = match &r.outcome {
            // Quarantined: a warning, as it does not fail the run.
            Outcome::Failed(f) | Outcome::Error(f) if quarantined => ("warning", Some(f)),
            Outcome::Failed(f) | Outcome::Error(f) => ("error", Some(f)),
            Outcome::Passed if r.is_flaky() => ("warning", None),
            _ => continue,
        };
        let line = failure.and_then(|f| f.step.as_ref().map(|(line, _, _)| *line)).unwrap_or(scenario.line);
        let message = match failure {
            Some(f) => {
                let step = f.step.as_ref().map(|(_, _, what)| format!("{what}: ")).unwrap_or_default();
                let seen = f.last_seen.as_ref().map(|s| format!("\nlast seen: {s}")).unwrap_or_default();
                let browser = super::signals::summary_line(&f.evidence.signals);
                let browser = browser.map(|b| format!("\n{b}")).unwrap_or_default();
                format!("{step}{}{seen}{browser}", f.message)
            }
            None => format!("passed only on attempt {} (flaky)", r.earlier.len() + 1),
        };
        let title = format!("{} {}", r.outcome.label(), escape_line(&scenario.name));
        writeln!(
            out,
            "::{level} file={},line={line},title={}::{}",
            property(&scenario.file),
            property(&title),
            data(&escape_controls(&redact_text(&message)))
        )?;
    }
    Ok(())
}

/// The run as markdown: the verdict, the counts, and a line per scenario that did not pass.
pub fn step_summary(
    out: &mut impl Write,
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    verdict: Verdict,
    flaky: FlakyPolicy,
) -> std::io::Result<()> {
    let c = Counts::of(summary);
    let headline = if verdict.is_green(flaky) { "✅ OK" } else { "❌ NOT OK" };
    writeln!(out, "### ft: {headline} ({verdict})\n")?;
    writeln!(
        out,
        "Against `{}`{}\n",
        md(&info.target),
        info.commit.as_ref().map(|c| format!(" at `{}`", crate::shared::text::short_hash(c))).unwrap_or_default()
    )?;
    writeln!(out, "| scenarios | passed | flaky | failed | errors | not run | skipped |")?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |")?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        c.total, c.passed, c.flaky, c.failed, c.errors, c.not_run, c.skipped
    )?;
    for r in &summary.results {
        let Some(scenario) = scenarios.get(r.index) else { continue };
        let detail = match &r.outcome {
            Outcome::Failed(f) | Outcome::Error(f) => match super::signals::summary_line(&f.evidence.signals) {
                Some(browser) => format!("{} ({browser})", redact_text(&f.message)),
                None => redact_text(&f.message),
            },
            Outcome::NotRun(why) => why.clone(),
            Outcome::Passed if r.is_flaky() => format!("passed on attempt {}", r.earlier.len() + 1),
            _ => continue,
        };
        writeln!(
            out,
            "- **{}** {} (`{}`): {}",
            r.outcome.label(),
            md(&scenario.name),
            scenario.location(),
            md(&detail)
        )?;
    }
    Ok(())
}

/// A workflow command's message: `%`, CR and LF escaped as GitHub reads them back.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Text in markdown: no line breaks, no control characters, and the characters that would
/// start markup escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_controls(text).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_what_github_reads_as_syntax() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(md("a|b *c*\nd"), "a\\|b \\*c\\* d");
    }

    #[test]
    fn only_the_value_true_means_github_actions() {
        assert!(active(|_| Some("true".into())));
        assert!(!active(|_| Some("false".into())));
        assert!(!active(|_| None));
    }
}
