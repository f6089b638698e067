//! ft: a functional-test runner that decides whether a web release may go live.
//!
//! The module map (arrows point down only) is in docs/architecture.md.

pub mod browser;
pub mod cli;
pub mod commands;
pub mod config_flags;
pub mod error;
pub mod exit;
pub mod gate;
pub mod git;
pub mod job;
pub mod man;
pub mod report;
pub mod runner;
pub mod settings;
pub mod shared;
pub mod sign;
pub mod signals;
pub mod spec;
pub mod superlists;
pub mod target;
pub mod verdict;
pub mod wait;
pub mod watch;
