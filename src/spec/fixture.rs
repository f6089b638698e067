//! Fixtures: named server-side commands (ft.toml's `[fixtures]`, or the embedded target's
//! defaults), their `{placeholder}` commands checked at load, and the command line a
//! fixture step runs with every value shell-quoted. Running one is the runner's job
//! (`runner::fixtures`); here is only what can be known before a browser starts.
//!
//! A fixture is the team's own command (ssh, docker exec, manage.py): ft never guesses
//! how a server is reached, it only fills in the placeholders.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::diag::Diagnostic;

/// The placeholders ft fills in itself; every other one is an argument of the step.
pub const TARGET_PLACEHOLDERS: &[&str] = &["host", "port", "url", "ft", "db"];

/// How long a fixture may run unless ft.toml or the step says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest deadline a fixture may be given: an hour is far beyond any reset.
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;

/// The embedded target's fixtures: the same names a staging set-up configures, as
/// commands of ft itself (`ft serve`'s server-side commands), run the same way.
pub const EMBEDDED_DEFAULTS: &[(&str, &str)] = &[
    ("create_session", "{ft} serve create-session --db {db} {email}"),
    ("reset_database", "{ft} serve reset-database --db {db}"),
];

/// A fixture's command as written: text and placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    parts: Vec<Part>,
    /// As written, for messages.
    pub written: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// A command that cannot be read: the byte offset in it, what, and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    pub at: usize,
    pub message: String,
    pub hint: String,
}

const BRACE_HINT: &str =
    "a placeholder is written {name} (letters, digits and `_`); write {{ and }} for literal braces, e.g. ${{HOME}} for the shell's $HOME";

impl Command {
    /// Read a command: `{name}` placeholders, `{{` and `}}` for literal braces.
    pub fn parse(s: &str) -> Result<Command, CommandError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, n)| *n) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|(_, n)| *n) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let rest = &s[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(CommandError {
                            at: i,
                            message: "`{` is not closed by `}`".into(),
                            hint: BRACE_HINT.into(),
                        });
                    };
                    let name = &rest[..end];
                    if s[..i].ends_with('$') && is_name(name) {
                        return Err(CommandError {
                            at: i - 1,
                            message: format!("${{{name}}} would be the placeholder {{{name}}}, not the shell's variable"),
                            hint: format!(
                                "write ${{{{{name}}}}} (or ${name}) for the shell's variable; a placeholder is {{{name}}} without the $"
                            ),
                        });
                    }
                    if !is_name(name) {
                        return Err(CommandError {
                            at: i,
                            message: format!("{{{name}}} is not a placeholder"),
                            hint: BRACE_HINT.into(),
                        });
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Placeholder(name.to_string()));
                    // Skip the name and its `}`.
                    while chars.peek().is_some_and(|(j, _)| *j <= i + 1 + end) {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(CommandError {
                        at: i,
                        message: "a `}` closes no placeholder".into(),
                        hint: BRACE_HINT.into(),
                    })
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Command { parts, written: s.to_string() })
    }

    fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The placeholders a step must give (those ft does not fill in), each once, in order.
    pub fn params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for name in self.placeholders() {
            if !TARGET_PLACEHOLDERS.contains(&name) && !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Whether it uses `{name}`.
    pub fn uses(&self, name: &str) -> bool {
        self.placeholders().any(|p| p == name)
    }

    /// The command line: every placeholder filled in by `value` and shell-quoted, so a
    /// value is always one word to the shell whatever it holds. The first placeholder
    /// `value` has nothing for is the error.
    pub fn render(&self, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Placeholder(name) => match value(name) {
                    Some(v) => out.push_str(&shell_quote(&v)),
                    None => return Err(name.clone()),
                },
            }
        }
        Ok(out)
    }
}

fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `s` as one word for `sh`: left as it is when it holds only characters no shell
/// treats specially (so `elspeth@{host}` reads `elspeth@staging.example`), else in single
/// quotes, each `'` written `'\''`.
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One fixture: its command, deadline and whether it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixture {
    pub name: String,
    pub command: Command,
    pub timeout: Duration,
    /// `writes = false` marks a read-only fixture; the default is that it writes, so it
    /// never runs as a `before_all` hook on a sensitive target.
    pub writes: bool,
    /// Where ft.toml defines it; `None` for an embedded target's default.
    pub defined_at: Option<Diagnostic>,
}

