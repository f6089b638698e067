//! The HTML report (`reports/index.html`): one self-contained page for people. The
//! verdict and facts; the suite's pass rate and wall time over the last runs; a timeline
//! of the run (a lane per worker, a bar per attempt); then the scenarios, failures and
//! flakes first, filtered by status, tag and name, each with its recent history (a strip
//! of outcomes, a sparkline of times), its steps, and each failed attempt's message and
//! evidence (screenshot, page, what the browser reported, the filmstrip in step order),
//! every picture viewable at full size.
//!
//! Self-contained so it works as a CI artifact and from `file://`: one inline style and
//! one inline script, allowed by their sha256 in a Content-Security-Policy that lets
//! nothing else run or load from elsewhere (no `'unsafe-inline'`, so markup that slipped
//! past escaping could not run), and evidence linked by paths relative to the page
//! (never embedded: a page of base64 screenshots is unreadable and huge). Every text that
//! came from a spec, the app, the browser or the history goes through `esc`.
//!
//! Here the run's page and its parts; a failure's evidence (and the links to files) is
//! `evidence`, the merged run's page `merged`, the lanes `timeline`, the history `trend`,
//! the one escape they all ask `escape`.

mod escape;
mod evidence;
pub(super) mod merged;
mod timeline;
mod trend;

#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use super::failure::failure_lines;
use super::history::ScenarioRun;
use super::{Artifacts, RunInfo};
use crate::runner::{Outcome, RunSummary, ScenarioResult, ScenarioStatus, StepLog};
use crate::shared::durations::secs;
use crate::shared::redact::redact_text;
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub use escape::esc;
use evidence::{evidence, filmstrip, signals};
pub use timeline::ShardSpan;

/// The page's one stylesheet and one script, inlined whole.
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Nothing but the page itself and its own evidence may load or run: no fonts, scripts or
/// trackers from elsewhere, no inline script or style but the page's own (by hash), no
/// `<base>` to redirect its links, no form to send anything, even if a message quotes
/// markup that slipped past escaping.
fn csp() -> String {
    format!(
        "default-src 'none'; img-src 'self' data:; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'",
        sha256_source(STYLE),
        sha256_source(SCRIPT)
    )
}

/// A CSP hash source for an inline element whose text is exactly `text`.
fn sha256_source(text: &str) -> String {
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
}

/// A finished run, as the page shows it.
pub struct RunPage<'a> {
    pub info: &'a RunInfo,
    pub scenarios: &'a [Scenario],
    pub summary: &'a RunSummary,
    pub verdict: Verdict,
    pub flaky: FlakyPolicy,
    pub artifacts: &'a Artifacts,
    /// The folder the page is written to: evidence is linked relative to it.
    pub dir: &'a Path,
    /// The history's recent lines, oldest first, this run's included (`history::recent`).
    pub history: &'a [ScenarioRun],
}

/// The page for a finished run.
pub fn write_run(out: &mut impl Write, page: &RunPage) -> io::Result<()> {
    let RunPage { info, scenarios, summary, verdict, flaky, artifacts, dir, history } = *page;
    let headline = verdict.headline(flaky);
    head(out, &format!("{headline} – ft {}", info.target))?;
    writeln!(out, "<h1 id=\"verdict\" class=\"{}\">{}</h1>", tone(verdict, flaky), esc(&headline))?;
    facts(out, info, summary)?;
    let now = [info.started_at];
    trend::suite(out, history, &now)?;
    timeline::run(out, info, scenarios, summary)?;
    let results: std::collections::HashMap<usize, &ScenarioResult> =
        summary.results.iter().map(|r| (r.index, r)).collect();
    let rows: Vec<(usize, &'static str)> =
        (0..scenarios.len()).map(|index| (index, status(results.get(&index).copied()))).collect();
    let tags: std::collections::BTreeSet<&str> =
        scenarios.iter().flat_map(|s| s.tags.iter().map(String::as_str)).collect();
    filters(out, &rows, &tags.into_iter().collect::<Vec<_>>())?;
    let recent = trend::Recent::of(history);
    writeln!(out, "<main id=\"scenarios\">")?;
    for (index, status) in failures_first(&rows) {
        let scenario = &scenarios[index];
        let result = results.get(&index).copied();
        let runs = recent.of_scenario(&scenario.name, &scenario.file);
        scenario_section(out, index, status, scenario, result, runs, &now, artifacts, dir)?;
    }
    writeln!(out, "</main>")?;
    tail(out)
}

/// The page's head, up to the opening of its body.
fn head(out: &mut impl Write, title: &str) -> io::Result<()> {
    write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&csp()),
        esc(title),
    )
}

