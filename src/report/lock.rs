//! One run at a time per reports folder: an advisory lock on `<reports>/.ft.lock`, held
//! for the whole run (or the whole `ft deploy`) and released by the OS when ft exits,
//! however it exits (kill -9 included).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::ReportError;

/// The lock file's name inside a reports folder.
pub const LOCK_FILE: &str = ".ft.lock";

/// A held lock; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Take the lock on `dir` (created if missing) at once, or refuse naming its holder:
    /// a second run would delete the first's evidence and mix the two runs' records.
    pub fn acquire(dir: &Path) -> Result<RunLock, ReportError> {
        let path = dir.join(LOCK_FILE);
        let err = |source| ReportError::Lock { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(err)?;
        if let Err(e) = flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(ReportError::Locked { path, pid: text.trim().parse().ok() });
            }
            return Err(err(e));
        }
        // The holder's pid, for the message a second run prints; only the holder writes it.
        file.set_len(0).map_err(err)?;
        file.seek(SeekFrom::Start(0)).map_err(err)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes()).map_err(err)?;
        Ok(RunLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is the lock of the folder `dir`.
    pub fn holds(&self, dir: &Path) -> bool {
        self.path == dir.join(LOCK_FILE)
    }
}

/// `flock(2)` on an open file: the lock belongs to this open file description, so two
/// opens in one process exclude each other just as two processes do.
pub fn flock(file: &File, operation: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: the descriptor is open for the call's duration (borrowed from `file`).
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_folder_is_refused_naming_the_holder_and_free_again_after_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = RunLock::acquire(dir.path()).expect("first");
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        match RunLock::acquire(dir.path()) {
            Err(e @ ReportError::Locked { pid: Some(pid), .. }) => {
                assert_eq!(pid, std::process::id());
                let text = e.to_string();
                assert!(text.contains(&format!("pid {pid}")) && text.contains("--reports"), "{text}");
            }
            other => panic!("expected Locked with a pid, got {other:?}"),
        }
        drop(first);
        RunLock::acquire(dir.path()).expect("free after the holder is gone");
    }
}
