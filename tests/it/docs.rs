//! The docs cannot drift from the binary: the committed man pages are what `ft man`
//! renders, every long flag clap knows is documented, the docs name no flag ft lacks,
//! every exit code is in the README's table, and every step verb is in the spec guide.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

/// Flags of other programs that the docs name on purpose, each with why. Anything else
/// spelled `--flag` in the docs must be a flag of ft.
const FOREIGN_FLAGS: &[(&str, &str)] = &[
    ("--release", "cargo build --release / cargo run --release (setup.sh)"),
    ("--locked", "cargo install --locked / cargo test --locked (CI, geckodriver)"),
    ("--test", "cargo test --test it NAME:: runs one module of the tests"),
    ("--liveserver=", "the book's `manage.py test --liveserver=HOST` (ft's own is --liveserver)"),
    ("--hard", "git reset --hard, in the Django version page example"),
    ("--tags", "git push --tags, in the GitLab example"),
    ("--ignore-certificate-errors-spki-list", "the Chromium switch ft uses for --ca-cert's pins"),
    ("--user-agent", "the Chromium switch ft does not use for the synthetic marker (why, in watching.md)"),
    ("--headless", "the browsers' switch that ft sets unless --headed"),
    ("--verbose", "chromedriver's, read by scripts/bench.py --count"),
    ("--ab", "scripts/bench.py's: compare two builds"),
    ("--count", "scripts/bench.py's: WebDriver commands by type"),
    ("--overshoot", "scripts/bench.py's: how late waits return"),
    ("--only", "scripts/bench.py's: one configuration"),
    ("--noinput", "Django's `manage.py flush --noinput`, the book's reset_database fixture"),
];

/// The pages a person reads: the README and docs/ (the man pages are checked on their own).
fn doc_pages() -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, pages: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).expect("read docs/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, pages);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.insert(path.clone(), std::fs::read_to_string(&path).expect("read a doc page"));
            }
        }
    }
    let mut pages = BTreeMap::new();
    pages.insert(root().join("README.md"), std::fs::read_to_string(root().join("README.md")).expect("README.md"));
    walk(&root().join("docs"), &mut pages);
    pages
}

/// Every `--flag` a text names: `--` after a non-word character, a letter, then letters,
/// digits and dashes (a trailing `=` kept, as in `--liveserver=HOST`).
fn flags_named(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--").map(|at| at + i) {
        i = at + 2;
        let before = at.checked_sub(1).map(|b| bytes[b]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            continue;
        }
        let rest = &text[at + 2..];
        let len = rest.bytes().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-').count();
        let name = rest[..len].trim_end_matches('-');
        if name.is_empty() || !name.as_bytes()[0].is_ascii_lowercase() {
            continue;
        }
        let eq = if rest[name.len()..].starts_with('=') { "=" } else { "" };
        found.insert(format!("--{name}{eq}"));
    }
    found
}

/// A long flag as `ft man --flags` lists it.
struct Flag {
    command: String,
    flag: String,
    hidden: bool,
}

/// `ft man --flags`: every long flag of every command (`ft run`, `ft gate`, ...), hidden
/// ones marked.
fn clap_flags() -> Vec<Flag> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["man", "--flags"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.stdout
        .lines()
        .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [command, flag, shown] => Flag { command: command.into(), flag: flag.into(), hidden: shown == "hidden" },
            _ => panic!("`ft man --flags` printed {line:?}, not COMMAND<TAB>--flag<TAB>shown|hidden"),
        })
        .collect()
}

#[test]
fn the_committed_man_pages_are_what_ft_man_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["man", "--out", "man"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    };
    let committed = root().join("docs/man");
    let rendered = dir.path().join("man");
    let regenerate = "regenerate them: rm -r docs/man && cargo run -- man --out docs/man, then commit docs/man";
    assert_eq!(names(&committed), names(&rendered), "docs/man holds other pages than `ft man` makes; {regenerate}");
    let stale: Vec<String> = names(&rendered)
        .into_iter()
        .filter(|name| std::fs::read(committed.join(name)).ok() != std::fs::read(rendered.join(name)).ok())
        .collect();
    assert!(stale.is_empty(), "docs/man/{{{}}} differ from what `ft man` renders now; {regenerate}", stale.join(","));
}

#[test]
fn every_long_flag_of_every_command_is_documented() {
    let named: BTreeSet<String> = doc_pages().values().flat_map(|text| flags_named(text)).collect();
    let flags = clap_flags();
    assert!(flags.iter().any(|f| f.command == "ft watch" && f.flag == "--every"), "subcommands are listed");
    let missing: Vec<String> = flags
        .iter()
        .filter(|f| !f.hidden && !named.contains(&f.flag))
        .map(|f| format!("{} {}", f.command, f.flag))
        .collect();
    assert!(
        missing.is_empty(),
        "these flags are in `ft --help` but in no page of README.md or docs/: {missing:?}\n\
         document each where its task is (docs/README.md says which page holds what)"
    );
}

