//! The run's timeline: a lane per worker, a bar per attempt from its start for as long as
//! it took, coloured by outcome, so parallelism, retries and slow scenarios show at a
//! glance. Inline SVG: no library, nothing to load, and it scales with the page.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use super::escape::esc;
use crate::report::RunInfo;
use crate::runner::{Outcome, RunSummary};
use crate::shared::durations::secs;
use crate::spec::Scenario;

/// The drawing's width in SVG units; it is scaled to the page's.
const WIDTH: f64 = 1000.0;
/// The lane labels' column.
const LABELS: f64 = 76.0;
const LANE: f64 = 16.0;
const GAP: f64 = 4.0;
const AXIS: f64 = 16.0;
/// The narrowest bar drawn: a quick attempt must still show, and be clicked.
const MIN_BAR: f64 = 2.0;

/// A shard's run, for the merged page's lanes (its record holds no attempt times).
pub struct ShardSpan {
    /// `2/3`.
    pub label: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub green: bool,
}

struct Bar {
    /// 1-based, as the console names workers.
    lane: usize,
    /// Seconds since the first start.
    from: f64,
    took: f64,
    class: String,
    attempt: Option<usize>,
    href: Option<String>,
    title: String,
}

fn since(t0: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    ((at - t0).num_microseconds().unwrap_or(0) as f64 / 1e6).max(0.0)
}

/// The run's timeline: a bar per attempt that ran (not-run and skipped scenarios have none).
pub fn run(out: &mut impl Write, info: &RunInfo, scenarios: &[Scenario], summary: &RunSummary) -> io::Result<()> {
    let starts = summary.results.iter().flat_map(|r| r.earlier.iter().map(|a| a.started_at).chain([r.started_at]));
    let t0 = starts.fold(info.started_at, DateTime::min);
    let mut bars = Vec::new();
    for r in &summary.results {
        let name = scenarios.get(r.index).map(|s| s.name.as_str()).unwrap_or_default();
        let total = r.earlier.len() + 1;
        let last = (&r.outcome, r.started_at, r.duration);
        let attempts = r.earlier.iter().map(|a| (&a.outcome, a.started_at, a.duration)).chain([last]);
        for (i, (outcome, at, took)) in attempts.enumerate() {
            if matches!(outcome, Outcome::NotRun(_) | Outcome::Skipped(_)) {
                continue;
            }
            let label = outcome.label();
            let from = since(t0, at);
            let attempt = if total > 1 { format!(", attempt {} of {total}", i + 1) } else { String::new() };
            bars.push(Bar {
                lane: r.worker + 1,
                from,
                took: took.as_secs_f64(),
                // A failed attempt that was run again shows as a retry, whatever came of it.
                class: if i + 1 < total { format!("bar {label} retried") } else { format!("bar {label}") },
                attempt: Some(i + 1),
                href: Some(format!("#scenario-{}", r.index)),
                title: format!("{name}{attempt}: {label}, {} (from +{})", secs(took), secs_f(from)),
            });
        }
    }
    if bars.is_empty() {
        return Ok(());
    }
    let used = bars.iter().map(|b| b.lane).max().unwrap_or(1);
    let lanes = used.max(info.workers.min(summary.results.len()));
    let span = bars.iter().map(|b| b.from + b.took).fold(summary.wall.as_secs_f64(), f64::max);
    let retried = bars.iter().filter(|b| b.class.ends_with("retried")).count();
    writeln!(out, "<section id=\"timeline\">\n<h2 class=\"part\">Timeline</h2>")?;
    let labels: Vec<String> = (1..=lanes).map(|w| format!("worker {w}")).collect();
    draw(out, &labels, &bars, span)?;
    writeln!(
        out,
        "<p class=\"note\">{} attempt{} on {lanes} worker{} over {}{}: a bar per attempt, from its start for as long \
         as it took; hover for the scenario, click to go to it.</p>\n</section>",
        bars.len(),
        if bars.len() == 1 { "" } else { "s" },
        if lanes == 1 { "" } else { "s" },
        secs_f(span),
        if retried > 0 { format!(", {retried} of them failed and run again (amber)") } else { String::new() },
    )
}

