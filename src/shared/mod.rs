//! Small helpers that several modules need sideways: URL redaction, durations as people
//! write and read them, and the keys a `press` step can send. Each rule lives here once.

pub mod durations;
pub mod keys;
pub mod redact;
