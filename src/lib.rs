//! ft: a functional-test runner that decides whether a web release may go live.
//!
//! The module map (arrows point down only) is in docs/architecture.md. Everything inside
//! is `pub(crate)` but what the binary needs (`main`, `main_if_guard`) and what the tests
//! drive in-process (`superlists`, the embedded app), so rustc reports dead code.

pub(crate) mod browser;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod deploy;
pub(crate) mod error;
pub(crate) mod exit;
pub(crate) mod gate;
pub(crate) mod git;
pub(crate) mod interrupts;
pub(crate) mod job;
pub(crate) mod mail;
pub(crate) mod man;
pub(crate) mod report;
pub(crate) mod runner;
pub(crate) mod settings;
pub(crate) mod shard;
pub(crate) mod shared;
// Public for the tests, which seal records as an older release or an attacker would.
pub mod sign;
pub(crate) mod spec;
pub mod superlists;
pub(crate) mod target;
pub(crate) mod verdict;
pub(crate) mod wait;
pub(crate) mod watch;

pub use browser::main_if_guard;
pub use cli::main;
