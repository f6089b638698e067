//! Proof that a target runs the release we mean: fetch its version page (`--version-path`)
//! and find the expected version (a commit, or any text) in what it serves. One rule
//! (`shows`) decides what counts as showing it; `wait_for` is the one way to ask.

use std::time::Duration;

use crate::shared::redact::redact;
use crate::wait::{self, Check, Patience};

/// A commit shown short must keep at least this many hex digits (12, as `git log
/// --abbrev=12` and many apps print it): fewer could name several commits in a big repository.
pub const MIN_SHORT_COMMIT: usize = crate::shared::text::SHORT_HASH;

/// The most of a version page ft reads: a version page is a line, not a download.
const MAX_BODY: usize = 64 * 1024;

/// How much of what a target served a message shows.
const SHOWN_CHARS: usize = 120;

/// What a target must show, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedVersion {
    /// The page on the target, from its base URL: `/version`.
    pub path: String,
    /// What the page must show (see `shows`): the commit being released, or any text.
    pub text: String,
    /// How the page must show it (`--version-match`).
    pub rule: VersionMatch,
}

/// `--version-match`: what counts as a version page showing the version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum VersionMatch {
    /// The page states it: its whole text or first word, a JSON key (`commit`, `version`,
    /// `sha`, `revision`), or a line `commit: …` / `version=…`.
    #[default]
    States,
    /// The page mentions it anywhere, as a word of its own: a page reading
    /// `current: X previous: Y` shows both X and Y.
    Mentions,
}

/// The keys under which a page (JSON, or `key: value` lines) states its version.
const KEYS: [&str; 6] = ["commit", "version", "sha", "revision", "git_commit", "gitcommit"];

impl ExpectedVersion {
    /// The page's full URL on a target with base URL `base` (no trailing slash).
    pub fn url_on(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path)
    }

    /// `commit 0123…` for a commit, `version "1.4.2"` for anything else.
    pub fn describe(&self) -> String {
        if is_hex(&self.text) && self.text.len() >= MIN_SHORT_COMMIT {
            format!("commit {}", self.text)
        } else {
            format!("version {:?}", self.text)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("target {url} does not show {expected}{within}: {last_seen}\n  hint: the target runs another release (or has not restarted yet), or the version page is elsewhere: check --version-path; a commit counts in full or as its first {MIN_SHORT_COMMIT} or more hex digits, and the page must state it (its whole text or first word, a JSON key commit/version/sha/revision, or a line `commit: …`) unless --version-match mentions")]
    NotShown { url: String, expected: String, within: String, last_seen: String },
    #[error("failed to make an HTTP client to fetch {url}")]
    Client {
        url: String,
        #[source]
        source: super::tls::ClientError,
    },
}

/// `--version-path`: a path on the target, starting with `/`.
pub fn parse_path(s: &str) -> Result<String, String> {
    let s = s.trim();
    if !s.starts_with('/') || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#') {
        return Err("expected a path on the target starting with /, e.g. /version".into());
    }
    Ok(s.to_string())
}

/// `--expect-version`: any text but blank.
pub fn parse_text(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("expected the version the target must show, e.g. a commit".into());
    }
    Ok(s.to_string())
}

/// Whether a version page's `body` shows `expected` under `rule`: the one rule.
pub fn shows_by(body: &str, expected: &str, rule: VersionMatch) -> bool {
    match rule {
        VersionMatch::States => states(body, expected),
        VersionMatch::Mentions => shows(body, expected),
    }
}

/// `VersionMatch::States`: the page's whole trimmed text or its first word is the version,
/// or a JSON object's key or a `key: value` / `key=value` line of `KEYS` gives it (`same`).
/// Anything else on the page (a previous release, a link to a commit) is not what it runs.
fn states(body: &str, expected: &str) -> bool {
    let expected = expected.trim();
    let text = body.trim();
    if expected.is_empty() || text.is_empty() {
        return false;
    }
    if same(text, expected) || text.split_whitespace().next().is_some_and(|w| same(w, expected)) {
        return true;
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        return map.iter().any(|(k, v)| {
            KEYS.contains(&k.to_ascii_lowercase().as_str()) && v.as_str().is_some_and(|v| same(v.trim(), expected))
        });
    }
    text.lines().any(|line| {
        let Some((key, value)) = line.split_once([':', '=']) else { return false };
        let key = key.trim().to_ascii_lowercase();
        KEYS.contains(&key.as_str()) && value.split_whitespace().next().is_some_and(|v| same(v, expected))
    })
}

/// Whether one value a page states is `expected`: for a commit (hex, 12+ digits), the same
/// commit in full or short (12+ digits, also after `git describe`'s `-g`), or the full
/// commit (40 or 64 digits) when a short one is expected, never a longer word that merely
/// begins with it; anything else, exactly.
fn same(shown: &str, expected: &str) -> bool {
    if !(is_hex(expected) && expected.len() >= MIN_SHORT_COMMIT) {
        return shown == expected;
    }
    let shown = shown.to_ascii_lowercase();
    let expected = expected.to_ascii_lowercase();
    let digits = match shown.rsplit_once("-g") {
        Some((_, d)) if is_hex(d) => d,
        _ => shown.as_str(),
    };
    is_hex(digits)
        && digits.len() >= MIN_SHORT_COMMIT
        && (expected.starts_with(digits) || (matches!(digits.len(), 40 | 64) && digits.starts_with(&expected)))
}