impl Fixture {
    /// Only the embedded target has it (no ft.toml entry names it).
    pub fn is_embedded_default(&self) -> bool {
        self.defined_at.is_none()
    }
}

/// The fixtures a suite may name: ft.toml's, and the embedded target's defaults for the
/// names ft.toml does not configure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fixtures {
    configured: BTreeMap<String, Fixture>,
    /// The ft.toml they came from, for hints.
    pub config: Option<String>,
}

impl Fixtures {
    pub fn new(configured: BTreeMap<String, Fixture>, config: Option<String>) -> Fixtures {
        Fixtures { configured, config }
    }

    /// The fixture named `name`: ft.toml's, else the embedded target's default.
    pub fn get(&self, name: &str) -> Option<Fixture> {
        if let Some(f) = self.configured.get(name) {
            return Some(f.clone());
        }
        let (name, command) = EMBEDDED_DEFAULTS.iter().find(|(n, _)| *n == name)?;
        let command = Command::parse(command).ok()?;
        Some(Fixture { name: name.to_string(), command, timeout: DEFAULT_TIMEOUT, writes: true, defined_at: None })
    }

    /// Every name a step may use.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.configured.keys().map(String::as_str).collect();
        for (n, _) in EMBEDDED_DEFAULTS {
            if !names.contains(n) {
                names.push(n);
            }
        }
        names
    }
}

/// The example ft.toml line that configures `fixture` for a remote target.
pub fn example_line(fixture: &str) -> String {
    match fixture {
        "create_session" => "create_session = \"ssh elspeth@{host} ~/sites/{host}/.venv/bin/python ~/sites/{host}/manage.py create_session {email}\"".into(),
        "reset_database" => "reset_database = { command = \"ssh elspeth@{host} ~/sites/{host}/.venv/bin/python ~/sites/{host}/manage.py flush --noinput\", timeout = 60 }".into(),
        other => format!("{other} = \"ssh deploy@{{host}} ./{other}.sh\""),
    }
}

/// Which hook a fixture step was written as, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// `[suite] before_each`: run before each attempt of each scenario of its file.
    BeforeEach,
    /// `[suite] before_all`: run once, before the first scenario.
    BeforeAll,
}

/// A fixture step: the fixture, the step's arguments (templates while the step uses
/// values), and what it captures.
#[derive(Clone, Debug)]
pub struct FixtureCall {
    pub fixture: Fixture,
    /// The step's arguments by placeholder name, in the order written.
    pub args: Vec<(String, String)>,
    /// The value set to its stdout (trimmed), if any.
    pub capture: Option<String>,
    /// The first group of the first match (else the whole match) is the value.
    pub regex: Option<regex::Regex>,
    pub secret: bool,
    /// The step's own deadline, else the fixture's.
    pub timeout: Duration,
    pub hook: Option<Hook>,
}

impl fmt::Display for FixtureCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hook {
            Some(Hook::BeforeEach) => write!(f, "before_each: fixture {}", self.fixture.name)?,
            Some(Hook::BeforeAll) => write!(f, "before_all: fixture {}", self.fixture.name)?,
            None => write!(f, "fixture {}", self.fixture.name)?,
        }
        if !self.args.is_empty() {
            let args: Vec<String> = self.args.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            write!(f, " ({})", args.join(", "))?;
        }
        if let Some(name) = &self.capture {
            write!(f, ", capturing {name:?}")?;
            if let Some(re) = &self.regex {
                write!(f, " by /{}/", re.as_str())?;
            }
            if self.secret {
                f.write_str(" (secret)")?;
            }
        }
        Ok(())
    }
}

