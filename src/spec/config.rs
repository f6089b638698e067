//! `ft.toml`: where the specs are and which named selectors to override, so a team's
//! checkout runs its own specs and nothing unrelated is ever loaded by accident.
//! A mistake in it is reported as `ft.toml:line:col` with its key, never as a flag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::diag::{Diagnostic, LineIndex, SpecErrors};
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
}

const HINT: &str =
    "ft.toml may hold: specs = \"DIR\", sensitive_url = \"REGEX\", a [selectors] table and a [run] table of run settings";

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
