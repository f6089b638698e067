//! What a run will do, known before any browser starts (`Plan`): the specs loaded, the
//! selection made (`--filter`, `--tag`, `--last-failed`, `--shard`, `--repeat-each`), the
//! scenarios a remote target lacks the set-up for left out, and the inbox checked.

use crate::report::record;
use crate::shard::Shard;
use crate::shared::redact::without_userinfo;
use crate::spec::{self, Selection};

use super::error::JobError;
use super::options::JobOptions;

/// What a run will do, known before any browser starts.
pub struct Plan {
    pub suite: spec::Suite,
    /// The scenarios this run runs.
    pub scenarios: Vec<spec::Scenario>,
    /// Selected scenarios another shard runs (`--shard`).
    pub other_shards: Vec<spec::Scenario>,
    /// `--shard`: how the selection was split, as a sha256 every shard of one run shares.
    pub split: Option<String>,
    /// `--shard`: "durations" when balanced by the history's times, else "spec order".
    pub split_by: Option<&'static str>,
    /// The run header's note on selected scenarios left out because the remote target
    /// lacks the set-up they need (a fixture, an inbox): they count as not selected.
    pub left_out: Option<String>,
}

/// Load and select (and take this shard's part): everything that can be checked without
/// a browser.
pub fn plan(options: &JobOptions) -> Result<Plan, JobError> {
    let mut suite = spec::load(&options.specs, &options.selectors, &options.fixtures).map_err(JobError::Spec)?;
    spec::config::apply_values(&mut suite, &options.values).map_err(JobError::Spec)?;
    let mut selected = suite.select(&options.selection);
    if options.last_failed {
        let failed = last_failed(&options.settings.paths.record)?;
        selected.retain(|s| failed.iter().any(|(name, file)| *name == s.name && *file == s.file));
        if selected.is_empty() {
            return Err(JobError::NothingToRerun {
                why: format!(
                    "none of the {} scenarios that failed in {} is in this selection",
                    failed.len(),
                    options.settings.paths.record.display()
                ),
                hint: "drop --filter/--tag, or check the scenarios were not renamed".into(),
            });
        }
    }
    if selected.is_empty() {
        return Err(JobError::NothingSelected {
            selection: describe(&options.selection),
            total: suite.scenarios.len(),
            specs: options.specs.to_string(),
        });
    }
    let mut left_out = None;
    if options.liveserver.is_some() {
        let config = options.fixtures.config.as_deref();
        // A scenario whose fixture or inbox this target lacks cannot run here: it is left
        // out, said in the header, and counts as not selected (the gate's rule for a
        // partial run stands). Only when nothing else is left is it an error, with its why.
        let mut runnable = Vec::new();
        let mut lacking = Vec::new();
        for scenario in selected {
            match lacks_set_up(&scenario, options, config) {
                None => runnable.push(scenario),
                Some(why) => lacking.push((scenario, why)),
            }
        }
        if runnable.is_empty() {
            let lacking: Vec<spec::Scenario> = lacking.into_iter().map(|(s, _)| s).collect();
            spec::fixture::for_remote(&[], &lacking, config)
                .map_err(|(what, hint)| JobError::Fixture { what, hint })?;
            check_inbox(options, &lacking)?;
        } else if !lacking.is_empty() {
            left_out = Some(describe_left_out(&lacking, config));
        }
        selected = runnable;
        spec::fixture::for_remote(&suite.before_all, &selected, config)
            .map_err(|(what, hint)| JobError::Fixture { what, hint })?;
    }
    let selected = repeat_each(selected, options.repeat_each);
    let Some(shard) = options.shard else {
        return Ok(Plan {
            suite,
            scenarios: selected,
            other_shards: Vec::new(),
            split: None,
            split_by: None,
            left_out,
        });
    };
    if selected.len() < shard.total {
        return Err(JobError::EmptyShard { shard, selected: selected.len() });
    }
    // Balanced by the last known times when the reports folder has a history: every shard
    // of a run must then see the same history (the record's split digest tells).
    let known = crate::report::last_durations(&options.settings.paths.dir.join(crate::report::HISTORY_FILE));
    let times: Vec<Option<f64>> =
        selected.iter().map(|s| known.get(&(s.name.clone(), s.file.clone())).copied()).collect();
    let weights = if times.iter().any(Option::is_some) {
        let mut seen: Vec<f64> = times.iter().flatten().copied().collect();
        seen.sort_by(f64::total_cmp);
        let typical = seen[seen.len() / 2];
        Some(times.iter().map(|t| t.unwrap_or(typical)).collect::<Vec<f64>>())
    } else {
        None
    };
    let owner = Shard::split(shard.total, selected.len(), weights.as_deref());
    let mut digest = String::new();
    for (s, owner) in selected.iter().zip(&owner) {
        digest.push_str(&format!("{}\t{}\t{}\t{owner}\n", s.name, s.file, s.line));
    }
    let (mut run, mut others) = (Vec::new(), Vec::new());
    for (scenario, owner) in selected.into_iter().zip(owner) {
        if owner == shard.index {
            run.push(scenario);
        } else {
            others.push(scenario);
        }
    }
    Ok(Plan {
        suite,
        scenarios: run,
        other_shards: others,
        split: Some(spec::sha256_hex(digest.as_bytes())),
        split_by: Some(if weights.is_some() { "durations" } else { "spec order" }),
        left_out,
    })
}

