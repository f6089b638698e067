//! `ft.toml`: where the specs are and which named selectors to override, so a team's
//! checkout runs its own specs and nothing unrelated is ever loaded by accident.
//! A mistake in it is reported as `ft.toml:line:col` with its key, never as a flag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::diag::{Diagnostic, LineIndex, SpecErrors};
use super::fixture::{self, Command, Fixture, Fixtures};
use super::{OverrideOrigin, SelectorOverrides};

pub const FILE_NAME: &str = "ft.toml";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// Spec folder or file, resolved against the config file's folder.
    pub specs: Option<PathBuf>,
    /// Where `specs` was written, for a diagnostic about it.
    specs_at: Option<Diagnostic>,
    /// `[selectors]`, each remembering its position in the file.
    pub selectors: SelectorOverrides,
    /// Regex of target URLs where only safe (tagged) scenarios may run (checked here).
    pub sensitive_url: Option<String>,
    /// `[run]`: run settings by flag name (`max_wait = 30`), each with where it is
    /// written; `cli` turns them into flags where no flag or variable gave one.
    pub run: Vec<RunSetting>,
    /// `[fixtures]`: named server-side commands, each checked here (its placeholders).
    pub fixtures: Fixtures,
    /// `[values]`: texts replacing the specs' values of the same names.
    pub values: Vec<ValueOverride>,
}

/// One key of `[run]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSetting {
    pub key: String,
    pub value: toml::Value,
    /// Where the key and the value are written (message still to fill in).
    pub key_at: Diagnostic,
    pub value_at: Diagnostic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    specs: Option<Spanned<String>>,
    #[serde(default)]
    selectors: BTreeMap<Spanned<String>, Spanned<String>>,
    sensitive_url: Option<Spanned<String>>,
    #[serde(default)]
    run: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    fixtures: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// One `[values]` entry of ft.toml: it replaces the specs' value of that name (a staging
/// server's test addresses, for example).
#[derive(Clone, Debug, PartialEq)]
pub struct ValueOverride {
    pub name: String,
    pub text: String,
    /// Where the name is written (message still to fill in).
    pub at: Diagnostic,
}

