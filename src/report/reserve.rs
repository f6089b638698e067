//! Room for the reports a run ends with: space set aside on the disk when the run starts
//! (`.ft-reserve`, allocated, not sparse) and given back just before JUnit, the record and
//! the HTML report are written. Evidence written during the run may fill a disk; the
//! files CI and `ft gate` read still fit.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The reserve's file name inside a folder the run writes its reports to.
pub const RESERVE_FILE: &str = ".ft-reserve";

/// Smallest reserve worth holding; below it the run goes on without one.
const MIN_BYTES: u64 = 16 * 1024;
/// Largest, whatever the suite's size.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Space held in each folder the final reports go to; released by `release` or on drop.
#[derive(Debug, Default)]
pub struct Reserve {
    files: Vec<PathBuf>,
}

/// Bytes to hold for `scenarios` scenarios: JUnit, the record and the HTML report of a
/// failing run measure a few KiB per scenario; this keeps several times that.
pub fn size_for(scenarios: usize) -> u64 {
    (256 * 1024 + 32 * 1024 * scenarios as u64).clamp(MIN_BYTES, MAX_BYTES)
}

impl Reserve {
    /// Hold `bytes` in each distinct folder of `files`. Best effort: on a disk that cannot
    /// spare that much, half of what it has left; the run goes on without a reserve where
    /// even that fails.
    pub fn hold(files: &[&Path], bytes: u64) -> Reserve {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for file in files {
            let dir = match file.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        let mut held = Vec::new();
        for dir in dirs {
            let path = dir.join(RESERVE_FILE);
            // A reserve an earlier run left behind (kill -9) is not free space to count.
            let _ = std::fs::remove_file(&path);
            let size = match available(&dir) {
                Some(free) => bytes.min(free / 2),
                None => bytes,
            };
            if size >= MIN_BYTES && allocate(&path, size).is_ok() {
                held.push(path);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
        Reserve { files: held }
    }

    /// Give the space back: the reports are about to be written.
    pub fn release(&mut self) {
        for file in self.files.drain(..) {
            let _ = std::fs::remove_file(file);
        }
    }

    /// The files holding space now.
    #[cfg(test)]
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.release();
    }
}

/// Bytes an unprivileged writer may still use on the file system holding `dir`.
fn available(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path and `st` is written by the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Create (or replace) `path` with `size` bytes really allocated: `set_len` alone would
/// make a sparse file that holds nothing.
fn allocate(path: &Path, size: u64) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
    let len = libc::off_t::try_from(size).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: the descriptor is open for the call's duration (borrowed from `file`).
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn space_is_held_until_released_and_not_sparse() {
        let dir = tempfile::tempdir().expect("tmp");
        let junit = dir.path().join("junit.xml");
        let record = dir.path().join("run.json");
        let mut reserve = Reserve::hold(&[&junit, &record], 128 * 1024);
        assert_eq!(reserve.files(), [dir.path().join(RESERVE_FILE)], "one reserve per folder");
        let meta = std::fs::metadata(dir.path().join(RESERVE_FILE)).expect("reserve exists");
        assert!(meta.blocks() * 512 >= 128 * 1024, "allocated, not sparse: {} blocks", meta.blocks());
        reserve.release();
        assert!(!dir.path().join(RESERVE_FILE).exists());
    }

    #[test]
    fn dropping_the_reserve_gives_the_space_back() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let _reserve = Reserve::hold(&[&dir.path().join("junit.xml")], MIN_BYTES);
            assert!(dir.path().join(RESERVE_FILE).exists());
        }
        assert!(!dir.path().join(RESERVE_FILE).exists());
    }

    #[test]
    fn the_size_grows_with_the_suite_within_bounds() {
        assert!(size_for(6) < size_for(600));
        assert_eq!(size_for(1_000_000), MAX_BYTES);
        assert!(size_for(0) >= MIN_BYTES);
    }
}
