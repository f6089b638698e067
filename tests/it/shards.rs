//! Issue 12: shards (`--shard I/N`) and `ft merge`. Real runs of the built-in suite
//! against the embedded app served as a real process, in a real git work tree; the
//! merged JUnit validated with xmllint against the public schemas.

use crate::common;

use std::path::PathBuf;

use common::*;

use common::repo::Repo;

/// What the shard tests add to a work tree: running one shard.
trait Shards {
    fn shard(&self, url: &str, i: usize, n: usize, extra: &[&str]) -> (Output, PathBuf);
}

impl Shards for Repo {
    /// Shard `i` of `n` against `url` into `shards/i`.
    fn shard(&self, url: &str, i: usize, n: usize, extra: &[&str]) -> (Output, PathBuf) {
        let dir = format!("shards/{i}");
        let shard = format!("{i}/{n}");
        let mut args = vec!["run", "--liveserver", url, "--max-wait", "5", "--shard", &shard, "--reports", &dir];
        args.extend_from_slice(extra);
        (self.ft(&args), self.path().join(&dir))
    }
}

fn names(record: &serde_json::Value, list: &str) -> Vec<String> {
    let mut v: Vec<String> = record["predicate"][list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} in {record:#}"))
        .iter()
        .map(|n| n.as_str().expect("a name").to_string())
        .collect();
    v.sort();
    v
}

fn ft_field<'a>(record: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    &record["predicate"]["ft.run/v1"][key]
}