/// Replace the suite's values with ft.toml's; a name no spec defines is an error at its
/// line in ft.toml.
pub fn apply_values(suite: &mut super::Suite, overrides: &[ValueOverride]) -> Result<(), SpecErrors> {
    let mut errors = Vec::new();
    for o in overrides {
        let Some(slot) = suite.values.iter_mut().find(|(name, _)| *name == o.name) else {
            let names = suite.values.iter().map(|(n, _)| n.as_str());
            let hint = match super::diag::did_you_mean(&o.name, names) {
                Some(n) => format!("did you mean `{n}`?"),
                None if suite.values.is_empty() => "the specs define no [values]".into(),
                None => format!(
                    "the specs define {}",
                    suite.values.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            errors.push(Diagnostic {
                message: format!("[values] `{}` is a value no spec defines", o.name),
                hint: Some(hint),
                ..o.at.clone()
            });
            continue;
        };
        slot.1 = o.text.clone();
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    for scenario in &mut suite.scenarios {
        scenario.values = suite.values.clone();
    }
    Ok(())
}

const HINT: &str =
    "ft.toml may hold: specs = \"DIR\", sensitive_url = \"REGEX\", a [selectors] table, a [run] table of run settings, a [fixtures] table of server-side commands and a [values] table";

const FIXTURE_HINT: &str = "a fixture is a command, name = \"ssh deploy@{host} ./reset.sh\", or a table, name = { command = \"...\", timeout = 60, writes = false }";

impl Config {
    /// Read `path`, or `./ft.toml` when it exists; no file means the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, SpecErrors> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let default = PathBuf::from(FILE_NAME);
                // Anything there is read (and refused if it is no regular file): a FIFO
                // or a loop named ft.toml is a mistake to report, not to skip silently.
                if std::fs::symlink_metadata(&default).is_err() {
                    return Ok(Config::default());
                }
                default
            }
        };
        let display = path.display().to_string();
        let bytes = super::read_file(&path, "the config file", "pass an existing file with --config")?;
        let text = String::from_utf8(bytes).map_err(|e| SpecErrors::one(super::not_utf8(&display, e)))?;
        let index = LineIndex::new(&text);
        let at = |span: std::ops::Range<usize>, message: String, hint: Option<String>| {
            Diagnostic::indexed(&display, &index, span, message, hint)
        };
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            SpecErrors::one(at(e.span().unwrap_or(0..0), e.message().trim().to_string(), Some(HINT.into())))
        })?;
        let mut errors = Vec::new();
        if let Some(pattern) = &raw.sensitive_url {
            if let Err(e) = regex::Regex::new(pattern.get_ref()) {
                errors.push(at(
                    pattern.span(),
                    format!(
                        "`sensitive_url` is not a valid regular expression: {}",
                        e.to_string().lines().last().unwrap_or("").trim()
                    ),
                    Some("for example sensitive_url = '^https://superlists\\.ottg\\.eu'".into()),
                ));
            }
        }
        let mut selectors = SelectorOverrides::new();
        for (name, css) in raw.selectors {
            let name_at = at(name.span(), String::new(), None);
            if css.get_ref().trim().is_empty() {
                errors.push(at(
                    css.span(),
                    format!("[selectors] `{}` is empty", super::diag::cut(name.get_ref())),
                    Some("give a CSS selector such as \"#id_text\", or remove the line".into()),
                ));
            }
            let value = at(css.span(), String::new(), None);
            let name = name.into_inner().trim().trim_start_matches('@').to_string();
            selectors.insert_located(
                name,
                css.into_inner().trim().to_string(),
                OverrideOrigin { name: name_at, value },
            );
        }
        let mut fixtures = BTreeMap::new();
        for (name, value) in raw.fixtures {
            if let Some(f) = read_fixture(&name, &value, &text, &at, &mut errors) {
                fixtures.insert(f.name.clone(), f);
            }
        }
        let mut values = Vec::new();
        for (name, text) in raw.values {
            let checked = super::values::check_suite_value(name.get_ref(), &text, |span, message, hint| {
                errors.push(at(span, message, Some(hint)))
            });
            if let Some(text) = checked {
                values.push(ValueOverride { at: at(name.span(), String::new(), None), name: name.into_inner(), text });
            }
        }
        if !errors.is_empty() {
            return Err(SpecErrors(errors));
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut run: Vec<RunSetting> = raw
            .run
            .into_iter()
            .map(|(key, value)| RunSetting {
                key_at: at(key.span(), String::new(), None),
                value_at: at(value.span(), String::new(), None),
                key: key.into_inner(),
                value: value.into_inner(),
            })
            .collect();
        run.sort_by_key(|s| (s.key_at.line, s.key_at.col));
        Ok(Config {
            run,
            specs_at: raw.specs.as_ref().map(|s| at(s.span(), String::new(), None)),
            specs: raw.specs.map(|s| base.join(s.into_inner())),
            selectors,
            sensitive_url: raw.sensitive_url.map(Spanned::into_inner),
            fixtures: Fixtures::new(fixtures, Some(display)),
            values,
            path: Some(path),
        })
    }

    /// `specs` from this file, after checking it names something readable: a wrong one is
    /// reported at its line in ft.toml, not as if `--specs` had been given.
    pub fn specs(&self) -> Result<Option<PathBuf>, SpecErrors> {
        let (Some(specs), Some(at)) = (&self.specs, &self.specs_at) else { return Ok(self.specs.clone()) };
        match std::fs::metadata(specs) {
            Ok(_) => Ok(Some(specs.clone())),
            Err(e) => Err(SpecErrors::one(Diagnostic {
                message: format!("`specs` names {}, which cannot be read: {e}", specs.display()),
                hint: Some(format!(
                    "`specs` is relative to the folder of {}; fix it there, or pass --specs",
                    self.path.as_deref().unwrap_or(Path::new(FILE_NAME)).display()
                )),
                ..at.clone()
            })),
        }
    }
}

