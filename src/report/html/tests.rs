//! The page's parts in-process, on a `Vec<u8>`; the whole page in a browser is
//! tests/it/html_report.rs.

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
