//! Evidence files of a failure: a screenshot, the page HTML, the browser's signals and
//! the filmstrip, under `artifacts/<spec file>/<scenario>/<scenario>[.attempt-N].*`, in a
//! folder ft marks as its own so it never deletes one it did not make.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{write_atomic, ReportError};
use crate::runner::Outcome;
use crate::spec::Scenario;

/// Written into every evidence folder ft makes: only a folder holding it is ever cleared.
pub const MARKER: &str = ".ft-artifacts";

/// Longest readable part of a slug, in characters and in bytes (a file name may hold 255
/// bytes, and the attempt and extension are added to it).
const MAX_CHARS: usize = 80;
const MAX_BYTES: usize = 160;

/// Where one scenario's evidence goes, relative to the evidence folder, and the stem of
/// its file names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub dir: PathBuf,
    pub stem: String,
}

/// A place per scenario (by index), unique within the run: `<spec slug>/<scenario slug>`;
/// scenarios whose slugs would meet both get a short hash of their exact name.
pub fn places(scenarios: &[Scenario]) -> Vec<Place> {
    let base: Vec<(String, String)> = scenarios.iter().map(|s| (slug(&s.group), slug(&s.name))).collect();
    let mut seen: HashMap<&(String, String), usize> = HashMap::new();
    for key in &base {
        *seen.entry(key).or_default() += 1;
    }
    base.iter()
        .zip(scenarios)
        .map(|((group, stem), scenario)| {
            let stem = if seen[&(group.clone(), stem.clone())] > 1 {
                format!("{stem}-{}", short_hash(&scenario.name))
            } else {
                stem.clone()
            };
            Place { dir: Path::new(group).join(&stem), stem }
        })
        .collect()
}

/// Write the evidence a failed or errored attempt carries; returns the files written, the
/// filmstrip's frames last. Every file name carries the scenario and the attempt
/// (`<stem>.png`, `<stem>.attempt-2.png`): Jenkins' attachments plugin before 293 keeps
/// one file per name within a class. Beside the screenshot and the page:
/// `<stem>.signals.json` (what the browser reported, whenever it was collected),
/// `<stem>.signals.txt` (the same, readable, when there is something to read) and the
/// frames `<stem>.filmstrip-01-line-12.png`, ... (names sort in step order).
pub fn write(root: &Path, place: &Place, attempt: usize, outcome: &Outcome) -> Result<Vec<PathBuf>, ReportError> {
    let failure = match outcome {
        Outcome::Failed(f) | Outcome::Error(f) => f,
        _ => return Ok(Vec::new()),
    };
    let evidence = &failure.evidence;
    let signals = &evidence.signals;
    let collected = signals.source.is_some() || !signals.is_empty();
    if evidence.screenshot.is_none()
        && evidence.html.is_none()
        && !collected
        && evidence.filmstrip.is_empty()
        && evidence.visitors.is_empty()
    {
        return Ok(Vec::new());
    }
    mark(root)?;
    let dir = root.join(&place.dir);
    let stem = if attempt > 1 { format!("{}.attempt-{attempt}", place.stem) } else { place.stem.clone() };
    let mut files = Vec::new();
    let mut put = |name: String, bytes: &[u8]| -> Result<(), ReportError> {
        let path = dir.join(name);
        write_atomic(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    if let Some(png) = &evidence.screenshot {
        put(format!("{stem}.png"), png)?;
    }
    if let Some(html) = &evidence.html {
        put(format!("{stem}.html"), for_offline(html, evidence.url.as_deref()).as_bytes())?;
    }
    // The scenario's other visitors, each beside the current one, named by visitor.
    for other in &evidence.visitors {
        let who = format!("{VISITOR}{}", slug(&other.name));
        if let Some(png) = &other.screenshot {
            put(format!("{stem}.{who}.png"), png)?;
        }
        if let Some(html) = &other.html {
            put(format!("{stem}.{who}.html"), for_offline(html, other.url.as_deref()).as_bytes())?;
        }
    }
    if collected {
        let json = serde_json::to_vec_pretty(signals).unwrap_or_default();
        put(format!("{stem}.signals.json"), &json)?;
    }
    if !signals.is_empty() {
        put(format!("{stem}.signals.txt"), super::signals::text(signals).as_bytes())?;
    }
    for (i, frame) in evidence.filmstrip.iter().enumerate() {
        put(format!("{stem}.{FRAME}{:02}-line-{}.png", i + 1, frame.line), &frame.png)?;
    }
    Ok(files)
}

/// What every filmstrip frame's file name holds after the scenario's stem (which has no dot).
const FRAME: &str = "filmstrip-";

/// What another visitor's evidence file name holds after the scenario's stem and a dot.
const VISITOR: &str = "visitor-";

/// The visitor (as its slug) whose page an evidence file is, when it is another visitor's
/// than the one the scenario failed as.
pub fn visitor_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = &name[name.find(&format!(".{VISITOR}"))? + 1 + VISITOR.len()..];
    Some(rest.split('.').next()?.to_string())
}

/// Whether an evidence file is a filmstrip frame (the others are the screenshot, the
/// page and the signals): the one rule the reports ask.
pub fn is_frame(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(&format!(".{FRAME}")))
}

