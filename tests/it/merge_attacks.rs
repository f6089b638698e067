//! Issue 24, findings 1 and 2: shards' records edited after the run, and records that
//! claim absurd numbers. Real shard runs of the built-in suite against the embedded app
//! (one copy with a deliberate defect), real keys, the real binary; what an attacker
//! changes is changed in the files, as they would.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

use common::repo::Repo;

/// What the attack tests add to a work tree: running a shard, copying one unsigned.
trait Attacks {
    fn shard(&self, url: &str, i: usize, n: usize, extra: &[&str]) -> (Output, String);
    fn unsigned_copy(&self, from: &str, name: &str) -> String;
}

impl Attacks for Repo {
    fn shard(&self, url: &str, i: usize, n: usize, extra: &[&str]) -> (Output, String) {
        let dir = format!("shards/{i}");
        let shard = format!("{i}/{n}");
        let mut args = vec!["run", "--liveserver", url, "--max-wait", "6", "--shard", &shard, "--reports", &dir];
        args.extend_from_slice(extra);
        (self.ft(&args), self.path().join(&dir).display().to_string())
    }

    /// A copy of a shard's reports folder without its signature, as a new folder.
    fn unsigned_copy(&self, from: &str, name: &str) -> String {
        let to = self.path().join(name);
        std::fs::create_dir_all(&to).expect("mkdir");
        for f in ["run.json", "junit.xml"] {
            std::fs::copy(Path::new(from).join(f), to.join(f)).expect("copy");
        }
        to.display().to_string()
    }
}

/// Edit a failed shard's run.json to say every scenario it ran passed, green, and of the
/// target of the record `like`.
fn forge_green(record: &Path, like: &Path) {
    let like = read_json(like);
    let mut rec = read_json(record);
    let ft = &mut rec["predicate"]["ft.run/v1"];
    let mut ran = 0;
    for s in ft["scenarios"].as_array_mut().expect("scenarios") {
        if s["status"] == "failed" || s["status"] == "error" {
            s["status"] = "passed".into();
        }
        if s["status"] == "passed" {
            ran += 1;
        }
    }
    for (k, v) in [("passed", ran), ("failed", 0), ("errors", 0), ("flaky", 0), ("not_run", 0)] {
        ft[k] = v.into();
    }
    ft["verdict"] = "green".into();
    ft["green"] = true.into();
    for k in ["target", "target_url"] {
        ft[k] = like["predicate"]["ft.run/v1"][k].clone();
    }
    let p = &mut rec["predicate"];
    let mut passed: Vec<serde_json::Value> = p["passedTests"].as_array().cloned().unwrap_or_default();
    passed.extend(p["failedTests"].as_array().cloned().unwrap_or_default());
    p["passedTests"] = passed.into();
    p["failedTests"] = serde_json::json!([]);
    p["result"] = "PASSED".into();
    std::fs::write(record, serde_json::to_vec_pretty(&rec).expect("json")).expect("write");
}

// Issue 24, finding 1: shard 2 failed against a defective target; its signature removed
// and its run.json edited to green, `ft merge --sign-key` signed the set and `ft gate
// --verify-key` opened ("signature verified") for it.
#[test]
fn an_edited_unsigned_shard_is_neither_merged_nor_signed_nor_let_through_the_gate() {
    let good = Served::start(&[]);
    let defective = Served::start(&["accept-duplicates"]);
    let repo = Repo::new();
    let keys = repo.path().join("keys");
    assert_eq!(repo.ft(&["keygen", "--out", keys.to_str().expect("utf-8")]).code, 0);
    let private = keys.join("ft-sign.key").display().to_string();
    let public = keys.join("ft-sign.pub").display().to_string();
    let (first, one) = repo.shard(&good.url, 1, 2, &["--sign-key", &private]);
    assert_eq!(first.code, 0, "{}", first.all());
    let (second, two) = repo.shard(&defective.url, 2, 2, &["--sign-key", &private]);
    assert_eq!(second.code, 1, "shard 2 fails against the defective target\n{}", second.all());
    std::fs::remove_file(Path::new(&two).join("run.intoto.json")).expect("the attacker drops the signature");
    forge_green(&Path::new(&two).join("run.json"), &Path::new(&one).join("run.json"));
    let one_unsigned = repo.unsigned_copy(&one, "one-unsigned");

    // Signing a merge needs every shard verified: without --verify-key, refused.
    let signed = repo.ft(&["merge", "--sign-key", &private, "--reports", "merged", &one_unsigned, &two]);
    assert_eq!(signed.code, 2, "{}", signed.all());
    assert!(signed.stderr.contains("failed to sign the merged record"), "{}", signed.all());
    assert!(signed.stderr.contains("--verify-key"), "{}", signed.all());
    assert!(!repo.path().join("merged/run.intoto.json").exists(), "nothing was signed");
    assert!(!repo.path().join("merged/run.json").exists(), "a refused merge writes no record");
    // With --verify-key, the unsigned shard is refused.
    let verified =
        repo.ft(&["merge", "--verify-key", &public, "--sign-key", &private, "--reports", "merged", &one, &two]);
    assert_eq!(verified.code, 2, "{}", verified.all());
    assert!(verified.stderr.contains("is not signed"), "{}", verified.all());

    // Unsigned, the edited run.json contradicts the shard's own JUnit file: refused.
    let unsigned = repo.ft(&["merge", "--reports", "merged", &one_unsigned, &two]);
    assert_eq!(unsigned.code, 2, "{}", unsigned.all());
    assert!(
        unsigned.stderr.contains("does not agree with") && unsigned.stderr.contains("a <failure> in the JUnit file"),
        "{}",
        unsigned.all()
    );
    assert!(!repo.path().join("merged/junit.xml").exists(), "no merged JUnit with a <failure> under a green verdict");

    // A merged record some of whose shards were never verified, signed (as the release
    // the attacker used did): the gate under --verify-key refuses it.
    let junit = std::fs::read_to_string(Path::new(&two).join("junit.xml")).expect("junit");
    let forged = regex::Regex::new(r"(?s)<failure .*?</failure>\s*").expect("re").replace_all(&junit, "");
    std::fs::write(Path::new(&two).join("junit.xml"), forged.as_bytes()).expect("write");
    let merged = repo.ft(&["merge", "--reports", "merged", &one_unsigned, &two]);
    assert_eq!(merged.code, 0, "files alike, unsigned: nothing tells them from a real run\n{}", merged.all());
    let record_path = repo.path().join("merged/run.json");
    let record = std::fs::read(&record_path).expect("merged record");
    let shards = &read_json(&record_path)["predicate"]["ft.run/v1"]["merged"]["shards"];
    assert!(shards.as_array().expect("shards").iter().all(|s| s["signature_verified"] == false), "{shards:#}");
    let key = ft::sign::SignKey::load(Path::new(&private)).expect("key");
    let envelope = repo.path().join("merged/run.intoto.json");
    std::fs::write(&envelope, ft::sign::seal(&record, &key)).expect("write the envelope");
    let gate = repo.ft(&[
        "gate",
        "--record",
        envelope.to_str().expect("utf-8"),
        "--verify-key",
        &public,
        "--target",
        &good.url,
    ]);
    assert_eq!(gate.code, 1, "{}", gate.all());
    assert!(gate.stdout.contains("gate shut"), "{}", gate.all());
    assert!(gate.stdout.contains("shard 1/2, 2/2 of it was merged without a verified signature"), "{}", gate.all());
}

