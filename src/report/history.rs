//! `history.jsonl` in the reports folder: one line per scenario per run (outcome, time,
//! attempts, commit), appended by every run, never rewritten; and `ft flakes`, which reads
//! it back: per scenario, how often it ran, failed and flaked over a window.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{jsonl, ReportError, RunInfo};
use crate::runner::{RunSummary, ScenarioStatus};
use crate::spec::Scenario;

/// The file's name inside the reports folder.
pub const HISTORY_FILE: &str = "history.jsonl";

/// One scenario in one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScenarioRun {
    /// When the run started: the lines of one run share it.
    pub run_started_at: DateTime<Utc>,
    pub scenario: String,
    pub file: String,
    pub line: usize,
    /// passed, flaky (passed on a retry), failed, error, not_run, skipped.
    pub outcome: String,
    /// All attempts together.
    pub seconds: f64,
    pub attempts: usize,
    pub commit: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The whole run's wall time (the same on every line of a run), for the HTML
    /// report's trend; absent in lines of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_seconds: Option<f64>,
}

impl ScenarioRun {
    /// Its outcome in the one vocabulary; `None` for a word ft never wrote.
    pub fn status(&self) -> Option<ScenarioStatus> {
        ScenarioStatus::from_word(&self.outcome)
    }
}

/// The lines of this run, one per scenario it accounted for (in spec order).
pub fn lines(info: &RunInfo, scenarios: &[Scenario], summary: &RunSummary) -> Vec<ScenarioRun> {
    summary
        .results
        .iter()
        .filter_map(|r| {
            let s = scenarios.get(r.index)?;
            let outcome = ScenarioStatus::of(r).word();
            let seconds = r.duration.as_secs_f64() + r.earlier.iter().map(|a| a.duration.as_secs_f64()).sum::<f64>();
            Some(ScenarioRun {
                run_started_at: info.started_at,
                scenario: s.name.clone(),
                file: s.file.clone(),
                line: s.line,
                outcome: outcome.into(),
                seconds: (seconds * 1000.0).round() / 1000.0,
                attempts: r.earlier.len() + 1,
                commit: info.commit.clone(),
                target: info.target_url.clone(),
                stage: info.stage.clone(),
                shard: info.shard.map(|s| s.to_string()),
                run_seconds: Some((summary.wall.as_secs_f64() * 1000.0).round() / 1000.0),
            })
        })
        .collect()
}

/// Append this run's lines to `path` (one write, under a lock: concurrent runs keep theirs).
pub fn append(path: &Path, runs: &[ScenarioRun]) -> Result<(), ReportError> {
    let lines: Vec<String> = runs.iter().filter_map(|r| serde_json::to_string(r).ok()).collect();
    jsonl::append(path, &lines)
}

/// Each scenario's last known time, keyed by (name, spec file): the median of its last
/// five judged runs in the history at `path` (empty when there is none).
pub fn last_durations(path: &Path) -> BTreeMap<(String, String), f64> {
    let Ok(text) = std::fs::read_to_string(path) else { return BTreeMap::new() };
    let mut times: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for run in text.lines().filter_map(|l| serde_json::from_str::<ScenarioRun>(l).ok()) {
        if run.status().is_some_and(ScenarioStatus::judged) {
            times.entry((run.scenario, run.file)).or_default().push(run.seconds);
        }
    }
    times
        .into_iter()
        .map(|(key, all)| {
            let mut last: Vec<f64> = all.iter().rev().take(5).copied().collect();
            last.sort_by(f64::total_cmp);
            (key, last[last.len() / 2])
        })
        .collect()
}

/// How much of the history's end `recent` reads: tens of runs of a suite of a thousand
/// scenarios, whatever the file has grown to.
const RECENT_BYTES: u64 = 8 * 1024 * 1024;

/// The lines at the end of the history at `path` (its last `RECENT_BYTES`), oldest first;
/// lines that do not read (torn, hostile, an older format) are left out. Empty when there
/// is no history.
pub fn recent(path: &Path) -> Vec<ScenarioRun> {
    tail(path, RECENT_BYTES)
}

fn tail(path: &Path, max_bytes: u64) -> Vec<ScenarioRun> {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max_bytes);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.take(max_bytes).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    // Started mid-line: that first part is not a line.
    let whole = if start > 0 {
        bytes.iter().position(|b| *b == b'\n').map_or(&[][..], |i| &bytes[i + 1..])
    } else {
        &bytes[..]
    };
    let mut runs: Vec<ScenarioRun> =
        whole.split(|b| *b == b'\n').filter_map(|line| serde_json::from_slice::<ScenarioRun>(line).ok()).collect();
    // Appended in order, but concurrent runs may interleave.
    runs.sort_by_key(|r| r.run_started_at);
    runs
}

/// One scenario's record over the window `ft flakes` looks at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flakiness {
    pub scenario: String,
    pub file: String,
    /// Runs that judged it: passed, flaky, failed or error (not run and skipped do not count).
    pub runs: usize,
    pub passed: usize,
    pub flaky: usize,
    pub failed: usize,
    pub last_failure: Option<DateTime<Utc>>,
    /// Median seconds of its judged runs.
    pub median_seconds: f64,
}

