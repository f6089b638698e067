//! What a scenario's steps are: a `Step` (where it is written, the reusable steps it came
//! from) and its kind, an `Action` or an `Expectation` (distinct types), with the selectors
//! they name and how each reads in failures and logs (`Display`).

use std::fmt;
use std::path::PathBuf;

use super::{fixture, locator};
use crate::shared::cookie::Cookie;
use crate::shared::keys::Chord;

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
