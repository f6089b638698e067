//! Parsed flags become the options of one command (`JobOptions`, `DeployOptions`,
//! `WatchOptions`, `GateOptions`): the environment's targets, ft.toml's specs and
//! selectors, the trust and the settings every run carries.

use std::time::Duration;

use crate::browser::{BrowserConfig, BrowserKind};
use crate::commands;
use crate::deploy::{self, DeployOptions};
use crate::error::Error;
use crate::gate::GateOptions;
use crate::job::JobOptions;
use crate::settings::{FlakyPolicy, ReportPaths, Settings};
use crate::spec::fixture::Fixtures;
use crate::spec::{self, config::Config, Selection, SpecSource};
use crate::target::tls::{CaCert, Trust};
use crate::target::version::ExpectedVersion;
use crate::wait::Patience;

use super::args::*;

/// Where the specs come from (--specs, else ft.toml's `specs`, else the built-in suite),
/// the selector overrides (ft.toml's, then the flags'), ft.toml's `sensitive_url`, its
/// `[fixtures]` and its `[values]`.
#[allow(clippy::type_complexity)]
pub(super) fn spec_source_and_config(
    args: &SpecArgs,
) -> Result<
    (SpecSource, spec::SelectorOverrides, Option<String>, Fixtures, Vec<spec::config::ValueOverride>),
    spec::SpecErrors,
> {
    let config = Config::load(args.config.as_deref())?;
    let source = match &args.specs {
        Some(p) => SpecSource::Path(p.clone()),
        // ft.toml's `specs` is checked only when used; a wrong one is reported in ft.toml.
        None => config.specs()?.map_or(SpecSource::BuiltIn, SpecSource::Path),
    };
    let mut selectors = config.selectors;
    selectors.extend(args.selector.iter().cloned());
    Ok((source, selectors, config.sensitive_url, config.fixtures, config.values))
}

pub(super) fn selection(args: &SpecArgs) -> Selection {
    Selection { filters: args.filter.clone(), tags: args.tag.clone(), skip_tags: args.skip_tag.clone() }
}

/// The variables that name a target, in the order they are read.
const TARGET_VARS: &[&str] = &["FT_LIVESERVER", "STAGING_SERVER", "TEST_SERVER"];

/// The target: the flag, else the first of `TARGET_VARS` that is set. One that is given
/// but blank (an unset CI variable often arrives as "") is an error naming where it came
/// from: falling back to the embedded app would test something else than staging.
pub(super) fn liveserver(args: &RunArgs, var: impl Fn(&str) -> Option<String>) -> Result<Option<String>, Error> {
    let given = match &args.liveserver {
        Some(flag) => Some(("--liveserver".to_string(), flag.clone())),
        None => TARGET_VARS.iter().find_map(|name| var(name).map(|v| (name.to_string(), v))),
    };
    match given {
        Some((source, value)) if value.trim().is_empty() => Err(Error::Usage {
            what: format!("{source} is given but blank"),
            hint: format!(
                "name the server to test in {source} (HOST, HOST:PORT or URL), or give no target at all to test ft's built-in app"
            ),
        }),
        Some((_, value)) => Ok(Some(value)),
        None => Ok(None),
    }
}

pub(super) fn job_options(args: &RunArgs) -> Result<JobOptions, Error> {
    let liveserver = liveserver(args, |name| std::env::var(name).ok())?;
    let mut options = stage_options(&args.spec, &args.settings)?;
    options.liveserver = liveserver;
    if let Some(junit) = &args.junit {
        options.settings.paths.junit = junit.clone();
    }
    options.settings.paths.allure = args.allure.clone();
    options.shard = args.shard;
    options.last_failed = args.last_failed;
    options.repeat_each = args.repeat_each as usize;
    if let (Some(text), Some(path)) = (&args.expect_version, &args.version_path) {
        options.settings.expect_version =
            Some(ExpectedVersion { path: path.clone(), text: text.clone(), rule: args.version_match });
    }
    Ok(options)
}

