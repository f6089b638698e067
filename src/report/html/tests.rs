//! The page's parts in-process, on a `Vec<u8>`; the whole page in a browser is
//! tests/it/html_report.rs.

use super::evidence::link;
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

mod run {
    use std::time::Duration;

    use chrono::{DateTime, Utc};

    use super::super::{write_run, RunPage};
    use crate::report::history::ScenarioRun;
    use crate::report::Artifacts;
    use crate::runner::{Attempt, Failure, Outcome, RunSummary, ScenarioResult, StepLog};
    use crate::spec::Scenario;
    use crate::verdict::{FlakyPolicy, Verdict};

    fn scenario(i: usize) -> Scenario {
        Scenario {
            name: format!("scenario number {i} of the big suite <b>&</b>"),
            tags: vec![["smoke", "lists", "sharing"][i % 3].to_string()],
            group: "big".into(),
            file: format!("specs/big-{}.toml", i / 100),
            line: 1 + (i % 100) * 12,
            steps: Vec::new(),
            quarantine: None,
            values: Vec::new(),
        }
    }

    fn failure() -> Outcome {
        Outcome::Failed(Failure {
            step: Some((7, 3, "expect_text \"Buy peacock feathers\" in h1".into())),
            message: "still not true after 10.0s (400 checks)".into(),
            last_seen: Some("the text of h1 was \"Not found\"".into()),
            evidence: Default::default(),
        })
    }

    /// `n` scenarios on four workers: every tenth fails, every twentieth passes on a
    /// retry, each with eight steps and `history` earlier runs in the history.
    fn big_run(n: usize, history: usize) -> (Vec<Scenario>, RunSummary, Artifacts, Vec<ScenarioRun>) {
        let t0: DateTime<Utc> = "2026-12-07T03:00:00Z".parse().expect("a time");
        let scenarios: Vec<Scenario> = (0..n).map(scenario).collect();
        let log: Vec<StepLog> = (0..8)
            .map(|s| StepLog {
                line: 2 + s,
                description: format!("type \"Buy milk {s}\" into #id_text"),
                took: Duration::from_millis(120),
                ok: true,
                calls: Vec::new(),
            })
            .collect();
        let mut artifacts = Artifacts::new();
        let results: Vec<ScenarioResult> = (0..n)
            .map(|i| {
                let at = t0 + chrono::Duration::milliseconds((i / 4) as i64 * 1500);
                let attempt = |outcome| Attempt {
                    outcome,
                    started_at: at,
                    duration: Duration::from_millis(1400),
                    log: log.clone(),
                };
                let (outcome, earlier) = match i {
                    i if i % 10 == 3 => (failure(), Vec::new()),
                    i if i % 20 == 7 => (Outcome::Passed, vec![attempt(failure())]),
                    _ => (Outcome::Passed, Vec::new()),
                };
                if i % 10 == 3 || i % 20 == 7 {
                    let stem = format!("reports/artifacts/big/scenario-number-{i}/scenario-number-{i}");
                    artifacts.insert((i, 1), vec![format!("{stem}.png").into(), format!("{stem}.html").into()]);
                }
                ScenarioResult {
                    index: i,
                    worker: i % 4,
                    outcome,
                    started_at: at,
                    duration: Duration::from_millis(1400),
                    log: log.clone(),
                    earlier,
                }
            })
            .collect();
        let summary = RunSummary {
            results,
            browser: None,
            interrupted: false,
            wall: Duration::from_secs((n as u64 / 4) * 3 / 2),
            quarantined: Vec::new(),
            isolation: None,
        };
        let mut lines = Vec::new();
        for run in 0..history {
            let at = t0 - chrono::Duration::days((history - run) as i64);
            for s in &scenarios {
                lines.push(ScenarioRun {
                    run_started_at: at,
                    scenario: s.name.clone(),
                    file: s.file.clone(),
                    line: s.line,
                    outcome: if (s.line + run) % 13 == 0 { "failed".into() } else { "passed".into() },
                    seconds: 1.0 + ((s.line + run) % 7) as f64 / 10.0,
                    attempts: 1,
                    commit: Some("1".repeat(40)),
                    target: "https://staging.example".into(),
                    stage: None,
                    shard: None,
                    run_seconds: Some(380.0),
                });
            }
        }
        (scenarios, summary, artifacts, lines)
    }

