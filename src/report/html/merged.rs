//! The page of a merged run (`ft merge`): the whole's verdict and facts, the suite's trend,
//! a lane per shard, and a row per scenario linking to its shard's own page.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::escape::esc;
use super::evidence::relative_link;
use super::timeline::{self, ShardSpan};
use super::trend;
use super::{fact_list, failures_first, filters, head, tail, tone};
use crate::report::history::ScenarioRun;
use crate::shared::redact::redact_text;
use crate::verdict::FlakyPolicy;

/// One row of the merged page: a scenario, its status word, and where its shard's page
/// shows it (None: no shard ran it).
pub struct MergedRow {
    pub name: String,
    pub location: String,
    pub status: &'static str,
    pub shard: Option<(String, PathBuf, usize)>,
}

/// A merged run (`ft merge`), as its page shows it.
pub struct MergedPage<'a> {
    pub record: &'a crate::report::record::RunRecord,
    pub rows: &'a [MergedRow],
    /// Each shard's run, for the timeline (the records hold no attempt times).
    pub shards: &'a [ShardSpan],
    /// The merged folder's history's recent lines, this run's included.
    pub history: &'a [ScenarioRun],
    /// Where the page is written; the shards' pages are linked relative to it.
    pub dir: &'a Path,
}

/// The page of a merged run: the verdict and facts of the whole, the suite's trend, a
/// lane per shard, and a row per scenario (failures first, filtered as on a run's page)
/// linking to the section of the shard's own page (steps, evidence, the attempts'
/// timeline) that shows it. The shards' records have no tags: there is no tag filter.
pub fn write_merged(out: &mut impl Write, page: &MergedPage) -> io::Result<()> {
    let MergedPage { record, rows, shards, history, dir } = *page;
    let ft = &record.predicate.ft;
    let flaky = FlakyPolicy::accept_if(ft.flaky_accepted);
    let headline = ft.verdict.headline(flaky);
    head(out, &format!("{headline} – ft {} (merged)", ft.target))?;
    writeln!(out, "<h1 id=\"verdict\" class=\"{}\">{}</h1>", tone(ft.verdict, flaky), esc(&headline))?;
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
    let facts = [
        ("counts", counts),
        ("shards", ft.merged.as_ref().map(|m| m.shards.len()).unwrap_or(0).to_string()),
        ("target", ft.target.clone()),
        ("specs", ft.specs.clone()),
        ("commit", ft.commit.clone().unwrap_or_else(|| "not in a git work tree".into())),
        ("browser", ft.browser.clone().unwrap_or_else(|| "none started".into())),
        ("started", ft.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("finished", ft.finished_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("ft", ft.ft_version.clone()),
    ];
    let facts: Vec<(&str, String)> = facts.into_iter().map(|(n, v)| (n, redact_text(&v))).collect();
    fact_list(out, &facts)?;
    let now: Vec<_> = shards.iter().map(|s| s.started_at).collect();
    trend::suite(out, history, &now)?;
    timeline::shards(out, shards)?;
    let statuses: Vec<(usize, &'static str)> = rows.iter().enumerate().map(|(i, r)| (i, r.status)).collect();
    filters(out, &statuses, &[])?;
    let recent = trend::Recent::of(history);
    writeln!(out, "<main id=\"scenarios\">")?;
    for (i, status) in failures_first(&statuses) {
        let row = &rows[i];
        write!(
            out,
            "<section class=\"scenario {}\" id=\"scenario-{i}\" data-status=\"{status}\"><h2><span class=\"status\">{status}</span> \
             <span class=\"name\">{}</span><span class=\"where\">{}</span>",
            status.replace(' ', "-"),
            esc(&redact_text(&row.name)),
            esc(&row.location)
        )?;
        if let Some((shard, shard_dir, local)) = &row.shard {
            let href = format!("{}#scenario-{local}", relative_link(&shard_dir.join("index.html"), dir));
            write!(out, " <a class=\"time\" href=\"{}\">shard {} report</a>", esc(&href), esc(shard))?;
        }
        let file = row.location.rsplit_once(':').map_or(row.location.as_str(), |(file, _)| file);
        trend::scenario(out, recent.of_scenario(&row.name, file), &now)?;
        writeln!(out, "</h2></section>")?;
    }
    writeln!(out, "</main>")?;
    tail(out)
}
