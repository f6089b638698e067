//! `ft.toml`: where the specs are and which named selectors to override, so a team's
//! checkout runs its own specs and nothing unrelated is ever loaded by accident.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::diag::{Diagnostic, SpecErrors};

pub const FILE_NAME: &str = "ft.toml";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// Spec folder or file, resolved against the config file's folder.
    pub specs: Option<PathBuf>,
    pub selectors: BTreeMap<String, String>,
    /// Regex of target URLs where only safe (tagged) scenarios may run.
    pub sensitive_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    specs: Option<String>,
    #[serde(default)]
    selectors: BTreeMap<String, String>,
    sensitive_url: Option<String>,
}

impl Config {
    /// Read `path`, or `./ft.toml` when it exists; no file means the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, SpecErrors> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let default = PathBuf::from(FILE_NAME);
                if !default.is_file() {
                    return Ok(Config::default());
                }
                default
            }
        };
        let display = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SpecErrors::one(Diagnostic::file_level(
                display.clone(),
                format!("failed to read the config file: {e}"),
                Some("pass an existing file with --config".into()),
            ))
        })?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let hint =
                "ft.toml may hold: specs = \"DIR\", sensitive_url = \"REGEX\" and a [selectors] table".to_string();
            SpecErrors::one(Diagnostic::at(
                &display,
                &text,
                e.span().unwrap_or(0..0),
                e.message().trim().to_string(),
                Some(hint),
            ))
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Config {
            specs: raw.specs.map(|s| base.join(s)),
            selectors: raw.selectors,
            sensitive_url: raw.sensitive_url,
            path: Some(path),
        })
    }
}