/// Create the evidence folder with its marker (once per run; the run holds the lock).
fn mark(root: &Path) -> Result<(), ReportError> {
    let marker = root.join(MARKER);
    if marker.is_file() {
        return Ok(());
    }
    write_atomic(&marker, b"made by ft: cleared at the start of each run on this reports folder\n")
}

/// Clear an earlier run's evidence, so it cannot pass for this run's: only a folder ft
/// marked, or an empty one. Anything else is refused, untouched.
pub fn clear(root: &Path) -> Result<(), ReportError> {
    let meta = match std::fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReportError::Clear { path: root.to_path_buf(), source }),
    };
    if meta.is_dir() && root.join(MARKER).is_file() {
        return std::fs::remove_dir_all(root).map_err(|source| ReportError::Clear { path: root.to_path_buf(), source });
    }
    // An empty folder loses nothing; `remove_dir` refuses a folder with anything in it.
    if meta.is_dir() && std::fs::remove_dir(root).is_ok() {
        return Ok(());
    }
    // An ft from before the marker wrote `<spec>/<scenario>/{screenshot.png,page.html}`
    // (a retry's in `attempt-N/` below): a folder holding exactly that and nothing else
    // is an earlier run's evidence, so an upgrade does not stop on it.
    if meta.is_dir() && holds_only_old_evidence(root, 0) == Some(true) {
        return std::fs::remove_dir_all(root).map_err(|source| ReportError::Clear { path: root.to_path_buf(), source });
    }
    Err(ReportError::Foreign { path: root.to_path_buf() })
}

/// Whether `dir` (at `depth` below the evidence folder) holds only the unmarked layout
/// of an ft from before the marker, with at least one evidence file; `None` when it
/// cannot be read. Anything else — another file name, a symbolic link, a deeper folder —
/// makes it someone else's.
fn holds_only_old_evidence(dir: &Path, depth: usize) -> Option<bool> {
    let mut found = false;
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let kind = entry.file_type().ok()?;
        let name = entry.file_name();
        let name = name.to_str().unwrap_or("");
        let ok = if kind.is_dir() {
            let attempt = name.strip_prefix("attempt-").is_some_and(|n| n.parse::<u32>().is_ok());
            let fits = depth < 2 || (depth == 2 && attempt);
            fits && match holds_only_old_evidence(&entry.path(), depth + 1)? {
                true => {
                    found = true;
                    true
                }
                // An empty scenario folder is harmless; an empty spec folder too.
                false => std::fs::read_dir(entry.path()).ok()?.next().is_none(),
            }
        } else {
            let evidence = kind.is_file() && matches!(name, "screenshot.png" | "page.html") && depth >= 2;
            found |= evidence;
            evidence
        };
        if !ok {
            return Some(false);
        }
    }
    Some(found)
}

/// A file-name-safe, readable form of a name: lower-case letters (any script), digits
/// and dashes. A name cut short, or with nothing readable, gets a hash of its exact text.
pub fn slug(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    // NFC first: "é" typed as e + a combining accent (as macOS file names and some
    // editors write it) stays "é", not "e-".
    for c in name.nfc() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        return format!("scenario-{}", short_hash(name));
    }
    let mut cut = String::new();
    for c in out.chars() {
        if cut.chars().count() >= MAX_CHARS || cut.len() + c.len_utf8() > MAX_BYTES {
            return format!("{}-{}", cut.trim_end_matches('-'), short_hash(name));
        }
        cut.push(c);
    }
    cut
}

