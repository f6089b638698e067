//! ft's integration tests, one binary of modules (one link of the crate, not one per file).
//! Each module drives the real `ft` binary (or its embedded app) against real browsers,
//! servers and git; `common` holds what they share.

mod allure;
mod architecture;
mod bake;
mod cli;
mod common;
mod config_run;
mod deploy_holes;
mod diagnostics;
mod docs;
mod faults;
mod filmstrip;
mod firefox;
mod gate;
mod gate_holes;
mod grid;
mod hostile_input;
mod html_report;
mod interrupt;
mod intoto;
mod isolation;
mod junit_consumers;
mod machine;
mod merge_attacks;
mod mutants;
mod orphans;
mod preflight;
mod progress;
mod rerun;
mod safety;
mod sensitive;
mod serve_limits;
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
mod verdict_words;
mod watch;
mod watch_webhook;
