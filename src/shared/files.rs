//! Reading a file someone points ft at (specs, ft.toml, run records, envelopes, keys,
//! certificates): only a regular file (symbolic links followed), at most so many bytes.
//! A FIFO would block for ever and `/dev/zero` never ends; a pull request or a CI
//! workspace can hold either.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest run record, envelope, key or certificate file ft reads (a record of
/// thousands of scenarios is a few MiB).
pub const MAX_DATA_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("this is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("the file is larger than {} MiB", .0 / 1024 / 1024)]
    TooLarge(u64),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<Refused> for std::io::Error {
    fn from(r: Refused) -> std::io::Error {
        match r {
            Refused::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        }
    }
}

/// The bytes of the regular file at `path`, if it holds at most `max` of them.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    // Non-blocking: opening a FIFO would otherwise wait for a writer before any check.
    let file = std::fs::File::options().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_fifo() {
        return Err(Refused::NotRegular("a FIFO (named pipe)"));
    } else if kind.is_char_device() || kind.is_block_device() {
        return Err(Refused::NotRegular("a device"));
    } else if kind.is_socket() {
        return Err(Refused::NotRegular("a socket"));
    } else if kind.is_dir() {
        return Err(Refused::NotRegular("a folder"));
    }
    if meta.len() > max {
        return Err(Refused::TooLarge(max));
    }
    // The size can change after the check (or be wrong, as in /proc): read one byte more
    // than allowed, never the whole of whatever it became.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge(max));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_within_the_limit_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("run.json");
        std::fs::write(&file, b"{}").expect("write");
        assert_eq!(read_regular(&file, 2).expect("read"), b"{}");
        assert!(matches!(read_regular(&file, 1), Err(Refused::TooLarge(1))));
        assert!(matches!(read_regular(dir.path(), 10), Err(Refused::NotRegular("a folder"))));
        assert!(matches!(read_regular(Path::new("/dev/zero"), 10), Err(Refused::NotRegular("a device"))));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a plain syscall on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(read_regular(&fifo, 10), Err(Refused::NotRegular("a FIFO (named pipe)"))));
    }
}
