//! What one `ft run` is asked: which scenarios, against what, and how (`JobOptions`),
//! shared by the plan and the run.

use std::sync::Arc;

use crate::report;
use crate::settings::Settings;
use crate::shard::Shard;
use crate::spec::fixture::Fixtures;
use crate::spec::{self, Selection, SelectorOverrides, SpecSource};

/// One `ft run`: which scenarios, against what, and how.
#[derive(Clone, Debug)]
pub struct JobOptions {
    pub specs: SpecSource,
    pub selectors: SelectorOverrides,
    /// ft.toml's `[fixtures]` (the embedded target's defaults besides).
    pub fixtures: Fixtures,
    /// ft.toml's `[values]`, replacing the specs' values of the same names.
    pub values: Vec<spec::config::ValueOverride>,
    pub selection: Selection,
    /// `None`: the embedded superlists app.
    pub liveserver: Option<String>,
    /// The pipeline stage (`staging`, `live`) when run by `ft deploy`.
    pub stage: Option<String>,
    /// `--shard I/N`: run only this part of the selection.
    pub shard: Option<Shard>,
    /// `--last-failed`: only the scenarios that failed or errored in the previous record.
    pub last_failed: bool,
    /// `--repeat-each N`: every selected scenario N times (1: once).
    pub repeat_each: usize,
    pub settings: Settings,
    /// The reports folder's lock, when the caller holds it already (`ft deploy` holds its
    /// stages' folders for the whole pipeline); else the run takes it.
    pub folder_lock: Option<Arc<report::RunLock>>,
}
