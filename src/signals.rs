//! The one signal listener: SIGINT (Ctrl-C) and SIGTERM as one stream, for the runs and
//! deploys that count them (first: stop scheduling; second: stop now) and for `ft serve`.

use tokio::signal::unix::{signal, Signal as UnixSignal, SignalKind};
use tokio::sync::watch;

/// Which signal came; its exit code is `exit::for_signal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

/// SIGINT and SIGTERM, listened to from `new` on (a signal sent right after is not lost).
pub struct Signals {
    int: UnixSignal,
    term: UnixSignal,
}

impl Signals {
    pub fn new() -> std::io::Result<Signals> {
        Ok(Signals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? })
    }

    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Interrupt,
            _ = self.term.recv() => Signal::Terminate,
        }
    }
}

/// Run `work` while signals are counted into the channel it is given; its output, and the
/// first signal if one came.
pub async fn counting<F, Fut, T>(signals: Signals, work: F) -> (T, Option<Signal>)
where
    F: FnOnce(watch::Receiver<u32>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let (tx, rx) = watch::channel(0u32);
    let first = std::sync::Mutex::new(None);
    let listen = async {
        let mut signals = signals;
        loop {
            let sig = signals.next().await;
            if let Ok(mut first) = first.lock() {
                first.get_or_insert(sig);
            }
            tx.send_modify(|n| *n += 1);
        }
    };
    let output = tokio::select! {
        out = work(rx) => out,
        never = listen => never,
    };
    let first = first.lock().ok().and_then(|f| *f);
    (output, first)
}
