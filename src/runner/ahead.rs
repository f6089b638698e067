//! With `--fresh-session`, a worker's next sessions started while its current attempt
//! runs, so the next attempt takes one that is ready instead of waiting for a browser to
//! start (Firefox takes ~3 s, Chromium ~0.45 s). The spares are not workers: they run no
//! scenario until the attempt before them has ended.
//!
//! Nothing is spawned: the starts are futures the worker polls beside its attempt
//! (`beside`). Dropping them (the queue emptied, a second Ctrl-C aborts the worker) drops
//! a start in flight, whose driver ends with its browser when its guard's lifeline closes;
//! a finished spare nobody takes is given back to `Browsers`, which ends it with the rest.

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::browsers::{Browsers, Ready};
use crate::browser::BrowserError;

/// The sessions one worker started ahead: those starting and those ready.
pub(super) struct Spares<'a> {
    browsers: &'a Browsers,
    /// How many to keep started ahead (0: none, the sessions are reused).
    depth: usize,
    starting: FuturesUnordered<BoxFuture<'a, Result<Ready, BrowserError>>>,
    ready: Vec<Ready>,
}

impl<'a> Spares<'a> {
    /// `depth` sessions kept started ahead of the attempt that runs (0 for none).
    pub(super) fn new(browsers: &'a Browsers, depth: usize) -> Spares<'a> {
        Spares { browsers, depth, starting: FuturesUnordered::new(), ready: Vec::new() }
    }

    /// Start sessions until `depth` are starting or ready, but no more than the `coming`
    /// attempts that may still want one (a start nobody takes is a browser's start-up
    /// taken from the scenarios' CPU).
    pub(super) fn top_up(&mut self, coming: usize) {
        let wanted = self.depth.min(coming);
        while self.starting.len() + self.ready.len() < wanted {
            self.starting.push(Box::pin(self.browsers.new_session()));
        }
    }

    /// Run `work` (an attempt) while the starts in flight go on; those that finish are kept.
    pub(super) async fn beside<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return out,
                Some(made) = self.starting.next(), if !self.starting.is_empty() => self.keep(made),
            }
        }
    }

    /// A spare for the next attempt: a ready one, else the first of those starting to be
    /// ready. `None` when there is none, or when every start failed: the caller then starts
    /// a session itself, which reports its own error (a start that failed ahead is tried
    /// once more rather than failing an attempt that has not begun).
    pub(super) async fn next(&mut self) -> Option<Ready> {
        while self.ready.is_empty() {
            let made = self.starting.next().await?;
            self.keep(made);
        }
        self.ready.pop()
    }

    fn keep(&mut self, made: Result<Ready, BrowserError>) {
        if let Ok(ready) = made {
            self.ready.push(ready);
        }
    }

    /// Stop the starts in flight (their drivers end with their browsers) and give the
    /// ready spares back to `Browsers`, for the next run of `ft watch` or to be ended
    /// with the driver.
    pub(super) fn give_back(&mut self) {
        self.starting = FuturesUnordered::new();
        for ready in self.ready.drain(..) {
            self.browsers.give_back(ready);
        }
    }
}
