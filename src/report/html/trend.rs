//! Recent history, from `history.jsonl`: per scenario a strip of its last outcomes and a
//! sparkline of its times; for the suite, its pass rate and wall time over the last runs.
//! The history is hostile input like any other: its outcome words are matched against the
//! known ones (never written out as read), its times kept finite and non-negative.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::report::history::ScenarioRun;
use crate::runner::ScenarioStatus;
use crate::shared::durations::secs;

/// The most outcomes a scenario's strip shows.
pub const STRIP: usize = 20;
/// The most runs the suite's trend shows.
pub const RUNS: usize = 30;

/// Each scenario's last `STRIP` lines, oldest first, by (name, spec file).
pub struct Recent<'a> {
    /// By name, then by file.
    by: HashMap<&'a str, HashMap<&'a str, Vec<&'a ScenarioRun>>>,
}

impl<'a> Recent<'a> {
    /// `history` oldest first (as `history::recent` gives it).
    pub fn of(history: &'a [ScenarioRun]) -> Recent<'a> {
        let mut by: HashMap<&str, HashMap<&str, Vec<&ScenarioRun>>> = HashMap::new();
        for run in history {
            by.entry(run.scenario.as_str()).or_default().entry(run.file.as_str()).or_default().push(run);
        }
        for runs in by.values_mut().flat_map(|files| files.values_mut()) {
            let extra = runs.len().saturating_sub(STRIP);
            runs.drain(..extra);
        }
        Recent { by }
    }

    pub fn of_scenario(&self, name: &str, file: &str) -> &[&'a ScenarioRun] {
        self.by.get(name).and_then(|files| files.get(file)).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// An outcome word of the history as the page names it (and its CSS class).
fn outcome(word: &str) -> &'static str {
    match ScenarioStatus::from_word(word) {
        Some(ScenarioStatus::Passed) => "passed",
        Some(ScenarioStatus::Flaky) => "flaky",
        Some(ScenarioStatus::Failed) => "failed",
        Some(ScenarioStatus::Error) => "error",
        Some(ScenarioStatus::NotRun) => "not-run",
        Some(ScenarioStatus::SkippedUnsafe) => "skipped",
        Some(ScenarioStatus::NotSelected | ScenarioStatus::OtherShard) | None => "unknown",
    }
}

/// A time from the history, or none if it is no time at all.
fn seconds(run: &ScenarioRun) -> Option<f64> {
    Some(run.seconds).filter(|s| s.is_finite() && *s >= 0.0)
}

fn secs_f(s: f64) -> String {
    secs(std::time::Duration::try_from_secs_f64(s).unwrap_or_default())
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A scenario's recent history in its row: a cell per run, oldest first (this run's
/// outlined), and a sparkline of its times. Nothing when this run is all there is.
/// Only the cells that did not pass say when and how (on hover): a thousand scenarios'
/// twenty passes each would otherwise weigh a megabyte.
pub fn scenario(out: &mut impl Write, runs: &[&ScenarioRun], now: &[DateTime<Utc>]) -> io::Result<()> {
    if runs.len() < 2 {
        return Ok(());
    }
    let count = |word: &str| runs.iter().filter(|r| outcome(&r.outcome) == word).count();
    let mut tally = format!("{} passed", count("passed"));
    for word in ["flaky", "failed", "error", "not-run", "skipped", "unknown"] {
        let n = count(word);
        if n > 0 {
            tally.push_str(&format!(", {n} {}", word.replace('-', " ")));
        }
    }
    write!(
        out,
        "<span class=\"history\"><ol class=\"strip\" title=\"the last {} runs, oldest first: {tally}\">",
        runs.len()
    )?;
    for run in runs {
        let word = outcome(&run.outcome);
        let this = now.contains(&run.run_started_at);
        write!(out, "<li class=\"{word}{}\"", if this { " now" } else { "" })?;
        if word != "passed" || this {
            let attempts =
                if run.attempts > 1 { format!(" ({} attempts)", run.attempts.min(999)) } else { String::new() };
            write!(
                out,
                " title=\"{}: {word}{attempts}, {}{}\"",
                when(run.run_started_at),
                seconds(run).map(secs_f).unwrap_or_else(|| "?".into()),
                if this { " (this run)" } else { "" }
            )?;
        }
        write!(out, "></li>")?;
    }
    write!(out, "</ol>")?;
    // The times of the runs that ran it, each above its cell.
    let times: Vec<(usize, f64)> = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(outcome(&r.outcome), "passed" | "flaky" | "failed" | "error"))
        .filter_map(|(i, r)| Some((i, seconds(r)?)))
        .collect();
    if times.len() >= 2 {
        let (lo, hi) = times.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), (_, t)| (lo.min(*t), hi.max(*t)));
        let top = if hi > 0.0 { hi } else { 1.0 };
        let points: Vec<String> = times.iter().map(|(i, t)| format!("{i},{:.0}", 20.0 - t / top * 18.0)).collect();
        let last = times.last().map(|(_, t)| secs_f(*t)).unwrap_or_default();
        write!(
            out,
            "<svg class=\"spark\" viewBox=\"0 0 {} 20\" preserveAspectRatio=\"none\" role=\"img\"><title>times: {} to {}, the last {last}</title>\
             <polyline points=\"{}\"/></svg>",
            runs.len() - 1,
            secs_f(lo),
            secs_f(hi),
            points.join(" ")
        )?;
    }
    write!(out, "</span>")
}