/// `VersionMatch::Mentions`: whether a version page's `body` mentions `expected`:
///
/// - `expected` appears as a word of its own (not inside a longer run of letters and
///   digits); case-insensitive when it is hex, as commits are, exact otherwise; or
/// - `expected` is a commit (hex, 12+ digits) and the body has a hex word of 12+ digits
///   (also as `git describe` writes it, after a `g`) where one of the two begins the
///   other: a page may show a short commit, or a full one when the short one is expected.
fn shows(body: &str, expected: &str) -> bool {
    let expected = expected.trim();
    if expected.is_empty() {
        return false;
    }
    let hex = is_hex(expected);
    let whole = if hex {
        has_word(&body.to_ascii_lowercase(), &expected.to_ascii_lowercase())
    } else {
        has_word(body, expected)
    };
    if whole {
        return true;
    }
    if !hex || expected.len() < MIN_SHORT_COMMIT {
        return false;
    }
    let expected = expected.to_ascii_lowercase();
    body.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| {
        let word = word.to_ascii_lowercase();
        let digits = match word.strip_prefix('g') {
            Some(rest) if is_hex(rest) => rest,
            _ => word.as_str(),
        };
        digits.len() >= MIN_SHORT_COMMIT
            && is_hex(digits)
            && (expected.starts_with(digits) || digits.starts_with(&expected))
    })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `needle` in `haystack` with no letter or digit right before or after it.
fn has_word(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

/// Fetch `expected.path` on the target at `base` (redirects followed, each request bounded
/// by `request_timeout`, certificates checked as `trust` says) until it shows `expected.text`, re-checking every `patience.poll`
/// up to `patience.max_wait` (a rolling restart may serve the old release for a while); a
/// zero `max_wait` checks once.
pub async fn wait_for(
    base: &str,
    expected: &ExpectedVersion,
    patience: Patience,
    request_timeout: Duration,
    trust: &super::tls::Trust,
) -> Result<(), VersionError> {
    let url = expected.url_on(base);
    let shown = redact(&url);
    let client = trust.client(request_timeout).map_err(|source| VersionError::Client { url: shown.clone(), source })?;
    let looked = wait::until(patience, || look(&client, &url, expected, request_timeout)).await;
    match looked {
        Ok(()) => Ok(()),
        Err(wait::WaitError::TimedOut(t)) => Err(VersionError::NotShown {
            url: shown,
            expected: expected.describe(),
            within: if patience.max_wait.is_zero() {
                String::new()
            } else {
                format!(" within {:?}", patience.max_wait)
            },
            last_seen: t.last_seen,
        }),
        Err(wait::WaitError::Fatal(never)) => match never {},
    }
}

/// One look at the version page: shown, or what was seen instead.
async fn look(
    client: &reqwest::Client,
    url: &str,
    expected: &ExpectedVersion,
    timeout: Duration,
) -> Result<Check<()>, std::convert::Infallible> {
    let mut response = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) => return Ok(Check::NotYet(format!("it did not answer: {}", super::cause_of(&e, timeout)))),
    };
    let status = response.status();
    if !status.is_success() {
        // An error page's HTML says less than its status.
        return Ok(Check::NotYet(format!("it answered HTTP {status}")));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() >= MAX_BODY {
                    body.truncate(MAX_BODY);
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return Ok(Check::NotYet(format!("reading its answer failed: {}", super::cause_of(&e, timeout)))),
        }
    }
    let body = String::from_utf8_lossy(&body);
    Ok(if shows_by(&body, &expected.text, expected.rule) {
        Check::Done(())
    } else {
        Check::NotYet(format!("it served {}", clip(&body)))
    })
}

