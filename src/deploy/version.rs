//! The pipeline's proof that the commit tested is the commit deployed: with
//! `--version-path`, a `<stage> version` stage waits until the target's version page shows
//! the commit (`target::version` decides what counts), before anything is tested there.

use std::time::Duration;

use crate::shared::redact::redact;
use crate::target::version::{self, ExpectedVersion};
use crate::wait::Patience;

use super::stages::short;
use super::Pipeline;

/// Each look at a version page may take this long; the stage as a whole `--up-timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

impl Pipeline<'_> {
    fn expected(&self, commit: &str) -> Option<ExpectedVersion> {
        let path = self.opts.version_path.clone()?;
        Some(ExpectedVersion { path, text: commit.to_string(), rule: self.opts.version_match })
    }

    /// With `--version-path`: the `<stage> version` stage, waiting up to `--up-timeout`
    /// (a rolling restart may serve the old commit for a while) for the target at `url` to
    /// show `commit`. Without it, nothing. `Err` says what was served instead.
    pub(super) async fn check_version(&mut self, stage: &str, url: &str, commit: &str) -> Result<(), String> {
        let Some(expected) = self.expected(commit) else { return Ok(()) };
        let page = redact(&expected.url_on(url));
        let what = format!("waiting for {page} to show commit {} (up to {:?})", short(commit), self.opts.up_timeout);
        let timer = self.start(&format!("{stage} version"), &what, None);
        let patience = Patience { max_wait: self.opts.up_timeout, poll: Duration::from_millis(250) };
        match version::wait_for(url, &expected, patience, REQUEST_TIMEOUT, &self.opts.job.settings.trust).await {
            Ok(()) => {
                let detail = format!("shows commit {} after {:.1}s", short(commit), timer.elapsed().as_secs_f64());
                self.finish(timer, true, &detail);
                Ok(())
            }
            Err(e) => {
                // The stage and the reason are one line; the hint is for `ft run`'s stderr.
                let detail = e.to_string().lines().next().unwrap_or("").to_string();
                self.finish(timer, false, &detail);
                Err(format!("{stage} version failed: {detail}"))
            }
        }
    }

    /// The dry run's line for the version stage on `url`, with `--version-path`.
    pub(super) fn plan_version(&self, url: &str, commit: &str) -> Option<String> {
        let expected = self.expected(commit)?;
        Some(format!(
            "wait until {} shows commit {commit} (up to {:?})",
            redact(&expected.url_on(url)),
            self.opts.up_timeout
        ))
    }
}