/// The merged run's lanes: one per shard, its whole run; the attempts are on each
/// shard's own page.
pub fn shards(out: &mut impl Write, shards: &[ShardSpan]) -> io::Result<()> {
    let Some(t0) = shards.iter().map(|s| s.started_at).min() else { return Ok(()) };
    let bars: Vec<Bar> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (from, took) = (since(t0, s.started_at), since(s.started_at, s.finished_at));
            let outcome = if s.green { "PASS" } else { "FAIL" };
            Bar {
                lane: i + 1,
                from,
                took,
                class: format!("bar {outcome}"),
                attempt: None,
                href: None,
                title: format!(
                    "shard {}: {} from +{}, {}",
                    s.label,
                    secs_f(took),
                    secs_f(from),
                    if s.green { "green" } else { "not green" }
                ),
            }
        })
        .collect();
    let span = bars.iter().map(|b| b.from + b.took).fold(0.0, f64::max);
    writeln!(out, "<section id=\"timeline\">\n<h2 class=\"part\">Timeline</h2>")?;
    let labels: Vec<String> = shards.iter().map(|s| format!("shard {}", s.label)).collect();
    draw(out, &labels, &bars, span)?;
    writeln!(
        out,
        "<p class=\"note\">A lane per shard, from its start to its end. The merged records hold no attempt \
         times: each shard's own report has its timeline, a bar per attempt.</p>\n</section>"
    )
}

fn draw(out: &mut impl Write, labels: &[String], bars: &[Bar], span: f64) -> io::Result<()> {
    let span = if span > 0.0 { span } else { 1.0 };
    let plot = WIDTH - LABELS - 8.0;
    let x = |t: f64| LABELS + t / span * plot;
    let height = AXIS + labels.len() as f64 * (LANE + GAP);
    writeln!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"timeline over {}\">",
        secs_f(span)
    )?;
    let step = tick_step(span);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        let at = x(t);
        writeln!(
            out,
            "<line class=\"grid\" x1=\"{at:.1}\" y1=\"{}\" x2=\"{at:.1}\" y2=\"{height}\"/><text x=\"{at:.1}\" y=\"11\" text-anchor=\"middle\">{}</text>",
            AXIS - 3.0,
            tick_label(t, step)
        )?;
        t += step;
    }
    for (i, label) in labels.iter().enumerate() {
        let lane = i + 1;
        let y = AXIS + i as f64 * (LANE + GAP);
        writeln!(
            out,
            "<g id=\"lane-{lane}\" data-lane=\"{lane}\"><rect class=\"lane\" x=\"0\" y=\"{y}\" width=\"{WIDTH}\" height=\"{LANE}\"/>\
             <text x=\"4\" y=\"{:.1}\">{}</text>",
            y + LANE - 4.0,
            esc(label)
        )?;
        for bar in bars.iter().filter(|b| b.lane == lane) {
            let width = (bar.took / span * plot).max(MIN_BAR);
            let attempt = bar.attempt.map(|a| format!(" data-attempt=\"{a}\"")).unwrap_or_default();
            let rect = format!(
                "<rect class=\"{}\"{attempt} x=\"{:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\"><title>{}</title></rect>",
                bar.class,
                x(bar.from),
                y + 2.0,
                LANE - 4.0,
                esc(&bar.title)
            );
            match &bar.href {
                Some(href) => writeln!(out, "<a href=\"{href}\">{rect}</a>")?,
                None => writeln!(out, "{rect}")?,
            }
        }
        writeln!(out, "</g>")?;
    }
    writeln!(out, "</svg>")
}

/// Seconds between the axis' ticks: about ten ticks, at steps people read easily.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 18] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        14400.0,
    ];
    STEPS.into_iter().find(|s| span / s <= 10.0).unwrap_or_else(|| (span / 10.0 / 3600.0).ceil() * 3600.0)
}

fn tick_label(t: f64, step: f64) -> String {
    if t >= 60.0 && step >= 60.0 {
        let m = (t / 60.0).round() as u64;
        if m >= 60 {
            format!("{}h{:02}m", m / 60, m % 60)
        } else {
            format!("{m}m")
        }
    } else if step < 1.0 {
        format!("{t:.1}s")
    } else {
        format!("{t:.0}s")
    }
}

fn secs_f(s: f64) -> String {
    secs(std::time::Duration::try_from_secs_f64(s).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_come_at_readable_steps() {
        assert_eq!(tick_step(0.7), 0.1);
        assert_eq!(tick_step(9.0), 1.0);
        assert_eq!(tick_step(95.0), 10.0);
        assert_eq!(tick_step(3000.0), 300.0);
        assert_eq!(tick_label(2.0, 1.0), "2s");
        assert_eq!(tick_label(0.5, 0.1), "0.5s");
        assert_eq!(tick_label(600.0, 300.0), "10m");
    }
}
