//! Values in steps: `${name}` templates (parsed and checked at load), the built-ins, the
//! one store an attempt sets values in (captures and fixtures; emails later), and the
//! substitution of a step's templates just before it runs. Secrets (`secret = true`, every
//! `env.*`) are remembered by the store so the runner can redact them from every output.

use std::collections::HashMap;

use super::{Action, Capture, CaptureFrom, Expectation, Selector, StepKind};

/// The built-ins without a dot.
const PLAIN_BUILT_INS: &[&str] = &["attempt", "unique"];
/// The dotted built-ins (besides `env.NAME`).
const DOTTED_BUILT_INS: &[&str] = &["run.id", "scenario.id"];

/// What a secret shows as, in every output.
pub const SECRET: &str = "[secret]";

/// A string of a step as written: text and the values used in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Use),
}

/// One `${name}` or `${name + 1}` in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub name: String,
    /// The integer added (`${rows + 1}`: 1; `${n - 2}`: -2; `${name}`: 0).
    pub add: i64,
    /// Whether it is arithmetic (`${n + 0}` is, `${n}` is not).
    pub arithmetic: bool,
    /// The byte offset of its `${` in the string.
    pub at: usize,
}

/// A template that cannot be read: where (byte offset of the `${`), what, and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub at: usize,
    pub message: String,
    pub hint: String,
}

const SYNTAX_HINT: &str =
    "a value is written ${name} or ${name + 1} (a name of letters, digits and `_`); write $${ for a literal ${";

/// Read a string of a step: `${name}`, `${name + 1}`, `${name - 1}`, `$${` for a literal `${`.
pub fn parse(s: &str) -> Result<Template, TemplateError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("$${") {
            text.push_str("${");
            rest = &after[3..];
            offset += i + 3;
        } else if after.starts_with("${") {
            let at = offset + i;
            let Some(end) = after.find('}') else {
                return Err(TemplateError {
                    at,
                    message: "`${` is not closed by `}`".into(),
                    hint: SYNTAX_HINT.into(),
                });
            };
            let inner = &after[2..end];
            let used = parse_use(inner, at)?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Value(used));
            rest = &after[end + 1..];
            offset += i + end + 1;
        } else {
            text.push('$');
            rest = &after[1..];
            offset += i + 1;
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(Template { parts })
}

fn parse_use(inner: &str, at: usize) -> Result<Use, TemplateError> {
    let bad = |message: String| TemplateError { at, message, hint: SYNTAX_HINT.into() };
    let (name, add, arithmetic) = match inner.find(['+', '-']) {
        Some(op) => {
            let number = inner[op + 1..].trim();
            let n: i64 = number.parse().ok().filter(|_| !number.starts_with(['+', '-'])).ok_or_else(|| {
                bad(format!("`${{{inner}}}` adds {}, which is not a whole number", super::diag::quote(number)))
            })?;
            let n = if &inner[op..=op] == "-" { -n } else { n };
            (inner[..op].trim(), n, true)
        }
        None => (inner.trim(), 0, false),
    };
    if name.is_empty() {
        return Err(bad(format!("`${{{inner}}}` names no value")));
    }
    let word_ok = |w: &str| {
        w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !name.split('.').all(word_ok) {
        return Err(bad(format!("{} is not a value's name", super::diag::quote(name))));
    }
    Ok(Use { name: name.to_string(), add, arithmetic, at })
}

impl Template {
    /// The values it uses, in order.
    pub fn uses(&self) -> impl Iterator<Item = &Use> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value(u) => Some(u),
            Part::Text(_) => None,
        })
    }

    /// Text only (no value used).
    pub fn is_plain(&self) -> bool {
        self.uses().next().is_none()
    }

    /// The text of a plain template (values, if any, left out).
    pub fn text(&self) -> String {
        self.parts.iter().filter_map(|p| if let Part::Text(t) = p { Some(t.as_str()) } else { None }).collect()
    }

    /// Written back as a template (`${` in text escaped again), after `each` replaced the
    /// values it returns text for (a reusable step's parameters).
    pub fn rewrite(&self, mut each: impl FnMut(&Use) -> Option<String>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(&t.replace("${", "$${")),
                Part::Value(u) => match each(u) {
                    Some(source) => out.push_str(&source),
                    None => out.push_str(&u.source()),
                },
            }
        }
        out
    }

    /// The text with every value filled in from `values`.
    pub fn render(&self, values: &mut Values) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(u) => out.push_str(&values.value_of(u)?),
            }
        }
        Ok(out)
    }
}

