//! The one registry of what ft started and has not ended yet (remote sessions dropped
//! without `quit`, throwaway profiles), and the one way each is ended.
//!
//! A session's teardown hands over what it leaves. `Driver::stop` ends whatever is still
//! registered, so a worker that panicked or was aborted mid-session leaves nothing behind;
//! `Drop for Driver` ends the rest that needs no waiting.
//!
//! Driver processes are not in it: each runs under a guard (`guard`) that ends it with its
//! browsers when its `DriverProcess` is killed or dropped, and also when ft dies, which
//! no registry inside ft could survive.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Something ft started that must be ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Leftover {
    /// A session at a shared chromedriver or a remote end, ended with a bounded
    /// `DELETE /session/{id}` of our own. thirtyfour's `quit` cannot be bounded safely
    /// (cancelling it drops the handle, whose `Drop` then blocks the executor to quit
    /// synchronously), so every session is leaked from thirtyfour and ended here instead.
    Session { url: String, id: String },
    /// A profile folder made for one session and thrown away with it.
    Profile(PathBuf),
}

/// Shared by the driver and its sessions (a clone is the same registry).
#[derive(Clone)]
pub(super) struct Reaper {
    left: Arc<Mutex<Vec<Leftover>>>,
    /// Of `left`, the sessions ended in the background (`end_later`): wedged or lost.
    abandoned: Arc<Mutex<Vec<Leftover>>>,
    /// Bounds each `DELETE`: a browser that does not answer is not worth waiting for.
    http: reqwest::Client,
}

impl Reaper {
    pub(super) fn new() -> Reaper {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Reaper { left: Arc::default(), abandoned: Arc::default(), http }
    }

    /// Remember `item` until it is ended.
    pub(super) fn track(&self, item: Leftover) {
        if let Ok(mut left) = self.left.lock() {
            left.push(item);
        }
    }

    /// Forget `item`: its owner ended it.
    pub(super) fn forget(&self, item: &Leftover) {
        if let Ok(mut left) = self.left.lock() {
            left.retain(|l| l != item);
        }
        if let Ok(mut abandoned) = self.abandoned.lock() {
            abandoned.retain(|l| l != item);
        }
    }

    /// End `items` now, waiting (bounded) for each: sessions first, then profiles.
    pub(super) async fn end(&self, items: Vec<Leftover>) {
        for item in in_order(items) {
            self.forget(&item);
            self.end_one(&item).await;
        }
    }

    async fn end_one(&self, item: &Leftover) {
        match item {
            Leftover::Session { url, id } => {
                // Best effort: a browser that is already gone has nothing left to end.
                let _ = self.http.delete(format!("{url}/session/{id}")).send().await;
            }
            Leftover::Profile(path) => {
                let _ = tokio::fs::remove_dir_all(path).await;
            }
        }
    }

    /// End `items` in the background, as `end` would; each stays registered until it is
    /// ended, so that a run ending first still ends it (`end_all`; a second `DELETE` of a
    /// session is harmless).
    pub(super) fn end_later(&self, items: Vec<Leftover>) {
        for item in &items {
            self.track(item.clone());
            if matches!(item, Leftover::Session { .. }) {
                if let Ok(mut abandoned) = self.abandoned.lock() {
                    abandoned.push(item.clone());
                }
            }
        }
        let reaper = self.clone();
        tokio::spawn(async move {
            for item in in_order(items) {
                reaper.end_one(&item).await;
                reaper.forget(&item);
            }
        });
    }

    /// End `items` without waiting on anything (for `Drop`, which must not block the
    /// executor): profiles are removed at once; a session needs a round trip, so it
    /// stays registered for `Driver::stop`.
    pub(super) fn end_now(&self, items: Vec<Leftover>) {
        for item in in_order(items) {
            match item {
                Leftover::Session { .. } => self.track(item),
                Leftover::Profile(path) => {
                    let _ = std::fs::remove_dir_all(&path);
                    self.forget(&Leftover::Profile(path));
                }
            }
        }
    }

    /// End everything still registered, waiting (bounded) for each (`Driver::stop`).
    pub(super) async fn end_all(&self) {
        self.end(self.take()).await;
    }

    /// `end_all`, but for the sessions being ended in the background (`end_later`), which
    /// are left to the driver: it is local and is killed next with its browsers (a wedged
    /// page does not answer the `DELETE` within its bound anyway).
    pub(super) async fn end_all_but_abandoned(&self) {
        let abandoned: Vec<Leftover> = self.abandoned.lock().map(|a| a.clone()).unwrap_or_default();
        let items = self.take().into_iter().filter(|item| !abandoned.contains(item)).collect();
        self.end(items).await;
    }

    /// Kill everything still registered without waiting (`Drop for Driver`). Sessions
    /// at a remote end are left to its own idle timeout: ending them needs a round trip.
    pub(super) fn end_all_now(&self) {
        let items = self.take().into_iter().filter(|item| !matches!(item, Leftover::Session { .. })).collect();
        self.end_now(items);
    }

    fn take(&self) -> Vec<Leftover> {
        self.left.lock().map(|mut left| std::mem::take(&mut *left)).unwrap_or_default()
    }
}

/// Sessions (while their driver still answers), then profiles (see `Reaper::end`).
fn in_order(mut items: Vec<Leftover>) -> Vec<Leftover> {
    items.sort_by_key(|item| match item {
        Leftover::Session { .. } => 0,
        Leftover::Profile(_) => 1,
    });
    items
}

/// SIGKILL a whole process group.
pub(super) fn kill_group(pgid: i32) {
    crate::shared::process::signal_group(pgid, libc::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_ended_before_profiles() {
        let items = vec![
            Leftover::Profile(PathBuf::from("/tmp/p")),
            Leftover::Session { url: "http://u".into(), id: "s".into() },
        ];
        let order: Vec<_> = in_order(items).into_iter().map(|i| format!("{i:?}")).collect();
        assert!(order[0].starts_with("Session") && order[1].starts_with("Profile"));
    }

    #[test]
    fn a_dropped_session_stays_registered_for_stop() {
        let reaper = Reaper::new();
        let session = Leftover::Session { url: "http://u".into(), id: "s".into() };
        reaper.end_now(vec![session]);
        assert_eq!(reaper.take(), vec![Leftover::Session { url: "http://u".into(), id: "s".into() }]);
    }
}
