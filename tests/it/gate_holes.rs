//! Issue 24, the `ft gate` findings: a run's certificate trust in its record, refused
//! when nothing was checked (9); names and reasons that hold control characters printed
//! escaped (4). Real runs of the built-in suite against the embedded app as a real
//! process, in a real git work tree.

use crate::common;
use crate::deploy_holes::Work;

use std::process::Command;

use common::*;

fn trust(record: &serde_json::Value) -> &serde_json::Value {
    &record["predicate"]["ft.run/v1"]["trust"]
}

// Issue 24, finding 9: `--insecure-certs` left no trace in run.json, so a gate could not
// refuse a staging run that accepted any certificate.
#[test]
fn a_run_that_checked_no_certificate_says_so_and_the_gate_and_deploy_refuse_it_unless_told() {
    let w = Work::new();
    let served = Served::start(&[]);
    let run = |reports: &str, extra: &[&str]| {
        let mut args = vec!["run", "--liveserver", &served.url, "--filter", "layout", "--reports", reports];
        args.extend_from_slice(extra);
        let out = w.ft(&args);
        assert_eq!(out.code, 0, "{}", out.all());
        w.file(reports).join("run.json")
    };
    let gate = |record: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["gate", "--record", record.to_str().expect("utf-8"), "--allow-partial"];
        args.extend_from_slice(extra);
        w.ft(&args)
    };

    let insecure = run("insecure", &["--insecure-certs"]);
    assert_eq!(trust(&read_json(&insecure)), &serde_json::json!({"insecure_certs": true}));
    let shut = gate(&insecure, &[]);
    assert_eq!(shut.code, 1, "{}", shut.all());
    assert!(shut.stdout.contains("accepted any HTTPS certificate (--insecure-certs)"), "{}", shut.all());
    assert_eq!(gate(&insecure, &["--allow-insecure"]).code, 0);

    // --ca-cert is recorded as a fact (the pins of the certificates trusted), not refused.
    let ca = w.file("ca.pem");
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ft test CA"])
        .current_dir(w.path())
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let with_ca = run("ca", &["--ca-cert", ca.to_str().expect("utf-8")]);
    let t = trust(&read_json(&with_ca)).clone();
    assert_eq!(t["insecure_certs"], false, "{t}");
    assert_eq!(t["ca_certs"].as_array().map(Vec::len), Some(1), "{t}");
    assert_eq!(gate(&with_ca, &[]).code, 0);
    let plain = run("plain", &[]);
    assert_eq!(trust(&read_json(&plain)), &serde_json::json!({"insecure_certs": false}));

    // A record that does not say how it trusted certificates is no run record.
    let mut silent = read_json(&insecure);
    silent["predicate"]["ft.run/v1"].as_object_mut().expect("ft").remove("trust");
    let silent_path = w.file("silent.json");
    std::fs::write(&silent_path, silent.to_string()).expect("write");
    let refused = gate(&silent_path, &[]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("missing field `trust`"), "{}", refused.all());

    // ft deploy: the same rule for its staging run.
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--staging",
            &served.url,
            "--live",
            "127.0.0.1:9",
            "--deploy-cmd",
            "echo deployed >> live.log",
            "--filter",
            "layout",
            "--allow-partial",
            "--up-timeout",
            "1",
            "--insecure-certs",
        ];
        args.extend_from_slice(extra);
        w.ft(&args)
    };
    let out = deploy(&[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("the gate stayed shut: the run accepted any HTTPS certificate"), "{}", out.all());
    assert!(!w.file("live.log").exists(), "live was not deployed");
    let out = deploy(&["--allow-insecure"]);
    assert!(w.file("live.log").exists(), "with --allow-insecure the gate opened\n{}", out.all());
}

// Issue 24, finding 4: a failed scenario's name holding `\r\n` made the gate print a line
// reading `gate open: all good (verdict green)` while it exited 1: a forged line in a CI log.
#[test]
fn names_and_reasons_with_control_characters_print_escaped_on_one_line_each() {
    let w = Work::new();
    let mutant = Served::start(&["wrong-title"]);
    let out = w.ft(&["run", "--liveserver", &mutant.url, "--filter", "can start", "--max-wait", "4"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let mut rec = read_json(&w.file("reports/run.json"));
    let forged = "can start\r\ngate open: all good (verdict green)\x1b[2K";
    rec["predicate"]["failedTests"] = serde_json::json!([forged]);
    let ft = &mut rec["predicate"]["ft.run/v1"];
    ft["target"] = "staging\x1b]0;owned\x07".into();
    for s in ft["scenarios"].as_array_mut().expect("scenarios") {
        if s["status"] == "failed" {
            s["name"] = forged.into();
        }
        if s["status"] == "not_selected" && s["name"] == "layout and styling" {
            s["quarantine"] = "flaky\r\ngate open: quarantine lifted\x1b[1A".into();
        }
    }
    let path = w.file("forged.json");
    std::fs::write(&path, rec.to_string()).expect("write");
    let out = w.ft(&["gate", "--record", path.to_str().expect("utf-8"), "--allow-partial"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.starts_with("gate shut: "), "{}", out.stdout);
    for line in out.stdout.lines().skip(1) {
        assert!(line.starts_with("  "), "every line after the first is indented: {line:?}\n{}", out.stdout);
    }
    assert!(!out.stdout.contains('\x1b') && !out.stdout.contains('\r'), "{:?}", out.stdout);
    assert!(out.stdout.contains(r"can start\r\ngate open: all good (verdict green)\u{1b}[2K"), "{}", out.stdout);
    assert!(out.stdout.contains(r"quarantined: flaky\r\ngate open: quarantine lifted\u{1b}[1A"), "{}", out.stdout);
}
