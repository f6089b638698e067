//! Exit codes, as documented in the README ("Exit codes"): the constants and every
//! mapping onto them, in one table.

use crate::error::Error;
use crate::gate::DeployOutcome;
use crate::job::JobError;
use crate::signals::Signal;
use crate::target::TargetError;
use crate::verdict::{FlakyPolicy, Verdict};

/// Every selected scenario passed (and at least one ran).
pub const PASSED: u8 = 0;
/// A scenario failed: the app did not behave as specified.
pub const FAILED: u8 = 1;
/// Bad usage, config or spec; nothing was run.
pub const USAGE: u8 = 2;
/// Infrastructure: target unreachable, driver or browser would not start.
pub const INFRA: u8 = 3;
/// Interrupted by SIGINT (Ctrl-C) / SIGTERM.
pub const SIGINT: u8 = 130;
pub const SIGTERM: u8 = 143;

/// A finished run: 0 green, 1 failed (or flaky where flakes are refused), 3 nothing could
/// be judged, 130 interrupted (the signal's own code wins when ft saw one).
pub fn for_verdict(verdict: Verdict, flaky: FlakyPolicy) -> u8 {
    match verdict {
        v if v.is_green(flaky) => PASSED,
        Verdict::Green | Verdict::Flaky | Verdict::Failed => FAILED,
        Verdict::Broken | Verdict::NothingRan => INFRA,
        Verdict::Interrupted => SIGINT,
    }
}

/// How `ft deploy` ended (README, "ft deploy").
pub fn for_deploy(outcome: DeployOutcome) -> u8 {
    match outcome {
        DeployOutcome::Released | DeployOutcome::Planned => PASSED,
        DeployOutcome::StagingFailed | DeployOutcome::RolledBack | DeployOutcome::LiveBroken => FAILED,
        DeployOutcome::Refused => USAGE,
        DeployOutcome::StagingBroken
        | DeployOutcome::DeployFailed
        | DeployOutcome::LiveDown
        | DeployOutcome::WrongVersion
        | DeployOutcome::PushFailed => INFRA,
        DeployOutcome::Interrupted => SIGINT,
    }
}

/// What `ft deploy` exits with: the signal's code when one reached it (the pipeline
/// stopped for it, whatever the outcome says), else the outcome's. Its history line says the same.
pub fn for_deploy_ended(outcome: DeployOutcome, signal: Option<Signal>) -> u8 {
    signal.map(for_signal).unwrap_or_else(|| for_deploy(outcome))
}

/// A command that could not do its job: usage and spec problems are 2, infrastructure 3.
pub fn for_error(err: &Error) -> u8 {
    match err {
        Error::Spec(_) | Error::Gate(_) | Error::Usage { .. } | Error::Sign(_) | Error::Merge(_) => USAGE,
        Error::Job(job) => match job {
            JobError::Spec(_)
            | JobError::NothingSelected { .. }
            | JobError::EmptyShard { .. }
            | JobError::NothingToRerun { .. }
            | JobError::NothingSafe { .. }
            | JobError::Reports(_)
            | JobError::Folder(_)
            | JobError::Target(TargetError::Invalid { .. }) => USAGE,
            JobError::Target(_) | JobError::Run(_) => INFRA,
            // Only a signal makes it: the signal's own code is used (`commands::run`).
            JobError::Interrupted { .. } => SIGINT,
        },
        Error::Serve(_) | Error::Runtime(_) | Error::Signals(_) => INFRA,
        // `ft watch`: a metrics address that cannot be bound is the machine's problem;
        // specs, selection and a folder another watcher holds are the user's.
        Error::Watch(crate::watch::WatchError::Metrics { .. }) => INFRA,
        Error::Watch(_) => USAGE,
    }
}

/// The conventional 128 + signal number.
pub fn for_signal(signal: Signal) -> u8 {
    match signal {
        Signal::Interrupt => SIGINT,
        Signal::Terminate => SIGTERM,
    }
}