/// One `[fixtures]` entry: `name = "command"` or `name = { command, timeout, writes }`,
/// its command's placeholders checked (a wrong brace is reported at itself).
fn read_fixture(
    name: &Spanned<String>,
    value: &Spanned<toml::Value>,
    text: &str,
    at: &dyn Fn(std::ops::Range<usize>, String, Option<String>) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) -> Option<Fixture> {
    let shown = super::diag::cut(name.get_ref());
    let ident = name.get_ref().chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        let hint = "use letters, digits and `_`, e.g. reset_database".to_string();
        errors.push(at(name.span(), format!("[fixtures] `{shown}` is not a plain name"), Some(hint)));
        return None;
    }
    let bad = |span, message: String| at(span, message, Some(FIXTURE_HINT.into()));
    let (command, span, timeout, writes) = match value.get_ref() {
        toml::Value::String(c) => (c.clone(), value.span(), fixture::DEFAULT_TIMEOUT, true),
        toml::Value::Table(table) => {
            let mut command = None;
            let mut timeout = fixture::DEFAULT_TIMEOUT;
            let mut writes = true;
            for (key, v) in table {
                match (key.as_str(), v) {
                    ("command", toml::Value::String(c)) => command = Some(c.clone()),
                    ("timeout", toml::Value::Integer(n)) if (1..=fixture::MAX_TIMEOUT_SECS as i64).contains(n) => {
                        timeout = std::time::Duration::from_secs(*n as u64)
                    }
                    ("timeout", toml::Value::Float(x)) if *x > 0.0 && *x <= fixture::MAX_TIMEOUT_SECS => {
                        timeout = std::time::Duration::from_secs_f64(*x)
                    }
                    ("timeout", _) => {
                        errors.push(bad(
                            value.span(),
                            format!(
                                "[fixtures] `{shown}`: `timeout` is seconds, more than 0 and at most {}",
                                fixture::MAX_TIMEOUT_SECS
                            ),
                        ));
                        return None;
                    }
                    ("writes", toml::Value::Boolean(b)) => writes = *b,
                    ("writes", _) => {
                        errors.push(bad(value.span(), format!("[fixtures] `{shown}`: `writes` is true or false")));
                        return None;
                    }
                    ("command", _) => {
                        errors.push(bad(value.span(), format!("[fixtures] `{shown}`: `command` is text")));
                        return None;
                    }
                    (other, _) => {
                        let message = format!("[fixtures] `{shown}` does not take `{}`", super::diag::cut(other));
                        errors.push(bad(value.span(), message));
                        return None;
                    }
                }
            }
            let Some(command) = command else {
                errors.push(bad(value.span(), format!("[fixtures] `{shown}` needs `command`")));
                return None;
            };
            // The command's own position, when it is written as a plain string.
            let written = &text[value.span()];
            let found = written.find(&format!("\"{command}\"")).or_else(|| written.find(&format!("'{command}'")));
            let span = found.map_or(value.span(), |i| {
                let start = value.span().start + i;
                start..start + command.len() + 2
            });
            (command, span, timeout, writes)
        }
        other => {
            errors.push(bad(value.span(), format!("[fixtures] `{shown}` is {}, expected a command", other.type_str())));
            return None;
        }
    };
    if command.trim().is_empty() {
        errors.push(bad(span, format!("[fixtures] `{shown}` is empty")));
        return None;
    }
    match Command::parse(&command) {
        Ok(parsed) => Some(Fixture {
            name: name.get_ref().clone(),
            command: parsed,
            timeout,
            writes,
            defined_at: Some(at(name.span(), String::new(), None)),
        }),
        Err(e) => {
            // Inside a string written without escapes, the brace's own column.
            let written = &text[span.clone()];
            let offset = if written.len() == command.len() + 2 && written[1..written.len() - 1] == command {
                span.start + 1 + e.at
            } else {
                span.start
            };
            errors.push(at(offset..offset + 1, format!("[fixtures] `{shown}`: {}", e.message), Some(e.hint)));
            None
        }
    }
}
