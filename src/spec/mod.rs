//! The spec data model: scenarios as data, loaded from TOML and checked before any
//! browser starts. Synchronous and browser-free.

mod check;
pub mod config;
pub mod css;
mod diag;
pub mod fixture;
pub mod locator;
mod parse;
mod reuse;
pub mod values;
pub(crate) mod verbs;
pub mod visit;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use diag::{did_you_mean, Diagnostic, SpecErrors};
pub use parse::sha256_hex;

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

#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    pub col: usize,
    /// The verb as written (`verbs::VERBS`), or `signals` for the suite's own check.
    /// Read by the debug-only test seam (`FT_TEST_PANIC_AT_VERB`) and the verb table's
    /// test; a release build reads it nowhere yet.
    #[cfg_attr(not(debug_assertions), allow(dead_code, reason = "read only by the debug-only test seam"))]
    pub verb: &'static str,
    pub kind: StepKind,
    /// Its strings are templates using values (`${name}`): filled in (`values::resolve`)
    /// just before it runs.
    pub templated: bool,
    /// The file it is written in, when it is not the scenario's (a reusable step's body).
    pub file: Option<String>,
    /// The reusable steps it was expanded from, the scenario's own call first.
    pub calls: Vec<CallSite>,
}

/// Where a reusable step was called: its name and the calling step's position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}:{}:{})", self.name, self.file, self.line, self.col)
    }
}

impl Step {
    /// A step written in a scenario (not expanded from a reusable step).
    pub fn new(line: usize, col: usize, verb: &'static str, kind: StepKind) -> Step {
        Step { line, col, verb, kind, templated: false, file: None, calls: Vec::new() }
    }

    /// A `[suite] before_each` hook put before the scenario's own steps.
    pub fn is_hook(&self) -> bool {
        matches!(&self.kind, StepKind::Act(Action::Fixture(call)) if call.hook.is_some())
    }

    /// Where it is in the scenario's file: its own position, or for a step expanded from a
    /// reusable step, the scenario's call.
    pub fn site(&self) -> (usize, usize) {
        match self.calls.first() {
            Some(call) => (call.line, call.col),
            None => (self.line, self.col),
        }
    }

    /// What it does, for failures and logs; a step expanded from a reusable step is shown
    /// under its calls, with where it is written:
    /// `add_list_item › type "Buy milk" into @item_input (specs/lib.toml:5:5)`.
    pub fn described(&self) -> String {
        if self.calls.is_empty() {
            return self.kind.to_string();
        }
        let chain: Vec<&str> = self.calls.iter().map(|c| c.name.as_str()).collect();
        let file = self.file.as_deref().unwrap_or("");
        format!("{} › {} ({file}:{}:{})", chain.join(" › "), self.kind, self.line, self.col)
    }
}

/// What a step does: change the page, or wait for it to show something.
#[derive(Clone, Debug)]
pub enum StepKind {
    Act(Action),
    /// An explicit wait: re-checked until it holds or the patience runs out.
    Expect(Expectation),
}

/// A locator (CSS, or text, role, label... as a person finds things), remembering the
/// suite name it was written as (`@item_input`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub locator: locator::Locator,
    pub name: Option<String>,
    /// As written, when it uses values (`text=${item}`): filled in and parsed when its step
    /// runs (`values::selector`); `locator` means nothing until then.
    pub template: Option<String>,
}

impl Selector {
    /// Plain CSS, written as it is (not named).
    #[cfg(test)]
    pub fn css(css: &str) -> Selector {
        Selector { locator: locator::Locator::css(css), name: None, template: None }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.template) {
            // Written with values, not yet filled in.
            (Some(name), Some(template)) => write!(f, "@{name} ({template})"),
            (Some(name), None) => write!(f, "@{name} ({})", self.locator),
            (None, Some(template)) => f.write_str(template),
            (None, None) => write!(f, "{}", self.locator),
        }
    }
}

pub use crate::shared::cookie::Cookie;
pub use crate::shared::keys::Chord;