/// Everything but the target, for `ft run` and the stages of `ft deploy`.
pub(super) fn stage_options(spec_args: &SpecArgs, s: &RunSettings) -> Result<JobOptions, Error> {
    let (specs, selectors, from_config, fixtures, values) = spec_source_and_config(spec_args)?;
    let sensitive = match s.sensitive_url.clone().or(from_config) {
        Some(pattern) => Some(regex::Regex::new(&pattern).map_err(|e| {
            spec::SpecErrors::one(spec::Diagnostic::file_level(
                "--sensitive-url".into(),
                format!("bad regular expression {pattern:?}: {}", e.to_string().lines().last().unwrap_or("").trim()),
                Some("for example --sensitive-url '^https://superlists\\.ottg\\.eu'".into()),
            ))
        })?),
        None => None,
    };
    let trust = trust(s)?;
    let settings = Settings {
        workers: usize::from(s.workers),
        fresh_session: s.fresh_session,
        patience: Patience { max_wait: s.max_wait, poll: s.poll },
        browser: BrowserConfig {
            kind: s.browser,
            session_timeout: s.session_timeout,
            driver: s.driver.clone(),
            binary: s.browser_binary.clone(),
            headed: s.headed,
            signals: !s.no_signals,
            user_contexts: s.isolation.as_deref().unwrap_or(s.browser.default_isolation()) == "user-context"
                && !s.fresh_session,
            webdriver: s.webdriver.clone(),
            accept_insecure_certs: trust.insecure,
            // The CA is the preflight's to check with; the browser is given only what the
            // preflight verified (job/mod.rs adds the target's key).
            trusted_keys: Vec::new(),
            ..BrowserConfig::default()
        },
        preflight_timeout: s.preflight_timeout.unwrap_or(s.max_wait.max(Duration::from_secs(1))),
        trust,
        retries: s.retries,
        filmstrip: usize::from(s.filmstrip),
        progress: s.progress,
        color: s.color,
        honour_quarantine: !s.no_quarantine,
        json_events: s.message_format == "json",
        max_failures: if s.exit_first { Some(1) } else { s.max_failures.map(|n| n as usize) },
        scenario_timeout: s.scenario_timeout,
        flaky: FlakyPolicy::accept_if(!s.fail_on_flaky),
        sensitive,
        safe_tag: s.safe_tag.clone(),
        paths: ReportPaths::in_dir(s.reports.clone()),
        // Read now: a bad key is found before any deploy command or browser runs.
        sign_key: s.sign_key.as_deref().map(crate::sign::SignKey::load).transpose()?,
        inbox: inbox(s)?,
        mail_wait: s.mail_wait,
        ..Settings::default()
    };
    Ok(JobOptions {
        specs,
        selectors,
        fixtures,
        values,
        selection: selection(spec_args),
        liveserver: None,
        stage: None,
        shard: None,
        last_failed: false,
        repeat_each: 1,
        settings,
        folder_lock: None,
    })
}

/// `--inbox` (read now: a URL ft cannot read is a usage error before any target or
/// browser) and its password, from the variable `--inbox-password-env` names.
fn inbox(s: &RunSettings) -> Result<Option<crate::mail::Inbox>, Error> {
    let Some(url) = &s.inbox else { return Ok(None) };
    crate::mail::Inbox::from_url(url, &s.inbox_password_env)
        .map(Some)
        .map_err(|e| Error::Usage { what: e.to_string(), hint: e.hint() })
}

/// `--ca-cert` (read now: a bad file is a usage error before any target or browser) and
/// `--insecure-certs`.
pub(super) fn trust(s: &RunSettings) -> Result<Trust, Error> {
    let ca = match &s.ca_cert {
        Some(path) => {
            Some(CaCert::load(path).map_err(|e| Error::Usage { what: e.to_string(), hint: e.hint().into() })?)
        }
        None => None,
    };
    if ca.is_some() && s.browser == BrowserKind::Firefox {
        // Firefox keeps its CAs in the profile's NSS database, which geckodriver makes
        // fresh for each session; ft cannot add one there yet. Saying so beats a run whose
        // every scenario fails on a certificate warning page.
        return Err(Error::Usage {
            what: "--ca-cert does not work with --browser firefox yet: Firefox trusts only the CAs of its own profile"
                .into(),
            hint: "use --browser chrome with --ca-cert, or --insecure-certs with Firefox".into(),
        });
    }
    Ok(Trust { ca, insecure: s.insecure_certs, user_agent_suffix: None })
}

