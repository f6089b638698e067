//! Signed run records with the real binary: `ft keygen`, `ft run --sign-key` against a real
//! server in a git work tree, and `ft gate --verify-key` opening only for the record its
//! key signed, unedited; bad keys stop ft before anything runs.

use crate::common;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::repo::Repo;
use common::*;

/// A git work tree (`app/`, one commit) with key folders beside it.
struct World {
    repo: Repo,
}

impl World {
    fn new() -> World {
        World { repo: Repo::in_folder("app") }
    }

    fn app(&self) -> PathBuf {
        self.repo.path().to_path_buf()
    }

    fn path(&self, name: &str) -> String {
        self.repo.outside().join(name).to_str().expect("utf-8").to_string()
    }

    fn ft(&self, args: &[&str]) -> Output {
        ft_in(&self.app(), args)
    }

    /// `ft keygen --out NAME` beside the work tree; the (private, public) key paths.
    fn keygen(&self, name: &str) -> (String, String) {
        let out = self.ft(&["keygen", "--out", &self.path(name)]);
        assert_eq!(out.code, 0, "{}", out.all());
        (self.path(&format!("{name}/ft-sign.key")), self.path(&format!("{name}/ft-sign.pub")))
    }

    fn gate(&self, record: &Path, extra: &[&str]) -> Output {
        // These records run one scenario: the subject here is the signature, not coverage.
        let mut args = vec!["gate", "--record", record.to_str().expect("utf-8"), "--allow-partial"];
        args.extend_from_slice(extra);
        self.ft(&args)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.repo.outside().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }
}

/// The statement bytes inside an envelope, as any DSSE reader would decode them.
fn payload(envelope: &serde_json::Value) -> Vec<u8> {
    STANDARD.decode(envelope["payload"].as_str().expect("a payload")).expect("base64")
}

#[test]
fn keygen_writes_a_private_0600_and_a_public_key_once() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let out = w.ft(&["keygen", "--out", &w.path("keys")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("ft-sign.key (private: keep it secret"), "{}", out.stdout);
    let private = std::fs::read_to_string(w.path("keys/ft-sign.key")).expect("the private key");
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 PEM: {private}");
    let public = std::fs::read_to_string(w.path("keys/ft-sign.pub")).expect("the public key");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"), "SPKI PEM: {public}");
    let mode = std::fs::metadata(w.path("keys/ft-sign.key")).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let again = w.ft(&["keygen", "--out", &w.path("keys")]);
    assert_eq!(again.code, 2, "{}", again.all());
    assert!(again.stderr.contains("ft-sign.key already exists") && again.stderr.contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(w.path("keys/ft-sign.key")).expect("read"), private, "untouched");
}

#[test]
fn a_bad_or_missing_key_stops_run_deploy_and_gate_before_anything_runs() {
    let w = World::new();
    let (private, public) = w.keygen("keys");
    let missing = w.path("nowhere/ft-sign.key");

    // No --liveserver: the embedded target would start, were the key not checked first.
    let out = w.ft(&["run", "--filter", "layout", "--sign-key", &missing]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains(&format!("failed to read the signing key {missing}")), "{}", out.stderr);
    assert!(out.stderr.contains("ft keygen --out DIR"), "says how to make one: {}", out.stderr);
    assert!(!w.app().join("reports").exists(), "nothing ran");

    let out = output(ft_command(&w.app()).args(["run", "--filter", "layout"]).env("FT_SIGN_KEY", &public));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("it is a public key; signing needs the private one"), "{}", out.stderr);

    let marker = w.path("deployed");
    let deploy_cmd = format!("touch {marker}");
    let dead = format!("127.0.0.1:{}", free_port());
    let out = w.ft(&[
        "deploy",
        "--staging",
        &dead,
        "--live",
        &dead,
        "--staging-deploy",
        "--deploy-cmd",
        &deploy_cmd,
        "--sign-key",
        &missing,
    ]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("failed to read the signing key"), "{}", out.stderr);
    assert!(!Path::new(&marker).exists(), "no deploy command ran");

    let record = w.write("run.intoto.json", b"{}");
    let out = w.gate(&record, &["--verify-key", &private]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("it is a private key; the gate needs only the public one"), "{}", out.stderr);
    assert!(!out.stderr.contains("BEGIN"), "the secret is not echoed: {}", out.stderr);
}

