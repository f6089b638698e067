//! Issue 11: the filmstrip. A failed scenario run with `--filmstrip 3` leaves three
//! screenshots of its last page-changing steps, as ordered, loadable PNGs beside its
//! evidence; a passing scenario leaves none, and `--filmstrip 0` none at all. Real
//! Chromium against the embedded target.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;

/// Five page-changing steps pass, then the title is never right
/// (`FAILS_AFTER_FIVE_STEPS`: the last three frames follow lines 6, 8 and 9); and a
/// scenario that passes.
fn spec() -> String {
    format!(
        "{FAILS_AFTER_FIVE_STEPS}
[[scenario]]
name = \"a list that starts\"
steps = [
  {{ visit = \"/\" }},
  {{ type = \"Buy milk\", into = \"#id_text\" }},
  {{ press = \"Enter\", on = \"#id_text\" }},
  {{ expect_text_contains = \"Buy milk\", in = \"#id_list_table\" }},
]
"
    )
}

/// Every file under `dir`, sorted by path.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn frames(files: &[PathBuf]) -> Vec<&PathBuf> {
    files.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(".filmstrip-"))).collect()
}

/// A PNG's width and height from its IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "too short for a PNG: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "the first chunk is the header");
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

fn run(dir: &Path, filmstrip: &str) -> Output {
    std::fs::write(dir.join("list.toml"), spec()).expect("spec written");
    ft_in(dir, &["--specs", "list.toml", "--filmstrip", filmstrip, "--max-wait", "3"])
}

#[test]
fn a_failed_scenario_leaves_its_last_three_frames_in_step_order_and_a_passing_one_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), "3");
    assert_eq!(out.code, 1, "{}", out.all());
    let artifacts = dir.path().join("reports/artifacts");
    let files = files_under(&artifacts);
    let frames = frames(&files);
    let names: Vec<String> =
        frames.iter().map(|p| p.file_name().expect("a name").to_string_lossy().into_owned()).collect();
    let stem = "a-list-that-never-gets-its-title";
    assert_eq!(
        names,
        [
            format!("{stem}.filmstrip-01-line-6.png"),
            format!("{stem}.filmstrip-02-line-8.png"),
            format!("{stem}.filmstrip-03-line-9.png"),
        ],
        "the last three page-changing steps, named in step order: {files:?}\n{}",
        out.all()
    );
    let screenshot =
        std::fs::read(artifacts.join(format!("list/{stem}/{stem}.png"))).expect("the failure's screenshot");
    let size = png_size(&screenshot);
    let pngs: Vec<Vec<u8>> = frames.iter().map(|f| std::fs::read(f).expect("a frame")).collect();
    for (png, name) in pngs.iter().zip(&names) {
        assert_eq!(png_size(png), size, "{name}: a whole screen, as big as the failure's screenshot");
    }
    assert!(pngs[0] != pngs[1] && pngs[1] != pngs[2], "each frame shows its own step's screen");
    assert!(
        files.iter().all(|p| !p.to_string_lossy().contains("a-list-that-starts")),
        "nothing is written for the passing scenario: {files:?}"
    );
    // Every report tells where they are.
    assert!(
        out.all().contains(&format!("filmstrip: 3 frames, reports/artifacts/list/{stem}/{}", names[0])),
        "{}",
        out.all()
    );
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit.xml");
    assert!(junit.contains(&format!("{}]]", names[2])), "JUnit attaches the frames: {junit}");
}

#[test]
fn with_filmstrip_0_a_failed_scenario_has_its_screenshot_and_no_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), "0");
    assert_eq!(out.code, 1, "{}", out.all());
    let files = files_under(&dir.path().join("reports/artifacts"));
    assert!(files.iter().any(|p| p.extension().is_some_and(|e| e == "png")), "the screenshot: {files:?}");
    assert!(frames(&files).is_empty(), "no frames: {files:?}");
    assert!(!out.all().contains("filmstrip"), "{}", out.all());
}