    fn page(scenarios: &[Scenario], summary: &RunSummary, artifacts: &Artifacts, history: &[ScenarioRun]) -> Vec<u8> {
        let mut info = crate::report::tests::info();
        info.started_at = "2026-12-07T03:00:00Z".parse().expect("a time");
        info.workers = 4;
        // As `Reports::finish` gives it: the earlier runs, then this one.
        let mut history = history.to_vec();
        history.extend(crate::report::history::lines(&info, scenarios, summary));
        let page = RunPage {
            info: &info,
            scenarios,
            summary,
            verdict: Verdict::of(summary),
            flaky: FlakyPolicy::Accept,
            artifacts,
            dir: "reports".as_ref(),
            history: &history,
        };
        let mut out = Vec::new();
        write_run(&mut out, &page).expect("written to a Vec");
        out
    }

    /// Issue 23: the page of a thousand scenarios with twenty runs of history stays a
    /// page a browser opens at once, and well within the disk reserve held for it
    /// (`reserve::size_for`: 32 KiB a scenario).
    #[test]
    fn the_page_of_a_thousand_scenarios_with_their_history_measures_under_three_mib() {
        let (scenarios, summary, artifacts, history) = big_run(1000, 19);
        let bare = page(&scenarios, &summary, &artifacts, &[]).len();
        let full = page(&scenarios, &summary, &artifacts, &history).len();
        println!("the page of 1000 scenarios: {bare} bytes without history, {full} with 19 earlier runs");
        if std::env::var_os("FT_PEEK").is_some() {
            let _ = std::fs::write("/tmp/peek.html", page(&scenarios, &summary, &artifacts, &history));
        }
        assert!(full < 3 * 1024 * 1024, "{full} bytes");
        assert!(full as u64 <= crate::report::reserve::size_for(1000) / 8, "{full} bytes");
    }

    #[test]
    fn the_page_shows_every_attempt_in_its_workers_lane_and_each_scenarios_history_escaped() {
        let (scenarios, summary, artifacts, mut history) = big_run(40, 3);
        // A hostile line: its outcome is never written out as read, its times not believed.
        let mut hostile = history[0].clone();
        hostile.outcome = "<img src=x onerror=alert(1)>".into();
        hostile.seconds = -1e308;
        hostile.run_seconds = Some(f64::MAX);
        history.insert(1, hostile);
        let text = String::from_utf8(page(&scenarios, &summary, &artifacts, &history)).expect("utf-8");
        assert!(!text.contains("<img src=x") && !text.contains("onerror"), "{text}");
        assert!(text.contains("<li class=\"unknown\" title=\"2026-12-04 03:00: unknown, ?\">"), "{text}");
        let attempts: usize = summary.results.iter().map(|r| r.earlier.len() + 1).sum();
        assert_eq!(text.matches("<rect class=\"bar ").count(), attempts, "a bar per attempt");
        for lane in 1..=4 {
            assert!(text.contains(&format!("<g id=\"lane-{lane}\"")), "lane {lane}: {text}");
        }
        // Scenario 7 passed on a retry on worker 4 (7 % 4 = 3): both its bars are in lane 4.
        let lane4 = &text[text.find("<g id=\"lane-4\"").expect("lane 4")..];
        let lane4 = &lane4[..lane4.find("</g>").expect("its end")];
        assert_eq!(lane4.matches("href=\"#scenario-7\"").count(), 2, "{lane4}");
        assert!(lane4.contains("bar FAIL retried"), "{lane4}");
        assert!(!text.contains("<b>&</b>"), "names escaped everywhere: the timeline's titles too");
        assert_eq!(text.matches("<ol class=\"strip\"").count(), 40, "a strip per scenario: {text}");
        assert_eq!(text.matches("<li class=\"passed now\"").count(), 34, "this run's passes, flakes apart");
        assert!(text.contains("The last 4 runs: median pass rate"), "{text}");
        // Failures first: the first section is a failure, the first pass after every failure and flake.
        let first = text.find("<section class=\"scenario").expect("a section");
        assert!(text[first..].starts_with("<section class=\"scenario FAIL\""), "{}", &text[first..first + 200]);
        let last_fail = text.rfind("<section class=\"scenario FAIL\"").expect("a failure");
        let last_flaky = text.rfind("<section class=\"scenario FLAKY\"").expect("a flake");
        let first_pass = text.find("<section class=\"scenario PASS\"").expect("a pass");
        assert!(last_fail < last_flaky && last_flaky < first_pass);
    }

