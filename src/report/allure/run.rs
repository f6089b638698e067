//! The run's own files: `environment.properties` (the run's facts, in Java's properties
//! format) and `executor.json` (who ran it: the CI job, linked).

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use crate::report::RunInfo;
use crate::runner::RunSummary;

/// `environment.properties`: the run's facts, shown on the report's overview. Java's
/// properties format, which Allure reads as ISO-8859-1: anything else is `\uXXXX`.
pub fn environment(out: &mut impl Write, info: &RunInfo, summary: &RunSummary) -> std::io::Result<()> {
    let mut props = vec![
        ("target", info.target.clone()),
        ("ft_version", env!("CARGO_PKG_VERSION").to_string()),
        ("specs", info.specs.clone()),
        ("spec_digest", format!("sha256:{}", info.spec_digest)),
        ("workers", info.workers.to_string()),
        ("sessions", if info.fresh_session { "fresh" } else { "reused" }.to_string()),
    ];
    if let Some(b) = &summary.browser {
        props.push(("browser", b.to_string()));
    }
    if let Some(c) = &info.commit {
        props.push(("commit", c.clone()));
    }
    if let Some(s) = &info.stage {
        props.push(("stage", s.clone()));
    }
    if let Some(shard) = &info.shard {
        props.push(("shard", shard.to_string()));
    }
    if summary.interrupted {
        props.push(("interrupted", "true".into()));
    }
    for (key, value) in props {
        writeln!(out, "{}={}", properties_escape(key, true), properties_escape(&value, false))?;
    }
    Ok(())
}

fn properties_escape(text: &str, key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | '#' | '!' if key || i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if key || i == 0 => out.push_str("\\ "),
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out
}

/// `executor.json`: who ran the run (the CI job, linked, when ft ran in one), so the
/// report links back to it and orders its trend by the CI's build numbers.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Executor {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_order: Option<u64>,
    pub build_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
}

/// The executor from the variables GitHub Actions, GitLab CI and Jenkins set; the job's
/// URL is the run record's (`record::ci_job_url`), so the two never disagree.
pub fn executor(info: &RunInfo, var: impl Fn(&str) -> Option<String>) -> Executor {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let number = |name: &str| set(name).and_then(|v| v.trim().parse::<u64>().ok());
    let build_url = info.ci_url.clone();
    if let (Some(server), Some(repo), Some(_)) =
        (set("GITHUB_SERVER_URL"), set("GITHUB_REPOSITORY"), set("GITHUB_RUN_ID"))
    {
        let run = set("GITHUB_RUN_NUMBER").unwrap_or_default();
        return Executor {
            name: "GitHub Actions".into(),
            kind: "github".into(),
            url: Some(format!("{server}/{repo}")),
            build_order: number("GITHUB_RUN_NUMBER"),
            build_name: format!("{} #{run}", set("GITHUB_WORKFLOW").unwrap_or_else(|| repo.clone())),
            build_url,
        };
    }
    if set("CI_JOB_URL").is_some() {
        return Executor {
            name: "GitLab CI".into(),
            kind: "gitlab".into(),
            url: set("CI_PROJECT_URL"),
            build_order: number("CI_PIPELINE_IID").or_else(|| number("CI_JOB_ID")),
            build_name: format!(
                "{} #{}",
                set("CI_JOB_NAME").unwrap_or_else(|| "job".into()),
                set("CI_JOB_ID").unwrap_or_default()
            ),
            build_url,
        };
    }
    if set("BUILD_URL").is_some() {
        return Executor {
            name: "Jenkins".into(),
            kind: "jenkins".into(),
            url: set("JENKINS_URL"),
            build_order: number("BUILD_NUMBER"),
            build_name: set("BUILD_TAG").unwrap_or_else(|| format!("#{}", set("BUILD_NUMBER").unwrap_or_default())),
            build_url,
        };
    }
    Executor {
        name: "ft".into(),
        kind: "ft".into(),
        url: None,
        build_order: None,
        build_name: format!("ft run at {}", info.started_at.format("%Y-%m-%d %H:%M:%S UTC")),
        build_url,
    }
}