/// The full-size picture viewer, the script, and the end of the page.
fn tail(out: &mut impl Write) -> io::Result<()> {
    write!(
        out,
        "<dialog id=\"viewer\" aria-label=\"picture at full size\">\n<div class=\"bar\">\
         <button type=\"button\" id=\"viewer-prev\">&larr; previous</button>\
         <button type=\"button\" id=\"viewer-next\">next &rarr;</button>\
         <button type=\"button\" id=\"viewer-close\">close</button> <span id=\"viewer-size\"></span></div>\n\
         <figure><figcaption></figcaption></figure>\n</dialog>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

fn tone(verdict: Verdict, flaky: FlakyPolicy) -> &'static str {
    match (verdict.is_green(flaky), verdict) {
        (true, Verdict::Green) => "green",
        (true, _) => "warn",
        (false, _) => "red",
    }
}

/// The run at a glance: counts, target, commit, browser, when and how long.
fn facts(out: &mut impl Write, info: &RunInfo, summary: &RunSummary) -> io::Result<()> {
    let Counts { total, passed, flaky, failed, errors, not_run, skipped, .. } = Counts::of(summary);
    let mut counts = format!("{total} scenario{}: {passed} passed", if total == 1 { "" } else { "s" });
    if flaky > 0 {
        counts.push_str(&format!(" ({flaky} flaky)"));
    }
    counts.push_str(&format!(", {failed} failed, {errors} errors, {not_run} not run"));
    if skipped > 0 {
        counts.push_str(&format!(", {skipped} skipped"));
    }
    let browser = summary.browser.as_ref().map(|b| b.to_string()).unwrap_or_else(|| "none started".into());
    let mut rows = vec![
        ("counts", counts),
        ("target", info.target.clone()),
        ("specs", info.specs.clone()),
        ("commit", info.commit.clone().unwrap_or_else(|| "not in a git work tree".into())),
        ("browser", browser),
        ("started", info.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("wall time", secs(summary.wall)),
        ("ft", env!("CARGO_PKG_VERSION").to_string()),
    ];
    if let Some(stage) = &info.stage {
        rows.push(("stage", stage.clone()));
    }
    fact_list(out, &rows)
}

fn fact_list(out: &mut impl Write, rows: &[(&str, String)]) -> io::Result<()> {
    writeln!(out, "<dl class=\"facts\">")?;
    for (name, value) in rows {
        writeln!(out, "<dt>{}</dt><dd id=\"fact-{}\">{}</dd>", esc(name), name.replace(' ', "-"), esc(value))?;
    }
    writeln!(out, "</dl>")
}

/// The status word a scenario shows, as the console shows it.
fn status(result: Option<&ScenarioResult>) -> &'static str {
    // The runner reports every scenario it was given; if one is missing, it did not run.
    result.map_or(ScenarioStatus::NotRun, ScenarioStatus::of).label()
}

/// Where a status comes in the page, and what its filter is called: what needs a look
/// (failures, errors, flakes, what did not run) before what passed or was left out.
fn rank(status: &str) -> (u8, &'static str) {
    match ScenarioStatus::from_label(status) {
        Some(ScenarioStatus::Failed) => (0, "failed"),
        Some(ScenarioStatus::Error) => (1, "errors"),
        Some(ScenarioStatus::Flaky) => (2, "flaky"),
        Some(ScenarioStatus::NotRun) => (3, "not run"),
        Some(ScenarioStatus::Passed) => (4, "passed"),
        Some(ScenarioStatus::SkippedUnsafe) => (5, "skipped"),
        Some(ScenarioStatus::OtherShard) => (6, "other shard"),
        Some(ScenarioStatus::NotSelected) | None => (7, "not selected"),
    }
}

/// `rows` (index, status) failures and flakes first, then the rest; in spec order within each.
fn failures_first(rows: &[(usize, &'static str)]) -> Vec<(usize, &'static str)> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|(index, status)| (rank(status).0, *index));
    sorted
}

/// The filter bar: a status (with its count), a tag, words of the name. Hidden until the
/// script shows it: without the script it could do nothing.
fn filters(out: &mut impl Write, rows: &[(usize, &'static str)], tags: &[&str]) -> io::Result<()> {
    let mut statuses: Vec<(&str, usize)> = Vec::new();
    for (_, status) in failures_first(rows) {
        match statuses.last_mut() {
            Some((s, n)) if *s == status => *n += 1,
            _ => statuses.push((status, 1)),
        }
    }
    writeln!(out, "<div id=\"filters\" hidden>\n<fieldset><legend>show</legend>")?;
    writeln!(
        out,
        "<input type=\"radio\" name=\"status\" id=\"status-all\" value=\"\" checked><label for=\"status-all\">all ({})</label>",
        rows.len()
    )?;
    for (status, n) in statuses {
        let id = status.replace(' ', "-");
        writeln!(
            out,
            "<input type=\"radio\" name=\"status\" id=\"status-{id}\" value=\"{status}\"><label for=\"status-{id}\">{} ({n})</label>",
            rank(status).1
        )?;
    }
    writeln!(out, "</fieldset>")?;
    if !tags.is_empty() {
        write!(out, "<label>tag <select id=\"filter-tag\"><option value=\"\">any</option>")?;
        for tag in tags {
            write!(out, "<option>{}</option>", esc(tag))?;
        }
        writeln!(out, "</select></label>")?;
    }
    writeln!(
        out,
        "<label>name <input type=\"search\" id=\"filter-name\" placeholder=\"words of the name\" autocomplete=\"off\"></label>\n\
         <span id=\"filter-shown\" aria-live=\"polite\"></span>\n</div>"
    )
}

#[allow(clippy::too_many_arguments)] // each is a distinct part of the row; a struct would only rename them
fn scenario_section(
    out: &mut impl Write,
    index: usize,
    status: &str,
    scenario: &Scenario,
    result: Option<&ScenarioResult>,
    runs: &[&ScenarioRun],
    now: &[chrono::DateTime<chrono::Utc>],
    artifacts: &Artifacts,
    dir: &Path,
) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"scenario {}\" id=\"scenario-{index}\" data-status=\"{}\">",
        status.replace(' ', "-"),
        esc(status)
    )?;
    let time = result.map(|r| secs(r.duration)).unwrap_or_default();
    write!(
        out,
        "<h2><span class=\"status\">{}</span> <span class=\"name\">{}</span>",
        esc(status),
        esc(&scenario.name)
    )?;
    for tag in &scenario.tags {
        write!(out, "<span class=\"tag\">{}</span>", esc(tag))?;
    }
    write!(
        out,
        "<span class=\"time\">{}</span><span class=\"where\">{}</span>",
        esc(&time),
        esc(&scenario.location())
    )?;
    trend::scenario(out, runs, now)?;
    writeln!(out, "</h2>")?;
    if let Some(r) = result {
        let total = r.earlier.len() + 1;
        for (i, earlier) in r.earlier.iter().enumerate() {
            let label = format!("attempt {} of {total}: {}", i + 1, earlier.outcome.label());
            let files = artifacts.get(&(r.index, i + 1));
            attempt(out, scenario, &label, true, &earlier.outcome, &earlier.log, files, dir)?;
        }
        let label =
            if total > 1 { format!("attempt {total} of {total}: {}", r.outcome.label()) } else { String::new() };
        attempt(out, scenario, &label, false, &r.outcome, &r.log, artifacts.get(&(r.index, total)), dir)?;
    }
    writeln!(out, "</section>")
}

/// One attempt: what went wrong (always shown), its evidence, and its steps (folded).
#[allow(clippy::too_many_arguments)] // each is a distinct part of the attempt; a struct would only rename them
fn attempt(
    out: &mut impl Write,
    scenario: &Scenario,
    label: &str,
    retry: bool,
    outcome: &Outcome,
    log: &[StepLog],
    files: Option<&Vec<PathBuf>>,
    dir: &Path,
) -> io::Result<()> {
    writeln!(out, "<div class=\"attempt{}\">", if retry { " retry" } else { "" })?;
    if !label.is_empty() {
        writeln!(out, "<div class=\"attempt-label{}\">{}</div>", if retry { " RETRY" } else { "" }, esc(label))?;
    }
    match outcome {
        Outcome::Failed(f) | Outcome::Error(f) => {
            writeln!(out, "<div class=\"failure\">")?;
            // The console's and JUnit's lines, without the evidence line: the page shows
            // the evidence itself. Redacted whole, as the console does, as the last guard.
            for (i, line) in failure_lines(scenario, f, None).iter().enumerate() {
                let class = match i {
                    0 => "step",
                    1 => "message",
                    _ if line.starts_with("browser: ") => "browser",
                    _ => "seen",
                };
                writeln!(out, "<p class=\"{class}\">{}</p>", esc(&redact_text(line)))?;
            }
            evidence(out, files, dir)?;
            signals(out, &f.evidence.signals)?;
            filmstrip(out, &f.evidence.filmstrip, files, dir)?;
            writeln!(out, "</div>")?;
        }
        Outcome::NotRun(why) | Outcome::Skipped(why) => {
            writeln!(out, "<p class=\"why\">{}</p>", esc(&redact_text(why)))?;
        }
        Outcome::Passed => {}
    }
    if !log.is_empty() {
        writeln!(out, "<details><summary>steps ({})</summary>\n<ol class=\"steps\">", log.len())?;
        // A step expanded from a reusable step is shown under its call, one level per call.
        let mut open: Vec<&crate::spec::CallSite> = Vec::new();
        for step in log {
            let shared = open.iter().zip(&step.calls).take_while(|(a, b)| **a == *b).count();
            while open.len() > shared {
                open.pop();
                writeln!(out, "</ol></li>")?;
            }
            for call in &step.calls[shared..] {
                writeln!(
                    out,
                    "<li class=\"call\">line {}: {} <ol class=\"steps\">",
                    call.line,
                    esc(&redact_text(&call.to_string()))
                )?;
                open.push(call);
            }
            writeln!(
                out,
                "<li class=\"{}\">line {}: {} <span class=\"time\">{}</span></li>",
                if step.ok { "ok" } else { "failed" },
                step.line,
                esc(&redact_text(&step.description)),
                esc(&secs(step.took))
            )?;
        }
        for _ in open {
            writeln!(out, "</ol></li>")?;
        }
        writeln!(out, "</ol>\n</details>")?;
    }
    writeln!(out, "</div>")
}
