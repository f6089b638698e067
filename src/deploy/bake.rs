//! The bake window: after live verification passed, the smoke scenarios keep running
//! against live every interval for a while; enough failed runs in a row take the rollback
//! path, as a failed verification does. The rule of when to run and when to give up is
//! `Bake::next` and `Streak`; the pipeline only acts on their answers.

use std::time::Duration;

use tokio::time::Instant;

use super::{DeployOutcome, Pipeline, StageResult};
use crate::shared::redact::redact;

/// `--bake DURATION --bake-every DURATION --bake-failures N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bake {
    /// How long live is watched after its verification.
    pub window: Duration,
    /// How often the smoke scenarios run in it (from one run's start to the next's).
    pub every: Duration,
    /// This many failed runs in a row fail the release (1: any failure does).
    pub failures: u32,
}

/// How the bake window ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Baked {
    /// Every run it took passed, or failures never came `failures` in a row.
    Held { runs: u32, failed: u32 },
    /// `failures` runs in a row failed; the last one's reason.
    Failed { runs: u32, why: String },
    /// Ctrl-C or SIGTERM: the bake stopped, the release stays.
    CutShort { runs: u32, failed: u32 },
}

impl Bake {
    /// When the next run starts: one interval after the last one started (the end of live
    /// verification, for the first), at once if that is past, and never after the window.
    /// `None`: the window is over.
    pub fn next(&self, last_start: Instant, verified_at: Instant, now: Instant) -> Option<Instant> {
        let at = (last_start + self.every).max(now);
        (at <= verified_at + self.window).then_some(at)
    }
}

/// Failed runs in a row: one that passes clears it.
#[derive(Debug, Default)]
pub struct Streak {
    pub in_a_row: u32,
}

impl Streak {
    /// Count a run; whether the streak now reaches `limit`.
    pub fn record(&mut self, passed: bool, limit: u32) -> bool {
        self.in_a_row = if passed { 0 } else { self.in_a_row + 1 };
        self.in_a_row >= limit
    }
}

impl Pipeline<'_> {
    /// Watch live for the bake window; the caller rolls back on `Baked::Failed`.
    pub(super) async fn bake(&mut self, bake: Bake) -> Baked {
        let live = self.live_url.clone();
        let what = format!(
            "the `{}` scenarios against {} every {:?} for {:?}; {} failed runs in a row roll back",
            self.opts.smoke_tag,
            redact(&live),
            bake.every,
            bake.window,
            bake.failures
        );
        let timer = self.start("live bake", &what, Some(&self.stage_dir("bake")));
        let verified_at = Instant::now();
        let mut streak = Streak::default();
        let (mut runs, mut failed) = (0u32, 0u32);
        let mut interrupts = self.interrupts.clone();
        let mut last_start = verified_at;
        let ended = loop {
            let Some(at) = bake.next(last_start, verified_at, Instant::now()) else {
                break Baked::Held { runs, failed };
            };
            // A timer, not a wait for a condition: the schedule is the point.
            let interrupted = tokio::select! {
                () = tokio::time::sleep_until(at) => false,
                _ = interrupts.wait_for(|n| *n > 0) => true,
            };
            if interrupted || self.interrupted() {
                break Baked::CutShort { runs, failed };
            }
            runs += 1;
            last_start = Instant::now();
            let mut smoke = self.opts.job.selection.clone();
            smoke.tags = vec![self.opts.smoke_tag.clone()];
            let result = self.suite(&format!("bake {runs}"), &format!("bake/run-{runs}"), &live, smoke).await;
            let why = match result {
                StageResult::Green => None,
                StageResult::Red(r) | StageResult::Broken(r) => Some(r),
                StageResult::Interrupted => break Baked::CutShort { runs, failed },
            };
            failed += u32::from(why.is_some());
            if streak.record(why.is_none(), bake.failures) {
                let why = format!(
                    "failed during bake: {} runs in a row failed, the last (run {runs}, {}) with: {}",
                    streak.in_a_row,
                    self.stage_dir(&format!("bake/run-{runs}")).display(),
                    why.unwrap_or_default()
                );
                break Baked::Failed { runs, why };
            }
        };
        let (ok, detail) = match &ended {
            Baked::Held { runs, failed } => (
                true,
                format!("held: {runs} runs in {:?}, {failed} failed (never {} in a row)", bake.window, bake.failures),
            ),
            Baked::Failed { why, .. } => (false, why.clone()),
            Baked::CutShort { runs, failed } => {
                (true, format!("bake cut short by an interrupt after {runs} runs ({failed} failed); the release stays"))
            }
        };
        self.finish(timer, ok, &detail);
        ended
    }

    /// Verification passed: bake (when asked), then tag; or roll back when the bake failed.
    pub(super) async fn bake_then_tag(
        &mut self,
        commit: &str,
        previous_live: Option<String>,
    ) -> (DeployOutcome, String) {
        let Some(bake) = self.opts.bake else { return self.tag(commit).await };
        match self.bake(bake).await {
            Baked::Failed { why, .. } => self.after_failed_live(DeployOutcome::LiveBroken, why, previous_live).await,
            Baked::Held { .. } => self.tag(commit).await,
            Baked::CutShort { runs, .. } => {
                // Live passed verification and the operator stopped watching: LIVE names
                // what is live, so the next rollback goes to the right place.
                let (outcome, reason) = self.tag(commit).await;
                (outcome, format!("{reason}; bake cut short by an interrupt after {runs} runs"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bake(window: u64, every: u64) -> Bake {
        Bake { window: Duration::from_secs(window), every: Duration::from_secs(every), failures: 2 }
    }

    #[test]
    fn runs_start_one_interval_apart_and_none_after_the_window() {
        let t0 = Instant::now();
        let b = bake(6, 2);
        let s = Duration::from_secs;
        assert_eq!(b.next(t0, t0, t0), Some(t0 + s(2)));
        assert_eq!(b.next(t0 + s(4), t0, t0 + s(5)), Some(t0 + s(6)), "a run at the window's end still runs");
        assert_eq!(b.next(t0 + s(6), t0, t0 + s(7)), None);
        assert_eq!(bake(1, 2).next(t0, t0, t0), None, "an interval longer than the window runs nothing");
    }

    #[test]
    fn a_run_that_overran_its_interval_is_followed_at_once_and_then_the_interval_resumes() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let b = bake(60, 2);
        // Run 1 started at 2 s and ended at 9 s: run 2 at once, not a burst of catch-ups.
        assert_eq!(b.next(t0 + s(2), t0, t0 + s(9)), Some(t0 + s(9)));
        assert_eq!(b.next(t0 + s(9), t0, t0 + s(9)), Some(t0 + s(11)));
    }

    #[test]
    fn one_blip_is_not_a_streak_but_two_failures_in_a_row_are() {
        let mut s = Streak::default();
        assert!(!s.record(false, 2));
        assert!(!s.record(true, 2), "a pass clears the streak");
        assert!(!s.record(false, 2));
        assert!(s.record(false, 2));
        assert!(Streak::default().record(false, 1), "--bake-failures 1: any failure");
    }
}