/// The fixtures a run against a remote target would use (its `before_all` hooks, the
/// selected scenarios' steps), refused when one is only the embedded target's or uses
/// `{db}`: what and a hint (with the ft.toml line to add), before any browser starts.
pub fn for_remote(
    before_all: &[super::BeforeAll],
    selected: &[super::Scenario],
    config: Option<&str>,
) -> Result<(), (String, String)> {
    let steps = selected.iter().flat_map(|s| s.steps.iter().map(move |st| (st, s)));
    let mut calls: Vec<(&FixtureCall, String)> = before_all.iter().map(|b| (&b.call, b.at.clone())).collect();
    calls.extend(steps.filter_map(|(st, s)| match &st.kind {
        super::StepKind::Act(super::Action::Fixture(call)) => {
            Some((call, format!("{}:{}:{}", st.file.as_deref().unwrap_or(&s.file), st.line, st.col)))
        }
        _ => None,
    }));
    let config = config.unwrap_or("ft.toml");
    for (call, at) in calls {
        let name = &call.fixture.name;
        if call.fixture.is_embedded_default() {
            return Err((
                format!(
                    "fixture `{name}` (used at {at}) is not configured for a remote target: only the embedded app has it without configuration"
                ),
                format!(
                    "say how to run it on your server in {config}:\n      [fixtures]\n      {}\n    \
                     or leave out the scenarios that need it: --skip-tag TAG (the built-in suite's are tagged `accounts`)",
                    example_line(name)
                ),
            ));
        }
        if call.fixture.command.uses("db") {
            return Err((
                format!(
                    "fixture `{name}` (used at {at}) uses {{db}}, which only the embedded app has: a remote target has no value for it"
                ),
                format!("write the server's own path in its command in {config}"),
            ));
        }
    }
    Ok(())
}

/// With more than one worker, `before_each` hooks run while other workers' scenarios run:
/// a reset then pulls data from under them. The run header's warning, if so.
pub fn before_each_warning(scenarios: &[super::Scenario], workers: usize) -> Option<String> {
    if workers < 2 {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for step in scenarios.iter().flat_map(|s| &s.steps).filter(|st| st.is_hook()) {
        if let super::StepKind::Act(super::Action::Fixture(call)) = &step.kind {
            if !names.contains(&call.fixture.name.as_str()) {
                names.push(&call.fixture.name);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(format!(
        "warning: before_each ({}) runs before every attempt while {workers} workers run scenarios at once: it may reset the data under another worker's scenario; run with --workers 1",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_reads_placeholders_and_literal_braces() {
        let c = Command::parse("ssh u@{host} manage.py create_session {email} ${{HOME}} {email}").expect("parses");
        assert_eq!(c.params(), ["email"]);
        assert!(c.uses("host"));
        let line = c.render(|n| Some(if n == "host" { "staging.example".into() } else { "a b'c".into() }));
        assert_eq!(
            line.as_deref(),
            Ok("ssh u@staging.example manage.py create_session 'a b'\\''c' ${HOME} 'a b'\\''c'")
        );
        assert_eq!(c.render(|_| None), Err("host".to_string()));
    }

    #[test]
    fn bad_braces_are_refused_where_they_are() {
        assert_eq!(Command::parse("echo {x").map_err(|e| e.at), Err(5));
        assert_eq!(Command::parse("echo } x").map_err(|e| e.at), Err(5));
        assert_eq!(Command::parse("echo {a,b}").map_err(|e| e.at), Err(5));
        assert_eq!(Command::parse("é {1x}").map_err(|e| e.at), Err(3));
        assert_eq!(Command::parse("echo ${HOME}").map_err(|e| e.at), Err(5));
    }

    #[test]
    fn quoting_keeps_every_value_one_word() {
        assert_eq!(shell_quote("edith@example.com"), "edith@example.com");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn the_embedded_defaults_are_there_unless_configured() {
        let fixtures = Fixtures::default();
        let session = fixtures.get("create_session").expect("a default");
        assert!(session.is_embedded_default());
        assert_eq!(session.command.params(), ["email"]);
        assert!(fixtures.get("nope").is_none());
        let line = session.command.render(|n| match n {
            "ft" => Some("/opt/ft".into()),
            "db" => Some("/tmp/a b/db.sqlite3".into()),
            "email" => Some("edith@example.com".into()),
            _ => None,
        });
        assert_eq!(line.as_deref(), Ok("/opt/ft serve create-session --db '/tmp/a b/db.sqlite3' edith@example.com"));
    }
}