/// A shard record of the suite as a real run wrote it (shard 1/1 of one scenario), to edit.
fn one_shard(repo: &Repo, url: &str) -> PathBuf {
    let (out, dir) = repo.shard(url, 1, 1, &["--filter", "layout"]);
    assert_eq!(out.code, 0, "{}", out.all());
    PathBuf::from(dir)
}

/// `ft ARGS` with its address space capped at `limit` (prlimit --as): a record that made
/// ft grow to 7 GB gets a clean refusal within it, not an abort.
fn ft_bounded(repo: &Repo, limit: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={limit}")).arg(FT).args(args).current_dir(repo.path()).stdin(std::process::Stdio::null());
    cmd.env_remove("FT_SIGN_KEY");
    output(&mut cmd)
}

// Issue 24, finding 2: `"shard": {"index": 1, "total": 1000000000000}` made `ft merge`
// grow to ~7 GB and abort; a merged record with a shard total of 2^62 made `ft gate` panic.
#[test]
fn records_claiming_absurd_shards_or_counts_are_not_run_records_and_cost_nothing() {
    let served = Served::start(&[]);
    let repo = Repo::new();
    let dir = one_shard(&repo, &served.url);
    let record = dir.join("run.json");
    let real = read_json(&record);
    const LIMIT: &str = "2000000000";

    let mut huge = real.clone();
    huge["predicate"]["ft.run/v1"]["shard"] = serde_json::json!({"index": 1, "total": 1_000_000_000_000u64});
    std::fs::write(&record, huge.to_string()).expect("write");
    let merge = ft_bounded(&repo, LIMIT, &["merge", "--reports", "merged", dir.to_str().expect("utf-8")]);
    assert_eq!(merge.code, 2, "{}", merge.all());
    assert!(
        merge.stderr.contains("is not an ft run record") && merge.stderr.contains("claims shard 1/1000000000000"),
        "{}",
        merge.all()
    );

    let mut merged = real.clone();
    let ft = &mut merged["predicate"]["ft.run/v1"];
    ft["shard"] = serde_json::Value::Null;
    ft["shard_split"] = serde_json::Value::Null;
    ft["merged"] = serde_json::json!({"shards": [{
        "shard": {"index": 1, "total": 1u64 << 62},
        "record_sha256": "ab".repeat(32), "verdict": "green", "signature_verified": false,
    }]});
    let path = repo.path().join("merged.json");
    std::fs::write(&path, merged.to_string()).expect("write");
    let gate = ft_bounded(&repo, LIMIT, &["gate", "--record", path.to_str().expect("utf-8"), "--target", &served.url]);
    assert_eq!(gate.code, 2, "not a panic (101)\n{}", gate.all());
    assert!(
        gate.stderr.contains("is not an ft run record") && gate.stderr.contains("claims shard 1/4611686018427387904"),
        "{}",
        gate.all()
    );

    // Counts beyond the scenarios listed, and digests that are not hex (slicing one at
    // byte 12 panicked when it held a multi-byte character), are no run record either.
    let mut counts = real.clone();
    counts["predicate"]["ft.run/v1"]["failed"] = serde_json::json!(u64::MAX);
    let mut digest = real.clone();
    digest["predicate"]["ft.run/v1"]["spec_digest"] = serde_json::json!("ééééééééééééééé");
    for (name, rec, why) in [
        ("counts.json", counts, "more than the 10 scenarios it lists"),
        ("digest.json", digest, "spec_digest is not a hex digest"),
    ] {
        let path = repo.path().join(name);
        std::fs::write(&path, rec.to_string()).expect("write");
        let gate = ft_bounded(&repo, LIMIT, &["gate", "--record", path.to_str().expect("utf-8")]);
        assert_eq!(gate.code, 2, "{name}\n{}", gate.all());
        assert!(gate.stderr.contains(why), "{name}\n{}", gate.all());
    }
}
