//! Signed run records: Ed25519 keys (`ft keygen`, `--sign-key`, `--verify-key`) and the
//! DSSE envelope that carries `run.json`'s exact bytes with their signature. `report`
//! seals, `gate` opens; nothing else here knows about runs.

mod dsse;
mod keys;

pub use dsse::{envelope_path, open, seal, EnvelopeError};
pub use keys::{keygen, KeyError, SignKey, VerifyKey};