    #[test]
    fn the_policy_allows_exactly_the_pages_own_style_and_script() {
        let (scenarios, summary, artifacts, _) = big_run(3, 0);
        let text = String::from_utf8(page(&scenarios, &summary, &artifacts, &[])).expect("utf-8");
        let between = |open: &str, close: &str| {
            let start = text.find(open).expect("opened") + open.len();
            text[start..start + text[start..].find(close).expect("closed")].to_string()
        };
        let (style, script) = (between("<style>", "</style>"), between("<script>", "</script>"));
        let policy = between("http-equiv=\"Content-Security-Policy\" content=\"", "\"").replace("&#39;", "'");
        assert!(policy.contains(&format!("style-src '{}'", super::super::sha256_source(&style))), "{policy}");
        assert!(policy.contains(&format!("script-src '{}'", super::super::sha256_source(&script))), "{policy}");
        assert!(!policy.contains("unsafe") && policy.starts_with("default-src 'none';"), "{policy}");
        assert_eq!(text.matches("<script").count(), 1, "one script");
        assert!(
            !text.contains(" style=\"") && !text.contains(" onclick=") && !text.contains(" onload="),
            "no inline style or handlers"
        );
    }

    /// `ft merge`'s page: what the shards' records and the history hold, and no more.
    #[test]
    fn the_merged_page_shows_failures_first_a_lane_per_shard_and_each_scenarios_history() {
        use super::super::merged::{write_merged, MergedPage, MergedRow};
        use super::super::ShardSpan;
        let (scenarios, summary, _, history) = big_run(20, 2);
        let info = crate::report::tests::info();
        let verdict = Verdict::of(&summary);
        let record = crate::report::record::RunRecord::new(
            &info,
            &scenarios,
            &summary,
            verdict,
            FlakyPolicy::Accept,
            info.started_at + chrono::Duration::seconds(90),
        );
        let rows: Vec<MergedRow> = summary
            .results
            .iter()
            .map(|r| MergedRow {
                name: scenarios[r.index].name.clone(),
                location: scenarios[r.index].location(),
                status: match (&r.outcome, r.is_flaky()) {
                    (_, true) => "FLAKY",
                    (o, false) => o.label(),
                },
                shard: Some((
                    format!("{}/2", r.index % 2 + 1),
                    format!("shard-{}", r.index % 2 + 1).into(),
                    r.index / 2,
                )),
            })
            .collect();
        let shards: Vec<ShardSpan> = (0..2)
            .map(|i| ShardSpan {
                label: format!("{}/2", i + 1),
                started_at: info.started_at + chrono::Duration::seconds(i * 5),
                finished_at: info.started_at + chrono::Duration::seconds(60 + i * 20),
                green: i == 0,
            })
            .collect();
        let mut history = history;
        history.extend(crate::report::history::lines(&info, &scenarios, &summary));
        let page =
            MergedPage { record: &record, rows: &rows, shards: &shards, history: &history, dir: "merged".as_ref() };
        let mut out = Vec::new();
        write_merged(&mut out, &page).expect("written to a Vec");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("<text x=\"4\" y=\"28.0\">shard 1/2</text>"), "{text}");
        assert!(text.contains("id=\"lane-2\"") && text.contains("<rect class=\"bar FAIL\""), "shard 2 was not green");
        assert!(text.contains("The merged records hold no attempt times"), "it says what it cannot show");
        assert!(!text.contains("id=\"filter-tag\""), "the records hold no tags: no tag filter");
        assert_eq!(text.matches("<ol class=\"strip\"").count(), 20, "a strip per scenario");
        assert!(text.contains("The last 3 runs: median pass rate"), "{text}");
        let first = text.find("<section class=\"scenario").expect("a section");
        assert!(text[first..].starts_with("<section class=\"scenario FAIL\""), "failures first");
        assert!(text.contains("href=\"../shard-2/index.html#scenario-1\">shard 2/2 report</a>"), "{text}");
        assert!(!text.contains("<b>&</b>"), "names escaped");
    }
}