impl Use {
    /// As written: `${name}`, `${name + 1}`, `${name - 2}`.
    pub fn source(&self) -> String {
        match (self.arithmetic, self.add < 0) {
            (false, _) => format!("${{{}}}", self.name),
            (true, false) => format!("${{{} + {}}}", self.name, self.add),
            (true, true) => format!("${{{} - {}}}", self.name, self.add.unsigned_abs()),
        }
    }
}

/// What a name is, by its spelling.
pub enum Kind {
    /// Set by the run: `run.id`, `scenario.id`, `attempt`, `unique`, `env.NAME`.
    BuiltIn,
    /// Set by a step of the scenario (a capture).
    Set,
    /// Dotted, but no built-in: the hint says which are.
    UnknownBuiltIn(String),
}

pub fn kind(name: &str) -> Kind {
    if PLAIN_BUILT_INS.contains(&name) || DOTTED_BUILT_INS.contains(&name) {
        return Kind::BuiltIn;
    }
    if let Some(var) = name.strip_prefix("env.") {
        if !var.contains('.') {
            return Kind::BuiltIn;
        }
    }
    if !name.contains('.') {
        return Kind::Set;
    }
    let known = PLAIN_BUILT_INS.iter().chain(DOTTED_BUILT_INS).copied().chain(["env.NAME"]);
    let hint = match super::diag::did_you_mean(name, known) {
        Some(b) => format!("did you mean `${{{b}}}`?"),
        None => "the built-ins are ${run.id}, ${scenario.id}, ${attempt}, ${unique} and ${env.NAME}; a value a step sets has no dot".into(),
    };
    Kind::UnknownBuiltIn(hint)
}

/// A `[values]` entry (in a spec or in ft.toml): a plain name, and a text that uses only
/// the built-ins a run sets for every attempt (no `env.*`: a value that is always there).
/// Reports through `err(span, message, hint)` and answers the text when it is good.
pub fn check_suite_value(
    name: &str,
    text: &toml::Spanned<String>,
    mut err: impl FnMut(std::ops::Range<usize>, String, String),
) -> Option<String> {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain || PLAIN_BUILT_INS.contains(&name) {
        let what = if plain {
            format!("`{name}` is a built-in value")
        } else {
            format!("{} is not a value's name", super::diag::quote(name))
        };
        err(text.span(), what, "use letters, digits and `_`, starting with a letter, e.g. edith".into());
        return None;
    }
    let template = match parse(text.get_ref()) {
        Ok(t) => t,
        Err(e) => {
            err(text.span(), e.message, e.hint);
            return None;
        }
    };
    for used in template.uses() {
        let fixed = PLAIN_BUILT_INS.contains(&used.name.as_str()) || DOTTED_BUILT_INS.contains(&used.name.as_str());
        if !fixed || used.arithmetic {
            err(
                text.span(),
                format!("the value `{name}` uses {}, which is not there before the first step", used.source()),
                "a [values] text may use ${unique}, ${run.id}, ${scenario.id} and ${attempt}; use ${env.NAME} or a captured value in the step itself".into(),
            );
            return None;
        }
    }
    Some(text.get_ref().clone())
}

/// The values of one attempt at a scenario: the built-ins and what its steps set. One
/// store for every way a value is set (captures and fixtures; emails later), so secrets
/// are known in one place.
#[derive(Clone, Debug, Default)]
pub struct Values {
    set: HashMap<String, Value>,
    /// Every secret value used or set so far, for redaction.
    secrets: Vec<String>,
}

#[derive(Clone, Debug)]
struct Value {
    text: String,
    secret: bool,
}

