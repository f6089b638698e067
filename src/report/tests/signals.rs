//! What the browser reported, and the filmstrip, in every report (issue 11).

use super::html::html_text;
use super::junit::assert_accepted;
use super::*;

// Issue 11: what the browser reported, and the filmstrip, in every report.

/// A console error whose text is markup, an exception, and a POST answered 500.
fn browser_signals() -> crate::browser::Signals {
    use crate::browser::{Signal, SignalKind};
    let console = |kind, text: &str| Signal {
        kind,
        at_ms: 1250,
        text: text.into(),
        method: None,
        url: Some("http://127.0.0.1:8000/static/app.js:12:5".into()),
        status: None,
        resource: None,
    };
    crate::browser::Signals {
        entries: vec![
            console(SignalKind::ConsoleError, "<img src=x onerror=alert(1)> is not a function"),
            console(SignalKind::Exception, "TypeError: list is undefined"),
            Signal {
                kind: SignalKind::FailedRequest,
                at_ms: 2004,
                text: String::new(),
                method: Some("POST".into()),
                url: Some("http://127.0.0.1:8000/lists/new?token=abc".into()),
                status: Some(500),
                resource: Some("document".into()),
            },
        ],
        dropped: 0,
        source: Some("bidi".into()),
    }
}

const BROWSER_SAID: &str = "browser: 1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500";

/// The built-in suite with `dup` (the duplicate-items scenario) failed, its evidence
/// holding the browser's signals and three frames.
fn failed_with_signals() -> (RunSummary, usize) {
    let scenarios = scenarios();
    let dup = scenarios.iter().position(|s| s.name.contains("duplicate")).expect("the duplicate scenario");
    let summary = all(|s| {
        if s.name.contains("duplicate") {
            let mut f = failure(s);
            f.evidence.signals = browser_signals();
            f.evidence.filmstrip = [(12, "visit /"), (14, "type \"<b>milk</b>\" into #id_text"), (15, "press Enter")]
                .into_iter()
                .map(|(line, step)| crate::browser::Frame { line, step: step.into(), png: vec![line as u8; 8] })
                .collect();
            Outcome::Failed(f)
        } else {
            Outcome::Passed
        }
    });
    (summary, dup)
}

#[test]
fn the_browsers_summary_is_in_the_console_the_json_events_and_github_annotations() {
    let (summary, dup) = failed_with_signals();
    let scenarios = scenarios();
    let finished = crate::runner::RunEvent::ScenarioFinished(summary.results[dup].clone());
    let out = Shared::default();
    let mut console = Console::new(Box::new(out.clone()), false);
    console.event(&finished, &scenarios, &Artifacts::new());
    let text = out.text();
    assert!(text.lines().any(|l| l.trim() == BROWSER_SAID), "redacted, under the failure: {text}");

    let events = Shared::default();
    let mut stream = crate::report::EventStream::new(Box::new(events.clone()));
    stream.event(&finished, &scenarios, &Artifacts::new());
    let line: serde_json::Value = serde_json::from_str(events.text().trim()).expect("one JSON line");
    assert_eq!(line["browser"], "1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500");

    let mut annotations = Vec::new();
    crate::report::github::annotations(&mut annotations, &scenarios, &summary).expect("written");
    let annotations = String::from_utf8(annotations).expect("utf-8");
    assert!(annotations.contains(&format!("%0A{BROWSER_SAID}")), "GitHub's annotation: {annotations}");
}

#[test]
fn junit_carries_the_browsers_summary_in_the_message_and_stays_valid() {
    let (summary, _) = failed_with_signals();
    let xml = assert_accepted(&summary);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let failure = case(&doc, "cannot add duplicate items")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    let message = failure.attribute("message").expect("a message");
    assert!(message.ends_with(&format!("[{BROWSER_SAID}]")), "{message}");
    assert!(message.contains("still not true after"), "the failure itself first: {message}");
    assert!(failure.text().is_some_and(|t| t.lines().any(|l| l == BROWSER_SAID)), "and in the detail: {xml}");
    assert!(!xml.contains("token=abc"));
}

