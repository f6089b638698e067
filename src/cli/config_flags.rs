//! ft.toml's `[run]` table as flags: every run flag has a key (its name with `_` for
//! `-`: `max_wait = 30`, `workers = 2`, `fail_on_flaky = true`). A key becomes its flag
//! only where neither the flag nor its environment variable gave a value, so the order is
//! flag > environment > file > default. Each value is checked as its flag would be, and
//! a mistake is reported at its `ft.toml:line:col`, all of the file's at once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

use crate::spec::config::{Config, RunSetting};
use crate::spec::{Diagnostic, SpecErrors};

/// Flags a file may not set: where the specs and the config are (ft.toml has its own
/// `specs`), the target (a checked-in file must never choose what is tested: flag or
/// environment only), and the per-machine or per-invocation ones.
const NOT_IN_FILE: &[&str] =
    &["help", "version", "config", "specs", "liveserver", "shard", "last_failed", "repeat_each"];

/// Keys whose relative paths are relative to ft.toml's folder, like `specs`.
const PATH_KEYS: &[&str] = &["reports", "junit", "allure", "driver", "browser_binary", "sign_key", "ca_cert"];

/// `args` with the `[run]` settings of the config file added as flags where the command
/// line and the environment left them unset. Commands other than `ft`/`ft run`/`ft deploy`
/// (and command lines clap refuses, which it reports itself) are returned as they are.
pub fn with_run_table(app: Command, args: Vec<OsString>) -> Result<Vec<OsString>, SpecErrors> {
    let Ok(matches) = app.clone().try_get_matches_from(&args) else { return Ok(args) };
    let (name, sub): (Option<&str>, &ArgMatches) = match matches.subcommand() {
        None => (None, &matches),
        Some((n @ ("run" | "deploy"), m)) => (Some(n), m),
        Some(_) => return Ok(args),
    };
    let config = sub.try_get_one::<PathBuf>("config").ok().flatten().map(PathBuf::as_path);
    let config = Config::load(config)?;
    if config.run.is_empty() {
        return Ok(args);
    }
    let command = match name {
        Some(n) => app.find_subcommand(n).cloned().unwrap_or_else(|| app.clone()),
        None => app.clone(),
    };
    // The keys `ft run` knows: a key for `ft run` that `ft deploy` lacks is not an error there.
    let run_command = app.find_subcommand("run").cloned().unwrap_or_else(|| app.clone());
    let base = config.path.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let mut extra: Vec<OsString> = Vec::new();
    let mut errors = Vec::new();
    for setting in &config.run {
        let known = run_command.get_arguments().find(|a| a.get_id() == setting.key.as_str());
        let Some(arg) = known.filter(|a| a.get_long().is_some() && !NOT_IN_FILE.contains(&setting.key.as_str())) else {
            errors.push(unknown_key(setting, &run_command));
            continue;
        };
        let Some(arg) = command.get_arguments().find(|a| a.get_id() == arg.get_id()) else { continue };
        let long = format!("--{}", arg.get_long().unwrap_or_default());
        let tokens = match tokens(setting, &long, arg.get_action(), &base) {
            Ok(tokens) => tokens,
            Err(why) => {
                errors.push(at(&setting.value_at, why, hint(setting, &long)));
                continue;
            }
        };
        // Checked as the flag is, on its own, so the message points here.
        let mut probe: Vec<OsString> = vec!["ft".into()];
        probe.extend(name.map(OsString::from));
        probe.extend(tokens.iter().cloned());
        // A flag that needs a partner (--expect-version with --version-path) is checked whole later.
        let probed = app.clone().try_get_matches_from(&probe);
        if let Some(e) = probed.err().filter(|e| e.kind() != clap::error::ErrorKind::MissingRequiredArgument) {
            let said = e.to_string();
            let first = said.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
            errors.push(at(&setting.value_at, format!("[run] {}: {first}", setting.key), hint(setting, &long)));
            continue;
        }
        let given = matches!(
            sub.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if !given {
            extra.extend(tokens);
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let mut args = args;
    args.extend(extra);
    Ok(args)
}

/// The flag's words for a value: `--max-wait 30`; `--headed` for `headed = true` (and
/// nothing for false); an array repeats the flag (`tag = ["smoke", "lists"]`).
fn tokens(setting: &RunSetting, long: &str, action: &ArgAction, base: &Path) -> Result<Vec<OsString>, String> {
    let key = setting.key.as_str();
    let scalar = |v: &toml::Value| -> Result<String, String> {
        match v {
            toml::Value::String(s) if PATH_KEYS.contains(&key) && Path::new(s).is_relative() => {
                Ok(base.join(s).display().to_string())
            }
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            other => Err(format!("[run] {key}: expected text or a number, found {}", other.type_str())),
        }
    };
    match (action, &setting.value) {
        (ArgAction::SetTrue, toml::Value::Boolean(true)) => Ok(vec![long.into()]),
        (ArgAction::SetTrue, toml::Value::Boolean(false)) => Ok(Vec::new()),
        (ArgAction::SetTrue, other) => Err(format!("[run] {key}: expected true or false, found {}", other.type_str())),
        // A switch that turns something off (`--no-progress` is `progress = false`).
        (ArgAction::SetFalse, toml::Value::Boolean(false)) => Ok(vec![long.into()]),
        (ArgAction::SetFalse, toml::Value::Boolean(true)) => Ok(Vec::new()),
        (ArgAction::SetFalse, other) => Err(format!("[run] {key}: expected true or false, found {}", other.type_str())),
        (ArgAction::Append, toml::Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                out.push(long.into());
                out.push(scalar(item)?.into());
            }
            Ok(out)
        }
        (_, toml::Value::Array(_)) => Err(format!("[run] {key}: takes one value, not a list")),
        (_, value) => Ok(vec![long.into(), scalar(value)?.into()]),
    }
}

fn at(place: &Diagnostic, message: String, hint: Option<String>) -> Diagnostic {
    Diagnostic { message, hint, ..place.clone() }
}

fn hint(setting: &RunSetting, long: &str) -> Option<String> {
    Some(format!("`{} = …` in [run] is the flag {long}: see `ft run --help` for its values", setting.key))
}

fn unknown_key(setting: &RunSetting, run: &Command) -> Diagnostic {
    let keys: Vec<String> = run
        .get_arguments()
        .filter(|a| a.get_long().is_some() && !NOT_IN_FILE.contains(&a.get_id().as_str()))
        .map(|a| a.get_id().to_string())
        .collect();
    let why = if NOT_IN_FILE.contains(&setting.key.as_str()) {
        format!("`{}` cannot be set in ft.toml's [run]", setting.key)
    } else {
        format!("unknown key `{}` in [run]", setting.key.chars().take(60).collect::<String>())
    };
    let near = crate::spec::did_you_mean(&setting.key.replace('-', "_"), keys.iter().map(String::as_str));
    let hint = match near {
        // Even `auto`: a checked-in file is read on every machine, where `--shard auto`
        // without a CI's variables is an error, so `ft` on a laptop would stop.
        _ if setting.key == "shard" => {
            "a shard is one machine's part: give --shard I/N, or --shard auto in the CI job (it reads the CI's own variables)"
                .to_string()
        }
        Some(k) => format!("did you mean `{k}`?"),
        None if setting.key == "liveserver" => {
            "the target is never read from a file: give --liveserver or FT_LIVESERVER".to_string()
        }
        None => format!("[run] may hold: {}", keys.join(", ")),
    };
    at(&setting.key_at, why, Some(hint))
}
