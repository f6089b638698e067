//! Random keys: login tokens' UUIDs and session keys, from the operating system's generator.

/// A session key's length and alphabet, as Django's.
const SESSION_KEY_LEN: usize = 32;
const SESSION_KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Why a random key could not be made.
#[derive(Debug, thiserror::Error)]
// getrandom's error is `std::error::Error` only with its "std" feature (see csrf.rs).
#[error("failed to generate a random key: {0}")]
pub struct RandomError(getrandom::Error);

/// A random (version 4) UUID, as the book's `Token.uid`: "8-4-4-4-12" lowercase hex.
pub(crate) fn uuid() -> Result<String, RandomError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

/// A session key: 32 characters of [a-z0-9], as Django makes them.
pub(crate) fn session_key() -> Result<String, RandomError> {
    // 256 is not a multiple of 36: bytes from 252 up are dropped so that every character
    // is equally likely.
    let limit = 256 - 256 % SESSION_KEY_ALPHABET.len();
    let mut key = String::with_capacity(SESSION_KEY_LEN);
    while key.len() < SESSION_KEY_LEN {
        let mut bytes = [0u8; SESSION_KEY_LEN];
        getrandom::fill(&mut bytes).map_err(RandomError)?;
        for byte in bytes.map(usize::from).into_iter().filter(|&b| b < limit) {
            if key.len() < SESSION_KEY_LEN {
                key.push(char::from(SESSION_KEY_ALPHABET[byte % SESSION_KEY_ALPHABET.len()]));
            }
        }
    }
    Ok(key)
}

/// Whether `key` looks like a session key at all (so nothing else reaches a query).
pub(crate) fn is_session_key(key: &str) -> bool {
    key.len() == SESSION_KEY_LEN && key.bytes().all(|b| SESSION_KEY_ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let a = uuid().expect("uuid");
        assert_eq!(a.len(), 36, "{a}");
        assert_eq!(a.matches('-').count(), 4, "{a}");
        assert_eq!(&a[14..15], "4", "{a}");
        assert!("89ab".contains(&a[19..20]), "{a}");
        assert_ne!(a, uuid().expect("uuid"));
    }

    #[test]
    fn session_keys_look_like_djangos() {
        let key = session_key().expect("key");
        assert!(is_session_key(&key), "{key}");
        assert_ne!(key, session_key().expect("key"));
        assert!(!is_session_key("short"));
        assert!(!is_session_key(&"A".repeat(32)));
    }
}