/// A step that changes the page (or the browser); it waits only for its element.
#[derive(Clone, Debug)]
pub enum Action {
    Visit(String),
    Type {
        into: Selector,
        text: String,
    },
    Press {
        key: Chord,
        on: Selector,
    },
    Click(Selector),
    Clear(Selector),
    NewVisitor(Option<String>),
    Visitor(String),
    WindowSize {
        width: u32,
        height: u32,
    },
    RememberUrl(String),
    Capture(Capture),
    SubmitNovalidate(Selector),
    SetCookie(Cookie),
    DeleteCookie(String),
    Reload,
    Back,
    Forward,
    /// An option of a `<select>`, by its label, else its value (`option`).
    Select {
        option: String,
        of: Selector,
    },
    Check(Selector),
    Uncheck(Selector),
    Hover(Selector),
    /// A file into a file input: `file` as resolved at load (next to the spec),
    /// `written` as the spec wrote it.
    Upload {
        file: PathBuf,
        written: String,
        into: Selector,
    },
    /// Accept the open dialog (`text`: what it must say), typing `prompt` into a prompt.
    AcceptDialog {
        text: Option<String>,
        prompt: Option<String>,
    },
    DismissDialog {
        text: Option<String>,
    },
    Frame(Selector),
    MainFrame,
    Tab(Tab),
    CloseTab,
    /// `{ fixture = NAME, ... }` and the `[suite]` hooks: a server-side command.
    Fixture(fixture::FixtureCall),
}

/// Which of the visitor's tabs a `tab` step switches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// The one opened last (waits for a second tab).
    Newest,
    First,
    /// The Nth (from 1) in the order the tabs were opened (waits for it).
    Nth(usize),
}

impl fmt::Display for Tab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tab::Newest => f.write_str("the newest tab"),
            Tab::First => f.write_str("the first tab"),
            Tab::Nth(n) => write!(f, "tab {n}"),
        }
    }
}

/// `{ capture = NAME, ... }`: set a value for the rest of the scenario from the page.
#[derive(Clone, Debug)]
pub struct Capture {
    pub name: String,
    pub from: CaptureFrom,
    /// The first group of the first match (else the whole match) is the value.
    pub regex: Option<regex::Regex>,
    /// Shown as `[secret]` in every output.
    pub secret: bool,
}

/// What a capture reads.
#[derive(Clone, Debug)]
pub enum CaptureFrom {
    Url,
    TextOf(Selector),
    Attribute {
        name: String,
        of: Selector,
    },
    CountOf(Selector),
    /// The newest email to `to` (To or Cc) with this exact subject that arrived since the
    /// attempt started, read from the inbox (not the browser) and deleted once read;
    /// waiting up to `timeout`, else `--mail-wait`.
    Email {
        to: String,
        subject: String,
        timeout: Option<std::time::Duration>,
    },
}

impl fmt::Display for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "capture {:?} from ", self.name)?;
        match &self.from {
            CaptureFrom::Url => f.write_str("the URL")?,
            CaptureFrom::TextOf(s) => write!(f, "the text of {s}")?,
            CaptureFrom::Attribute { name, of } => write!(f, "attribute {name:?} of {of}")?,
            CaptureFrom::CountOf(s) => write!(f, "the number of elements matching {s}")?,
            CaptureFrom::Email { to, subject, .. } => write!(f, "the email to {to} with subject {subject:?}")?,
        }
        if let Some(re) = &self.regex {
            write!(f, " by /{}/", re.as_str())?;
        }
        if self.secret {
            f.write_str(" (secret)")?;
        }
        Ok(())
    }
}

