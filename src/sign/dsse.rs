//! DSSE envelopes (https://github.com/secure-systems-lab/dsse, v1.0): `seal` wraps the
//! run record's exact bytes and signs them; `open` gives those bytes back only when a
//! signature by the expected key verifies, and says why not otherwise.

use std::path::{Path, PathBuf};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::Deserialize;

use super::keys::{SignKey, VerifyKey};

/// The in-toto envelope's payload type: the payload is an in-toto Statement in JSON.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE's pre-authentication encoding, the bytes actually signed:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal. Signing
/// the type with the body stops a payload from being read as another kind of document.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let head = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), body.len());
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

/// Where the signed record of `record` is written and looked for: beside it, the same
/// stem with `.intoto.json` (`reports/run.json` → `reports/run.intoto.json`).
pub fn envelope_path(record: &Path) -> PathBuf {
    record.with_extension("intoto.json")
}

/// The envelope (JSON, keys in the order DSSE's own documentation shows) holding
/// `statement` byte for byte, signed with `key`.
pub fn seal(statement: &[u8], key: &SignKey) -> Vec<u8> {
    seal_as(PAYLOAD_TYPE, statement, key)
}

fn seal_as(payload_type: &str, body: &[u8], key: &SignKey) -> Vec<u8> {
    let sig = key.sign(&pae(payload_type, body));
    let envelope = serde_json::json!({
        "payload": STANDARD.encode(body),
        "payloadType": payload_type,
        "signatures": [{ "keyid": key.keyid(), "sig": STANDARD.encode(sig.to_bytes()) }],
    });
    // A `Value`'s alternate Display is pretty JSON and cannot fail, unlike `to_vec`.
    format!("{envelope:#}\n").into_bytes()
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("failed to read the signed run record {}: {why}", path.display())]
    Read { path: PathBuf, why: String },
    #[error(
        "{} is not a signed run record (a DSSE envelope): {why}\n  hint: with --verify-key, pass the run.intoto.json that `ft run --sign-key` wrote",
        path.display()
    )]
    NotEnvelope { path: PathBuf, why: String },
    #[error("{} is an unsigned run record, and --verify-key asks for a signed one\n  hint: {hint}", path.display())]
    Unsigned { path: PathBuf, hint: String },
    #[error("{} is signed, but holds {found:?}, not an in-toto statement ({PAYLOAD_TYPE})", path.display())]
    PayloadType { path: PathBuf, found: String },
    #[error("the record carries no signature")]
    NoSignature,
    #[error("the record is signed by another key: keyid {theirs}, not {ours} (--verify-key {})", key.display())]
    OtherKey { theirs: String, ours: String, key: PathBuf },
    #[error(
        "the record's signature does not verify with --verify-key {} (keyid {ours}): the record was changed after it was signed",
        key.display()
    )]
    BadSignature { ours: String, key: PathBuf },
}

impl EnvelopeError {
    /// A signature that does not hold is a reason to keep the gate shut (exit 1), like a
    /// failed run; the rest are usage errors (exit 2): the wrong file, or no envelope at all.
    pub fn shuts_gate(&self) -> bool {
        matches!(self, EnvelopeError::NoSignature | EnvelopeError::OtherKey { .. } | EnvelopeError::BadSignature { .. })
    }
}

/// The envelope as read; unknown fields are ignored, as DSSE asks of consumers.
#[derive(Deserialize)]
struct Envelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    /// Optional in DSSE; unset is the same as empty. A hint for messages, never trusted.
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// The statement bytes inside the envelope at `path`, if `key` signed them.
pub fn open(path: &Path, key: &VerifyKey) -> Result<Vec<u8>, EnvelopeError> {
    let bytes = crate::shared::files::read_regular(path, crate::shared::files::MAX_DATA_BYTES)
        .map_err(|e| EnvelopeError::Read { path: path.to_path_buf(), why: e.to_string() })?;
    open_bytes(path, &bytes, key)
}