impl Values {
    /// The built-ins of one attempt (1-based) at the scenario named `scenario` in run `run_id`.
    pub fn for_attempt(run_id: &str, scenario: &str, attempt: usize) -> Values {
        let mut values = Values::default();
        values.set("run.id", run_id.to_string(), false);
        values.set("scenario.id", scenario_id(scenario), false);
        values.set("attempt", attempt.to_string(), false);
        values.set("unique", unique_token(), false);
        values
    }

    /// Set the suite's `[values]` (name, template of built-ins), before the first step.
    pub fn set_suite_values(&mut self, suite: &[(String, String)]) {
        for (name, text) in suite {
            // Checked at load: only built-ins, which every attempt has.
            let Ok(template) = parse(text) else { continue };
            if let Ok(filled) = template.render(self) {
                self.set(name, filled, false);
            }
        }
    }

    /// Set `name` for the rest of the attempt.
    pub fn set(&mut self, name: &str, text: String, secret: bool) {
        if secret {
            self.remember_secret(&text);
        }
        self.set.insert(name.to_string(), Value { text, secret });
    }

    /// Hide `text` in everything the attempt reports, as a secret value is (the inbox
    /// password: a fixture could print it).
    pub fn hide(&mut self, text: &str) {
        self.remember_secret(text);
    }

    fn remember_secret(&mut self, text: &str) {
        if !text.is_empty() && !self.secrets.iter().any(|s| s == text) {
            self.secrets.push(text.to_string());
            // The longest first, so a secret containing another is replaced whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The value a use stands for.
    fn value_of(&mut self, u: &Use) -> Result<String, String> {
        let text = if let Some(var) = u.name.strip_prefix("env.") {
            match std::env::var(var) {
                Ok(v) => {
                    self.remember_secret(&v);
                    v
                }
                Err(_) => {
                    return Err(format!(
                        "the environment variable {var} is not set (used as ${{env.{var}}}); set it where ft runs"
                    ))
                }
            }
        } else {
            match self.set.get(&u.name) {
                Some(v) => v.text.clone(),
                None => return Err(format!("no value named {} is set at this step", u.source())),
            }
        };
        if !u.arithmetic {
            return Ok(text);
        }
        let secret = u.name.starts_with("env.") || self.set.get(&u.name).is_some_and(|v| v.secret);
        let shown = if secret { SECRET.to_string() } else { format!("{text:?}") };
        let n: i64 =
            text.trim().parse().map_err(|_| format!("{} needs a whole number, but it is {shown}", u.source()))?;
        n.checked_add(u.add).map(|n| n.to_string()).ok_or_else(|| format!("{} is too large", u.source()))
    }

    /// Every secret seen so far (set as one, or read from the environment).
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }
}

/// `text` with every one of `secrets` replaced by `[secret]`.
pub fn redact(secrets: &[String], text: &str) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if !s.is_empty() && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), SECRET);
        }
    }
    out
}

/// A scenario's stable id: the first 8 hex digits of the sha256 of its name.
pub fn scenario_id(name: &str) -> String {
    super::sha256_hex(name.as_bytes())[..8].to_string()
}

/// A new run's id (`${run.id}`): lowercase letters and digits.
pub fn run_id() -> String {
    unique_token()[1..9].to_string()
}

/// A token no other attempt has: lowercase letters and digits, safe in an email's local
/// part and in a URL path.
fn unique_token() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: the time still differs between attempts.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes = (nanos as u64).to_le_bytes();
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = u64::from_le_bytes(bytes);
    let mut out = String::from("u");
    for _ in 0..12 {
        out.push(ALPHABET[(n % 36) as usize] as char);
        n /= 36;
    }
    out
}

/// Fill in a text a step holds (written as a template: see `spec::verbs`).
fn text(source: &str, values: &mut Values) -> Result<String, String> {
    parse(source).map_err(|e| e.message)?.render(values)
}

