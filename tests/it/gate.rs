//! The release gate with real git (a work tree and a bare "origin"), real servers on
//! loopback as staging and live, and deploy commands that are small shell scripts that
//! record they ran and (re)start a target.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo::Repo;
use common::*;

/// A git work tree (`app/`) with one commit, pushed to a bare origin beside it, plus the
/// deploy scripts.
struct World {
    repo: Repo,
}

impl World {
    fn new() -> World {
        let w = World { repo: Repo::in_folder("app") };
        let origin = w.work().join("origin.git");
        let out = Command::new("git").args(["init", "-q", "--bare"]).arg(&origin).output().expect("git");
        assert!(out.status.success());
        w.git(&["remote", "add", "origin", origin.to_str().expect("utf-8")]);
        w.git(&["push", "-q", "origin", "main"]);
        std::fs::write(w.work().join("deploy.sh"), DEPLOY_SH).expect("write");
        std::fs::write(w.work().join("rollback.sh"), ROLLBACK_SH).expect("write");
        w
    }

    fn work(&self) -> &Path {
        self.repo.outside()
    }

    /// An ft.toml (untracked: the dirty check looks at tracked files only) with the set-up
    /// the built-in suite's logins need on the servers deploy.sh starts.
    fn configure_deployed(&self) {
        std::fs::write(self.app().join("ft.toml"), deployed_config(self.work())).expect("write ft.toml");
    }

    fn app(&self) -> PathBuf {
        self.repo.path().to_path_buf()
    }

    fn git(&self, args: &[&str]) -> String {
        self.repo.git(args)
    }

    fn head(&self) -> String {
        self.repo.head()
    }

    fn commit(&self, text: &str) -> String {
        std::fs::write(self.app().join("README"), text).expect("write");
        self.git(&["commit", "-q", "-am", text]);
        self.head()
    }

    fn tag(&self, name: &str) -> Option<String> {
        self.repo.tag(name)
    }

    fn tags(&self) -> Vec<String> {
        self.git(&["tag"]).lines().map(str::to_string).collect()
    }

    fn origin_tags(&self) -> Vec<(String, String)> {
        let out = self.git(&["ls-remote", "--tags", "origin"]);
        out.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(sha, r)| (r.trim_start_matches("refs/tags/").to_string(), sha.to_string()))
            .collect()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.work().join(name)).unwrap_or_default()
    }

    fn history(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.app().join("reports/deploys.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each history line is JSON"))
            .collect()
    }

    /// `ft ARGS` in the work tree, with the deploy scripts' environment.
    fn ft(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = ft_command(&self.app());
        cmd.args(args).env("WORK", self.work()).env("FT_BIN", FT);
        for (k, v) in env {
            cmd.env(k, v);
        }
        output(&mut cmd)
    }

    fn deploy(&self, staging: &str, live: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let deploy = format!("sh {}/deploy.sh", self.work().display());
        let mut args = vec!["deploy", "--staging", staging, "--live", live, "--deploy-cmd", &deploy, "--max-wait", "5"];
        args.extend_from_slice(extra);
        self.ft(&args, env)
    }
}

impl Drop for World {
    /// Servers the deploy scripts started are stopped by their pid files.
    fn drop(&mut self) {
        for stage in ["staging", "live"] {
            if let Ok(pid) = std::fs::read_to_string(self.work().join(format!("{stage}.pid"))) {
                if let Ok(pid) = pid.trim().parse() {
                    let _ = signal(pid, libc::SIGKILL);
                }
            }
        }
    }
}

