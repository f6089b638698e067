//! Ed25519 key pairs for signing run records: `ft keygen` makes them, `--sign-key` reads
//! the private half (PKCS#8 PEM), `--verify-key` the public half (SPKI PEM).
//!
//! PEM rather than bare base64 of the 32-byte keys: the label says which half a file is
//! and the algorithm identifier inside says it is Ed25519, so a swapped or foreign key is
//! refused by name instead of signing or verifying with the wrong bytes; and the files are
//! what `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` read and write.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The private key's file name in `ft keygen --out DIR`.
pub const PRIVATE_FILE: &str = "ft-sign.key";
/// The public key's file name in `ft keygen --out DIR`.
pub const PUBLIC_FILE: &str = "ft-sign.pub";

/// The DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the key id hashes this
/// plus the 32 key bytes, so `openssl pkey -pubin -outform DER | sha256sum` gives it too.
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

const KEYGEN_HINT: &str = "make a key pair with `ft keygen --out DIR`";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "failed to read the signing key {}: {why}\n  hint: {KEYGEN_HINT}, then pass DIR/{PRIVATE_FILE} as --sign-key (or FT_SIGN_KEY)",
        path.display()
    )]
    Private { path: PathBuf, why: String },
    #[error(
        "failed to read the verification key {}: {why}\n  hint: pass the {PUBLIC_FILE} that `ft keygen` wrote beside the signing key",
        path.display()
    )]
    Public { path: PathBuf, why: String },
    #[error(
        "failed to write a key pair: {} already exists\n  hint: ft keygen never overwrites a key; pick another --out folder, or remove the old pair if you mean to replace it",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error("failed to write {}: {why}", path.display())]
    Write { path: PathBuf, why: String },
    #[error("failed to make a key: {0}")]
    Generate(String),
}

/// The private key a run signs its record with. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct SignKey {
    key: SigningKey,
    keyid: String,
    path: PathBuf,
}

impl std::fmt::Debug for SignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignKey").field("path", &self.path).field("keyid", &self.keyid).finish_non_exhaustive()
    }
}

/// A key file's text: a regular file of at most 64 KiB (a key is a few hundred bytes; a
/// FIFO or a device given as `--sign-key` must not hang or exhaust ft).
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = crate::shared::files::read_regular(path, 64 * 1024).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "it is not text (PEM)".to_string())
}

impl SignKey {
    /// Read a PKCS#8 PEM Ed25519 private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn load(path: &Path) -> Result<SignKey, KeyError> {
        let err = |why: String| KeyError::Private { path: path.to_path_buf(), why };
        let text = Zeroizing::new(read_text(path).map_err(err)?);
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(err(format!("it is a public key; signing needs the private one ({PRIVATE_FILE})")));
        }
        let key = SigningKey::from_pkcs8_pem(&text)
            .map_err(|e| err(format!("not an Ed25519 private key in PKCS#8 PEM ({e})")))?;
        Ok(SignKey { keyid: keyid(&key.verifying_key()), key, path: path.to_path_buf() })
    }

    /// The key id written beside each signature: hex SHA-256 of the public key's SPKI DER.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    pub(super) fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }
}

/// The public key `ft gate --verify-key` checks signatures with.
#[derive(Clone, Debug)]
pub struct VerifyKey {
    key: VerifyingKey,
    keyid: String,
    path: PathBuf,
}

impl VerifyKey {
    /// Read an SPKI PEM Ed25519 public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn load(path: &Path) -> Result<VerifyKey, KeyError> {
        let err = |why: String| KeyError::Public { path: path.to_path_buf(), why };
        let text = read_text(path).map_err(err)?;
        if text.contains("PRIVATE KEY-----") {
            // Said without echoing the file: it holds a secret that should not be here.
            return Err(err(format!(
                "it is a private key; the gate needs only the public one ({PUBLIC_FILE}), and the private key should not be on this machine"
            )));
        }
        let key = VerifyingKey::from_public_key_pem(&text)
            .map_err(|e| err(format!("not an Ed25519 public key in SPKI PEM ({e})")))?;
        Ok(VerifyKey { keyid: keyid(&key), key, path: path.to_path_buf() })
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `signature` is this key's over `message` (strict: no malleable encodings).
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature).is_ok_and(|sig| self.key.verify_strict(message, &sig).is_ok())
    }
}

