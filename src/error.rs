//! The one error type of ft's commands. Each command returns it; `cli::main` prints it in
//! one place (`render`) and takes its exit code from `Error::code`.

use crate::gate::GateError;
use crate::job::JobError;
use crate::spec::SpecErrors;
use crate::superlists::ServeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Spec or config problems, each with its own `file:line:col: error:` line.
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Gate(#[from] GateError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Bad usage that clap cannot see (e.g. a blank target from the environment).
    #[error("{what}\n  hint: {hint}")]
    Usage { what: String, hint: String },
    /// A signing or verification key that cannot be read or made.
    #[error(transparent)]
    Sign(#[from] crate::sign::KeyError),
    #[error(transparent)]
    Merge(#[from] crate::report::MergeError),
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("failed to listen for SIGINT and SIGTERM")]
    Signals(#[source] std::io::Error),
}

impl Error {
    /// The exit code (README, "Exit codes"): usage and spec problems are 2,
    /// infrastructure 3.
    pub fn code(&self) -> u8 {
        use crate::exit::{INFRA, USAGE};
        match self {
            Error::Spec(_) | Error::Gate(_) | Error::Usage { .. } | Error::Sign(_) | Error::Merge(_) => USAGE,
            Error::Job(job) => job.code(),
            Error::Serve(_) | Error::Runtime(_) | Error::Signals(_) => INFRA,
            // `ft watch`: a metrics address that cannot be bound is the machine's problem;
            // specs, selection and a folder another watcher holds are the user's.
            Error::Watch(crate::watch::WatchError::Metrics { .. }) => INFRA,
            Error::Watch(_) => USAGE,
        }
    }

    /// The text for stderr: diagnostics as they are (they carry their own positions),
    /// anything else as `error: …` with its "caused by:" chain.
    pub fn render(&self) -> String {
        // Messages quote URLs (targets, remote ends, remotes): never their secrets; and
        // what drivers, browsers and servers said: never their control characters.
        let text = crate::shared::redact::redact_text(&self.render_raw());
        crate::shared::terminal::escape_controls(&text).into_owned()
    }

    fn render_raw(&self) -> String {
        match self {
            Error::Spec(errors) | Error::Job(JobError::Spec(errors)) => errors.to_string(),
            other => {
                let mut text = format!("error: {other}");
                for cause in crate::shared::errors::chain(other).skip(1) {
                    text.push_str(&format!("\n  caused by: {cause}"));
                }
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_error_shows_control_characters_escaped() {
        let err = Error::Usage { what: "bad \x1b[2J\u{9b}value".into(), hint: "try\tagain".into() };
        let text = err.render();
        assert_eq!(text, "error: bad \\u{1b}[2J\\u{9b}value\n  hint: try\tagain");
    }
}