/// A step that says what the page must show (every `expect_*` verb).
#[derive(Clone, Debug)]
pub enum Expectation {
    Title(String),
    Present(Selector),
    Absent(Selector),
    Text {
        of: Selector,
        equals: String,
    },
    TextContains {
        of: Selector,
        contains: String,
    },
    Visible(Selector),
    Hidden(Selector),
    Row {
        table: Selector,
        text: String,
    },
    PageText(String),
    NoText(String),
    Attribute {
        of: Selector,
        name: String,
        equals: String,
    },
    Url(regex::Regex),
    UrlDiffers(String),
    /// The URL is the one remembered under this name (the book's
    /// `assertEqual(browser.current_url, first_list_url)`).
    UrlSame(String),
    Centred {
        of: Selector,
        at: f64,
        tolerance: f64,
    },
    /// `expect_count`: exactly this many elements match.
    Count {
        of: Selector,
        count: usize,
    },
    /// `expect_value`: the first match's current value (input, select, textarea).
    Value {
        of: Selector,
        equals: String,
    },
    Checked(Selector),
    Unchecked(Selector),
    Enabled(Selector),
    Disabled(Selector),
    Focused(Selector),
    /// `expect_no_console_errors`, `expect_no_failed_requests`, and the check the
    /// `[suite] signals` setting adds after a scenario's last step.
    NoSignals(SignalCheck),
    /// `expect_cookie` (with `equals`, its value) and `expect_no_cookie`, judged from
    /// WebDriver's cookies of the page's site.
    Cookie {
        name: String,
        equals: Option<String>,
    },
    NoCookie(String),
}

/// Which of the browser's signals fail a scenario, and which are allowed.
#[derive(Clone, Debug)]
pub struct SignalCheck {
    /// Console errors and uncaught exceptions fail it.
    pub console_errors: bool,
    /// Requests answered with a status of 400 or more, or not answered, fail it.
    pub failed_requests: bool,
    /// A signal whose text or URL one of these matches is allowed.
    pub allow: Vec<regex::Regex>,
    /// Added by the `[suite] signals` setting, not written as a step: skipped when
    /// signals are turned off (`--no-signals`), where a written step fails.
    pub from_suite: bool,
}

impl fmt::Display for SignalCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.console_errors, self.failed_requests) {
            (true, true) => "console errors or failed requests",
            (true, false) => "console errors",
            (false, true) => "failed requests",
            (false, false) => "signals checked",
        };
        write!(f, "expect no {what}")?;
        if !self.allow.is_empty() {
            let allowed: Vec<String> = self.allow.iter().map(|re| format!("/{}/", re.as_str())).collect();
            write!(f, " (allowing {})", allowed.join(", "))?;
        }
        if self.from_suite {
            f.write_str(" at the end of the scenario ([suite] signals)")?;
        }
        Ok(())
    }
}

impl StepKind {
    pub fn is_expectation(&self) -> bool {
        matches!(self, StepKind::Expect(_))
    }
}