/// Hex SHA-256 of the key's DER SubjectPublicKeyInfo.
fn keyid(key: &VerifyingKey) -> String {
    let mut hasher = Sha256::new();
    hasher.update(SPKI_PREFIX);
    hasher.update(key.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A key pair `keygen` wrote.
#[derive(Debug)]
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
    pub keyid: String,
}

/// Make a new key pair in `dir`: `ft-sign.key` (0600) and `ft-sign.pub` (0644). Refuses
/// if either file exists: overwriting a key would orphan every record it signed.
pub fn keygen(dir: &Path) -> Result<KeyPair, KeyError> {
    let private = dir.join(PRIVATE_FILE);
    let public = dir.join(PUBLIC_FILE);
    for path in [&private, &public] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists { path: path.clone() });
        }
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    // getrandom's error is `std::error::Error` only with its "std" feature: keep its text.
    getrandom::fill(seed.as_mut_slice()).map_err(|e| KeyError::Generate(format!("no system randomness ({e})")))?;
    let key = SigningKey::from_bytes(&seed);
    // PKCS#8 v1 (RFC 8410's form, as `openssl genpkey` writes it): the dalek encoder's v2,
    // with the public key inside, is one OpenSSL 3 cannot read.
    let private_pem = KeypairBytes { secret_key: *seed, public_key: None }
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let public_pem =
        key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| KeyError::Generate(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| KeyError::Write { path: dir.to_path_buf(), why: e.to_string() })?;
    write_new(&private, private_pem.as_bytes(), 0o600)?;
    if let Err(err) = write_new(&public, public_pem.as_bytes(), 0o644) {
        // Half a pair is no use: take the private key back rather than leave it orphaned.
        let _ = std::fs::remove_file(&private);
        return Err(err);
    }
    Ok(KeyPair { private, public, keyid: keyid(&key.verifying_key()) })
}

/// Write a new file atomically with `mode`, never replacing one that exists. Not
/// `report::write_atomic`: that one replaces, and makes files readable by all.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| KeyError::Write { path: path.to_path_buf(), why: e.to_string() };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ft-tmp-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist_noclobber(path).map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::Exists { path: path.to_path_buf() },
        _ => err(e.error),
    })?;
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    // RFC 8410, sections 10.3 and 10.1: an Ed25519 private key and its public key.
    pub(crate) const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
    pub(crate) const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";
    /// `openssl pkey -in rfc8410.key -pubout -outform DER | sha256sum`
    pub(crate) const RFC8410_KEYID: &str = "a1e9156054e04fac899ae9f275132cdc07a5dbc4ea2c2ad3a1ffc6e0d253681f";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_rfc_8410_pair_loads_with_the_key_id_openssl_computes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sign = SignKey::load(&write(dir.path(), "k", RFC8410_PRIVATE)).expect("private key");
        let verify = VerifyKey::load(&write(dir.path(), "p", RFC8410_PUBLIC)).expect("public key");
        assert_eq!(sign.keyid(), RFC8410_KEYID);
        assert_eq!(verify.keyid(), RFC8410_KEYID);
        let spki = verify.key.to_public_key_der().expect("der");
        assert_eq!(&spki.as_bytes()[..12], &SPKI_PREFIX, "the key id hashes the real SPKI DER");
        assert!(!format!("{sign:?}").contains("MC4CAQ"), "Debug never shows the secret");
    }

    #[test]
    fn keygen_writes_a_private_0600_and_a_public_pair_that_load_and_refuses_to_overwrite() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("keys");
        let pair = keygen(&out).expect("keygen");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&pair.private), 0o600);
        assert_eq!(mode(&pair.public), 0o644);
        let text = std::fs::read_to_string(&pair.private).expect("read");
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        // v1, 48 bytes of DER as in RFC 8410 (64 characters of base64): what OpenSSL reads.
        assert_eq!(text.lines().nth(1).map(str::len), Some(64), "{text}");
        assert_eq!(SignKey::load(&pair.private).expect("load").keyid(), pair.keyid);
        assert_eq!(VerifyKey::load(&pair.public).expect("load").keyid(), pair.keyid);
        let before = std::fs::read(&pair.private).expect("read");
        match keygen(&out) {
            Err(KeyError::Exists { path }) => assert_eq!(path, pair.private),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(std::fs::read(&pair.private).expect("read"), before, "the old key is untouched");
        assert_ne!(keygen(&dir.path().join("other")).expect("keygen").keyid, pair.keyid, "a new key each time");
    }

    #[test]
    fn swapped_or_foreign_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let public = write(dir.path(), "p", RFC8410_PUBLIC);
        let private = write(dir.path(), "k", RFC8410_PRIVATE);
        let e = SignKey::load(&public).expect_err("a public key cannot sign").to_string();
        assert!(e.contains("it is a public key") && e.contains("ft keygen"), "{e}");
        let e = VerifyKey::load(&private).expect_err("a private key is not a verify key").to_string();
        assert!(e.contains("it is a private key") && !e.contains("MC4CAQ"), "{e}");
        let garbage = write(dir.path(), "g", "hello\n");
        let e = SignKey::load(&garbage).expect_err("garbage").to_string();
        assert!(e.contains("not an Ed25519 private key in PKCS#8 PEM") && e.contains("`ft keygen --out DIR`"), "{e}");
        let e = SignKey::load(&dir.path().join("missing")).expect_err("missing").to_string();
        assert!(e.starts_with(&format!("failed to read the signing key {}", dir.path().join("missing").display())));
    }
}
