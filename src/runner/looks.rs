//! Which look a step makes first, and the looks one step makes for the steps after it, so
//! that they need no round trip of their own: a visit's judging look is the next step's
//! (`steps.rs`); a count a capture reads is read in the look before it; an expectation
//! followed by another lets a wait held in the page make the next one's first look.

use super::expect::{inspects, Inspect};
use super::ScenarioState;
use crate::spec::{Action, CaptureFrom, Step, StepKind};

/// An expectation changes nothing: a count the capture after it reads can be read in its
/// looks, and that capture then makes none of its own; and an expectation after it changes
/// nothing either, so a wait held in the page may make that one's first look
/// (`Seen::look_ahead`).
pub(super) fn for_an_expectation(step: &Step, state: &ScenarioState) {
    let Some(plain) = first_look(step, state.ahead(1).as_ref(), state) else { return };
    let counted = counting_ahead(plain.clone(), 0, state);
    if counted != plain {
        state.seen.count_too(plain, counted);
    }
    let next = state.ahead(1).filter(|next| next.kind.is_expectation());
    if let Some(look) = next.and_then(|next| first_look(&next, state.ahead(2).as_ref(), state)) {
        state.seen.look_ahead(counting_ahead(look, 1, state));
    }
}

/// What `step` inspects first, if it inspects anything (`after`: the step after it).
pub(super) fn first_look(step: &Step, after: Option<&Step>, state: &ScenarioState) -> Option<Inspect> {
    match &step.kind {
        StepKind::Expect(expectation) => inspects(expectation, state),
        StepKind::Act(Action::Capture(c)) => {
            Some(super::capture::inspects(c, after.and_then(|after| first_look(after, None, state))))
        }
        StepKind::Act(
            Action::Type { into: sel, .. }
            | Action::Press { on: sel, .. }
            | Action::Click(sel)
            | Action::Clear(sel)
            | Action::SubmitNovalidate(sel)
            | Action::Select { of: sel, .. }
            | Action::Check(sel)
            | Action::Uncheck(sel)
            | Action::Hover(sel)
            | Action::Upload { into: sel, .. }
            | Action::Frame(sel),
        ) => Some(Inspect::element(&sel.locator)),
        StepKind::Act(
            Action::Visit(_)
            | Action::NewVisitor(_)
            | Action::Visitor(_)
            | Action::WindowSize { .. }
            | Action::RememberUrl(_)
            | Action::SetCookie(_)
            | Action::DeleteCookie(_)
            | Action::Reload
            | Action::Back
            | Action::Forward
            | Action::AcceptDialog { .. }
            | Action::DismissDialog { .. }
            | Action::MainFrame
            | Action::Tab(_)
            | Action::CloseTab
            | Action::Fixture(_),
        ) => None,
    }
}

/// `look`, the first look of the step `n` after the running one, counting what a count
/// capture right after that step counts when the capture would look as that step does:
/// the capture then makes no look of its own (`add_list_item` after an expectation on
/// the item input costs no round trip).
pub(super) fn counting_ahead(look: Inspect, n: usize, state: &ScenarioState) -> Inspect {
    let Some(next) = state.ahead(n + 1) else { return look };
    let StepKind::Act(Action::Capture(capture)) = &next.kind else { return look };
    let CaptureFrom::CountOf(sel) = &capture.from else { return look };
    let after = state.ahead(n + 2).and_then(|s| first_look(&s, state.ahead(n + 3).as_ref(), state));
    let wanted = super::capture::inspects(capture, after);
    let counted = look.clone().counting(&sel.locator);
    if wanted == counted {
        counted
    } else {
        look
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::shared::locator::Locator;
    use crate::spec::Selector;

    /// A step at `line` (column 3) of a test spec (also for `steps.rs`'s tests).
    pub(in crate::runner) fn step(line: usize, kind: StepKind) -> Step {
        Step::new(line, 3, "test", kind)
    }

    /// A visit is judged with the next step's own first look, so that look must be the
    /// one the next step makes; a step that inspects nothing gets the page looked at.
    #[test]
    fn a_visit_looks_ahead_with_what_the_next_step_inspects() {
        let input = Selector::css("#id_text");
        let steps = vec![
            step(1, StepKind::Act(Action::Visit("/".into()))),
            step(2, StepKind::Act(Action::Type { into: input.clone(), text: "Buy milk".into() })),
            step(3, StepKind::Act(Action::WindowSize { width: 400, height: 600 })),
        ];
        let mut state = ScenarioState { steps: steps.clone(), ..ScenarioState::default() };
        let next = state.ahead(1).expect("a step follows the visit");
        assert_eq!(next.line, 2);
        assert_eq!(
            first_look(&next, state.ahead(2).as_ref(), &state),
            Some(Inspect::element(&Locator::css("#id_text")))
        );
        assert_eq!(first_look(&steps[2], None, &state), None);
        state.at = 2;
        assert!(state.ahead(1).is_none(), "the last step has none after it");
    }

    /// A capture of a count is read in the look the step after it makes anyway, and that
    /// look serves the step after it: adding a reusable `add_list_item` costs no round trip.
    #[test]
    fn a_count_is_captured_in_the_next_steps_look() {
        use crate::spec::{Capture, CaptureFrom};
        let input = Selector::css("#id_text");
        let rows = Selector::css("#id_list_table tr");
        let capture = Capture { name: "rows".into(), from: CaptureFrom::CountOf(rows), regex: None, secret: false };
        let steps = vec![
            step(1, StepKind::Act(Action::Visit("/".into()))),
            step(2, StepKind::Act(Action::Capture(capture))),
            step(3, StepKind::Act(Action::Type { into: input.clone(), text: "Buy milk".into() })),
        ];
        let state = ScenarioState { steps: steps.clone(), ..ScenarioState::default() };
        let look = first_look(&steps[1], Some(&steps[2]), &state).expect("a capture looks");
        assert_eq!(look, Inspect::element(&Locator::css("#id_text")).counting(&Locator::css("#id_list_table tr")));
    }
}
