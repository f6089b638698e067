//! An expectation's wait held in the page (`devtools::InPage`): where it can be held, and
//! what the page answered, as the runner judges it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::Session;
use crate::browser::devtools::Waited;
use crate::browser::inspect::{watch_expression, Inspection};
use crate::shared::locator::Locator;

/// What one look inspects (as `Session::inspect_counting` takes it): a locator (or the
/// page), an attribute of its first match, every match's text, a second locator counted.
#[derive(Clone, Copy, Debug)]
pub struct Look<'a> {
    pub locator: Option<&'a Locator>,
    pub attr: Option<&'a str>,
    pub all: bool,
    pub also: Option<&'a Locator>,
}

impl Look<'_> {
    fn args(&self) -> [serde_json::Value; 4] {
        let json = |l: Option<&Locator>| l.map_or(serde_json::Value::Null, Locator::to_json);
        [json(self.locator), json!(self.attr), json!(self.all), json(self.also)]
    }

    fn locators(&self) -> impl Iterator<Item = &Locator> {
        self.locator.into_iter().chain(self.also)
    }
}

/// What a wait in the page came to.
#[derive(Debug)]
pub enum Change {
    /// What the look sees differs from the look before: what it sees now, as a look over
    /// WebDriver would have seen it but without the element (only chromedriver makes a
    /// reference: a step that acts on it finds it with a look of its own); and, made in
    /// the same moment, what the next step's first look sees, when asked.
    Seen { seen: Box<Inspection>, ahead: Option<Box<Inspection>> },
    /// At the cap, the page still shows what the look before saw.
    Same,
    /// The page was left or replaced under the wait (a submit, a link): look again.
    Left,
    /// The wait could not be held in the page: poll.
    Cannot,
}

impl Session {
    /// Whether an expectation's wait may be held in the page (see `watchable`), asked
    /// without a round trip.
    pub fn may_hold_waits(&self) -> bool {
        self.in_page.usable() && self.cast.current_wd().is_none()
    }

    /// The tab a wait would be held in, or `None` where waits poll: a browser whose DevTools
    /// ft does not reach (Firefox, a Grid's), a step inside a frame, a visitor with a session
    /// of its own. `seen`: the look this wait starts from; made by a wait in the page (a
    /// look ahead: nothing acted since), it names the tab. Else one WebDriver command (the
    /// window handle) where it can be.
    pub async fn watchable(&self, seen: &Inspection) -> Option<String> {
        if !self.may_hold_waits() {
            return None;
        }
        if let Some(tab) = seen.held_in() {
            return Some(tab.to_string());
        }
        let wd = self.own_wd().ok()?;
        self.bounded(wd.window()).await.ok().map(|tab| tab.to_string())
    }

    /// Wait in `tab`'s page (see `watchable`) until what `look` sees differs from `since`,
    /// or at most `cap`; when it does, `next` (the next step's first look) is made too.
    pub async fn when_changed(
        &self,
        tab: &str,
        look: Look<'_>,
        next: Option<Look<'_>>,
        since: &Inspection,
        cap: Duration,
    ) -> Change {
        let Some(before) = &since.answer else {
            return Change::Cannot;
        };
        let Ok(wd) = self.own_wd() else { return Change::Cannot };
        let ms = cap.as_millis().max(1) as u64;
        let [loc, attr, all, also] = look.args();
        let args = json!([loc, attr, all, also, before, ms, next.map(|n| n.args())]);
        let locators = look.locators().chain(next.iter().flat_map(|n| n.locators()));
        let answer = match self.in_page.wait(&wd, tab, watch_expression(locators, &args), cap).await {
            Waited::Answer(answer) => answer,
            Waited::Left => return Change::Left,
            Waited::Cannot => return Change::Cannot,
        };
        if answer.get("same").is_some() {
            return Change::Same;
        }
        match answer.get("changed") {
            // A look that threw answers no inspection: looked at again over WebDriver.
            Some(seen) => match inspection(seen) {
                Some(seen) => {
                    // The page changed since the last look over WebDriver: its element may
                    // be gone, replaced, or no longer the first match, so no action acts
                    // on it without looking again.
                    self.forget_inspected();
                    let ahead = answer
                        .get("ahead")
                        .and_then(inspection)
                        .map(|ahead| Inspection { held_in: Some(tab.to_string()), ..ahead });
                    Change::Seen { seen: Box::new(seen), ahead: ahead.map(Box::new) }
                }
                None => Change::Left,
            },
            None if answer.get("left").is_some() => Change::Left,
            None => Change::Cannot,
        }
    }
}

/// A look the page answered, as an inspection (which a wait in the page compares with).
fn inspection(answer: &serde_json::Value) -> Option<Inspection> {
    let mut seen = Inspection::deserialize(answer).ok()?;
    seen.answer = Some(answer.clone());
    Some(seen)
}
