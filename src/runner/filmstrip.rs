//! The filmstrip: a screenshot after each of a running attempt's last page-changing
//! steps, held in memory within a byte budget and handed over only when the attempt
//! fails (a passing attempt's frames are dropped with it).

use std::collections::VecDeque;

use crate::browser::Frame;
use crate::spec::{Action, Step, StepKind};

/// The most one attempt's frames may hold, in bytes. A screenshot of the superlists
/// pages in the default 1280×800 window is 14–16 KiB as PNG (measured); a page full of
/// photos is far larger, and the worst case (incompressible pixels in a 1280×657
/// viewport) is about 2.5 MiB. So 8 MiB keeps all 50 frames `--filmstrip` allows of a
/// plain app and at least three of any page. One attempt runs per worker: a run holds
/// at most workers × 8 MiB for frames that may never be written (a failed attempt's
/// frames then stay with its result until the run ends).
pub(super) const BUDGET: usize = 8 * 1024 * 1024;

/// A ring of the last frames of the attempt running.
#[derive(Debug)]
pub(super) struct Filmstrip {
    keep: usize,
    budget: usize,
    frames: VecDeque<Frame>,
    bytes: usize,
    /// The last page-changing step whose screen is not yet taken: (line, description).
    pending: Option<(usize, String)>,
}

impl Filmstrip {
    /// Keep the last `keep` frames (0: none, and no screenshot is ever taken).
    pub(super) fn new(keep: usize) -> Filmstrip {
        Filmstrip::with_budget(keep, BUDGET)
    }

    fn with_budget(keep: usize, budget: usize) -> Filmstrip {
        Filmstrip { keep, budget, frames: VecDeque::new(), bytes: 0, pending: None }
    }

    /// `step` has passed: if it can change what the page shows, its screen is due. An
    /// expectation only looks and `remember_url` only reads; a new visitor's blank page
    /// is worth no frame (the screen before it was taken as it came).
    pub(super) fn passed(&mut self, step: &Step) {
        if self.keep > 0 && changes_page(step) {
            let blank = matches!(step.kind, StepKind::Act(Action::NewVisitor(_)));
            self.pending = (!blank).then(|| (step.line, step.kind.to_string()));
        }
    }

    /// Whether to take the due screen now, before `next` runs. Only before the next step
    /// that acts: by then the expectations after the last action have seen the page
    /// settle. Taken right after an action, a screenshot can land mid-navigation (a form
    /// pressed): measured on the built-in suite, chromedriver then held it and the next
    /// command ~10 s; and a screen still due when the attempt ends is never taken, since a
    /// failure's own screenshot shows it and a pass needs none.
    pub(super) fn due_before(&self, next: &Step) -> bool {
        self.pending.is_some() && changes_page(next)
    }

    /// The due screen, as taken (`None`: the browser could not give it, a gap in the strip).
    /// A screen identical to the last frame's adds nothing (the last frame already shows
    /// it); the oldest frames go once there are more than `keep` or they hold more than
    /// the budget.
    pub(super) fn take(&mut self, png: Option<Vec<u8>>) {
        let (Some((line, step)), Some(png)) = (self.pending.take(), png) else { return };
        if self.frames.back().is_some_and(|last| last.png == png) {
            return;
        }
        self.bytes += png.len();
        self.frames.push_back(Frame { line, step, png });
        while self.frames.len() > self.keep || self.bytes > self.budget {
            let Some(old) = self.frames.pop_front() else { break };
            self.bytes -= old.png.len();
        }
    }

    /// The frames, oldest first.
    pub(super) fn into_frames(self) -> Vec<Frame> {
        self.frames.into()
    }
}

/// Whether `step` may change what the page shows (a new visitor: to a blank page).
fn changes_page(step: &Step) -> bool {
    match &step.kind {
        StepKind::Expect(_) | StepKind::Act(Action::RememberUrl(_)) => false,
        StepKind::Act(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: usize, kind: StepKind) -> Step {
        Step::new(line, 1, "test", kind)
    }

    fn click(line: usize) -> Step {
        step(line, StepKind::Act(Action::Click(crate::spec::Selector::css("#go"))))
    }

    /// Runs `steps` through the strip as the worker does, each screen a byte of its line.
    fn run(strip: &mut Filmstrip, steps: &[Step]) {
        for step in steps {
            if strip.due_before(step) {
                let line = strip.pending.as_ref().map(|p| p.0).unwrap_or(0);
                strip.take(Some(vec![line as u8; 10]));
            }
            strip.passed(step);
        }
    }

    fn lines(strip: Filmstrip) -> Vec<usize> {
        strip.into_frames().iter().map(|f| f.line).collect()
    }

    #[test]
    fn the_last_n_frames_are_kept_oldest_first() {
        let mut strip = Filmstrip::new(3);
        run(&mut strip, &(1..=6).map(click).collect::<Vec<_>>());
        assert_eq!(lines(strip), [3, 4, 5], "the last step's screen is the failure's own screenshot");
    }

    #[test]
    fn frames_beyond_the_byte_budget_are_dropped_oldest_first() {
        let mut strip = Filmstrip::with_budget(5, 25);
        run(&mut strip, &(1..=5).map(click).collect::<Vec<_>>());
        assert_eq!(lines(strip), [3, 4], "two frames of 10 bytes fit 25 bytes, three do not");
    }

    #[test]
    fn a_screen_identical_to_the_last_frame_is_not_kept_twice() {
        let mut strip = Filmstrip::new(3);
        for (line, byte) in [(1, 1), (2, 1), (3, 2)] {
            strip.passed(&click(line));
            strip.take(Some(vec![byte; 10]));
        }
        assert_eq!(lines(strip), [1, 3]);
    }

    #[test]
    fn a_screen_is_taken_before_the_next_action_after_the_expectations() {
        let expect = |line| step(line, StepKind::Act(Action::RememberUrl("here".into())));
        let mut strip = Filmstrip::new(3);
        strip.passed(&click(1));
        assert!(!strip.due_before(&expect(2)), "a step that does not change the page waits for the next action");
        strip.passed(&expect(2));
        assert!(strip.due_before(&click(3)));
        strip.take(None);
        assert!(!strip.due_before(&click(3)), "a screen the browser could not give is a gap, not retried");
        assert!(lines(strip).is_empty());
        let mut off = Filmstrip::new(0);
        off.passed(&click(1));
        assert!(!off.due_before(&click(2)), "--filmstrip 0 takes no screenshot");
        let visitor = step(2, StepKind::Act(Action::NewVisitor(None)));
        let mut strip = Filmstrip::new(3);
        strip.passed(&click(1));
        assert!(strip.due_before(&visitor), "the screen before a new visitor is taken before it goes");
        strip.take(Some(vec![1; 10]));
        strip.passed(&visitor);
        assert!(!strip.due_before(&click(3)), "a new visitor's blank page is not worth a frame");
        assert_eq!(lines(strip), [1]);
    }
}
