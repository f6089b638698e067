//! The HTML report (`reports/index.html`): one self-contained page for people, with the
//! verdict, a row per scenario, its steps, and each failed attempt's message and evidence
//! (screenshot, page, what the browser reported, and the filmstrip in step order).
//!
//! Self-contained so it works as a CI artifact and from `file://`: inline CSS and script,
//! a Content-Security-Policy that lets nothing load from elsewhere, and evidence linked by
//! paths relative to the page (never embedded: a page of base64 screenshots is unreadable
//! and huge). Every text that came from a spec, the app or the browser goes through `esc`.

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use super::artifacts::is_frame;
use super::failure::failure_lines;
use super::{Artifacts, RunInfo};
use crate::runner::{Outcome, RunSummary, ScenarioResult, StepLog};
use crate::shared::durations::secs;
use crate::shared::redact::redact_text;
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

/// Nothing but the page itself and its own evidence may load: no fonts, scripts or
/// trackers from elsewhere, even if a message quotes markup that slipped past escaping.
const CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { margin: 0 0 .3em; }
h1.green { color: #1a7f37; } h1.warn { color: #9a6700; } h1.red { color: #cf222e; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
section.scenario { border-top: 1px solid #ddd; padding: .4em 0; }
section.scenario h2 { font-size: 1em; margin: 0; font-weight: normal; }
.status { display: inline-block; min-width: 5.5em; font-weight: 700; }
.PASS .status { color: #1a7f37; } .FLAKY .status, .RETRY { color: #9a6700; }
.FAIL .status, .ERROR .status { color: #cf222e; } .SKIP .status, .NOT-RUN .status { color: #777; }
.time, .where { color: #666; margin-left: .6em; }
.attempt { margin: .3em 0 .3em 1.5em; }
.failure { background: #fff5f5; border-left: 3px solid #cf222e; padding: .3em .6em; }
.attempt.retry .failure { background: #fffbea; border-color: #d4a72c; }
.failure p { margin: .15em 0; white-space: pre-wrap; font-family: ui-monospace, monospace; }
.evidence img { max-width: 480px; border: 1px solid #ccc; display: block; margin: .3em 0; }
ol.filmstrip { display: flex; flex-wrap: wrap; gap: .6em; list-style: none; padding: 0; margin: .3em 0; }
ol.filmstrip img { max-width: 240px; } ol.filmstrip figure { margin: 0; }
ol.filmstrip figcaption { font: 12px ui-monospace, monospace; max-width: 240px; }
ol.signals { font-family: ui-monospace, monospace; margin: .2em 0; white-space: pre-wrap; }
ol.signals .console_error, ol.signals .exception, ol.signals .failed_request { color: #cf222e; }
.failure p.browser { color: #9a3412; }
ol.steps { font-family: ui-monospace, monospace; margin: .2em 0; }
ol.steps li.failed { color: #cf222e; }
"#;

/// Marks each screenshot once it has really loaded (`data-loaded="yes"`, or `"no"`), so
/// a broken evidence link shows, and ft's own test can check the page in a browser.
const SCRIPT: &str = r#"
for (const img of document.querySelectorAll('.evidence img')) {
  const mark = () => { img.dataset.loaded = img.naturalWidth > 0 ? 'yes' : 'no'; };
  if (img.complete) { mark(); } else { img.addEventListener('load', mark); img.addEventListener('error', mark); }
}
"#;

/// Text made safe for HTML content and for quoted attribute values: the one escape
/// every text in the page goes through.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page for a finished run. `dir` is the folder the page is written to: evidence is
/// linked relative to it.
pub fn html_report(
    info: &RunInfo,
    scenarios: &[Scenario],
    summary: &RunSummary,
    verdict: Verdict,
    flaky: FlakyPolicy,
    artifacts: &Artifacts,
    dir: &Path,
) -> String {
    let mut page = String::new();
    let headline = verdict.headline(flaky);
    let tone = match (verdict.is_green(flaky), verdict) {
        (true, Verdict::Green) => "green",
        (true, _) => "warn",
        (false, _) => "red",
    };
    // Writing to a String cannot fail: the fmt::Results are ignored on purpose.
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} – ft {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(CSP),
        esc(&headline),
        esc(&info.target),
    );
    let _ = writeln!(page, "<h1 id=\"verdict\" class=\"{tone}\">{}</h1>", esc(&headline));
    facts(&mut page, info, summary);
    let _ = writeln!(page, "<main id=\"scenarios\">");
    for (index, scenario) in scenarios.iter().enumerate() {
        let result = summary.results.iter().find(|r| r.index == index);
        scenario_section(&mut page, index, scenario, result, artifacts, dir);
    }
    let _ = write!(page, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n");
    page
}

/// The run at a glance: counts, target, commit, browser, when and how long.
fn facts(page: &mut String, info: &RunInfo, summary: &RunSummary) {
    let Counts { total, passed, flaky, failed, errors, not_run, skipped, .. } = Counts::of(summary);
    let mut counts = format!("{total} scenario{}: {passed} passed", if total == 1 { "" } else { "s" });
    if flaky > 0 {
        let _ = write!(counts, " ({flaky} flaky)");
    }
    let _ = write!(counts, ", {failed} failed, {errors} errors, {not_run} not run");
    if skipped > 0 {
        let _ = write!(counts, ", {skipped} skipped");
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
    let _ = writeln!(page, "<dl class=\"facts\">");
    for (name, value) in rows {
        let _ = writeln!(page, "<dt>{}</dt><dd id=\"fact-{}\">{}</dd>", esc(name), name.replace(' ', "-"), esc(&value));
    }
    let _ = writeln!(page, "</dl>");
}

/// The status word a scenario shows, as the console shows it.
fn status(result: Option<&ScenarioResult>) -> &'static str {
    match result {
        Some(r) if r.is_flaky() => "FLAKY",
        Some(r) => r.outcome.label(),
        // The runner reports every scenario it was given; if one is missing, it did not run.
        None => "NOT RUN",
    }
}

fn scenario_section(
    page: &mut String,
    index: usize,
    scenario: &Scenario,
    result: Option<&ScenarioResult>,
    artifacts: &Artifacts,
    dir: &Path,
) {
    let status = status(result);
    let _ = writeln!(
        page,
        "<section class=\"scenario {}\" id=\"scenario-{index}\" data-status=\"{}\">",
        status.replace(' ', "-"),
        esc(status)
    );
    let time = result.map(|r| secs(r.duration)).unwrap_or_default();
    let _ = writeln!(
        page,
        "<h2><span class=\"status\">{}</span> <span class=\"name\">{}</span><span class=\"time\">{}</span>\
         <span class=\"where\">{}</span></h2>",
        esc(status),
        esc(&scenario.name),
        esc(&time),
        esc(&scenario.location())
    );
    if let Some(r) = result {
        let total = r.earlier.len() + 1;
        for (i, earlier) in r.earlier.iter().enumerate() {
            let label = format!("attempt {} of {total}: {}", i + 1, earlier.outcome.label());
            let files = artifacts.get(&(r.index, i + 1));
            attempt(page, scenario, &label, true, &earlier.outcome, &earlier.log, files, dir);
        }
        let label =
            if total > 1 { format!("attempt {total} of {total}: {}", r.outcome.label()) } else { String::new() };
        attempt(page, scenario, &label, false, &r.outcome, &r.log, artifacts.get(&(r.index, total)), dir);
    }
    let _ = writeln!(page, "</section>");
}

/// One attempt: what went wrong (always shown), its evidence, and its steps (folded).
#[allow(clippy::too_many_arguments)] // each is a distinct part of the attempt; a struct would only rename them
fn attempt(
    page: &mut String,
    scenario: &Scenario,
    label: &str,
    retry: bool,
    outcome: &Outcome,
    log: &[StepLog],
    files: Option<&Vec<PathBuf>>,
    dir: &Path,
) {
    let _ = writeln!(page, "<div class=\"attempt{}\">", if retry { " retry" } else { "" });
    if !label.is_empty() {
        let _ =
            writeln!(page, "<div class=\"attempt-label{}\">{}</div>", if retry { " RETRY" } else { "" }, esc(label));
    }
    match outcome {
        Outcome::Failed(f) | Outcome::Error(f) => {
            let _ = writeln!(page, "<div class=\"failure\">");
            // The console's and JUnit's lines, without the evidence line: the page shows
            // the evidence itself. Redacted whole, as the console does, as the last guard.
            for (i, line) in failure_lines(scenario, f, None).iter().enumerate() {
                let class = match i {
                    0 => "step",
                    1 => "message",
                    _ if line.starts_with("browser: ") => "browser",
                    _ => "seen",
                };
                let _ = writeln!(page, "<p class=\"{class}\">{}</p>", esc(&redact_text(line)));
            }
            evidence(page, files, dir);
            signals(page, &f.evidence.signals);
            filmstrip(page, &f.evidence.filmstrip, files, dir);
            let _ = writeln!(page, "</div>");
        }
        Outcome::NotRun(why) | Outcome::Skipped(why) => {
            let _ = writeln!(page, "<p class=\"why\">{}</p>", esc(&redact_text(why)));
        }
        Outcome::Passed => {}
    }
    if !log.is_empty() {
        let _ = writeln!(page, "<details><summary>steps ({})</summary>\n<ol class=\"steps\">", log.len());
        for step in log {
            let _ = writeln!(
                page,
                "<li class=\"{}\">line {}: {} <span class=\"time\">{}</span></li>",
                if step.ok { "ok" } else { "failed" },
                step.line,
                esc(&redact_text(&step.description)),
                esc(&secs(step.took))
            );
        }
        let _ = writeln!(page, "</ol>\n</details>");
    }
    let _ = writeln!(page, "</div>");
}

/// Screenshots shown inline, other files (the page's HTML, the signals) linked; the
/// filmstrip's frames are shown by `filmstrip`.
fn evidence(page: &mut String, files: Option<&Vec<PathBuf>>, dir: &Path) {
    let Some(files) = files.filter(|f| f.iter().any(|p| !is_frame(p))) else { return };
    let _ = writeln!(page, "<div class=\"evidence\">");
    for file in files.iter().filter(|p| !is_frame(p)) {
        let href = esc(&link(file, dir));
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if file.extension().is_some_and(|e| e == "png") {
            let _ = writeln!(page, "<a href=\"{href}\"><img src=\"{href}\" alt=\"screenshot {}\"></a>", esc(&name));
        } else {
            let what = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "page HTML",
                Some("json") => "browser signals (JSON)",
                Some("txt") => "browser signals",
                _ => "file",
            };
            let _ = writeln!(page, "<a class=\"page\" href=\"{href}\">{what}: {}</a>", esc(&name));
        }
    }
    let _ = writeln!(page, "</div>");
}

/// The most signal entries the page lists (the rest are in the signals files): the page
/// must stay readable, and within the disk reserve held for it (`reserve::size_for`: 32
/// KiB a scenario; 25 entries are ~5 KiB, a frame's figure ~0.3 KiB).
const MAX_SIGNALS_SHOWN: usize = 25;

/// What the browser reported, an entry a line, folded under its summary.
fn signals(page: &mut String, signals: &crate::browser::Signals) {
    let Some(summary) = signals.summary() else { return };
    let _ = writeln!(
        page,
        "<details class=\"signals\"><summary>browser: {}</summary>\n<ol class=\"signals\">",
        esc(&redact_text(&summary))
    );
    for entry in signals.entries.iter().take(MAX_SIGNALS_SHOWN) {
        let kind = serde_json::to_value(entry.kind).ok().and_then(|v| v.as_str().map(str::to_string));
        let _ = writeln!(
            page,
            "<li class=\"{}\">{}</li>",
            esc(&kind.unwrap_or_default()),
            esc(&super::signals::entry_line(entry))
        );
    }
    let more = signals.entries.len().saturating_sub(MAX_SIGNALS_SHOWN) + signals.dropped;
    if more > 0 {
        let _ = writeln!(page, "<li class=\"more\">... and {more} more (see the signals files)</li>");
    }
    let _ = writeln!(page, "</ol>\n</details>");
}

/// The filmstrip, oldest frame first, each captioned with the step it followed. Frames
/// are matched to their files in order (`artifacts::write` writes them so); one whose
/// file was not written is left out.
fn filmstrip(page: &mut String, frames: &[crate::browser::Frame], files: Option<&Vec<PathBuf>>, dir: &Path) {
    let written: Vec<&PathBuf> = files.into_iter().flatten().filter(|p| is_frame(p)).collect();
    if written.is_empty() {
        return;
    }
    let _ = writeln!(page, "<div class=\"evidence filmstrip\">\n<ol class=\"filmstrip\">");
    for (i, file) in written.iter().enumerate() {
        let href = esc(&link(file, dir));
        let caption = match frames.get(i) {
            Some(frame) => format!("after line {}: {}", frame.line, redact_text(&frame.step)),
            None => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        let _ = writeln!(
            page,
            "<li><figure><a href=\"{href}\"><img src=\"{href}\" alt=\"frame {} {}\"></a>\
             <figcaption>{}</figcaption></figure></li>",
            i + 1,
            esc(&caption),
            esc(&caption)
        );
    }
    let _ = writeln!(page, "</ol>\n</div>");
}

/// A link to `file` from a page in `dir`: relative when the file is under it (as the
/// evidence always is), so the reports folder can be moved or served as a whole; an
/// absolute `file://` URL otherwise. Each segment is percent-encoded, so a name with
/// `#`, `?`, `%` or spaces still points at its file.
fn link(file: &Path, dir: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Ok(rel) = file.strip_prefix(dir) {
        return segments(rel);
    }
    let (file, dir) = (absolute(file), absolute(dir));
    match file.strip_prefix(&dir) {
        Ok(rel) => segments(rel),
        Err(_) => format!("file://{}", segments(&file)),
    }
}

fn segments(path: &Path) -> String {
    let mut out = String::new();
    for part in path.components() {
        match part {
            Component::RootDir => out.push('/'),
            Component::Normal(name) => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                for b in name.as_encoded_bytes() {
                    match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(*b)),
                        _ => {
                            let _ = write!(out, "%{b:02X}");
                        }
                    }
                }
            }
            // `.`, `..` and prefixes do not occur in the evidence paths ft makes; a
            // `..` kept as is still resolves the same way.
            Component::ParentDir => out.push_str(if out.is_empty() || out.ends_with('/') { "../" } else { "/../" }),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// One row of the merged page: a scenario, its status word, and where its shard's page
/// shows it (None: no shard ran it).
pub struct MergedRow {
    pub name: String,
    pub location: String,
    pub status: &'static str,
    pub shard: Option<(String, PathBuf, usize)>,
}

/// The page of a merged run (`ft merge`): the verdict and facts of the whole, and a row
/// per scenario linking to the section of the shard's own page (steps, evidence) that
/// shows it. `dir` is where the page is written; the shards' pages are linked relative
/// to it.
pub fn merged_report(record: &super::record::RunRecord, rows: &[MergedRow], dir: &Path) -> String {
    let ft = &record.predicate.ft;
    let flaky = FlakyPolicy::accept_if(ft.flaky_accepted);
    let headline = ft.verdict.headline(flaky);
    let tone = match (ft.verdict.is_green(flaky), ft.verdict) {
        (true, Verdict::Green) => "green",
        (true, _) => "warn",
        (false, _) => "red",
    };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} – ft {} (merged)</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(CSP),
        esc(&headline),
        esc(&ft.target),
    );
    let _ = writeln!(page, "<h1 id=\"verdict\" class=\"{tone}\">{}</h1>", esc(&headline));
    let shards = ft.merged.as_ref().map(|m| m.shards.len()).unwrap_or(0);
    let counts = format!(
        "{} scenario{}: {} passed{}, {} failed, {} errors, {} not run",
        ft.total,
        if ft.total == 1 { "" } else { "s" },
        ft.passed,
        if ft.flaky > 0 { format!(" ({} flaky)", ft.flaky) } else { String::new() },
        ft.failed,
        ft.errors,
        ft.not_run
    );
    let rows_facts = [
        ("counts", counts),
        ("shards", shards.to_string()),
        ("target", ft.target.clone()),
        ("specs", ft.specs.clone()),
        ("commit", ft.commit.clone().unwrap_or_else(|| "not in a git work tree".into())),
        ("browser", ft.browser.clone().unwrap_or_else(|| "none started".into())),
        ("started", ft.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("finished", ft.finished_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("ft", ft.ft_version.clone()),
    ];
    let _ = writeln!(page, "<dl class=\"facts\">");
    for (name, value) in rows_facts {
        let _ = writeln!(page, "<dt>{}</dt><dd id=\"fact-{name}\">{}</dd>", esc(name), esc(&redact_text(&value)));
    }
    let _ = writeln!(page, "</dl>\n<main id=\"scenarios\">");
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(
            page,
            "<section class=\"scenario {}\" id=\"scenario-{i}\" data-status=\"{}\"><h2><span class=\"status\">{}</span> {}<span class=\"where\">{}</span>",
            row.status.replace(' ', "-"),
            row.status,
            row.status,
            esc(&redact_text(&row.name)),
            esc(&row.location)
        );
        if let Some((shard, shard_dir, local)) = &row.shard {
            let href = format!("{}#scenario-{local}", relative_link(&shard_dir.join("index.html"), dir));
            let _ = write!(page, " <a class=\"time\" href=\"{}\">shard {} report</a>", esc(&href), esc(shard));
        }
        let _ = writeln!(page, "</h2></section>");
    }
    let _ = write!(page, "</main>\n</body>\n</html>\n");
    page
}

/// `file` as a link from a page in `dir`, with `..` where it is not below it.
fn relative_link(file: &Path, dir: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (file, dir) = (absolute(file), absolute(dir));
    let common = file.components().zip(dir.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for part in file.components().skip(common) {
        rel.push(part);
    }
    segments(&rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_makes_markup_and_quotes_plain_text() {
        assert_eq!(
            esc(r#"<b class="x">Tom & 'Jerry'</b>"#),
            "&lt;b class=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn evidence_links_are_relative_to_the_page_and_percent_encoded() {
        let dir = Path::new("reports");
        assert_eq!(
            link(Path::new("reports/artifacts/superlists/buy-milk/buy milk#1?.png"), dir),
            "artifacts/superlists/buy-milk/buy%20milk%231%3F.png"
        );
        assert_eq!(link(Path::new("reports/artifacts/s/élan.png"), dir), "artifacts/s/%C3%A9lan.png");
        let cwd = std::env::current_dir().expect("a cwd");
        assert_eq!(link(&cwd.join("reports/artifacts/a.png"), dir), "artifacts/a.png", "absolute file, relative dir");
        assert_eq!(link(Path::new("/elsewhere/a b.png"), dir), "file:///elsewhere/a%20b.png");
    }
}