impl fmt::Display for StepKind {
    /// A one-line human description, used in step logs and failure messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepKind::Act(a) => fmt::Display::fmt(a, f),
            StepKind::Expect(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A whole URL may carry credentials or a token: never shown.
            Action::Visit(path) => write!(f, "visit {}", crate::shared::redact::redact(path)),
            Action::Type { into, text } => write!(f, "type {text:?} into {into}"),
            Action::Press { key, on } => write!(f, "press {} on {on}", key),
            Action::Click(s) => write!(f, "click {s}"),
            Action::Clear(s) => write!(f, "clear {s}"),
            Action::NewVisitor(Some(who)) => write!(f, "new visitor ({who})"),
            Action::NewVisitor(None) => write!(f, "new visitor"),
            Action::Visitor(who) => write!(f, "visitor {who}"),
            Action::WindowSize { width, height } => write!(f, "window size {width}x{height}"),
            Action::RememberUrl(name) => write!(f, "remember the URL as {name:?}"),
            Action::Capture(c) => fmt::Display::fmt(c, f),
            Action::SubmitNovalidate(s) => write!(f, "submit the form of {s} without the browser's validation"),
            Action::SetCookie(c) => write!(f, "set the cookie {:?}", c.name),
            Action::DeleteCookie(name) => write!(f, "delete the cookie {name:?}"),
            Action::Reload => f.write_str("reload the page"),
            Action::Back => f.write_str("go back"),
            Action::Forward => f.write_str("go forward"),
            Action::Select { option, of } => write!(f, "select {option:?} in {of}"),
            Action::Check(s) => write!(f, "check {s}"),
            Action::Uncheck(s) => write!(f, "uncheck {s}"),
            Action::Hover(s) => write!(f, "hover over {s}"),
            Action::Upload { written, into, .. } => write!(f, "upload {written:?} into {into}"),
            Action::AcceptDialog { text, prompt } => {
                f.write_str("accept the dialog")?;
                if let Some(t) = text {
                    write!(f, " saying {t:?}")?;
                }
                match prompt {
                    Some(p) => write!(f, ", answering {p:?}"),
                    None => Ok(()),
                }
            }
            Action::DismissDialog { text: Some(t) } => write!(f, "dismiss the dialog saying {t:?}"),
            Action::DismissDialog { text: None } => f.write_str("dismiss the dialog"),
            Action::Frame(s) => write!(f, "go into the frame {s}"),
            Action::MainFrame => f.write_str("go back to the main frame"),
            Action::Tab(tab) => write!(f, "switch to {tab}"),
            Action::CloseTab => f.write_str("close the tab"),
            Action::Fixture(call) => fmt::Display::fmt(call, f),
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Title(t) => write!(f, "expect the title to contain {t:?}"),
            Expectation::Present(s) => write!(f, "expect {s} to be present"),
            Expectation::Absent(s) => write!(f, "expect {s} to be absent"),
            Expectation::Text { of, equals } => write!(f, "expect the text of {of} to equal {equals:?}"),
            Expectation::TextContains { of, contains } => {
                write!(f, "expect the text of {of} to contain {contains:?}")
            }
            Expectation::Visible(s) => write!(f, "expect {s} to be visible"),
            Expectation::Hidden(s) => write!(f, "expect {s} to be present and hidden"),
            Expectation::Row { table, text } => write!(f, "expect a row {text:?} in {table}"),
            Expectation::PageText(t) => write!(f, "expect the page text to contain {t:?}"),
            Expectation::NoText(t) => write!(f, "expect the page text not to contain {t:?}"),
            Expectation::Attribute { of, name, equals } => {
                write!(f, "expect attribute {name:?} of {of} to equal {equals:?}")
            }
            Expectation::Url(re) => write!(f, "expect the URL to match /{}/", re.as_str()),
            Expectation::UrlDiffers(name) => write!(f, "expect the URL to differ from {name:?}"),
            Expectation::UrlSame(name) => write!(f, "expect the URL to be the one remembered as {name:?}"),
            Expectation::Centred { of, at, tolerance } => {
                write!(f, "expect {of} to be centred at x={at}±{tolerance}")
            }
            Expectation::Count { of, count } => write!(f, "expect {count} element(s) to match {of}"),
            Expectation::Value { of, equals } => write!(f, "expect the value of {of} to equal {equals:?}"),
            Expectation::Checked(s) => write!(f, "expect {s} to be checked"),
            Expectation::Unchecked(s) => write!(f, "expect {s} to be unchecked"),
            Expectation::Enabled(s) => write!(f, "expect {s} to be enabled"),
            Expectation::Disabled(s) => write!(f, "expect {s} to be disabled"),
            Expectation::Focused(s) => write!(f, "expect {s} to have the focus"),
            Expectation::NoSignals(check) => fmt::Display::fmt(check, f),
            Expectation::Cookie { name, equals: Some(v) } => write!(f, "expect the cookie {name:?} to equal {v:?}"),
            Expectation::Cookie { name, equals: None } => write!(f, "expect the cookie {name:?}"),
            Expectation::NoCookie(name) => write!(f, "expect no cookie {name:?}"),
        }
    }
}

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
    let files = read_sources(source)?;
    parse::check_files(&files, overrides, fixtures)
}

/// One spec file's text and the name it is shown under.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display: String,
    pub stem: String,
    pub text: String,
}