#[test]
fn the_docs_name_no_flag_ft_does_not_know() {
    // Hidden flags may be named (the embedded app's --defect switches are, for contributors).
    let known: BTreeSet<String> = clap_flags().into_iter().map(|f| f.flag).collect();
    let foreign: BTreeSet<&str> = FOREIGN_FLAGS.iter().map(|(flag, _)| *flag).collect();
    let mut unknown = Vec::new();
    for (path, text) in doc_pages() {
        for flag in flags_named(&text) {
            if !known.contains(&flag) && !foreign.contains(flag.as_str()) {
                unknown.push(format!("{}: {flag}", path.strip_prefix(root()).unwrap_or(&path).display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "the docs name flags ft does not have (renamed or removed?): {unknown:?}\n\
         fix the docs, or if it is another program's flag add it to FOREIGN_FLAGS in tests/it/docs.rs with why"
    );
}

/// `pub const NAME: u8 = N;` in src/exit.rs: the exit codes ft documents.
fn exit_codes() -> BTreeSet<u8> {
    let source = std::fs::read_to_string(root().join("src/exit.rs")).expect("src/exit.rs");
    let codes: BTreeSet<u8> = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub const ")?.split_once(": u8 = "))
        .map(|(_, value)| value.trim_end_matches(';').trim().parse().expect("an exit code"))
        .collect();
    assert!(codes.len() >= 6, "read the exit codes of src/exit.rs: {codes:?}");
    codes
}

#[test]
fn every_exit_code_is_in_the_readme_table_and_in_help() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = readme.split("\n## Exit codes").nth(1).expect("README.md has a `## Exit codes` section");
    let table: BTreeSet<u8> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|row| row.split('|').nth(1))
        .flat_map(|cell| cell.split(['/', ',']).filter_map(|code| code.trim().parse().ok()).collect::<Vec<u8>>())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let help = ft_in(dir.path(), &["--help"]).stdout;
    let help = help.split("Exit codes:").nth(1).expect("`ft --help` has an `Exit codes:` section");
    for code in exit_codes() {
        assert!(table.contains(&code), "exit code {code} (src/exit.rs) is not in README.md's exit code table");
        assert!(
            numbers_in(help).contains(&code.to_string()),
            "exit code {code} (src/exit.rs) is not in `ft --help`'s Exit codes"
        );
    }
}

fn numbers_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[test]
fn every_step_verb_is_in_the_spec_guide() {
    // The one verb table, as the binary lists it (`ft man --verbs`).
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["man", "--verbs"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let verbs: Vec<&str> = out.stdout.lines().filter_map(|l| l.split('\t').next()).collect();
    assert!(verbs.len() > 20, "read the verbs of `ft man --verbs`: {verbs:?}");
    let guide = std::fs::read_to_string(root().join("docs/writing-specs.md")).expect("docs/writing-specs.md");
    let missing: Vec<&&str> = verbs.iter().filter(|v| !guide.contains(&format!("{{ {v} ="))).collect();
    assert!(
        missing.is_empty(),
        "step verbs not documented as `{{ verb = ... }}` in docs/writing-specs.md: {missing:?}"
    );
}

#[test]
fn flags_named_finds_flags_and_skips_table_rules_and_dashes_in_words() {
    let found = flags_named("| --- | `--max-wait SECS` e.g. x--y, --liveserver=h, ---x, --Foo, `--bake-every`-style");
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found, ["--bake-every", "--liveserver=", "--max-wait"]);
}

/// A heading's anchor as GitHub makes it: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

#[test]
fn every_link_between_the_pages_reaches_a_file_and_its_heading() {
    let pages = doc_pages();
    let by_file: BTreeMap<PathBuf, &String> =
        pages.iter().filter_map(|(path, text)| Some((path.canonicalize().ok()?, text))).collect();
    let mut broken = Vec::new();
    for (page, text) in &pages {
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            if link.starts_with("http") {
                continue;
            }
            let (file, heading) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() { page.clone() } else { page.parent().expect("a folder").join(file) };
            let reached = match target.canonicalize() {
                Err(_) => false,
                Ok(_) if heading.is_empty() => true,
                Ok(target) => by_file.get(&target).is_some_and(|t| anchors(t).contains(heading)),
            };
            if !reached {
                broken.push(format!("{}: {link}", page.strip_prefix(root()).unwrap_or(page).display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to no file or no heading: {broken:?}");
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" Shards: `--shard I/N` and `ft merge`"), "shards---shard-in-and-ft-merge");
    assert_eq!(anchor("Flags of `ft` / `ft run`"), "flags-of-ft--ft-run");
}