#[test]
fn a_green_release_deploys_once_verifies_live_and_tags_the_tested_commit() {
    let w = World::new();
    let head = w.head();
    let (staging, live) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    w.configure_deployed();
    let out = w.deploy(&staging, &live, &["--staging-deploy", "--push", "origin"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        w.read("deployed.log"),
        format!("staging {staging} {head}\nlive {live} {head}\n"),
        "each deploy ran once"
    );
    assert_eq!(w.tag("LIVE"), Some(head.clone()));
    let deployed: Vec<String> = w.tags().into_iter().filter(|t| t.starts_with("DEPLOYED-")).collect();
    assert_eq!(deployed.len(), 1, "{deployed:?}");
    let name = &deployed[0];
    assert!(regex::Regex::new(r"^DEPLOYED-\d{4}-\d{2}-\d{2}/\d{4}$").expect("re").is_match(name), "{name}");
    assert_eq!(w.tag(name), Some(head.clone()));
    let origin = w.origin_tags();
    assert!(origin.contains(&("LIVE".to_string(), head.clone())), "{origin:?}");
    assert!(origin.contains(&(name.clone(), head.clone())), "{origin:?}");
    let history = w.history();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["outcome"], "released");
    assert_eq!(history[0]["commit"], head.as_str());
    assert_eq!(history[0]["pushed_to"], "origin");
    let stages: Vec<&str> =
        history[0]["stages"].as_array().expect("stages").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(stages, ["staging deploy", "staging up", "staging tests", "live deploy", "live up", "live tests"]);
    assert!(out.stdout.contains("OK: released"), "{}", out.stdout);
    let live_junit = read_junit(&w.app().join("reports/live/junit.xml"));
    assert_eq!(live_junit.tests, 2, "only the smoke scenarios ran against live");
    assert!(live_junit.cases.iter().all(|c| c.status == "passed"));
    assert_eq!(
        read_junit(&w.app().join("reports/staging/junit.xml")).tests,
        SCENARIOS.len(),
        "the full suite ran against staging"
    );
}