fn read_sources(source: &SpecSource) -> Result<Vec<SourceFile>, SpecErrors> {
    match source {
        SpecSource::BuiltIn => Ok(BUILT_IN
            .iter()
            .map(|(name, text)| SourceFile {
                display: format!("<built-in>/{name}"),
                stem: stem_of(Path::new(name)),
                text: (*text).to_string(),
            })
            .collect()),
        SpecSource::Path(path) => {
            let io_err = |p: &Path, e: std::io::Error, hint: &str| {
                SpecErrors::one(Diagnostic::file_level(
                    p.display().to_string(),
                    format!("failed to read specs: {e}"),
                    Some(io_hint(&e, hint)),
                ))
            };
            let meta =
                std::fs::metadata(path).map_err(|e| io_err(path, e, "pass an existing folder or file with --specs"))?;
            let mut paths = if meta.is_dir() {
                let entries = std::fs::read_dir(path).map_err(|e| io_err(path, e, "check the folder's permissions"))?;
                let mut paths = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| io_err(path, e, "check the folder's permissions"))?;
                    let p = entry.path();
                    if p.extension().is_some_and(|ext| ext == "toml") {
                        paths.push(p);
                    }
                }
                if paths.is_empty() {
                    return Err(SpecErrors::one(Diagnostic::file_level(
                        path.display().to_string(),
                        "no spec files (*.toml) in this folder".to_string(),
                        Some("put scenarios in NAME.toml files here, or point --specs elsewhere".into()),
                    )));
                }
                paths
            } else {
                vec![path.clone()]
            };
            paths.sort();
            let mut files = Vec::new();
            let mut errors = Vec::new();
            for p in paths {
                let display = p.display().to_string();
                let bytes = match read_file(&p, "specs", "check the file's permissions") {
                    Ok(bytes) => bytes,
                    Err(refused) => {
                        errors.extend(refused.0);
                        continue;
                    }
                };
                match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile { display, stem: stem_of(&p), text }),
                    Err(e) => errors.push(not_utf8(&display, e)),
                }
            }
            if !errors.is_empty() {
                return Err(SpecErrors(errors));
            }
            Ok(files)
        }
    }
}

/// The largest spec or config file ft reads. The built-in suite is about 10 KiB; 4 MiB
/// holds thousands of scenarios, and a file beyond it is a mistake (a log, a dump, a
/// device) to refuse at once rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of the spec or config file at `path` (`what`: "specs", "the config file"),
/// read only if it is a regular file (after following symbolic links) of at most
/// `MAX_FILE_BYTES`: a FIFO would block forever and `/dev/zero` never ends.
pub(crate) fn read_file(path: &Path, what: &str, hint: &str) -> Result<Vec<u8>, SpecErrors> {
    use crate::shared::files::{read_regular, Refused};
    let refused = |message: String, hint: String| {
        SpecErrors::one(Diagnostic::file_level(path.display().to_string(), message, Some(hint)))
    };
    read_regular(path, MAX_FILE_BYTES).map_err(|r| match r {
        Refused::Io(e) => refused(format!("failed to read {what}: {e}"), io_hint(&e, hint)),
        Refused::NotRegular(_) => refused(
            format!("failed to read {what}: {r}"),
            "ft reads specs and ft.toml only from regular files (symbolic links to them are followed)".into(),
        ),
        Refused::TooLarge(_) => refused(
            format!("failed to read {what}: {r}"),
            "a spec or config file this large is not one: point at the right file".into(),
        ),
    })
}

/// The hint for a failure to open or read a file: `fallback`, unless the error says
/// what is wrong more exactly than that.
fn io_hint(e: &std::io::Error, fallback: &str) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => {
            "symbolic links here point at each other in a loop and never reach a file: point one at a real file or remove it".into()
        }
        _ => fallback.into(),
    }
}

/// A file that is not UTF-8, located at its first invalid byte.
pub(crate) fn not_utf8(display: &str, e: std::string::FromUtf8Error) -> Diagnostic {
    let bytes = e.as_bytes();
    let utf8 = e.utf8_error();
    let valid = utf8.valid_up_to();
    let bad = &bytes[valid..valid + utf8.error_len().unwrap_or(bytes.len() - valid).min(4)];
    let shown: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    // The text before the bad byte is valid: its lines and characters give the position.
    let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    Diagnostic::at(
        display,
        before,
        valid..valid,
        format!("this file is not UTF-8 text: invalid byte {} here", shown.join(" ")),
        Some("re-save the file as UTF-8 (TOML files are UTF-8), e.g. with `iconv -f latin1 -t utf-8`".into()),
    )
}

fn stem_of(path: &Path) -> String {
    path.file_stem().map_or_else(|| "specs".to_string(), |s| s.to_string_lossy().into_owned())
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