#[test]
fn the_html_report_lists_the_signals_escaped_and_the_filmstrip_in_order() {
    let (summary, dup) = failed_with_signals();
    let dir = "reports/artifacts/superlists/d";
    let mut files: Vec<std::path::PathBuf> = vec![format!("{dir}/d.png").into(), format!("{dir}/d.signals.txt").into()];
    files.extend((1..=3).map(|i| format!("{dir}/d.filmstrip-0{i}-line-{}.png", [12, 14, 15][i - 1]).into()));
    let mut artifacts = Artifacts::new();
    artifacts.insert((dup, 1), files);
    let page = html_text(&summary, &artifacts);

    assert!(page.contains(&format!("<p class=\"browser\">{}</p>", crate::report::html::esc(BROWSER_SAID))), "{page}");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; is not a function"), "entries escaped: {page}");
    assert!(page.contains("TypeError: list is undefined") && page.contains("→ 500 (document)"), "{page}");
    assert!(!page.contains("token=abc"), "entries redacted: {page}");
    assert!(page.contains(r#"href="artifacts/superlists/d/d.signals.txt">browser signals: d.signals.txt"#), "{page}");
    let frames: Vec<usize> =
        (1..=3).map(|i| page.find(&format!("filmstrip-0{i}-line-")).expect("each frame shown")).collect();
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "in step order: {page}");
    assert!(
        page.contains("<figcaption>after line 14: type &quot;&lt;b&gt;milk&lt;/b&gt;&quot; into #id_text</figcaption>")
    );
    assert_eq!(page.matches("<img").count(), 4, "the screenshot and three frames, nothing from the signals: {page}");
    assert_eq!(page.matches("alt=\"screenshot").count(), 1, "a frame is not shown as the screenshot: {page}");
}

#[test]
fn evidence_files_hold_the_signals_and_the_filmstrip_in_step_order() {
    let (summary, dup) = failed_with_signals();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("artifacts");
    let place = crate::report::artifacts::Place { dir: "superlists/dup".into(), stem: "dup".into() };
    let files = crate::report::artifacts::write(&root, &place, 2, &summary.results[dup].outcome).expect("written");
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().expect("a name").to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        [
            "dup.attempt-2.signals.json",
            "dup.attempt-2.signals.txt",
            "dup.attempt-2.filmstrip-01-line-12.png",
            "dup.attempt-2.filmstrip-02-line-14.png",
            "dup.attempt-2.filmstrip-03-line-15.png",
        ]
    );
    let mut sorted = names.clone();
    sorted.sort();
    let frames: Vec<&String> = sorted.iter().filter(|n| n.contains(".filmstrip-")).collect();
    assert_eq!(frames, names[2..].iter().collect::<Vec<_>>(), "frame names sort in step order");
    assert_eq!(files.iter().filter(|p| crate::report::artifacts::is_frame(p)).count(), 3);
    assert_eq!(std::fs::read(&files[3]).expect("a frame"), vec![14u8; 8], "each frame's own bytes");

    let json = std::fs::read_to_string(&files[0]).expect("signals.json");
    let back: crate::browser::Signals = serde_json::from_str(&json).expect("signals.json reads back");
    assert_eq!(back, browser_signals(), "round-trips");
    let text = std::fs::read_to_string(&files[1]).expect("signals.txt");
    assert!(text.starts_with("1 console error; 1 uncaught exception; POST /lists/new?token=*** → 500\n"), "{text}");
    assert!(text.contains("+2.004s  failed request   POST http://127.0.0.1:8000/lists/new?token=*** → 500"), "{text}");
    assert!(text.contains("collected by: bidi") && !text.contains("token=abc"), "{text}");

    // Collected, and nothing reported: the JSON says so; there is nothing to read.
    let quiet = Outcome::Failed(Failure {
        evidence: crate::browser::Evidence {
            signals: crate::browser::Signals { source: Some("bidi".into()), ..Default::default() },
            ..Default::default()
        },
        ..failure(&scenarios()[0])
    });
    let files = crate::report::artifacts::write(&root, &place, 1, &quiet).expect("written");
    assert_eq!(files, [root.join("superlists/dup/dup.signals.json")]);
    assert!(crate::report::artifacts::write(&root, &place, 1, &Outcome::Passed).expect("nothing").is_empty());
}