/// The first 8 hex digits of the name's sha256: stable across runs and machines.
fn short_hash(name: &str) -> String {
    Sha256::digest(name.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The page HTML as saved: a `<base href>` to the page's own URL, so opened from disk it
/// still finds its styles and images on the target; and the values of hidden form fields
/// that carry a CSRF or other token blanked, so evidence handed around holds no secret.
pub fn for_offline(html: &str, url: Option<&str>) -> String {
    let hidden = regex::Regex::new(r#"(?is)<input\b[^>]*>"#).ok();
    let value = regex::Regex::new(r#"(?is)(\bvalue\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)"#).ok();
    let mut out = match (hidden, value) {
        (Some(hidden), Some(value)) => hidden
            .replace_all(html, |c: &regex::Captures| {
                let tag = &c[0];
                let lower = tag.to_ascii_lowercase();
                let secret = lower.contains("type=\"hidden\"")
                    || lower.contains("type='hidden'")
                    || lower.contains("type=hidden");
                let named = ["csrf", "token", "xsrf", "nonce"].iter().any(|n| lower.contains(n));
                if secret && named {
                    value.replace_all(tag, "${1}\"\"").into_owned()
                } else {
                    tag.to_string()
                }
            })
            .into_owned(),
        _ => html.to_string(),
    };
    if let Some(url) = url.filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
        let base = format!("<base href=\"{}\">", crate::shared::redact::without_userinfo(url).replace('"', "%22"));
        let lower = out.to_ascii_lowercase();
        match lower.find("<head>").or_else(|| lower.find("<head ")) {
            Some(at) => {
                let close = out[at..].find('>').map_or(out.len(), |e| at + e + 1);
                out.insert_str(close, &base);
            }
            None => out.insert_str(0, &base),
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_other_visitor_s_page_is_written_beside_the_failing_one_named_by_visitor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let page = |name: &str| crate::browser::VisitorPage {
            name: name.into(),
            screenshot: Some(vec![1, 2, 3]),
            html: Some(format!("<p>{name}</p>")),
            url: None,
        };
        let evidence = crate::browser::Evidence {
            screenshot: Some(vec![9]),
            visitors: vec![page("Édith Ellis"), page("first visitor")],
            ..Default::default()
        };
        let failure = crate::runner::Failure { step: None, message: "x".into(), last_seen: None, evidence };
        let place = Place { dir: "s/two".into(), stem: "two".into() };
        let files = write(dir.path(), &place, 2, &Outcome::Failed(failure)).expect("written");
        let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            [
                "two.attempt-2.png",
                "two.attempt-2.visitor-édith-ellis.png",
                "two.attempt-2.visitor-édith-ellis.html",
                "two.attempt-2.visitor-first-visitor.png",
                "two.attempt-2.visitor-first-visitor.html",
            ]
        );
        let whose: Vec<Option<String>> = files.iter().map(|p| visitor_of(p)).collect();
        assert_eq!(whose[0], None, "the failing visitor's own page is the scenario's");
        assert_eq!(whose[1].as_deref(), Some("édith-ellis"));
        assert!(!files.iter().any(|p| is_frame(p)), "no visitor's page passes for a filmstrip frame");
    }

    #[test]
    fn saved_pages_point_at_their_site_and_hold_no_csrf_token() {
        let page = r#"<html><head><title>To-Do</title></head><body><header>x</header><form>
<input type="hidden" name="csrfmiddlewaretoken" value="s3cr3tT0ken">
<input name="text" value="Buy milk"></form></body></html>"#;
        let saved = for_offline(page, Some("http://user:pw@127.0.0.1:8000/lists/1/"));
        assert!(saved.contains(r#"<head><base href="http://127.0.0.1:8000/lists/1/"><title>"#), "{saved}");
        assert!(!saved.contains("s3cr3tT0ken") && saved.contains(r#"name="csrfmiddlewaretoken" value="""#), "{saved}");
        assert!(saved.contains(r#"value="Buy milk""#), "visible fields are kept: {saved}");
        assert!(!saved.contains("pw@"));
        assert_eq!(for_offline("<p>x</p>", Some("about:blank")), "<p>x</p>");
    }

    use super::*;

    fn scenario(group: &str, name: &str) -> Scenario {
        Scenario {
            name: name.into(),
            tags: Vec::new(),
            group: group.into(),
            file: format!("{group}.toml"),
            line: 1,
            steps: Vec::new(),
            quarantine: None,
            values: Vec::new(),
        }
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Cannot add duplicate items!"), "cannot-add-duplicate-items");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("???"), format!("scenario-{}", short_hash("???")));
        assert_ne!(slug("???"), slug("!!!"), "names with nothing readable still get folders of their own");
    }

    #[test]
    fn letters_of_any_script_stay_readable() {
        assert_eq!(slug("Список покупок: Молоко"), "список-покупок-молоко");
        assert_eq!(slug("Ärger über Öl"), "ärger-über-öl");
        assert_eq!(slug("買い物リスト"), "買い物リスト");
    }

    #[test]
    fn a_name_in_decomposed_form_keeps_its_accents() {
        let decomposed = "Cafe\u{301} cre\u{300}me";
        assert_eq!(slug(decomposed), "café-crème");
        assert_eq!(slug(decomposed), slug("Café crème"), "one folder name for one visible name");
    }

    #[test]
    fn a_very_long_name_is_cut_and_told_apart_by_a_hash() {
        let long = "a".repeat(300);
        let s = slug(&long);
        assert!(s.starts_with(&"a".repeat(80)) && s.len() == 80 + 1 + 8, "{s}");
        assert_ne!(slug(&format!("{long}b")), slug(&format!("{long}c")));
        let wide = "я".repeat(300);
        assert!(slug(&wide).len() <= MAX_BYTES + 9, "fits a file name in bytes");
    }

    #[test]
    fn scenarios_whose_slugs_meet_get_places_of_their_own() {
        let places = places(&[
            scenario("shop", "Buy milk!"),
            scenario("shop", "buy milk?"),
            scenario("shop", "Layout and styling"),
        ]);
        assert_ne!(places[0], places[1]);
        assert!(places[0].stem.starts_with("buy-milk-") && places[1].stem.starts_with("buy-milk-"), "{places:?}");
        assert_eq!(places[2], Place { dir: "shop/layout-and-styling".into(), stem: "layout-and-styling".into() });
        // Spec files whose stems meet too ("a b.toml", "a-b.toml").
        let across = super::places(&[scenario("a b", "x!"), scenario("a-b", "x?")]);
        assert_ne!(across[0].dir, across[1].dir);
    }

    #[test]
    fn only_a_marked_or_empty_folder_is_cleared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("artifacts");
        clear(&root).expect("nothing to clear");
        std::fs::create_dir_all(root.join("someone")).expect("mkdir");
        std::fs::write(root.join("someone/notes.txt"), "mine").expect("write");
        let err = clear(&root).expect_err("a foreign folder is refused");
        assert!(matches!(err, ReportError::Foreign { .. }), "{err:?}");
        assert!(err.to_string().contains(&root.display().to_string()), "{err}");
        assert!(root.join("someone/notes.txt").is_file(), "and left untouched");

        std::fs::write(root.join(MARKER), "").expect("mark");
        clear(&root).expect("a marked folder is ft's");
        assert!(!root.exists());
        std::fs::create_dir(&root).expect("mkdir");
        clear(&root).expect("an empty folder loses nothing");
        std::fs::write(&root, "a file").expect("file");
        assert!(clear(&root).is_err(), "a file named artifacts is not ft's either");
    }
    #[test]
    fn an_older_fts_unmarked_evidence_is_cleared_and_nothing_else() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("artifacts");
        let old = |rel: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, b"x").expect("write");
        };
        old("superlists/cannot-add-empty-items/screenshot.png");
        old("superlists/cannot-add-empty-items/page.html");
        old("superlists/cannot-add-empty-items/attempt-2/screenshot.png");
        clear(&root).expect("an older ft's layout is ft's own");
        assert!(!root.exists());

        for foreign in [
            "notes.txt",
            "superlists/readme.md",
            "a/b/screenshot.png/x",
            "a/b/c/d/page.html",
            "a/b/attempt-x/page.html",
        ] {
            old("superlists/s/page.html");
            old(foreign);
            assert!(clear(&root).is_err(), "{foreign} makes the folder someone else's");
            assert!(root.join(foreign).exists(), "{foreign} is kept");
            std::fs::remove_dir_all(&root).expect("reset");
        }
        // Only empty folders, no evidence: not recognisably ft's.
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        assert!(clear(&root).is_err());
    }
}
