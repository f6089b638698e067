//! A failed attempt's evidence on the page: screenshots inline, the page's HTML and the
//! signals files linked, what the browser reported, the filmstrip; and the links to files
//! (relative to the page, percent-encoded) that the evidence and the merged page make.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use super::escape::esc;
use crate::report::artifacts::{is_frame, visitor_of};
use crate::shared::redact::redact_text;

/// Screenshots shown inline (a click opens them at full size), other files (the page's
/// HTML, the signals) linked; the filmstrip's frames are shown by `filmstrip`.
pub(super) fn evidence(out: &mut impl Write, files: Option<&Vec<PathBuf>>, dir: &Path) -> io::Result<()> {
    let Some(files) = files.filter(|f| f.iter().any(|p| !is_frame(p))) else { return Ok(()) };
    writeln!(out, "<div class=\"evidence\">")?;
    for file in files.iter().filter(|p| !is_frame(p)) {
        let href = esc(&link(file, dir));
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Another visitor's page is captioned with whose it is.
        let whose = visitor_of(file).map(|v| format!("visitor {v}: "));
        if let (Some(whose), true) = (&whose, file.extension().is_some_and(|e| e == "png")) {
            writeln!(
                out,
                "<figure class=\"visitor\"><a class=\"shot\" href=\"{href}\"><img src=\"{href}\" alt=\"screenshot {}\"></a><figcaption>{}</figcaption></figure>",
                esc(&name),
                esc(whose.trim_end_matches(": "))
            )?;
        } else if file.extension().is_some_and(|e| e == "png") {
            writeln!(
                out,
                "<a class=\"shot\" href=\"{href}\"><img src=\"{href}\" alt=\"screenshot {}\"></a>",
                esc(&name)
            )?;
        } else {
            let what = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "page HTML",
                Some("json") => "browser signals (JSON)",
                Some("txt") => "browser signals",
                _ => "file",
            };
            let whose = whose.unwrap_or_default();
            writeln!(out, "<a class=\"page\" href=\"{href}\">{}{what}: {}</a>", esc(&whose), esc(&name))?;
        }
    }
    writeln!(out, "</div>")
}

/// The most signal entries the page lists (the rest are in the signals files): the page
/// must stay readable, and within the disk reserve held for it (`reserve::size_for`: 32
/// KiB a scenario; 25 entries are ~5 KiB, a frame's figure ~0.3 KiB).
const MAX_SIGNALS_SHOWN: usize = 25;

/// What the browser reported, an entry a line, folded under its summary.
pub(super) fn signals(out: &mut impl Write, signals: &crate::browser::Signals) -> io::Result<()> {
    let Some(summary) = signals.summary() else { return Ok(()) };
    writeln!(
        out,
        "<details class=\"signals\"><summary>browser: {}</summary>\n<ol class=\"signals\">",
        esc(&redact_text(&summary))
    )?;
    for entry in signals.entries.iter().take(MAX_SIGNALS_SHOWN) {
        let kind = serde_json::to_value(entry.kind).ok().and_then(|v| v.as_str().map(str::to_string));
        writeln!(
            out,
            "<li class=\"{}\">{}</li>",
            esc(&kind.unwrap_or_default()),
            esc(&crate::report::signals::entry_line(entry))
        )?;
    }
    let more = signals.entries.len().saturating_sub(MAX_SIGNALS_SHOWN) + signals.dropped;
    if more > 0 {
        writeln!(out, "<li class=\"more\">... and {more} more (see the signals files)</li>")?;
    }
    writeln!(out, "</ol>\n</details>")
}

/// The filmstrip, oldest frame first, each captioned with the step it followed. Frames
/// are matched to their files in order (`artifacts::write` writes them so); one whose
/// file was not written is left out.
pub(super) fn filmstrip(
    out: &mut impl Write,
    frames: &[crate::browser::Frame],
    files: Option<&Vec<PathBuf>>,
    dir: &Path,
) -> io::Result<()> {
    let written: Vec<&PathBuf> = files.into_iter().flatten().filter(|p| is_frame(p)).collect();
    if written.is_empty() {
        return Ok(());
    }
    writeln!(out, "<div class=\"evidence filmstrip\">\n<ol class=\"filmstrip\">")?;
    for (i, file) in written.iter().enumerate() {
        let href = esc(&link(file, dir));
        let caption = match frames.get(i) {
            Some(frame) => format!("after line {}: {}", frame.line, redact_text(&frame.step)),
            None => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        writeln!(
            out,
            "<li><figure><a class=\"shot\" href=\"{href}\"><img src=\"{href}\" alt=\"frame {} {}\"></a>\
             <figcaption>{}</figcaption></figure></li>",
            i + 1,
            esc(&caption),
            esc(&caption)
        )?;
    }
    writeln!(out, "</ol>\n</div>")
}

/// A link to `file` from a page in `dir`: relative when the file is under it (as the
/// evidence always is), so the reports folder can be moved or served as a whole; an
/// absolute `file://` URL otherwise. Each segment is percent-encoded, so a name with
/// `#`, `?`, `%` or spaces still points at its file.
pub(super) fn link(file: &Path, dir: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Ok(rel) = file.strip_prefix(dir) {
        return segments(rel);
    }
    let (file, dir) = (absolute(file), absolute(dir));
    match file.strip_prefix(&dir) {
        Ok(rel) => segments(rel),
        Err(_) => format!("file://{}", segments(&file)),
    }
}

fn segments(path: &Path) -> String {
    let mut out = String::new();
    for part in path.components() {
        match part {
            Component::RootDir => out.push('/'),
            Component::Normal(name) => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                for b in name.as_encoded_bytes() {
                    match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(*b)),
                        _ => {
                            out.push_str(&format!("%{b:02X}"));
                        }
                    }
                }
            }
            // `.`, `..` and prefixes do not occur in the evidence paths ft makes; a
            // `..` kept as is still resolves the same way.
            Component::ParentDir => out.push_str(if out.is_empty() || out.ends_with('/') { "../" } else { "/../" }),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// `file` as a link from a page in `dir`, with `..` where it is not below it.
pub(super) fn relative_link(file: &Path, dir: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (file, dir) = (absolute(file), absolute(dir));
    let common = file.components().zip(dir.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for part in file.components().skip(common) {
        rel.push(part);
    }
    segments(&rel)
}
