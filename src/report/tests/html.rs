//! The HTML report read back as text (the browser's view is tests/it/html_report.rs).

use super::*;

// Issue 10: the HTML report, read back as text (the browser's view is tests/html_report.rs).

pub(super) fn html_text(summary: &RunSummary, artifacts: &Artifacts) -> String {
    html_page(&scenarios(), summary, artifacts, &[])
}

fn html_page(
    scenarios: &[Scenario],
    summary: &RunSummary,
    artifacts: &Artifacts,
    history: &[crate::report::history::ScenarioRun],
) -> String {
    let info = info();
    let page = crate::report::html::RunPage {
        info: &info,
        scenarios,
        summary,
        verdict: Verdict::of(summary),
        flaky: FlakyPolicy::Accept,
        artifacts,
        dir: "reports".as_ref(),
        history,
    };
    let mut out = Vec::new();
    crate::report::html::write_run(&mut out, &page).expect("written to a Vec");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn the_html_report_of_a_failing_and_flaky_run_shows_each_failure_its_screenshot_and_the_retry() {
    let scenarios = scenarios();
    let failing =
        summary(
            &scenarios,
            |s| if s.name.contains("duplicate") { Outcome::Failed(failure(s)) } else { Outcome::Passed },
        );
    let dup = scenarios.iter().position(|s| s.name.contains("duplicate")).expect("the duplicate scenario");
    let mut artifacts = Artifacts::new();
    artifacts.insert(
        (1, 1),
        vec!["reports/artifacts/superlists/m/m.png".into(), "reports/artifacts/superlists/m/m.html".into()],
    );
    artifacts.insert((dup, 1), vec!["reports/artifacts/superlists/d/d.png".into()]);
    let page = html_text(&failing, &artifacts);

    assert!(page.contains(r#"<h1 id="verdict" class="red">NOT OK (failed)</h1>"#), "{page}");
    assert!(page.contains("7 scenarios: 6 passed (1 flaky), 1 failed, 0 errors, 0 not run"), "{page}");
    assert!(page.contains("https://***@staging.example") && page.contains(&"1".repeat(40)), "{page}");
    assert!(page.contains(r#"data-status="FAIL""#) && page.contains(r#"data-status="FLAKY""#), "{page}");
    assert!(page.contains("still not true after 10.0s (400 checks)"), "the failure's message: {page}");
    assert!(page.contains("last seen: the title was &quot;Superlists&quot;"), "{page}");
    assert!(page.contains(r#"<img src="artifacts/superlists/d/d.png""#), "the failure's screenshot: {page}");
    assert!(page.contains(r#"<img src="artifacts/superlists/m/m.png""#), "the retry's screenshot: {page}");
    assert!(page.contains(r#"href="artifacts/superlists/m/m.html">page HTML"#), "{page}");
    assert!(page.contains("attempt 1 of 2: FAIL") && page.contains("attempt 2 of 2: PASS"), "the retry: {page}");
    assert!(!page.contains("base64") && !page.contains("http-equiv=\"refresh\""));
    assert!(page.contains("content=\"default-src &#39;none&#39;; img-src &#39;self&#39; data:; style-src &#39;sha256-"));
    assert!(!page.contains("unsafe-inline"), "only the page's own style and script, by hash: {page}");
    // The failure first, then the flake, then the rest in spec order.
    let at = |name: &str| page.find(&format!(">{name}<")).unwrap_or_else(|| panic!("{name} in {page}"));
    assert!(at(&scenarios[dup].name) < at(&scenarios[1].name), "{page}");
    assert!(at(&scenarios[1].name) < at(&scenarios[0].name), "{page}");
    let last = (2..scenarios.len()).rev().find(|i| *i != dup).expect("a passing scenario after the first");
    assert!(at(&scenarios[0].name) < at(&scenarios[last].name), "{page}");
}

#[test]
fn the_html_report_escapes_names_messages_and_what_the_page_showed() {
    let mut scenarios = scenarios();
    scenarios[0].name = "<script>alert('name')</script> & co".into();
    let mut summary = all(|_| Outcome::Passed);
    summary.results[0].outcome = Outcome::Failed(Failure {
        step: Some((3, 5, "expect_text \"<b>\"".into())),
        message: "saw <img src=x onerror=alert(1)> at https://user:pw@host/?token=abc".into(),
        last_seen: Some("the text was \"</p><script>\"".into()),
        evidence: Default::default(),
    });
    let page = html_page(&scenarios, &summary, &Artifacts::new(), &[]);
    assert!(page.contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; &amp; co"), "{page}");
    assert!(page.contains("saw &lt;img src=x onerror=alert(1)&gt;"), "{page}");
    assert!(page.contains("the text was &quot;&lt;/p&gt;&lt;script&gt;&quot;"), "{page}");
    assert!(!page.contains("pw@") && !page.contains("token=abc"), "messages are redacted: {page}");
    // The only tags of these kinds are the page's own.
    assert_eq!(page.matches("<script>").count(), 1, "{page}");
    assert_eq!(page.matches("<img").count(), 0, "{page}");
}
