//! The spec data model: scenarios as data, loaded from TOML and checked before any
//! browser starts. Synchronous and browser-free. Here: the suite, its scenarios, which of
//! them to run and the selector overrides, and `load`; what a step is lives in `step`,
//! how the files are read in `source`, how their text is checked in `parse`.

mod check;
pub mod config;
pub mod css;
mod diag;
mod file;
pub mod fixture;
pub mod locator;
mod parse;
mod reuse;
mod source;
mod step;
pub mod values;
pub(crate) mod verbs;
pub mod visit;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use diag::{did_you_mean, Diagnostic, SpecErrors};
pub use parse::sha256_hex;
pub use source::SourceFile;
pub(crate) use source::{not_utf8, read_file};
pub use step::{Action, CallSite, Capture, CaptureFrom, Expectation, Selector, SignalCheck, Step, StepKind, Tab};

/// The built-in superlists suite, embedded so `ft` works from any folder.
pub const BUILT_IN: &[(&str, &str)] = &[("superlists.toml", include_str!("../../specs/superlists.toml"))];

/// The longest scenario name, in characters. A name is one line in the terminal, a
/// JUnit testcase name, a column in `ft list` and `ft flakes` and a folder for its
/// evidence: 200 is far beyond any readable name (the built-in ones are under 60) and
/// well inside what those places hold.
pub const MAX_NAME_CHARS: usize = 200;

/// The form two scenario names are compared in: as they look, not as they are encoded.
/// Unicode NFC (so `é` as one character and as e + U+0301 are one name) without the
/// default-ignorable characters (zero-width spaces and joiners, soft hyphens, bidi
/// marks, variation selectors...), which show as nothing.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().filter(|c| !is_default_ignorable(*c)).collect()
}

/// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, 16.0):
/// characters a renderer shows as nothing when it does not support them.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Where the scenarios come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecSource {
    /// A folder of `*.toml` files (not recursive) or one file.
    Path(PathBuf),
    /// The suite compiled into the binary.
    BuiltIn,
}

impl fmt::Display for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecSource::Path(p) => write!(f, "{}", p.display()),
            SpecSource::BuiltIn => f.write_str("the built-in superlists suite"),
        }
    }
}

/// A loaded, checked suite: every scenario of every file.
#[derive(Clone, Debug)]
pub struct Suite {
    pub scenarios: Vec<Scenario>,
    /// sha256 over the files' names and bytes, in name order: identifies the specs run.
    pub digest: String,
    /// Each spec file as shown to people, with the sha256 of its bytes (what `sha256sum`
    /// prints for it), in name order.
    pub files: Vec<(String, String)>,
    /// The selector overrides the suite was checked with (flags and ft.toml).
    pub overrides: SelectorOverrides,
    /// `[suite] before_all` of every file: each fixture once, in file order, with where
    /// it is named.
    pub before_all: Vec<BeforeAll>,
    /// The suite's `[values]`, name and template (ft.toml's replace them: `config::apply_values`).
    pub values: Vec<(String, String)>,
}

/// A `before_all` hook: the fixture, and where it is named (`file:line:col`).
#[derive(Clone, Debug)]
pub struct BeforeAll {
    pub call: fixture::FixtureCall,
    pub at: String,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub tags: Vec<String>,
    /// The file's stem (`superlists`), used as the JUnit testsuite name.
    pub group: String,
    /// Where it was defined, as shown to people.
    pub file: String,
    pub line: usize,
    pub steps: Vec<Step>,
    /// `quarantine = "reason"`: it runs and is reported, but its failure does not fail
    /// the run (unless --no-quarantine).
    pub quarantine: Option<String>,
    /// The suite's `[values]` (after ft.toml's), name and template: set before the first
    /// step of every attempt.
    pub values: Vec<(String, String)>,
}

impl Scenario {
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}
pub use crate::shared::cookie::Cookie;
pub use crate::shared::keys::Chord;

/// Named selectors given on the command line or in `ft.toml`, replacing the specs' own,
/// each remembering where it was given so a mistake in it is reported there.
///
/// It reads as the plain `name → css` map it replaces (`Deref`), so the reporters and the
/// record keep treating it as one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectorOverrides {
    css: BTreeMap<String, String>,
    /// Positions in ft.toml; an override without one came from `--selector`.
    origins: BTreeMap<String, OverrideOrigin>,
}

/// Where an override from a file was written: its name and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideOrigin {
    pub name: Diagnostic,
    pub value: Diagnostic,
}

impl SelectorOverrides {
    pub fn new() -> SelectorOverrides {
        SelectorOverrides::default()
    }

    /// An override read from a file, with where its name and value are.
    pub fn insert_located(&mut self, name: String, css: String, origin: OverrideOrigin) {
        self.origins.insert(name.clone(), origin);
        self.css.insert(name, css);
    }

    /// A problem with the override's name (`value == false`) or CSS, reported where it
    /// was given: ft.toml:line:col, or the `--selector` flag.
    pub(crate) fn diagnostic(&self, name: &str, value: bool, message: String, hint: Option<String>) -> Diagnostic {
        match self.origins.get(name) {
            Some(origin) => {
                let at = if value { &origin.value } else { &origin.name };
                Diagnostic { message, hint, ..at.clone() }
            }
            None => Diagnostic::file_level(
                format!("--selector {name}={}", diag::cut(self.css.get(name).map_or("", String::as_str))),
                message,
                hint,
            ),
        }
    }
}

impl std::ops::Deref for SelectorOverrides {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.css
    }
}

/// Overrides from flags: they win over ft.toml's, and are reported as the flag.
impl Extend<(String, String)> for SelectorOverrides {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        for (name, css) in iter {
            self.origins.remove(&name);
            self.css.insert(name, css);
        }
    }
}

impl FromIterator<(String, String)> for SelectorOverrides {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut overrides = SelectorOverrides::new();
        overrides.extend(iter);
        overrides
    }
}

impl<'a> IntoIterator for &'a SelectorOverrides {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.css.iter()
    }
}

impl IntoIterator for SelectorOverrides {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.css.into_iter()
    }
}

/// Load and check every spec file of `source`; all problems are reported at once. A step
/// may name the fixtures of `fixtures` only (ft.toml's, and the embedded target's defaults).
pub fn load(
    source: &SpecSource,
    overrides: &SelectorOverrides,
    fixtures: &fixture::Fixtures,
) -> Result<Suite, SpecErrors> {
    let files = source::read_sources(source)?;
    parse::check_files(&files, overrides, fixtures)
}

/// Which scenarios to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Case-insensitive substrings of the scenario name; any may match.
    pub filters: Vec<String>,
    /// Tags; a scenario with any of them is selected.
    pub tags: Vec<String>,
    /// Tags; a scenario with any of them is left out, whatever selected it.
    pub skip_tags: Vec<String>,
}

impl Suite {
    pub fn select(&self, selection: &Selection) -> Vec<Scenario> {
        self.scenarios
            .iter()
            .filter(|s| {
                selection.filters.is_empty()
                    || selection.filters.iter().any(|f| s.name.to_lowercase().contains(&f.to_lowercase()))
            })
            .filter(|s| selection.tags.is_empty() || selection.tags.iter().any(|t| s.has_tag(t)))
            .filter(|s| !selection.skip_tags.iter().any(|t| s.has_tag(t)))
            .cloned()
            .collect()
    }
}