/// One run of the suite as the history has it.
#[derive(Default)]
struct SuiteRun {
    judged: usize,
    passed: usize,
    wall: Option<f64>,
}

/// The suite over its last runs: a bar per run as tall as its pass rate, a line of its
/// wall times, and the figures in words.
pub fn suite(out: &mut impl Write, history: &[ScenarioRun], now: &[DateTime<Utc>]) -> io::Result<()> {
    let mut by_run: BTreeMap<DateTime<Utc>, SuiteRun> = BTreeMap::new();
    for line in history {
        let run = by_run.entry(line.run_started_at).or_default();
        match outcome(&line.outcome) {
            "passed" | "flaky" => (run.judged, run.passed) = (run.judged + 1, run.passed + 1),
            "failed" | "error" => run.judged += 1,
            _ => {}
        }
        run.wall = run.wall.or(line.run_seconds.filter(|s| s.is_finite() && *s >= 0.0));
    }
    let runs: Vec<(DateTime<Utc>, SuiteRun)> = {
        let all: Vec<_> = by_run.into_iter().filter(|(_, r)| r.judged > 0).collect();
        let skip = all.len().saturating_sub(RUNS);
        all.into_iter().skip(skip).collect()
    };
    writeln!(out, "<section id=\"trend\">\n<h2 class=\"part\">Last runs</h2>")?;
    if runs.len() < 2 {
        return writeln!(
            out,
            "<p class=\"note\">No earlier runs in history.jsonl: the pass rate and wall time over the last runs \
             show from the next run on.</p>\n</section>"
        );
    }
    let n = runs.len() as f64;
    let (left, plot, top, tall) = (44.0, 940.0, 16.0, 76.0);
    let slot = plot / n;
    let width = (slot * 0.7).min(30.0);
    let max_wall = runs.iter().filter_map(|(_, r)| r.wall).fold(0.0, f64::max);
    let rate = |r: &SuiteRun| r.passed as f64 / r.judged as f64;
    writeln!(
        out,
        "<svg class=\"chart trend\" viewBox=\"0 0 1000 110\" role=\"img\" aria-label=\"pass rate and wall time of the last {} runs\">\
         <line class=\"grid\" x1=\"{left}\" y1=\"{top}\" x2=\"{}\" y2=\"{top}\"/><line class=\"grid\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\
         <text x=\"2\" y=\"{}\">100%</text><text x=\"2\" y=\"{}\">0%</text>",
        runs.len(),
        left + plot,
        top + tall,
        left + plot,
        top + tall,
        top + 4.0,
        top + tall
    )?;
    let mut line = Vec::new();
    for (i, (at, run)) in runs.iter().enumerate() {
        let centre = left + slot * (i as f64 + 0.5);
        let h = (rate(run) * tall).max(1.0);
        let wall = run.wall.map(|w| format!(", wall time {}", secs_f(w))).unwrap_or_default();
        writeln!(
            out,
            "<rect class=\"rate{}{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{h:.1}\"><title>{}{}: {} of {} passed ({:.0}%){wall}</title></rect>",
            if run.passed < run.judged { " short" } else { "" },
            if now.contains(at) { " now" } else { "" },
            centre - width / 2.0,
            top + tall - h,
            when(*at),
            if now.contains(at) { " (this run)" } else { "" },
            run.passed,
            run.judged,
            rate(run) * 100.0
        )?;
        if let (Some(w), true) = (run.wall, max_wall > 0.0) {
            line.push(format!("{centre:.1},{:.1}", top + tall - w / max_wall * tall));
        }
    }
    if line.len() >= 2 {
        writeln!(
            out,
            "<polyline class=\"wall\" points=\"{}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"wall-label\">\
             wall time (line), the top {}</text>",
            line.join(" "),
            left + plot,
            top - 5.0,
            secs_f(max_wall)
        )?;
    }
    let (first, last) = (runs[0].0, runs[runs.len() - 1].0);
    writeln!(
        out,
        "<text x=\"{left}\" y=\"104\">{}</text><text x=\"{}\" y=\"104\" text-anchor=\"end\">{}</text>\n</svg>",
        when(first),
        left + plot,
        when(last)
    )?;
    let mut rates: Vec<f64> = runs.iter().map(|(_, r)| rate(r)).collect();
    rates.sort_by(f64::total_cmp);
    let mut walls: Vec<f64> = runs.iter().filter_map(|(_, r)| r.wall).collect();
    walls.sort_by(f64::total_cmp);
    let this = runs.iter().rev().find(|(at, _)| now.contains(at));
    let this = match this {
        Some((_, r)) => format!(
            "This run: {:.0}% passed ({} of {}){}. ",
            rate(r) * 100.0,
            r.passed,
            r.judged,
            r.wall.map(|w| format!(", wall time {}", secs_f(w))).unwrap_or_default()
        ),
        None => String::new(),
    };
    let wall = walls.get(walls.len() / 2).map(|w| format!(", median wall time {}", secs_f(*w))).unwrap_or_default();
    writeln!(
        out,
        "<p class=\"note\" id=\"trend-figures\">{this}The last {} runs: median pass rate {:.0}%{wall} \
         (bars: the share of scenarios that passed, flaky ones included; line: wall time).</p>\n</section>",
        runs.len(),
        rates[rates.len() / 2] * 100.0
    )
}
