//! Append-only JSON Lines files (`deploys.jsonl`, `history.jsonl`): many writers, no line
//! ever lost or rewritten.

use std::path::Path;

use super::{flock, ReportError};

/// Append `lines` (each one JSON document, no newline in it): one `write` on a file opened
/// for appending, under an exclusive `flock` on it, then fsync. Concurrent runs each add
/// their lines; none is lost or rewritten. A torn last line (a crash mid-write) is ended
/// first so it cannot swallow these, and a write that fails midway is cut back off.
pub fn append(path: &Path, lines: &[String]) -> Result<(), ReportError> {
    use std::io::Write;
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    if lines.is_empty() {
        return Ok(());
    }
    let err = |source| ReportError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut file =
        std::fs::OpenOptions::new().read(true).append(true).create(true).mode(0o644).open(path).map_err(err)?;
    flock(&file, libc::LOCK_EX).map_err(err)?;
    let len = file.metadata().map_err(err)?.len();
    let mut text = String::new();
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1).map_err(err)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.sync_data()) {
        let _ = file.set_len(len);
        return Err(err(e));
    }
    // The lock goes with the descriptor when `file` drops.
    Ok(())
}
