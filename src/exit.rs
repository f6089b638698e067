//! Exit codes, as documented in the README ("Exit codes").

/// Every selected scenario passed (and at least one ran).
pub const PASSED: u8 = 0;
/// A scenario failed: the app did not behave as specified.
pub const FAILED: u8 = 1;
/// Bad usage, config or spec; nothing was run.
pub const USAGE: u8 = 2;
/// Infrastructure: target unreachable, driver or browser would not start.
pub const INFRA: u8 = 3;
/// Interrupted by SIGINT (Ctrl-C) / SIGTERM.
pub const SIGINT: u8 = 130;
pub const SIGTERM: u8 = 143;
