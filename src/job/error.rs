//! How a job fails before or around its run (`JobError`), and the exit code each failure
//! says (the user's mistakes are 2, the machine's and the target's 3).

use crate::report::ReportError;
use crate::runner::RunError;
use crate::shard::Shard;
use crate::spec::SpecErrors;
use crate::target::TargetError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Spec(SpecErrors),
    #[error(
        "no scenario matches {selection} (of {total} in {specs})\n  hint: `ft list` shows the scenarios and their tags"
    )]
    NothingSelected { selection: String, total: usize, specs: String },
    #[error(
        "--shard {shard}: the selection has only {selected} scenario{s}, so this shard would run none\n  hint: use at most {selected} shards",
        s = if *selected == 1 { "" } else { "s" }
    )]
    EmptyShard { shard: Shard, selected: usize },
    #[error("--last-failed: {why}\n  hint: {hint}")]
    NothingToRerun { why: String, hint: String },
    #[error("the reports folder is not writable")]
    Reports(#[source] ReportError),
    /// The reports folder is another run's (locked), or holds a folder ft did not make.
    #[error(transparent)]
    Folder(ReportError),
    #[error(
        "no selected scenario may run: {reason}\n  hint: select scenarios tagged as safe, or check --sensitive-url"
    )]
    NothingSafe { reason: String },
    /// A remote target and a fixture only the embedded target has (or a placeholder it
    /// has no value for): found before any browser starts.
    #[error("{what}\n  hint: {hint}")]
    Fixture { what: String, hint: String },
    /// A `before_all` hook failed: no scenario started.
    #[error("before_all hook at {at} failed, so no scenario ran: {message}")]
    BeforeAll { at: String, message: String },
    #[error(transparent)]
    Target(TargetError),
    #[error("failed to run the scenarios")]
    Run(#[source] RunError),
    #[error(
        "scenario {scenario:?} reads email ({at}), and the target {target} has no inbox\n  hint: give --inbox \
         with the mailbox its emails reach (imaps://…/INBOX or pop3s://…, the user before the host; its password in \
         ${var}), or `inbox = \"…\"` in ft.toml [run]; only the embedded app's outbox is read without one; or \
         leave out the scenarios that read email: --skip-tag TAG (the built-in suite's are tagged `accounts`)"
    )]
    NoInbox { scenario: String, at: String, target: String, var: &'static str },
    #[error("{0}\n  hint: {hint}", hint = .0.hint())]
    Inbox(crate::mail::InboxError),
    /// A second Ctrl-C / SIGTERM before any scenario started: nothing ran.
    #[error("stopped by a second interrupt during {during}; no scenario ran")]
    Interrupted { during: String },
}

impl JobError {
    /// The exit code: the user's mistakes are 2, the machine's and the target's 3.
    pub fn code(&self) -> u8 {
        use crate::exit::{INFRA, SIGINT, USAGE};
        match self {
            JobError::Spec(_)
            | JobError::NothingSelected { .. }
            | JobError::EmptyShard { .. }
            | JobError::NothingToRerun { .. }
            | JobError::NothingSafe { .. }
            | JobError::Fixture { .. }
            | JobError::Reports(_)
            | JobError::Folder(_)
            | JobError::NoInbox { .. }
            | JobError::Inbox(_)
            | JobError::Target(TargetError::Invalid { .. }) => USAGE,
            // The server-side set-up failed (ssh, the command itself): not a scenario's verdict.
            JobError::Target(_) | JobError::Run(_) | JobError::BeforeAll { .. } => INFRA,
            // Only a signal makes it: the signal's own code is used (`commands::run`).
            JobError::Interrupted { .. } => SIGINT,
        }
    }
}