/// Why `scenario` cannot run against this remote target: a fixture ft.toml does not
/// configure for it, or an email to read and no inbox.
fn lacks_set_up(scenario: &spec::Scenario, options: &JobOptions, config: Option<&str>) -> Option<String> {
    if let Err((what, _)) = spec::fixture::for_remote(&[], std::slice::from_ref(scenario), config) {
        return Some(what);
    }
    (options.settings.inbox.is_none() && email_step(scenario).is_some())
        .then(|| "it reads email and no --inbox is given".into())
}

/// The scenario's first step that reads email, if any.
fn email_step(scenario: &spec::Scenario) -> Option<&spec::Step> {
    scenario.steps.iter().find(|step| {
        matches!(&step.kind, spec::StepKind::Act(spec::Action::Capture(c)) if matches!(c.from, spec::CaptureFrom::Email { .. }))
    })
}

/// The header's note: which were left out, each distinct why, and the ways in.
fn describe_left_out(lacking: &[(spec::Scenario, String)], config: Option<&str>) -> String {
    let names: Vec<String> = lacking.iter().map(|(s, _)| format!("{:?}", s.name)).collect();
    let mut whys: Vec<&str> = Vec::new();
    for (_, why) in lacking {
        // A fixture's reason names where it is used: one line per fixture is enough.
        let fixture = why.split(" (used at").next();
        if !whys.iter().any(|w| w.split(" (used at").next() == fixture) {
            whys.push(why);
        }
    }
    let why = whys.join("; ");
    format!(
        "left out: {} scenario{} this target lacks the set-up for ({}): {why}; configure [fixtures] in {} and \
         --inbox (docs/staging.md), or leave them out yourself with --skip-tag; a partial run does not open the gate",
        lacking.len(),
        if lacking.len() == 1 { "" } else { "s" },
        names.join(", "),
        config.unwrap_or("ft.toml"),
    )
}

/// Each scenario `n` times in a row, every run its own scenario in the reports:
/// "NAME (run 2 of 3)".
fn repeat_each(scenarios: Vec<spec::Scenario>, n: usize) -> Vec<spec::Scenario> {
    if n <= 1 {
        return scenarios;
    }
    let mut out = Vec::with_capacity(scenarios.len() * n);
    for scenario in scenarios {
        for i in 1..=n {
            let mut copy = scenario.clone();
            copy.name = format!("{} (run {i} of {n})", scenario.name);
            out.push(copy);
        }
    }
    out
}

/// The scenarios (name, spec file) that failed or errored in the record at `path`.
fn last_failed(path: &std::path::Path) -> Result<Vec<(String, String)>, JobError> {
    let nothing = |why: String, hint: &str| JobError::NothingToRerun { why, hint: hint.into() };
    let bytes = std::fs::read(path).map_err(|e| {
        nothing(
            format!("no previous run record to go by ({}: {e})", path.display()),
            "run the suite once first (or give the --reports folder it wrote to)",
        )
    })?;
    let record: record::RunRecord = serde_json::from_slice(&bytes).map_err(|e| {
        nothing(format!("{} is not a run record ft can read: {e}", path.display()), "run the suite once first")
    })?;
    let failed: Vec<(String, String)> = record
        .predicate
        .ft
        .scenarios
        .iter()
        .filter(|s| matches!(s.status, record::ScenarioStatus::Failed | record::ScenarioStatus::Error))
        .map(|s| {
            let file = s.location.rsplit_once(':').map(|(f, _)| f).unwrap_or(&s.location).to_string();
            (s.name.clone(), file)
        })
        .collect();
    if failed.is_empty() {
        return Err(nothing(
            format!("nothing to rerun: no scenario failed in the previous run ({})", path.display()),
            "run without --last-failed",
        ));
    }
    Ok(failed)
}

/// A run whose scenarios read email needs an inbox that can be read: `--inbox` (with its
/// password), or the embedded app's outbox. Checked before any browser starts.
pub(super) fn check_inbox(options: &JobOptions, scenarios: &[spec::Scenario]) -> Result<(), JobError> {
    let reading = scenarios.iter().find_map(|s| email_step(s).map(|step| (s, step)));
    let Some((scenario, step)) = reading else { return Ok(()) };
    match (&options.settings.inbox, &options.liveserver) {
        (Some(inbox), _) => inbox.ready().map_err(JobError::Inbox),
        (None, Some(target)) => Err(JobError::NoInbox {
            scenario: scenario.name.clone(),
            at: format!("{}:{}:{}", step.file.as_deref().unwrap_or(&scenario.file), step.line, step.col),
            target: without_userinfo(target),
            var: crate::mail::DEFAULT_PASSWORD_ENV,
        }),
        (None, None) => Ok(()),
    }
}

fn describe(sel: &Selection) -> String {
    let mut parts = Vec::new();
    if !sel.filters.is_empty() {
        parts.push(format!("--filter {}", sel.filters.join(" / ")));
    }
    if !sel.tags.is_empty() {
        parts.push(format!("--tag {}", sel.tags.join(" / ")));
    }
    if !sel.skip_tags.is_empty() {
        parts.push(format!("--skip-tag {}", sel.skip_tags.join(" / ")));
    }
    if parts.is_empty() {
        "the selection".into()
    } else {
        parts.join(" and ")
    }
}
