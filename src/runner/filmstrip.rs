//! The filmstrip: a screenshot after each of a running attempt's last page-changing
//! steps, held in memory within a byte budget and handed over only when the attempt
//! fails (a passing attempt's frames are dropped with it).

use std::collections::VecDeque;

use crate::browser::Frame;
use crate::spec::{Action, Step, StepKind};

/// The most one attempt's frames may hold, in bytes. A 1280×800 screenshot of a plain
/// page is 20–80 KiB as PNG and of a busy one (photos, gradients) up to ~1.5 MiB, so
/// 8 MiB keeps five busy frames; with one attempt running per worker, a run holds at
/// most workers × 8 MiB for frames that may never be written.
pub(super) const BUDGET: usize = 8 * 1024 * 1024;

/// A ring of the last frames of the attempt running.
#[derive(Debug)]
pub(super) struct Filmstrip {
    keep: usize,
    budget: usize,
    frames: VecDeque<Frame>,
    bytes: usize,
}

impl Filmstrip {
    /// Keep the last `keep` frames (0: none, and no screenshot is ever taken).
    pub(super) fn new(keep: usize) -> Filmstrip {
        Filmstrip::with_budget(keep, BUDGET)
    }

    fn with_budget(keep: usize, budget: usize) -> Filmstrip {
        Filmstrip { keep, budget, frames: VecDeque::new(), bytes: 0 }
    }

    /// Whether the page after `step` is worth a frame (a screenshot is a WebDriver round
    /// trip): only after a step that can change what the page shows. An expectation only
    /// looks; `remember_url` only reads; a new visitor starts on a blank page.
    pub(super) fn wants(&self, step: &Step) -> bool {
        self.keep > 0
            && match &step.kind {
                StepKind::Expect(_) => false,
                StepKind::Act(Action::RememberUrl(_) | Action::NewVisitor(_)) => false,
                StepKind::Act(_) => true,
            }
    }

    /// Add the screen after `step`. A screen identical to the last frame's adds nothing
    /// (the last frame already shows it); the oldest frames go once there are more than
    /// `keep` or they hold more than the budget.
    pub(super) fn push(&mut self, step: &Step, png: Vec<u8>) {
        if self.frames.back().is_some_and(|last| last.png == png) {
            return;
        }
        self.bytes += png.len();
        self.frames.push_back(Frame { line: step.line, step: step.kind.to_string(), png });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: usize, kind: StepKind) -> Step {
        Step { line, col: 1, kind }
    }

    fn click(line: usize) -> Step {
        step(line, StepKind::Act(Action::Click(crate::spec::Selector { css: "#go".into(), name: None })))
    }

    #[test]
    fn the_last_n_frames_are_kept_oldest_first() {
        let mut strip = Filmstrip::new(3);
        for line in 1..=5 {
            strip.push(&click(line), vec![line as u8; 10]);
        }
        let lines: Vec<usize> = strip.into_frames().iter().map(|f| f.line).collect();
        assert_eq!(lines, [3, 4, 5]);
    }

    #[test]
    fn frames_beyond_the_byte_budget_are_dropped_oldest_first() {
        let mut strip = Filmstrip::with_budget(5, 25);
        for line in 1..=4 {
            strip.push(&click(line), vec![line as u8; 10]);
        }
        let lines: Vec<usize> = strip.into_frames().iter().map(|f| f.line).collect();
        assert_eq!(lines, [3, 4], "two frames of 10 bytes fit 25 bytes, three do not");
    }

    #[test]
    fn a_screen_identical_to_the_last_frame_is_not_kept_twice() {
        let mut strip = Filmstrip::new(3);
        strip.push(&click(1), vec![1; 10]);
        strip.push(&click(2), vec![1; 10]);
        strip.push(&click(3), vec![2; 10]);
        let lines: Vec<usize> = strip.into_frames().iter().map(|f| f.line).collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn only_steps_that_change_the_page_are_worth_a_frame() {
        let strip = Filmstrip::new(3);
        assert!(strip.wants(&click(1)));
        assert!(!strip.wants(&step(2, StepKind::Act(Action::RememberUrl("home".into())))));
        assert!(!strip.wants(&step(3, StepKind::Act(Action::NewVisitor(None)))));
        assert!(!Filmstrip::new(0).wants(&click(4)), "--filmstrip 0 takes no screenshot");
    }
}