/// `open` on bytes already read (`path` is for messages). DSSE's order: decode, verify,
/// only then look at the payload type; the caller parses the payload.
fn open_bytes(path: &Path, bytes: &[u8], key: &VerifyKey) -> Result<Vec<u8>, EnvelopeError> {
    let not_envelope = |why: String| EnvelopeError::NotEnvelope { path: path.to_path_buf(), why };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| not_envelope(format!("not JSON: {e}")))?;
    if value.get("_type").is_some() {
        return Err(EnvelopeError::Unsigned { path: path.to_path_buf(), hint: unsigned_hint(path) });
    }
    let envelope: Envelope = serde_json::from_value(value).map_err(|e| not_envelope(e.to_string()))?;
    let body = decode(&envelope.payload).ok_or_else(|| not_envelope("its payload is not base64".into()))?;
    if envelope.signatures.is_empty() {
        return Err(EnvelopeError::NoSignature);
    }
    let message = pae(&envelope.payload_type, &body);
    // Any one signature by this key is enough; one that does not decode is one that does not verify.
    let verified = envelope.signatures.iter().any(|s| decode(&s.sig).is_some_and(|sig| key.verifies(&message, &sig)));
    if !verified {
        // The key ids only choose the message: they are not signed and prove nothing.
        let ours = short(key.keyid()).to_string();
        return Err(if envelope.signatures.iter().any(|s| s.keyid == key.keyid()) {
            EnvelopeError::BadSignature { ours, key: key.path().to_path_buf() }
        } else {
            let theirs: Vec<&str> = envelope
                .signatures
                .iter()
                .map(|s| if s.keyid.is_empty() { "(none given)" } else { short(&s.keyid) })
                .collect();
            EnvelopeError::OtherKey { theirs: theirs.join(", "), ours, key: key.path().to_path_buf() }
        });
    }
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(EnvelopeError::PayloadType { path: path.to_path_buf(), found: envelope.payload_type });
    }
    Ok(body)
}

fn unsigned_hint(path: &Path) -> String {
    let beside = envelope_path(path);
    if beside.is_file() {
        format!("pass the signed record beside it, {}", beside.display())
    } else {
        "sign it where it is made: `ft run --sign-key FILE` (or FT_SIGN_KEY) writes run.intoto.json beside run.json"
            .into()
    }
}

/// Standard or URL-safe base64, padded or not: DSSE verifiers must accept either.
fn decode(text: &str) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [GeneralPurpose::new(&alphabet::STANDARD, config), GeneralPurpose::new(&alphabet::URL_SAFE, config)]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

fn short(keyid: &str) -> &str {
    keyid.get(..16).unwrap_or(keyid)
}

#[cfg(test)]
mod tests {
    use super::super::keys::tests::{RFC8410_KEYID, RFC8410_PRIVATE, RFC8410_PUBLIC};
    use super::*;

    struct Keys {
        sign: SignKey,
        verify: VerifyKey,
        _dir: tempfile::TempDir,
    }

