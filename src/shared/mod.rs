//! Small helpers that several modules need sideways: URL redaction, durations as people
//! write and read them, the keys a `press` step can send, the cookie a `set_cookie` sets,
//! locators as data (the spec builds them, the browser evaluates them), control characters
//! escaped for a terminal, text cut for messages. Each rule lives here once.

pub mod cookie;
pub mod durations;
pub mod errors;
pub mod files;
pub mod keys;
pub mod locator;
pub mod process;
pub mod redact;
pub mod terminal;
pub mod text;
