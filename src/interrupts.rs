//! The one signal listener: SIGINT (Ctrl-C) and SIGTERM as one stream, for the runs and
//! deploys that count them (first: stop scheduling; second: stop now) and for `ft serve`.

use tokio::signal::unix::{signal, Signal as UnixSignal, SignalKind};
use tokio::sync::watch;

/// Which signal came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
}

impl StopSignal {
    /// The conventional 128 + signal number, which a process stopped by it exits with.
    pub fn exit_code(self) -> u8 {
        match self {
            StopSignal::Interrupt => crate::exit::SIGINT,
            StopSignal::Terminate => crate::exit::SIGTERM,
        }
    }
}

/// SIGINT and SIGTERM, listened to from `new` on (a signal sent right after is not lost).
pub struct Listener {
    int: UnixSignal,
    term: UnixSignal,
}

impl Listener {
    pub fn new() -> std::io::Result<Listener> {
        Ok(Listener { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? })
    }

    pub async fn next(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.int.recv() => StopSignal::Interrupt,
            _ = self.term.recv() => StopSignal::Terminate,
        }
    }
}

/// Run `work` while signals are counted into the channel it is given; its output, and the
/// first signal if one came.
pub async fn counting<F, Fut, T>(signals: Listener, work: F) -> (T, Option<StopSignal>)
where
    F: FnOnce(watch::Receiver<u32>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    counting_first(signals, |rx, _| work(rx)).await
}

/// The first signal counted, readable while the work runs: a pipeline that records how
/// ft will exit (130 or 143) must know which signal it was before it returns.
#[derive(Clone, Debug, Default)]
pub struct FirstSignal(std::sync::Arc<std::sync::OnceLock<StopSignal>>);

impl FirstSignal {
    pub fn get(&self) -> Option<StopSignal> {
        self.0.get().copied()
    }
}

/// `counting`, with the first signal also given to `work` (set before it is counted).
pub async fn counting_first<F, Fut, T>(signals: Listener, work: F) -> (T, Option<StopSignal>)
where
    F: FnOnce(watch::Receiver<u32>, FirstSignal) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (tx, rx) = watch::channel(0u32);
    let first = FirstSignal::default();
    let listen = async {
        let mut signals = signals;
        loop {
            let sig = signals.next().await;
            let _ = first.0.set(sig);
            tx.send_modify(|n| *n += 1);
        }
    };
    let output = tokio::select! {
        out = work(rx, first.clone()) => out,
        never = listen => never,
    };
    (output, first.get())
}

/// Run `work` unless a second signal is counted first (`None`): for a step that has no
/// grace to give, such as a preflight, which a second Ctrl-C must not wait for.
pub async fn unless_stopped<Fut: std::future::Future>(
    interrupts: &watch::Receiver<u32>,
    work: Fut,
) -> Option<Fut::Output> {
    let mut interrupts = interrupts.clone();
    let stopped = async move {
        // No sender left: no signal can come any more.
        if interrupts.wait_for(|count| *count >= 2).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        out = work => Some(out),
        () = stopped => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_signal_stops_the_work_and_a_first_does_not() {
        let (tx, rx) = watch::channel(0u32);
        tx.send_replace(1);
        let done = unless_stopped(&rx, async { 7 }).await;
        assert_eq!(done, Some(7), "one signal lets the work finish");
        let waiting = unless_stopped(&rx, std::future::pending::<()>());
        tx.send_replace(2);
        assert_eq!(waiting.await, None, "the second stops it");
    }
}