/// What a page served, for a message: one quoted line, clipped.
fn clip(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "an empty page".into();
    }
    match flat.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{:?}…", &flat[..at]),
        None => format!("{flat:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";

    #[test]
    fn a_full_commit_shows_anywhere_in_the_page_in_either_case() {
        for body in [
            SHA.to_string(),
            format!("{SHA}\n"),
            format!("{{\"commit\": \"{SHA}\", \"built\": \"2024-01-01\"}}"),
            format!("<html><body><p>deployed {}</p></body></html>", SHA.to_uppercase()),
            format!("commit={SHA}"),
        ] {
            assert!(shows(&body, SHA), "{body}");
        }
        assert!(shows(SHA, &SHA.to_uppercase()), "the expected commit in capitals");
    }

    #[test]
    fn a_short_commit_of_twelve_or_more_digits_shows_the_commit() {
        assert!(shows(&SHA[..12], SHA));
        assert!(shows(&format!("version: {}\n", &SHA[..20]), SHA));
        assert!(shows(&format!("v1.4.2-3-g{}", &SHA[..12]), SHA), "git describe");
        assert!(!shows(&SHA[..11], SHA), "11 digits may name several commits");
        assert!(!shows(&format!("v1.4.2-3-g{}", &SHA[..7]), SHA));
    }

    #[test]
    fn another_commit_does_not_show_the_commit() {
        let other = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccdddd";
        assert!(!shows(other, SHA));
        assert!(!shows(&other[..12], SHA));
        assert!(!shows(&format!("{}ffff", &SHA[..12]), SHA), "a 16-digit word that is not a prefix");
        assert!(!shows("", SHA));
        assert!(!shows("<h1>Not Found</h1>", SHA));
    }

    #[test]
    fn a_commit_inside_a_longer_word_does_not_count() {
        assert!(!shows(&format!("x{SHA}"), SHA));
        assert!(!shows(&format!("{SHA}z"), SHA));
    }

    #[test]
    fn a_short_expected_commit_is_shown_by_the_full_one() {
        assert!(shows(&format!("{SHA}\n"), &SHA[..12]));
        assert!(!shows(&format!("{SHA}\n"), &SHA[1..13]), "only a beginning counts");
    }

    #[test]
    fn other_text_shows_as_a_word_exactly() {
        assert!(shows("release 1.4.2\n", "1.4.2"));
        assert!(!shows("release 1.4.20\n", "1.4.2"));
        assert!(!shows("release 11.4.2\n", "1.4.2"));
        assert!(shows("colour: Blue", "Blue"));
        assert!(!shows("colour: blue", "Blue"));
        assert!(!shows("anything", "  "));
    }

    // Issue 24, finding 12: a page reading `current: <other> previous: <H> see …/commit/<H>`
    // satisfied --expect-version <H>, and so did a 42-digit word beginning with <H>.
    #[test]
    fn by_default_the_page_must_state_the_commit_not_merely_mention_it() {
        let other = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccdddd";
        let mentions = format!("current: {other} previous: {SHA} see https://git.example/commit/{SHA}");
        assert!(!shows_by(&mentions, SHA, VersionMatch::States));
        assert!(shows_by(&mentions, SHA, VersionMatch::Mentions), "on request, a mention is enough");
        let longer = format!("{SHA}ab");
        assert!(!shows_by(&longer, SHA, VersionMatch::States), "a 42-digit word is no commit");
        assert!(!shows_by(&format!("build {longer}"), SHA, VersionMatch::States));
        for body in [
            SHA.to_string(),
            format!("  {}\n", SHA.to_uppercase()),
            format!("{SHA} built 2026-01-01"),
            SHA[..12].to_string(),
            format!("v1.4.2-3-g{}", &SHA[..12]),
            format!("{{\"commit\": \"{SHA}\", \"previous\": \"{other}\"}}"),
            format!("{{\"Version\": \"{}\"}}", &SHA[..12]),
            format!("app: superlists\ncommit: {SHA}\nprevious: {other}\n"),
            format!("sha={SHA}"),
        ] {
            assert!(shows_by(&body, SHA, VersionMatch::States), "{body}");
        }
        for body in [
            format!("{{\"commit\": \"{other}\", \"previous\": \"{SHA}\"}}"),
            format!("commit: {other}\nprevious: {SHA}\n"),
            format!("<html><body><p>deployed {SHA}</p></body></html>"),
            SHA[..11].to_string(),
        ] {
            assert!(!shows_by(&body, SHA, VersionMatch::States), "{body}");
        }
        assert!(shows_by(&format!("{SHA}\n"), &SHA[..12], VersionMatch::States), "the full commit shows a short one");
        assert!(shows_by("1.4.2\n", "1.4.2", VersionMatch::States));
        assert!(!shows_by("release 1.4.2\n", "1.4.2", VersionMatch::States));
        assert!(shows_by("version: 1.4.2\n", "1.4.2", VersionMatch::States));
    }

    #[test]
    fn version_paths_start_with_a_slash() {
        assert_eq!(parse_path("/version").as_deref(), Ok("/version"));
        assert_eq!(parse_path("/api/version?format=txt").as_deref(), Ok("/api/version?format=txt"));
        for bad in ["version", "", "/a b", "/v#x", "http://h/version"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
        assert!(parse_text(" ").is_err());
        assert_eq!(parse_text(" abc ").as_deref(), Ok("abc"));
    }

    #[test]
    fn what_was_served_is_shown_on_one_line_and_clipped() {
        assert_eq!(clip("abc\n  def\n"), "\"abc def\"");
        assert_eq!(clip(" \n"), "an empty page");
        let long = "x".repeat(500);
        let shown = clip(&long);
        assert!(shown.ends_with('…') && shown.chars().count() == SHOWN_CHARS + 3, "{shown}");
    }

    #[test]
    fn commits_and_other_versions_are_described_apart() {
        let e = |text: &str| ExpectedVersion { path: "/version".into(), text: text.into(), rule: VersionMatch::States };
        assert_eq!(e(SHA).describe(), format!("commit {SHA}"));
        assert_eq!(e("1.4.2").describe(), "version \"1.4.2\"");
        assert_eq!(e(SHA).url_on("http://h/app/"), "http://h/app/version");
    }
}
