//! Each watched run's reports in a folder of its own (`DIR/watch/000042`), rotated: the
//! last K runs are kept, and a failed run's evidence until K newer runs failed too.

use std::path::{Path, PathBuf};

/// The file in a run's folder that says how it ended (`passed`, `failed`, `watcher_error`).
pub const OUTCOME_FILE: &str = "watch-outcome";

/// The folder of run `seq`.
pub fn run_dir(root: &Path, seq: u64) -> PathBuf {
    root.join(format!("{seq:06}"))
}

/// The runs under `root` (by sequence number) with whether each failed; folders ft did not
/// name are left out, and so never removed.
pub fn runs(root: &Path) -> Vec<(u64, bool)> {
    let mut out: Vec<(u64, bool)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let seq = (name.len() == 6 || name.len() > 6 && !name.starts_with('0'))
                .then(|| name.parse::<u64>().ok())
                .flatten()?;
            let word = std::fs::read_to_string(e.path().join(OUTCOME_FILE)).unwrap_or_default();
            Some((seq, word.trim() == "failed"))
        })
        .collect();
    out.sort();
    out
}

/// Which runs to remove so that the last `keep` remain, and every failed run among the
/// last `keep` failed ones. `runs` is sorted oldest first.
pub fn to_remove(runs: &[(u64, bool)], keep: usize) -> Vec<u64> {
    let recent_start = runs.len().saturating_sub(keep);
    let failed: Vec<u64> = runs.iter().filter(|(_, f)| *f).map(|(s, _)| *s).collect();
    let kept_failures = &failed[failed.len().saturating_sub(keep)..];
    runs[..recent_start].iter().filter(|(seq, _)| !kept_failures.contains(seq)).map(|(seq, _)| *seq).collect()
}

/// Remove what `to_remove` says; a folder that cannot be removed is a warning.
pub fn prune(root: &Path, keep: usize) -> Vec<String> {
    let mut warnings = Vec::new();
    for seq in to_remove(&runs(root), keep) {
        let dir = run_dir(root, seq);
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            warnings.push(format!("failed to remove the old run {}: {e}", dir.display()));
        }
    }
    warnings
}

/// The sequence number after the newest run under `root`, so a restarted watcher
/// continues rather than overwrites.
pub fn next_seq(root: &Path) -> u64 {
    runs(root).last().map_or(1, |(seq, _)| seq + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_k_runs_stay_and_older_passes_go() {
        let runs: Vec<(u64, bool)> = (1..=5).map(|s| (s, false)).collect();
        assert_eq!(to_remove(&runs, 3), [1, 2]);
        assert!(to_remove(&runs, 10).is_empty());
    }

    #[test]
    fn a_failures_evidence_stays_until_k_newer_failures() {
        // 2 failed long ago, then many passes: it outlives them.
        let mut runs = vec![(1, false), (2, true)];
        runs.extend((3..=10).map(|s| (s, false)));
        assert_eq!(to_remove(&runs, 3), [1, 3, 4, 5, 6, 7]);
        // Three newer failures push it out.
        let runs = [(2, true), (3, true), (4, true), (5, true), (6, false)];
        assert_eq!(to_remove(&runs, 3), [2]);
    }

    #[test]
    fn only_folders_ft_named_are_counted_and_the_sequence_continues() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["000001", "000002", "notes", "12"] {
            std::fs::create_dir(dir.path().join(name)).expect("mkdir");
        }
        std::fs::write(dir.path().join("000002").join(OUTCOME_FILE), "failed\n").expect("write");
        assert_eq!(runs(dir.path()), [(1, false), (2, true)]);
        assert_eq!(next_seq(dir.path()), 3);
        assert!(prune(dir.path(), 1).is_empty());
        assert!(!dir.path().join("000001").exists());
        assert!(dir.path().join("000002").exists() && dir.path().join("notes").exists());
    }
}