#[test]
fn the_gate_opens_a_signed_record_only_with_its_key_and_unedited() {
    let w = World::new();
    let (private, public) = w.keygen("keys");
    let (_, other_public) = w.keygen("other");
    let served = Served::start(&[]);
    let run =
        w.ft(&["run", "--liveserver", &served.url, "--filter", "layout", "--max-wait", "3", "--sign-key", &private]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("signed: reports/run.intoto.json (keyid "), "{}", run.stdout);

    let record = w.app().join("reports/run.json");
    let signed = w.app().join("reports/run.intoto.json");
    let envelope = read_json(&signed);
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(payload(&envelope), std::fs::read(&record).expect("run.json"), "the payload is run.json, byte for byte");
    assert_eq!(envelope["signatures"].as_array().map(Vec::len), Some(1));

    let open = w.gate(&signed, &["--verify-key", &public]);
    assert_eq!(open.code, 0, "{}", open.all());
    assert!(
        open.stdout.starts_with("gate open:") && open.stdout.contains("signature verified: keyid"),
        "{}",
        open.stdout
    );
    assert_eq!(w.gate(&record, &[]).code, 0, "without --verify-key the gate reads run.json as before");
    let envelope_unverified = w.gate(&signed, &[]);
    assert_eq!(envelope_unverified.code, 2, "{}", envelope_unverified.all());
    assert!(envelope_unverified.stderr.contains("pass --verify-key"), "{}", envelope_unverified.stderr);

    let other = w.gate(&signed, &["--verify-key", &other_public]);
    assert_eq!(other.code, 1, "{}", other.all());
    assert!(other.stdout.starts_with("gate shut:"), "{}", other.stdout);
    assert!(other.stdout.contains("the record is signed by another key: keyid"), "{}", other.stdout);

    // "FAILED" to "PASSED" and the counts: here one byte of the statement, re-encoded.
    let statement = String::from_utf8(payload(&envelope)).expect("utf-8");
    assert!(statement.contains("\"workers\": 1,"), "{statement}");
    let mut edited = envelope.clone();
    edited["payload"] = STANDARD.encode(statement.replacen("\"workers\": 1,", "\"workers\": 2,", 1)).into();
    let out = w.gate(&w.write("edited.intoto.json", edited.to_string().as_bytes()), &["--verify-key", &public]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("signature does not verify") && out.stdout.contains("changed after it was signed"));

    // One byte of the envelope file itself, inside the base64 payload.
    let text = std::fs::read_to_string(&signed).expect("read");
    let at = text.find("\"payload\": \"").expect("a payload field") + 12 + 40;
    let flipped = if &text[at..=at] == "A" { "B" } else { "A" };
    let raw = format!("{}{flipped}{}", &text[..at], &text[at + 1..]);
    let out = w.gate(&w.write("flipped.intoto.json", raw.as_bytes()), &["--verify-key", &public]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("signature does not verify"), "{}", out.stdout);

    let unsigned = w.gate(&record, &["--verify-key", &public]);
    assert_eq!(unsigned.code, 2, "{}", unsigned.all());
    assert!(unsigned.stderr.contains("is an unsigned run record"), "{}", unsigned.stderr);
    assert!(unsigned.stderr.contains(&format!("pass the signed record beside it, {}", signed.display())));

    let garbage = w.gate(&w.write("garbage.json", b"{\"hello\": 1}"), &["--verify-key", &public]);
    assert_eq!(garbage.code, 2, "{}", garbage.all());
    assert!(garbage.stderr.contains("is not a signed run record (a DSSE envelope)"), "{}", garbage.stderr);

    // A later unsigned run leaves no signed record of an earlier one behind.
    let rerun = w.ft(&["run", "--liveserver", &served.url, "--filter", "layout", "--max-wait", "3"]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert!(!signed.exists(), "the old envelope is gone");
}

#[test]
fn ft_deploy_signs_every_stages_record() {
    let w = World::new();
    let (private, public) = w.keygen("keys");
    let staging = Served::start(&[]);
    let live = Served::start(&[]);
    let out = w.ft(&[
        "deploy",
        "--staging",
        &staging.url,
        "--live",
        &live.url,
        "--deploy-cmd",
        "true",
        "--filter",
        "layout",
        "--allow-partial",
        "--max-wait",
        "3",
        "--sign-key",
        &private,
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    for stage in ["staging", "live"] {
        let dir = w.app().join("reports").join(stage);
        let envelope = read_json(&dir.join("run.intoto.json"));
        assert_eq!(payload(&envelope), std::fs::read(dir.join("run.json")).expect("run.json"), "{stage}");
    }
    let gate = w.gate(&w.app().join("reports/staging/run.intoto.json"), &["--verify-key", &public]);
    assert_eq!(gate.code, 0, "{}", gate.all());
}
