//! Exit codes, as documented in the README ("Exit codes"): constants only, importing
//! nothing, so every module may name them. Each type says its own code with them
//! (`Verdict::exit_code`, `DeployOutcome::exit_code`, `Error::code`, `Signal::exit_code`),
//! as nextest's exit codes live apart from what maps onto them.

/// Every selected scenario passed (and at least one ran).
pub const PASSED: u8 = 0;
/// A scenario failed: the app did not behave as specified.
pub const FAILED: u8 = 1;
/// Bad usage, config or spec; nothing was run.
pub const USAGE: u8 = 2;
/// Infrastructure: target unreachable, driver or browser would not start.
pub const INFRA: u8 = 3;
/// Interrupted by SIGINT (Ctrl-C): the conventional 128 + 2.
pub const SIGINT: u8 = 130;
/// Terminated by SIGTERM: 128 + 15.
pub const SIGTERM: u8 = 143;