pub(super) fn deploy_options(args: DeployArgs) -> Result<DeployOptions, Error> {
    let job = stage_options(&args.spec, &args.settings)?;
    if job.settings.json_events || job.settings.max_failures.is_some() {
        return Err(Error::Usage {
            what: "ft deploy: --message-format json, -x and --max-failures are for `ft run`".into(),
            hint: "a deploy's stages run whole suites and print their own progress; drop the flag".into(),
        });
    }
    let bake = match args.bake {
        None => None,
        Some(window) if args.bake_every.is_zero() || args.bake_every > window => {
            return Err(Error::Usage {
                what: format!(
                    "ft deploy: --bake-every {:?} leaves no run in a --bake window of {:?}",
                    args.bake_every, window
                ),
                hint: "give an interval above zero and no longer than the window, e.g. --bake 10m --bake-every 60s"
                    .into(),
            })
        }
        Some(window) => Some(deploy::Bake { window, every: args.bake_every, failures: args.bake_failures }),
    };
    Ok(DeployOptions {
        bake,
        repo: commands::here(),
        staging: args.staging,
        live: args.live,
        deploy_cmd: args.deploy_cmd,
        restart_cmd: args.restart_cmd,
        rollback_cmd: args.rollback_cmd,
        staging_deploy: args.staging_deploy,
        smoke_tag: args.smoke_tag,
        push: args.push,
        dry_run: args.dry_run,
        up_timeout: args.up_timeout,
        command_timeout: args.command_timeout,
        version_path: args.version_path,
        version_match: args.version_match,
        allow_flaky: args.allow_flaky,
        allow_partial: args.allow_partial,
        allow_insecure: args.allow_insecure,
        job,
    })
}

pub(super) fn watch_options(args: WatchArgs) -> Result<crate::watch::WatchOptions, Error> {
    let mut job = stage_options(&args.spec, &args.settings)?;
    if job.settings.json_events || job.settings.max_failures.is_some() {
        return Err(Error::Usage {
            what: "ft watch: --message-format json, -x and --max-failures are for `ft run`".into(),
            hint: "drop the flag".into(),
        });
    }
    // Live holds real users' data, whatever the flags say: safe scenarios only.
    job.settings.sensitive = regex::Regex::new("").ok();
    if job.selection.tags.is_empty() {
        job.selection.tags = vec![job.settings.safe_tag.clone()];
    }
    // A watcher has no run worth finishing: Ctrl-C stops the browser at once.
    job.settings.grace = Duration::ZERO;
    // Up is up: a pass on a retry is not an outage.
    job.settings.flaky = FlakyPolicy::Accept;
    job.settings.mark_synthetic();
    // A malformed target is the user's mistake, not an outage to alert on.
    let url = crate::target::resolve_as(&args.liveserver, "--liveserver")
        .map_err(|e| Error::Job(crate::job::JobError::Target(e)))?;
    job.liveserver = Some(url);
    Ok(crate::watch::WatchOptions {
        job,
        every: args.every,
        alert_after: args.alert_after,
        webhook: args.webhook,
        metrics: args.metrics,
        keep: args.keep as usize,
    })
}

pub(super) fn gate_options(args: GateArgs) -> Result<GateOptions, Error> {
    let (source, selectors, _, fixtures, _) = spec_source_and_config(&args.spec)?;
    let digest = spec::load(&source, &selectors, &fixtures)?.digest;
    Ok(GateOptions {
        record: args.record,
        max_age: args.max_age,
        repo: commands::here(),
        spec_digest: digest,
        allow_flaky: args.allow_flaky,
        allow_partial: args.allow_partial,
        allow_dirty: args.allow_dirty,
        target: args.target,
        verify_key: args.verify_key.as_deref().map(crate::sign::VerifyKey::load).transpose()?,
        no_quarantine: args.no_quarantine,
        allow_insecure: args.allow_insecure,
    })
}