#[test]
fn three_shards_merge_into_what_one_unsharded_run_reports_and_the_junit_validates() {
    let served = Served::start(&["accept-duplicates"]);
    let repo = Repo::new();
    let whole = repo.ft(&["run", "--liveserver", &served.url, "--max-wait", "5", "--reports", "whole"]);
    assert_eq!(whole.code, 1, "{}", whole.all());
    let mut dirs = Vec::new();
    let mut ran = 0;
    for i in 1..=3 {
        let (out, dir) = repo.shard(&served.url, i, 3, &[]);
        let record = read_json(&dir.join("run.json"));
        ran += ft_field(&record, "total").as_u64().expect("total");
        assert_eq!(ft_field(&record, "shard"), &serde_json::json!({"index": i, "total": 3}), "{record:#}");
        assert!(out.code == 0 || out.code == 1, "{}", out.all());
        dirs.push(dir);
    }
    assert_eq!(ran as usize, LIST_SCENARIOS.len(), "the three shards ran every scenario between them");

    let mut args = vec!["merge".to_string(), "--reports".into(), "merged".into()];
    args.extend(dirs.iter().map(|d| d.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let merged = repo.ft(&args);
    assert_eq!(merged.code, 1, "the merged run failed, as the whole run did\n{}", merged.all());
    let want = format!("NOT OK (failed): {} scenarios: {} passed", LIST_SCENARIOS.len(), LIST_SCENARIOS.len() - 2);
    assert!(merged.stdout.contains(&want), "{}", merged.all());

    let one = read_json(&repo.path().join("whole/run.json"));
    let all = read_json(&repo.path().join("merged/run.json"));
    for list in ["passedTests", "warnedTests", "failedTests"] {
        assert_eq!(names(&all, list), names(&one, list), "{list}");
    }
    for key in ["verdict", "total", "passed", "failed", "errors", "not_run", "complete", "spec_digest", "commit"] {
        assert_eq!(ft_field(&all, key), ft_field(&one, key), "{key}");
    }
    assert_eq!(ft_field(&all, "shard"), &serde_json::Value::Null);
    assert_eq!(ft_field(&all, "merged")["shards"].as_array().map(Vec::len), Some(3));

    let whole_junit = read_junit(&repo.path().join("whole/junit.xml"));
    let merged_junit = read_junit(&repo.path().join("merged/junit.xml"));
    assert_eq!(
        (merged_junit.tests, merged_junit.failures, merged_junit.errors),
        (whole_junit.tests, whole_junit.failures, whole_junit.errors)
    );
    assert_eq!(merged_junit.failed_names(), whole_junit.failed_names());
    assert_eq!(merged_junit.property("shards"), Some("3"));
    assert_eq!(merged_junit.property("verdict"), Some("failed"));
    // The merged page links every scenario to the section of its shard's page.
    let page = std::fs::read_to_string(repo.path().join("merged/index.html")).expect("merged index.html");
    assert!(page.contains("NOT OK (failed)"), "{page}");
    let links = regex::Regex::new(r##"href="([^"#]+)#(scenario-\d+)">shard (\d)/3 report"##).expect("re");
    let mut linked = 0;
    for c in links.captures_iter(&page) {
        let shard_page = std::fs::read_to_string(repo.path().join("merged").join(&c[1])).expect("the shard's page");
        let section = &shard_page[shard_page.find(&format!("id=\"{}\"", &c[2])).expect("the section")..];
        let section = &section[..section.find("</section>").unwrap_or(section.len())];
        assert!(LIST_SCENARIOS.iter().any(|n| section.contains(n)), "{section}");
        linked += 1;
    }
    assert_eq!(linked, LIST_SCENARIOS.len(), "{page}");
    let xml = std::fs::read_to_string(repo.path().join("merged/junit.xml")).expect("junit");
    assert_schema_valid(&xml, "junit-10.xsd");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    for suite in doc.root_element().children().filter(|n| n.has_tag_name("testsuite")) {
        let alone = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", &xml[suite.range()]);
        assert_schema_valid(&alone, "surefire-test-report-3.0.xsd");
    }
}

#[test]
fn only_a_whole_signed_set_of_shards_opens_the_gate() {
    let served = Served::start(&[]);
    let repo = Repo::new();
    // The logins' set-up (else they are left out, and a partial run never opens the gate).
    served.configure(repo.path());
    let keys = repo.path().join("keys");
    assert_eq!(repo.ft(&["keygen", "--out", keys.to_str().expect("utf-8")]).code, 0);
    let private = keys.join("ft-sign.key").display().to_string();
    let public = keys.join("ft-sign.pub").display().to_string();
    let (first, one) = repo.shard(&served.url, 1, 2, &["--sign-key", &private]);
    assert_eq!(first.code, 0, "{}", first.all());
    let (second, two) = repo.shard(&served.url, 2, 2, &["--sign-key", &private]);
    assert_eq!(second.code, 0, "{}", second.all());
    let (one, two) = (one.display().to_string(), two.display().to_string());

    // A shard alone is never a run.
    let shut = repo.ft(&["gate", "--record", &format!("{one}/run.json"), "--target", &served.url]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("shard 1/2 of a run, not the whole run"), "{}", shut.all());

    // A set with a shard missing, or one twice, is not merged at all.
    let missing = repo.ft(&["merge", "--verify-key", &public, "--reports", "merged", &one]);
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(missing.stderr.contains("shard 2/2 missing"), "{}", missing.all());
    assert!(!repo.path().join("merged/run.json").exists(), "a refused merge writes no record");
    let twice = repo.ft(&["merge", "--verify-key", &public, "--reports", "merged", &one, &one]);
    assert_eq!(twice.code, 2, "{}", twice.all());
    assert!(twice.stderr.contains("given twice"), "{}", twice.all());

    // Signed shards are re-checked: without the key, or with a shard's record changed, no merge.
    let unchecked = repo.ft(&["merge", "--reports", "merged", &one, &two]);
    assert_eq!(unchecked.code, 2, "{}", unchecked.all());
    assert!(unchecked.stderr.contains("--verify-key"), "{}", unchecked.all());
    let tampered = repo.path().join("tampered");
    std::fs::create_dir_all(&tampered).expect("mkdir");
    for f in ["run.json", "run.intoto.json", "junit.xml"] {
        std::fs::copy(repo.path().join("shards/2").join(f), tampered.join(f)).expect("copy");
    }
    let text = std::fs::read_to_string(tampered.join("run.json")).expect("read");
    std::fs::write(tampered.join("run.json"), text.replace("\"passed\": 5", "\"passed\": 6")).expect("write");
    let tampered = tampered.display().to_string();
    let refused = repo.ft(&["merge", "--verify-key", &public, "--reports", "merged", &one, &tampered]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("differs from the record its envelope signs"), "{}", refused.all());

    // The whole set, verified and signed again, opens the gate.
    let merged =
        repo.ft(&["merge", "--verify-key", &public, "--sign-key", &private, "--reports", "merged", &one, &two]);
    assert_eq!(merged.code, 0, "{}", merged.all());
    assert!(merged.stdout.contains("every shard's signature verified"), "{}", merged.all());
    let envelope = repo.path().join("merged/run.intoto.json").display().to_string();
    let open = repo.ft(&["gate", "--record", &envelope, "--verify-key", &public, "--target", &served.url]);
    assert_eq!(open.code, 0, "{}", open.all());
    let want = format!("passed {0} of {0} scenarios", SCENARIOS.len());
    assert!(open.stdout.contains(&want), "{}", open.all());

    // An unsigned merged record edited to drop a shard shuts the gate.
    let record = repo.path().join("merged/run.json");
    let mut value = read_json(&record);
    value["predicate"]["ft.run/v1"]["merged"]["shards"].as_array_mut().expect("shards").pop();
    std::fs::write(&record, serde_json::to_vec_pretty(&value).expect("json")).expect("write");
    let shut = repo.ft(&["gate", "--record", &record.display().to_string(), "--target", &served.url]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("does not hold every shard exactly once"), "{}", shut.all());
}

#[test]
fn a_shard_beyond_the_selection_or_written_wrong_is_a_usage_error() {
    let repo = Repo::new();
    let out = repo.ft(&["run", "--shard", "7/7", "--filter", "layout"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--shard 7/7: the selection has only 1 scenario"), "{}", out.all());
    let out = repo.ft(&["run", "--shard", "0/3"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("I/N"), "{}", out.all());
}

/// With a history in the reports folder, shards balance by the scenarios' last known
/// times; shards that saw different histories split differently, and `ft merge` says so.
#[test]
fn shards_balance_by_the_history_and_a_split_that_differs_is_not_merged() {
    let served = Served::start(&[]);
    let repo = Repo::new();
    let mut history = String::new();
    for name in LIST_SCENARIOS {
        let seconds = if name == "layout and styling" { 100.0 } else { 1.0 };
        history.push_str(
            &serde_json::json!({
                "run_started_at": "2026-01-01T00:00:00Z", "scenario": name, "file": "<built-in>/superlists.toml",
                "line": 1, "outcome": "passed", "seconds": seconds, "attempts": 1, "commit": null, "target": "x"
            })
            .to_string(),
        );
        history.push('\n');
    }
    for i in 1..=2 {
        std::fs::create_dir_all(repo.path().join(format!("shards/{i}"))).expect("mkdir");
        std::fs::write(repo.path().join(format!("shards/{i}/history.jsonl")), &history).expect("seed");
    }
    let (out, one) = repo.shard(&served.url, 1, 2, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let first = read_json(&one.join("run.json"));
    assert_eq!(names(&first, "passedTests"), ["layout and styling"], "the long scenario has a shard to itself");
    assert_eq!(ft_field(&first, "shard_split")["by"], "durations");
    let (out, two) = repo.shard(&served.url, 2, 2, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(ft_field(&read_json(&two.join("run.json")), "total").as_u64(), Some(LIST_SCENARIOS.len() as u64 - 1));
    let (one, two) = (one.display().to_string(), two.display().to_string());
    let merged = repo.ft(&["merge", "--reports", "merged", &one, &two]);
    assert_eq!(merged.code, 0, "{}", merged.all());
    let lines = std::fs::read_to_string(repo.path().join("merged/history.jsonl")).expect("merged history");
    assert_eq!(lines.lines().count(), LIST_SCENARIOS.len(), "the whole run's history, for the next run's shards");

    // Shard 2 again, without the history: it splits by spec order and no longer fits.
    std::fs::remove_file(repo.path().join("shards/2/history.jsonl")).expect("rm");
    let (out, _) = repo.shard(&served.url, 2, 2, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let refused = repo.ft(&["merge", "--reports", "merged", &one, &two]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("split the selection differently"), "{}", refused.all());
}
