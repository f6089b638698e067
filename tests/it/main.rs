//! ft's integration tests, one binary of modules (one link of the crate, not one per file).
//! Each module drives the real `ft` binary (or its embedded app) against real browsers,
//! servers and git; `common` holds what they share.

mod bake;
mod cli;
mod common;
mod config_run;
mod diagnostics;
mod docs;
mod faults;
mod filmstrip;
mod firefox;
mod gate;
mod grid;
mod html_report;
mod interrupt;
mod intoto;
mod isolation;
mod junit_consumers;
mod machine;
mod mutants;
mod orphans;
mod preflight;
mod rerun;
mod safety;
mod sensitive;
mod shard_auto;
mod shards;
mod signals;
mod signing;
mod spec_errors;
mod suite;
mod superlists_http;
mod superlists_serve;
mod terminal;
mod tls;
mod watch;