/// A selector written with values, filled in and checked as a selector written without
/// them is at load. The one place a selector's values are substituted.
pub fn selector(sel: &Selector, values: &mut Values) -> Result<Selector, String> {
    let Some(written) = &sel.template else {
        return Ok(sel.clone());
    };
    let filled = text(written, values)?;
    if filled.trim().is_empty() {
        return Err(format!("the selector {written:?} is empty once its values are filled in"));
    }
    let locator = super::locator::parse(&filled).map_err(|e| format!("{} (from {written:?})", e.message(None)))?;
    Ok(Selector { locator, name: sel.name.clone(), template: None })
}

/// The step's kind with its values filled in, just before it runs. Only a step that uses
/// values (`Step::templated`) holds templates; the fields that cannot (a key, a pattern,
/// a name given to `remember_url`) are checked at load and copied.
pub fn resolve(kind: &StepKind, values: &mut Values) -> Result<StepKind, String> {
    let mut t = |s: &String| text(s, values);
    Ok(match kind {
        StepKind::Act(a) => StepKind::Act(match a {
            Action::Visit(path) => Action::Visit(t(path)?),
            Action::Type { into, text } => Action::Type { text: t(text)?, into: selector(into, values)? },
            Action::Press { key, on } => Action::Press { key: *key, on: selector(on, values)? },
            Action::Click(s) => Action::Click(selector(s, values)?),
            Action::Clear(s) => Action::Clear(selector(s, values)?),
            Action::NewVisitor(who) => Action::NewVisitor(who.as_ref().map(t).transpose()?),
            Action::Visitor(who) => Action::Visitor(t(who)?),
            Action::WindowSize { .. } | Action::RememberUrl(_) => a.clone(),
            Action::Capture(c) => Action::Capture(Capture {
                from: match &c.from {
                    CaptureFrom::Url => CaptureFrom::Url,
                    CaptureFrom::TextOf(s) => CaptureFrom::TextOf(selector(s, values)?),
                    CaptureFrom::Attribute { name, of } => {
                        CaptureFrom::Attribute { name: text(name, values)?, of: selector(of, values)? }
                    }
                    CaptureFrom::CountOf(s) => CaptureFrom::CountOf(selector(s, values)?),
                    CaptureFrom::Email { to, subject, timeout } => {
                        CaptureFrom::Email { to: text(to, values)?, subject: text(subject, values)?, timeout: *timeout }
                    }
                },
                ..c.clone()
            }),
            Action::SubmitNovalidate(s) => Action::SubmitNovalidate(selector(s, values)?),
            Action::SetCookie(c) => Action::SetCookie(crate::shared::cookie::Cookie {
                name: t(&c.name)?,
                value: t(&c.value)?,
                path: c.path.as_ref().map(&mut t).transpose()?,
                ..c.clone()
            }),
            Action::DeleteCookie(name) => Action::DeleteCookie(t(name)?),
            Action::Select { option, of } => Action::Select { option: t(option)?, of: selector(of, values)? },
            Action::Check(s) => Action::Check(selector(s, values)?),
            Action::Uncheck(s) => Action::Uncheck(selector(s, values)?),
            Action::Hover(s) => Action::Hover(selector(s, values)?),
            // The file was found at load: its path is fixed.
            Action::Upload { file, written, into } => {
                Action::Upload { file: file.clone(), written: written.clone(), into: selector(into, values)? }
            }
            Action::AcceptDialog { text, prompt } => Action::AcceptDialog {
                text: text.as_ref().map(&mut t).transpose()?,
                prompt: prompt.as_ref().map(&mut t).transpose()?,
            },
            Action::DismissDialog { text } => Action::DismissDialog { text: text.as_ref().map(&mut t).transpose()? },
            Action::Frame(s) => Action::Frame(selector(s, values)?),
            Action::Reload | Action::Back | Action::Forward | Action::MainFrame | Action::Tab(_) | Action::CloseTab => {
                a.clone()
            }
            // Its arguments only: the command is filled in (and quoted) when it runs.
            Action::Fixture(call) => {
                let mut args = Vec::with_capacity(call.args.len());
                for (name, written) in &call.args {
                    args.push((name.clone(), t(written)?));
                }
                Action::Fixture(super::fixture::FixtureCall { args, ..call.clone() })
            }
        }),
        StepKind::Expect(e) => StepKind::Expect(match e {
            Expectation::Title(s) => Expectation::Title(t(s)?),
            Expectation::Present(s) => Expectation::Present(selector(s, values)?),
            Expectation::Absent(s) => Expectation::Absent(selector(s, values)?),
            Expectation::Text { of, equals } => Expectation::Text { equals: t(equals)?, of: selector(of, values)? },
            Expectation::TextContains { of, contains } => {
                Expectation::TextContains { contains: t(contains)?, of: selector(of, values)? }
            }
            Expectation::Visible(s) => Expectation::Visible(selector(s, values)?),
            Expectation::Hidden(s) => Expectation::Hidden(selector(s, values)?),
            Expectation::Row { table, text } => Expectation::Row { text: t(text)?, table: selector(table, values)? },
            Expectation::PageText(s) => Expectation::PageText(t(s)?),
            Expectation::NoText(s) => Expectation::NoText(t(s)?),
            Expectation::Attribute { of, name, equals } => {
                Expectation::Attribute { name: t(name)?, equals: t(equals)?, of: selector(of, values)? }
            }
            Expectation::Centred { of, at, tolerance } => {
                Expectation::Centred { of: selector(of, values)?, at: *at, tolerance: *tolerance }
            }
            Expectation::Count { of, count } => Expectation::Count { of: selector(of, values)?, count: *count },
            Expectation::Value { of, equals } => Expectation::Value { equals: t(equals)?, of: selector(of, values)? },
            Expectation::Checked(s) => Expectation::Checked(selector(s, values)?),
            Expectation::Unchecked(s) => Expectation::Unchecked(selector(s, values)?),
            Expectation::Enabled(s) => Expectation::Enabled(selector(s, values)?),
            Expectation::Disabled(s) => Expectation::Disabled(selector(s, values)?),
            Expectation::Focused(s) => Expectation::Focused(selector(s, values)?),
            Expectation::Cookie { name, equals } => {
                Expectation::Cookie { name: t(name)?, equals: equals.as_ref().map(&mut t).transpose()? }
            }
            Expectation::NoCookie(name) => Expectation::NoCookie(t(name)?),
            Expectation::Url(_) | Expectation::UrlDiffers(_) | Expectation::UrlSame(_) | Expectation::NoSignals(_) => {
                e.clone()
            }
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_reads_values_arithmetic_and_escapes() {
        let t = parse("row ${rows + 1}: ${text}, $${literal} $5").expect("parses");
        let uses: Vec<String> = t.uses().map(Use::source).collect();
        assert_eq!(uses, ["${rows + 1}", "${text}"]);
        let mut values = Values::default();
        values.set("rows", "2".into(), false);
        values.set("text", "Buy milk".into(), false);
        assert_eq!(t.render(&mut values), Ok("row 3: Buy milk, ${literal} $5".into()));
        assert_eq!(parse("${n - 2}").expect("parses").uses().next().map(|u| u.add), Some(-2));
        assert_eq!(parse("$${x}").expect("parses").rewrite(|_| None), "$${x}");
    }

    #[test]
    fn bad_templates_are_refused_at_their_dollar() {
        assert_eq!(parse("ab ${x").map_err(|e| e.at), Err(3));
        assert!(parse("${}").is_err());
        assert!(parse("${1x}").is_err());
        assert!(parse("${x + y}").is_err());
        assert!(parse("${x + -1}").is_err());
    }

    #[test]
    fn secrets_are_redacted_and_arithmetic_on_a_secret_does_not_show_it() {
        let mut values = Values::default();
        values.set("key", "s3cr3t".into(), true);
        assert_eq!(redact(values.secrets(), "key s3cr3t here"), "key [secret] here");
        let err = parse("${key + 1}").expect("parses").render(&mut values).expect_err("not a number");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_unique_token_is_new_each_attempt_and_safe_in_an_email() {
        let a = Values::for_attempt("r", "s", 1);
        let b = Values::for_attempt("r", "s", 2);
        let token = |v: &Values| v.set["unique"].text.clone();
        assert_ne!(token(&a), token(&b));
        assert!(token(&a).chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(a.set["scenario.id"].text, b.set["scenario.id"].text);
    }
}