#[test]
fn a_defect_on_staging_keeps_the_gate_shut_and_live_untouched() {
    let w = World::new();
    let staging = Served::start(&["accept-empty"]);
    staging.configure(&w.app());
    let live = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(&staging.url, &live, &["--push", "origin"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(w.read("deployed.log"), "", "the live deploy command never ran");
    assert!(w.tags().is_empty() && w.origin_tags().is_empty(), "no tag moved");
    assert!(
        out.stdout.contains("the gate stayed shut: 2 of 10 scenarios failed: cannot add empty list items (FAIL)"),
        "{}",
        out.stdout
    );
    assert_eq!(w.history()[0]["outcome"], "staging_failed");
}

#[test]
fn an_unreachable_staging_is_an_infrastructure_stop() {
    let w = World::new();
    let staging = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(&staging, "127.0.0.1:9", &[], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stdout.contains(&format!("target http://{staging} is unreachable")), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "");
    assert!(w.tags().is_empty());
    assert_eq!(w.history()[0]["outcome"], "staging_broken");
}

#[test]
fn a_failing_deploy_command_stops_the_pipeline_without_tags() {
    let w = World::new();
    let staging = Served::start(&[]);
    let out = w.ft(
        &[
            "deploy",
            "--staging",
            &staging.url,
            "--live",
            "127.0.0.1:9",
            "--deploy-cmd",
            "echo boom on {host}; exit 7",
            "--tag",
            "layout",
            "--allow-partial",
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stdout.contains("    | boom on 127.0.0.1:9"), "output streamed: {}", out.stdout);
    assert!(
        out.stdout.contains("live deploy failed: `echo boom on 127.0.0.1:9; exit 7` failed: exit code 7"),
        "{}",
        out.stdout
    );
    let log = std::fs::read_to_string(w.app().join("reports/live/deploy.log")).expect("the command's log is kept");
    assert!(log.contains("boom on 127.0.0.1:9") && log.contains("# exit code 7"), "{log}");
    assert!(w.tags().is_empty());
    assert_eq!(w.history()[0]["outcome"], "deploy_failed");
}

#[test]
fn live_that_never_comes_up_is_reported_and_not_tagged() {
    let w = World::new();
    let staging = Served::start(&[]);
    let live = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(
        &staging.url,
        &live,
        &["--tag", "layout", "--allow-partial", "--up-timeout", "1"],
        &[("NO_START", "1")],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stdout.contains(&format!("http://{live} did not answer within 1s")), "{}", out.stdout);
    assert!(out.stdout.contains("no --rollback-cmd was given: live is not answering"), "{}", out.stdout);
    assert!(w.tags().is_empty());
    assert_eq!(w.history()[0]["outcome"], "live_down");
}

#[test]
fn a_live_smoke_failure_without_rollback_leaves_live_tag_and_says_live_is_failing() {
    let w = World::new();
    let before = w.head();
    w.git(&["tag", "LIVE"]);
    let head = w.commit("second");
    assert_ne!(before, head);
    let staging = Served::start(&[]);
    let live = format!("127.0.0.1:{}", free_port());
    // Staging runs the smoke scenarios only: live's verification is under test here.
    let out = w.deploy(&staging.url, &live, &["--tag", "smoke", "--allow-partial"], &[("DEFECT_live", "wrong-title")]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(w.tag("LIVE"), Some(before), "LIVE was not moved");
    assert!(!w.tags().iter().any(|t| t.starts_with("DEPLOYED-")));
    assert!(out.stdout.contains("live is failing with the new release; LIVE was not moved"), "{}", out.stdout);
    assert_eq!(w.history()[0]["outcome"], "live_broken");
}

#[test]
fn a_live_smoke_failure_rolls_back_to_the_previous_live_commit_and_verifies_again() {
    let w = World::new();
    let before = w.head();
    w.git(&["tag", "LIVE"]);
    let head = w.commit("second");
    let staging = Served::start(&[]);
    let live = format!("127.0.0.1:{}", free_port());
    let rollback = format!("sh {}/rollback.sh", w.work().display());
    // Staging runs the smoke scenarios only: live's verification is under test here.
    let smoke = ["--tag", "smoke", "--allow-partial", "--rollback-cmd", &rollback];
    let out = w.deploy(&staging.url, &live, &smoke, &[("DEFECT_live", "wrong-title")]);
    assert_eq!(out.code, 1, "a rollback is not a release\n{}", out.all());
    assert_eq!(w.read("rollback.log"), format!("rollback to {before}\n"), "FT_ROLLBACK_TO named the previous LIVE");
    assert_eq!(w.tag("LIVE"), Some(before.clone()), "LIVE was not moved");
    assert!(
        out.stdout.contains(&format!("rolled back to {} and live passed verification again", &before[..12])),
        "{}",
        out.stdout
    );
    let h = &w.history()[0];
    assert_eq!(h["outcome"], "rolled_back");
    assert_eq!(h["rolled_back_to"], before.as_str());
    assert_eq!(h["commit"], head.as_str());
    assert_eq!(read_junit(&w.app().join("reports/live-after-rollback/junit.xml")).failures, 0);
}

#[test]
fn uncommitted_changes_are_refused_before_anything_runs() {
    let w = World::new();
    std::fs::write(w.app().join("README"), "edited\n").expect("write");
    let out = w.deploy("127.0.0.1:9", "127.0.0.1:10", &[], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("uncommitted changes to tracked files ( M README)"), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "");
    assert_eq!(w.history()[0]["outcome"], "refused");
}

#[test]
fn a_dry_run_prints_the_resolved_plan_and_runs_nothing() {
    let w = World::new();
    let out = w.ft(
        &[
            "deploy",
            "--staging",
            "superlists-staging.ottg.eu",
            "--live",
            "superlists.ottg.eu",
            "--deploy-cmd",
            "cd deploy_tools && fab deploy:host=elspeth@{host}",
            "--restart-cmd",
            "ssh elspeth@{host} sudo systemctl restart gunicorn-{host}",
            "--staging-deploy",
            "--dry-run",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        "staging deploy: cd deploy_tools && fab deploy:host=elspeth@superlists-staging.ottg.eu",
        "live restart: ssh elspeth@superlists.ottg.eu sudo systemctl restart gunicorn-superlists.ottg.eu",
        "run the scenarios tagged `smoke` against http://superlists.ottg.eu",
        "git tag -f LIVE",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in\n{}", out.stdout);
    }
    assert!(w.history().is_empty(), "a dry run is not a pipeline");
    assert!(!w.app().join("reports").exists());
}

/// A run record from `ft run` in the work tree.
fn record(w: &World, served: &Served, filter: &str) -> PathBuf {
    served.configure(&w.app());
    let out = w.ft(&["run", "--liveserver", &served.url, "--filter", filter, "--max-wait", "3"], &[]);
    assert!(out.code == 0 || out.code == 1, "{}", out.all());
    w.app().join("reports/run.json")
}

fn gate(w: &World, record: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["gate", "--record", record.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    w.ft(&args, &[])
}

/// A record of the whole built-in suite against `served`, green: the default --max-wait
/// (a wait that ends when its check holds costs nothing more; under load a 3 s one failed
/// a step whose check did not answer in time).
fn full_record(w: &World, served: &Served) -> PathBuf {
    served.configure(&w.app());
    let out = w.ft(&["run", "--liveserver", &served.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    w.app().join("reports/run.json")
}

#[test]
fn the_gate_opens_for_a_green_complete_recent_record_of_head_and_shuts_otherwise() {
    let w = World::new();
    let served = Served::start(&[]);
    let path = full_record(&w, &served);
    let ok = gate(&w, &path, &[]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert!(ok.stdout.starts_with("gate open:") && ok.stdout.contains("passed 10 of 10 scenarios"), "{}", ok.stdout);

    // --target: the record must be of the server about to be promoted.
    let host = served.url.trim_start_matches("http://");
    assert_eq!(gate(&w, &path, &["--target", host]).code, 0, "a bare host:port names the same server");
    let elsewhere = gate(&w, &path, &["--target", "http://staging.example"]);
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.all());
    assert!(
        elsewhere.stdout.contains(&format!("the record is of {}, not of --target http://staging.example", served.url)),
        "{}",
        elsewhere.stdout
    );

    let stale = gate(&w, &path, &["--max-age", "0s"]);
    assert_eq!(stale.code, 1, "{}", stale.all());
    assert!(stale.stdout.contains("older than --max-age 0s"), "{}", stale.stdout);

    // The same specs from a folder give the same digest; changed specs do not.
    let specs = w.work().join("specs");
    std::fs::create_dir(&specs).expect("mkdir");
    let text = std::fs::read_to_string(root().join("specs/superlists.toml")).expect("read");
    std::fs::write(specs.join("superlists.toml"), &text).expect("write");
    assert_eq!(gate(&w, &path, &["--specs", specs.to_str().expect("utf-8")]).code, 0);
    std::fs::write(specs.join("superlists.toml"), text.replace("Buy wellies", "Buy boots")).expect("write");
    let changed = gate(&w, &path, &["--specs", specs.to_str().expect("utf-8")]);
    assert_eq!(changed.code, 1);
    assert!(changed.stdout.contains("the specs changed since the run"), "{}", changed.stdout);

    let tested = w.head();
    let head = w.commit("another change");
    let moved = gate(&w, &path, &[]);
    assert_eq!(moved.code, 1);
    assert!(
        moved.stdout.contains(&format!("the record is for commit {}, but HEAD is {}", &tested[..12], &head[..12])),
        "{}",
        moved.stdout
    );
}

#[test]
fn the_gate_shuts_for_failed_incomplete_or_empty_records_and_refuses_garbage() {
    let w = World::new();
    let mutant = Served::start(&["wrong-title"]);
    let failed = record(&w, &mutant, "can start");
    let out = gate(&w, &failed, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("the run was not green (failed): scenarios failed: can start a to-do list"),
        "{}",
        out.stdout
    );

    let served = Served::start(&[]);
    let good = record(&w, &served, "layout");
    let mut rec = read_json(&good);
    rec["predicate"]["ft.run/v1"]["complete"] = serde_json::json!(false);
    rec["predicate"]["ft.run/v1"]["not_run"] = serde_json::json!(1);
    let incomplete = w.work().join("incomplete.json");
    std::fs::write(&incomplete, rec.to_string()).expect("write");
    let out = gate(&w, &incomplete, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("the record contradicts itself: it says green, but its counts say broken")
            && out.stdout.contains("1 of 1 scenarios did not run"),
        "{}",
        out.stdout
    );

    let mut rec = read_json(&good);
    rec["predicate"]["ft.run/v1"]["total"] = serde_json::json!(0);
    rec["predicate"]["ft.run/v1"]["passed"] = serde_json::json!(0);
    rec["predicate"]["passedTests"] = serde_json::json!([]);
    let empty = w.work().join("empty.json");
    std::fs::write(&empty, rec.to_string()).expect("write");
    let out = gate(&w, &empty, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("its counts say nothing ran"), "{}", out.stdout);

    // A commit, but nothing said about the tree: clean is not assumed.
    let mut rec = read_json(&good);
    rec["predicate"]["ft.run/v1"]["dirty_paths"] = serde_json::Value::Null;
    let unknown = w.work().join("unknown-tree.json");
    std::fs::write(&unknown, rec.to_string()).expect("write");
    let out = gate(&w, &unknown, &["--allow-partial"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("does not say whether the work tree was clean"), "{}", out.stdout);

    let garbage = w.work().join("garbage.json");
    std::fs::write(&garbage, "{\"hello\": 1}").expect("write");
    let out = gate(&w, &garbage, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("is not an ft run record"), "{}", out.stderr);
}

#[test]
fn flaky_is_not_green_for_the_gate_unless_allowed() {
    let w = World::new();
    let flaky = Served::start(&["flaky-home"]);
    let out =
        w.ft(&["run", "--liveserver", &flaky.url, "--filter", "layout", "--retries", "1", "--max-wait", "10"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let path = w.app().join("reports/run.json");
    let shut = gate(&w, &path, &["--allow-partial"]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("scenarios passed only on a retry (flaky: layout and styling)"), "{}", shut.stdout);
    assert_eq!(gate(&w, &path, &["--allow-flaky", "--allow-partial"]).code, 0);

    // The same in the one-command form: a flaky staging keeps the gate shut.
    let live = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(&flaky.url, &live, &["--filter", "layout", "--retries", "1"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("flaky, not green: passed only on a retry: layout and styling"), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "", "live was not deployed");
}

/// Issue 9: a record of ft's own embedded app never opens the gate, whatever it says.
#[test]
fn a_record_of_the_embedded_app_never_opens_the_gate() {
    let w = World::new();
    let out = w.ft(&["run", "--filter", "layout"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let shut = gate(&w, &w.app().join("reports/run.json"), &["--allow-partial"]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(
        shut.stdout.contains("the run tested ft's built-in superlists app") && shut.stdout.contains("not your server"),
        "{}",
        shut.stdout
    );
}

/// Issue 9: the gate vouches for the whole spec set; a filtered or partly skipped run
/// shuts it unless --allow-partial, and a run from a dirty tree unless --allow-dirty.
#[test]
fn partial_and_dirty_records_shut_the_gate_unless_allowed() {
    let w = World::new();
    let served = Served::start(&[]);
    let filtered = record(&w, &served, "layout");
    let shut = gate(&w, &filtered, &[]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(
        shut.stdout.contains("only 1 of the 10 scenarios of the specs ran (not selected: can start a to-do list,")
            && shut.stdout.contains("pass --allow-partial"),
        "{}",
        shut.stdout
    );
    assert_eq!(gate(&w, &filtered, &["--allow-partial"]).code, 0);
    let rec = read_json(&filtered);
    let statuses: Vec<&str> = rec["predicate"]["ft.run/v1"]["scenarios"]
        .as_array()
        .expect("every scenario of the specs is listed")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses.len(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == "not_selected").count(), 9, "{statuses:?}");

    // Most scenarios skipped as unsafe on a sensitive target: partial too.
    let out = w.ft(&["run", "--liveserver", &served.url, "--sensitive-url", "127\\.0\\.0\\.1"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let skipped = w.app().join("reports/run.json");
    let shut = gate(&w, &skipped, &[]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("skipped as unsafe: "), "{}", shut.stdout);

    // Uncommitted changes to a tracked file: what ran is not the commit (a filtered run
    // says so as a whole one would: the partial is allowed, the dirty tree is not).
    std::fs::write(w.app().join("README"), "edited, not committed\n").expect("write");
    let dirty = record(&w, &served, "layout");
    let shut = gate(&w, &dirty, &["--allow-partial"]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("the run was made with uncommitted changes ( M README)"), "{}", shut.stdout);
    assert_eq!(gate(&w, &dirty, &["--allow-partial", "--allow-dirty"]).code, 0);
}

/// Issue 9: one server as staging and live would run the whole data-writing suite on live.
#[test]
fn staging_and_live_naming_one_server_is_refused_before_anything_runs() {
    let w = World::new();
    let port = free_port();
    let out = w.deploy(&format!("127.0.0.1:{port}"), &format!("http://user:pw@127.0.0.1:{port}/"), &[], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("--staging and --live name the same server"), "{}", out.stdout);
    assert!(!out.stdout.contains("pw@"), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "", "no deploy ran");
}

/// Issue 9: `{host}` goes into `sh -c`; a host that is not plain host[:port] must never
/// reach the shell.
#[test]
fn a_host_that_would_inject_shell_code_is_refused() {
    let w = World::new();
    let marker = w.work().join("injected");
    let live = format!("127.0.0.1:{}", free_port());
    for staging in ["a;touch${IFS}injected;b", "x$(touch injected)", "h`touch injected`"] {
        let out = w.ft(
            &[
                "deploy",
                "--staging",
                staging,
                "--live",
                &live,
                "--deploy-cmd",
                "cd \"$WORK\" && echo {host} >> hosts.log",
            ],
            &[],
        );
        assert_eq!(out.code, 2, "{staging}: {}", out.all());
        assert!(!marker.exists(), "{staging}: the shell ran injected code");
        assert_eq!(w.read("hosts.log"), "", "{staging}: no deploy ran");
    }
    let out =
        w.ft(&["deploy", "--staging", "bad;host", "--live", &live, "--deploy-cmd", "echo {host}", "--dry-run"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout.contains("not a plain host[:port]") || out.stdout.contains("invalid --staging"),
        "{}",
        out.stdout
    );
}

/// Issue 9: a secret given in any place ft reads a URL from never appears in what ft
/// prints or writes: user info and secret-looking parameters are hidden everywhere.
#[test]
fn a_marker_secret_appears_in_no_output_report_or_file() {
    const SECRET: &str = "Marker5ecret";
    let w = World::new();
    let served = Served::start(&[]);
    let with_user = served.url.replacen("http://", &format!("http://ft:{SECRET}@"), 1);
    let mut outputs = Vec::new();
    // A bad port: the parse error quotes what was given.
    outputs.push(w.ft(&["run", "--liveserver", &format!("http://ft:{SECRET}@127.0.0.1:99999")], &[]));
    // --help with the variables set.
    outputs.push(w.ft(&["run", "--help"], &[("FT_LIVESERVER", &with_user), ("FT_SENSITIVE_URL", SECRET)]));
    // A remote end with user info and an access key, that is not there.
    let grid = format!("http://ft:{SECRET}@127.0.0.1:{}/wd/hub?accessKey={SECRET}&user=ft", free_port());
    outputs.push(w.ft(&["run", "--liveserver", &with_user, "--filter", "layout", "--webdriver", &grid], &[]));
    // A real run against a target with credentials, and a failing one.
    outputs.push(w.ft(&["run", "--liveserver", &with_user, "--filter", "layout", "--reports", "green"], &[]));
    let mutant = Served::start(&["wrong-title"]);
    let mutant_user = mutant.url.replacen("http://", &format!("http://ft:{SECRET}@"), 1);
    outputs.push(w.ft(
        &["run", "--liveserver", &mutant_user, "--filter", "can start", "--max-wait", "3", "--reports", "red"],
        &[],
    ));
    // A release pushed to a remote whose URL carries a token (unreachable: the push fails).
    let live = format!("127.0.0.1:{}", free_port());
    let remote = format!("https://ci:{SECRET}@127.0.0.1:{}/app.git?token={SECRET}", free_port());
    outputs.push(w.deploy(
        &with_user,
        &live,
        &["--filter", "layout", "--allow-partial", "--push", &remote, "--up-timeout", "20"],
        &[],
    ));

    for out in &outputs {
        assert!(!out.all().contains(SECRET), "the secret was printed:\n{}", out.all());
    }
    assert!(outputs[0].code == 2 && outputs[2].code == 3 && outputs[3].code == 0 && outputs[4].code == 1, "codes");
    assert!(outputs[5].stdout.contains("pushing LIVE to https://***@127.0.0.1:"), "{}", outputs[5].stdout);
    let mut files = vec![w.work().to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == ".git" || n == "origin.git") {
                continue;
            }
            files.extend(std::fs::read_dir(&path).expect("read dir").flatten().map(|e| e.path()));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET), "the secret is in {}", path.display());
            assert!(!path.display().to_string().contains(SECRET), "the secret names a file: {}", path.display());
        }
    }
}

/// Issue 9: the one-command form holds staging to the whole spec set too.
#[test]
fn a_filtered_staging_run_does_not_release_unless_partial_is_allowed() {
    let w = World::new();
    let staging = Served::start(&[]);
    let live = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(&staging.url, &live, &["--filter", "layout"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("partial, not green: 9 scenarios of the specs not selected"), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "", "live was not deployed");
}

/// The stage names of a history line, in order.
fn stage_names(line: &serde_json::Value) -> Vec<String> {
    line["stages"].as_array().expect("stages").iter().filter_map(|s| s["name"].as_str().map(str::to_string)).collect()
}

#[test]
fn a_staging_serving_another_commit_stops_the_release_before_any_scenario() {
    let w = World::new();
    let old = w.head();
    let head = w.commit("second");
    // Not deployed by ft: what is on staging must still be the commit about to be released.
    let staging = Served::start_with(&["--version", &old]);
    let live = format!("127.0.0.1:{}", free_port());
    let out =
        w.deploy(&staging.url, &live, &["--version-path", "/version", "--up-timeout", "1", "--push", "origin"], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "the gate stayed shut: staging version failed: target {}/version does not show commit {head} within 1s: it served \"{old}\"",
            staging.url
        )),
        "{}",
        out.stdout
    );
    assert!(!w.app().join("reports/staging/junit.xml").exists(), "no staging scenario ran");
    assert!(!out.stdout.contains("PASS ["), "{}", out.stdout);
    assert_eq!(w.read("deployed.log"), "", "the live deploy command never ran");
    assert!(!w.app().join("reports/live/deploy.log").exists());
    assert!(w.tags().is_empty() && w.origin_tags().is_empty(), "no tag moved");
    let history = w.history();
    assert_eq!(history[0]["outcome"], "wrong_version");
    assert_eq!(history[0]["exit_code"], 3);
    assert_eq!(stage_names(&history[0]), ["staging version"]);
    assert_eq!(history[0]["stages"][0]["ok"], false);
}

#[test]
fn a_green_release_proves_both_servers_serve_the_tested_commit() {
    let w = World::new();
    w.commit("second");
    let head = w.head();
    let (staging, live) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    let out = w.deploy(
        &staging,
        &live,
        &["--staging-deploy", "--version-path", "/version", "--tag", "smoke", "--allow-partial"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains(&format!("staging version: shows commit {}", &head[..12])), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("live version: shows commit {}", &head[..12])), "{}", out.stdout);
    let history = w.history();
    assert_eq!(history[0]["outcome"], "released");
    assert_eq!(
        stage_names(&history[0]),
        [
            "staging deploy",
            "staging up",
            "staging version",
            "staging tests",
            "live deploy",
            "live up",
            "live version",
            "live tests"
        ]
    );
    assert_eq!(w.tag("LIVE"), Some(head));
}

#[test]
fn a_live_serving_the_old_commit_after_its_deploy_is_not_smoke_tested_or_tagged() {
    let w = World::new();
    let old = w.head();
    w.git(&["tag", "LIVE"]);
    let head = w.commit("second");
    // Staging shows the commit short, as many apps do.
    let staging = Served::start_with(&["--version", &format!("v1.0-1-g{}", &head[..12])]);
    let live = format!("127.0.0.1:{}", free_port());
    let out = w.deploy(
        &staging.url,
        &live,
        &["--version-path", "/version", "--up-timeout", "1", "--tag", "layout", "--allow-partial"],
        &[("VERSION_live", &old)],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("does not show commit {head} within 1s: it served \"{old}\"")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("live is not serving the new release; LIVE was not moved"), "{}", out.stdout);
    assert!(!w.app().join("reports/live/junit.xml").exists(), "no smoke scenario ran against live");
    assert_eq!(w.tag("LIVE"), Some(old), "LIVE was not moved");
    assert!(!w.tags().iter().any(|t| t.starts_with("DEPLOYED-")));
    let history = w.history();
    assert_eq!(history[0]["outcome"], "wrong_version");
    assert_eq!(
        stage_names(&history[0]),
        ["staging version", "staging tests", "live deploy", "live up", "live version"]
    );
}

#[test]
fn ft_run_with_an_expected_version_refuses_a_target_running_another_before_any_browser() {
    let (x, y) = ("1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222");
    let served = Served::start_with(&["--version", y]);
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |expected: &str, extra: &[&str]| {
        let mut args =
            vec!["run", "--liveserver", &served.url, "--expect-version", expected, "--version-path", "/version"];
        args.extend_from_slice(extra);
        ft_in(dir.path(), &args)
    };
    // A bogus driver: had ft started a browser, it would say so.
    let wrong = run(x, &["--driver", "/nonexistent/chromedriver"]);
    assert_eq!(wrong.code, 3, "{}", wrong.all());
    assert!(
        wrong.stderr.contains(&format!("target {}/version does not show commit {x}: it served \"{y}\"", served.url)),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("chromedriver"), "no browser was needed:\n{}", wrong.stderr);
    assert!(!dir.path().join("reports/run.json").exists(), "no run record for a refused target");

    let right = run(&y[..12], &["--filter", "layout"]);
    assert_eq!(right.code, 0, "{}", right.all());
    assert_eq!(read_json(&dir.path().join("reports/run.json"))["predicate"]["ft.run/v1"]["green"], true);

    let alone = ft_in(dir.path(), &["run", "--expect-version", x]);
    assert_eq!(alone.code, 2, "{}", alone.all());
    assert!(alone.stderr.contains("--version-path"), "{}", alone.stderr);
}

#[test]
fn a_live_serving_another_commit_is_rolled_back_and_must_then_serve_the_previous_one() {
    let w = World::new();
    let before = w.head();
    w.git(&["tag", "LIVE"]);
    let head = w.commit("second");
    let staging = Served::start_with(&["--version", &head]);
    let live = format!("127.0.0.1:{}", free_port());
    let rollback = format!("sh {}/rollback.sh", w.work().display());
    let stale = "3333333333333333333333333333333333333333";
    let out = w.deploy(
        &staging.url,
        &live,
        &[
            "--version-path",
            "/version",
            "--up-timeout",
            "1",
            "--tag",
            "layout",
            "--allow-partial",
            "--rollback-cmd",
            &rollback,
        ],
        &[("VERSION_live", stale)],
    );
    assert_eq!(out.code, 1, "a rollback is not a release\n{}", out.all());
    assert!(
        out.stdout.contains(&format!("does not show commit {head} within 1s: it served \"{stale}\"")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("live version: shows commit {}", &before[..12])), "{}", out.stdout);
    assert_eq!(w.tag("LIVE"), Some(before), "LIVE was not moved");
    let history = w.history();
    assert_eq!(history[0]["outcome"], "rolled_back");
    let versions: Vec<bool> = history[0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter(|s| s["name"] == "live version")
        .map(|s| s["ok"].as_bool().expect("ok"))
        .collect();
    assert_eq!(versions, [false, true], "the new commit was not served; the rolled-back one was");
}

/// Issue 13: a bad `--staging` is named as `--staging`, not as `--liveserver`.
#[test]
fn a_bad_deploy_target_is_named_by_its_own_flag() {
    let w = World::new();
    let out = w.ft(&["deploy", "--staging", "http://h:99999", "--live", "127.0.0.1:9", "--deploy-cmd", "true"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("invalid --staging \"http://h:99999\""), "{}", out.stdout);
}