    fn rfc8410() -> Keys {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("k"), RFC8410_PRIVATE).expect("write");
        std::fs::write(dir.path().join("p"), RFC8410_PUBLIC).expect("write");
        Keys {
            sign: SignKey::load(&dir.path().join("k")).expect("key"),
            verify: VerifyKey::load(&dir.path().join("p")).expect("key"),
            _dir: dir,
        }
    }

    fn other_key() -> (VerifyKey, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let pair = super::super::keys::keygen(dir.path()).expect("keygen");
        (VerifyKey::load(&pair.public).expect("key"), dir)
    }

    fn open_json(envelope: &serde_json::Value, key: &VerifyKey) -> Result<Vec<u8>, EnvelopeError> {
        open_bytes(Path::new("run.intoto.json"), envelope.to_string().as_bytes(), key)
    }

    fn sealed(body: &[u8], keys: &Keys) -> serde_json::Value {
        serde_json::from_slice(&seal(body, &keys.sign)).expect("the envelope is JSON")
    }

    const STATEMENT: &[u8] = br#"{"_type": "https://in-toto.io/Statement/v1", "predicate": {"result": "PASSED"}}"#;

    #[test]
    fn pae_matches_the_dsse_specs_test_vector() {
        // protocol.md, "Test Vectors".
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        assert_eq!(pae(PAYLOAD_TYPE, "é".as_bytes()), "DSSEv1 28 application/vnd.in-toto+json 2 é".as_bytes());
    }

    #[test]
    fn the_signature_is_the_one_openssl_makes_over_the_pae() {
        // openssl pkeyutl -sign -inkey rfc8410.key -rawin -in <(printf 'DSSEv1 29 http://example.com/HelloWorld 11 hello world') | base64
        let keys = rfc8410();
        let envelope: serde_json::Value =
            serde_json::from_slice(&seal_as("http://example.com/HelloWorld", b"hello world", &keys.sign))
                .expect("json");
        assert_eq!(envelope["payload"], "aGVsbG8gd29ybGQ=");
        assert_eq!(envelope["payloadType"], "http://example.com/HelloWorld");
        assert_eq!(envelope["signatures"][0]["keyid"], RFC8410_KEYID);
        assert_eq!(
            envelope["signatures"][0]["sig"],
            "onxMTeMfS8/kBopQrDOBgE+tf0WuzWiMN7Ai52tcFQ8Izn+ASmNRUsZZRKWhvF82MxYE8A6jXkqmLWnG131GCg=="
        );
    }

    #[test]
    fn a_sealed_statement_opens_to_the_same_bytes_with_its_key() {
        let keys = rfc8410();
        let envelope = sealed(STATEMENT, &keys);
        assert_eq!(envelope["payloadType"], PAYLOAD_TYPE);
        assert_eq!(open_json(&envelope, &keys.verify).expect("verifies"), STATEMENT);
    }

    #[test]
    fn another_key_is_named_as_another_key() {
        let keys = rfc8410();
        let (other, _dir) = other_key();
        let err = open_json(&sealed(STATEMENT, &keys), &other).expect_err("another key");
        assert!(matches!(err, EnvelopeError::OtherKey { .. }) && err.shuts_gate(), "{err:?}");
        assert!(err.to_string().contains(&format!("signed by another key: keyid {}", &RFC8410_KEYID[..16])), "{err}");
    }

    #[test]
    fn an_edited_payload_or_type_does_not_verify() {
        let keys = rfc8410();
        let mut envelope = sealed(STATEMENT, &keys);
        let edited = String::from_utf8(STATEMENT.to_vec()).expect("utf-8").replace("PASSED", "PASSEd");
        envelope["payload"] = STANDARD.encode(edited).into();
        let err = open_json(&envelope, &keys.verify).expect_err("edited");
        assert!(matches!(err, EnvelopeError::BadSignature { .. }) && err.shuts_gate(), "{err:?}");
        assert!(err.to_string().contains("does not verify"), "{err}");

        let mut envelope = sealed(STATEMENT, &keys);
        envelope["payloadType"] = "application/json".into();
        assert!(matches!(open_json(&envelope, &keys.verify), Err(EnvelopeError::BadSignature { .. })));

        let mut envelope = sealed(STATEMENT, &keys);
        envelope["signatures"][0]["sig"] = "bm90IGEgc2lnbmF0dXJl".into();
        assert!(matches!(open_json(&envelope, &keys.verify), Err(EnvelopeError::BadSignature { .. })));
    }

    #[test]
    fn url_safe_unpadded_base64_is_accepted_as_dsse_requires() {
        let keys = rfc8410();
        let mut envelope = sealed(STATEMENT, &keys);
        let url = GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_encode_padding(false));
        envelope["payload"] = url.encode(STATEMENT).into();
        let sig = decode(envelope["signatures"][0]["sig"].as_str().expect("sig")).expect("base64");
        envelope["signatures"][0]["sig"] = url.encode(sig).into();
        assert_eq!(open_json(&envelope, &keys.verify).expect("verifies"), STATEMENT);
    }

    #[test]
    fn a_verified_envelope_of_another_type_is_refused_after_verification() {
        let keys = rfc8410();
        let envelope: serde_json::Value =
            serde_json::from_slice(&seal_as("application/json", STATEMENT, &keys.sign)).expect("json");
        let err = open_json(&envelope, &keys.verify).expect_err("wrong type");
        assert!(matches!(err, EnvelopeError::PayloadType { .. }) && !err.shuts_gate(), "{err:?}");
    }

    #[test]
    fn unsigned_records_and_other_files_are_named_for_what_they_are() {
        let keys = rfc8410();
        let unsigned = open_bytes(Path::new("run.json"), STATEMENT, &keys.verify).expect_err("unsigned");
        assert!(matches!(unsigned, EnvelopeError::Unsigned { .. }) && !unsigned.shuts_gate(), "{unsigned:?}");
        assert!(unsigned.to_string().contains("is an unsigned run record"), "{unsigned}");

        for (text, why) in [
            ("hello", "not JSON"),
            ("{}", "missing field `payload`"),
            (r#"{"payload": "%%%", "payloadType": "x", "signatures": []}"#, "its payload is not base64"),
        ] {
            let err = open_bytes(Path::new("x.json"), text.as_bytes(), &keys.verify).expect_err("not an envelope");
            assert!(matches!(err, EnvelopeError::NotEnvelope { .. }) && !err.shuts_gate(), "{err:?}");
            assert!(err.to_string().contains(why), "{why}: {err}");
        }

        let mut envelope = sealed(STATEMENT, &keys);
        envelope["signatures"] = serde_json::json!([]);
        assert!(matches!(open_json(&envelope, &keys.verify), Err(EnvelopeError::NoSignature)));
    }

    #[test]
    fn the_envelope_sits_beside_the_record() {
        assert_eq!(envelope_path(Path::new("reports/run.json")), Path::new("reports/run.intoto.json"));
        assert_eq!(envelope_path(Path::new("reports/staging/run.json")), Path::new("reports/staging/run.intoto.json"));
    }
}