impl Flakiness {
    /// Share of runs that passed only on a retry.
    pub fn flaky_rate(&self) -> f64 {
        ratio(self.flaky, self.runs)
    }
    /// Share of runs that failed or errored.
    pub fn fail_rate(&self) -> f64 {
        ratio(self.failed, self.runs)
    }
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// What `read` found: the scenarios' flakiness, and lines it could not read.
pub struct History {
    pub scenarios: Vec<Flakiness>,
    pub unreadable: usize,
    pub runs: usize,
}

/// Read `path` and sum up every scenario's runs since `since`, worst first (by failure
/// and flaky rate, then by name).
pub fn read(path: &Path, since: DateTime<Utc>) -> std::io::Result<History> {
    let text = std::fs::read_to_string(path)?;
    let mut by: BTreeMap<(String, String), (Flakiness, Vec<f64>)> = BTreeMap::new();
    let mut unreadable = 0;
    let mut runs = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(run) = serde_json::from_str::<ScenarioRun>(line) else {
            unreadable += 1;
            continue;
        };
        if run.run_started_at < since {
            continue;
        }
        runs.insert(run.run_started_at);
        let (f, times) = by.entry((run.scenario.clone(), run.file.clone())).or_insert_with(|| {
            (Flakiness { scenario: run.scenario.clone(), file: run.file.clone(), ..Flakiness::default() }, Vec::new())
        });
        match run.status() {
            Some(ScenarioStatus::Passed) => f.passed += 1,
            Some(ScenarioStatus::Flaky) => f.flaky += 1,
            Some(ScenarioStatus::Failed | ScenarioStatus::Error) => {
                f.failed += 1;
                f.last_failure = f.last_failure.max(Some(run.run_started_at));
            }
            _ => continue,
        }
        f.runs += 1;
        times.push(run.seconds);
    }
    let mut scenarios: Vec<Flakiness> = by
        .into_values()
        .map(|(mut f, mut times)| {
            times.sort_by(f64::total_cmp);
            f.median_seconds = times.get(times.len() / 2).copied().unwrap_or(0.0);
            f
        })
        .collect();
    scenarios.sort_by(|a, b| {
        (b.fail_rate() + b.flaky_rate())
            .total_cmp(&(a.fail_rate() + a.flaky_rate()))
            .then_with(|| a.scenario.cmp(&b.scenario))
    });
    Ok(History { scenarios, unreadable, runs: runs.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: &str, scenario: &str, outcome: &str) -> String {
        let run = ScenarioRun {
            run_started_at: at.parse().expect("time"),
            scenario: scenario.into(),
            file: "specs/a.toml".into(),
            line: 1,
            outcome: outcome.into(),
            seconds: 1.0,
            attempts: 1,
            commit: None,
            target: "http://x".into(),
            stage: None,
            shard: None,
            run_seconds: None,
        };
        serde_json::to_string(&run).expect("json")
    }

    #[test]
    fn flakes_are_counted_per_scenario_within_the_window_worst_first() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(HISTORY_FILE);
        let lines = vec![
            line("2026-01-01T00:00:00Z", "old", "failed"),
            line("2026-02-01T00:00:00Z", "steady", "passed"),
            line("2026-02-01T00:00:00Z", "wobbly", "flaky"),
            line("2026-02-02T00:00:00Z", "steady", "passed"),
            line("2026-02-02T00:00:00Z", "wobbly", "passed"),
            line("2026-02-03T00:00:00Z", "wobbly", "failed"),
            line("2026-02-03T00:00:00Z", "wobbly", "not_run"),
            "{\"torn".into(),
        ];
        jsonl::append(&path, &lines).expect("append");
        let h = read(&path, "2026-01-15T00:00:00Z".parse().expect("time")).expect("read");
        assert_eq!(h.unreadable, 1);
        assert_eq!(h.runs, 3);
        let names: Vec<&str> = h.scenarios.iter().map(|f| f.scenario.as_str()).collect();
        assert_eq!(names, ["wobbly", "steady"], "the old failure is outside the window");
        let w = &h.scenarios[0];
        assert_eq!((w.runs, w.passed, w.flaky, w.failed), (3, 1, 1, 1), "not run is not a judged run");
        assert!((w.flaky_rate() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(w.last_failure, Some("2026-02-03T00:00:00Z".parse().expect("time")));
    }

    #[test]
    fn recent_reads_the_end_of_the_history_oldest_first_and_skips_what_does_not_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(HISTORY_FILE);
        assert!(recent(&path).is_empty(), "no history, no lines");
        let lines = vec![
            line("2026-02-01T00:00:00Z", "first", "passed"),
            line("2026-02-03T00:00:00Z", "third", "failed"),
            "{\"torn".into(),
            line("2026-02-02T00:00:00Z", "second", "flaky"),
        ];
        jsonl::append(&path, &lines).expect("append");
        let names = |runs: Vec<ScenarioRun>| runs.into_iter().map(|r| r.scenario).collect::<Vec<_>>();
        assert_eq!(names(recent(&path)), ["first", "second", "third"]);
        // From the middle of a line on: that part is not taken for a line.
        let size = std::fs::metadata(&path).expect("size").len();
        let last_two = (lines[2].len() + lines[3].len() + 2) as u64;
        assert_eq!(names(tail(&path, last_two + 5)), ["second"]);
        assert!(size > last_two, "the tail starts mid-file");
    }
}
