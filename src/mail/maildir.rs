//! A Maildir folder on this machine (the embedded app's outbox, or what a local delivery
//! agent writes): the messages of `new/` and `cur/` (never `tmp/`, where a message is still
//! being written), each arrived when its file was last written, and deleted by unlinking,
//! which only one reader can do.

use std::path::{Path, PathBuf};

use super::{message, Key, Listed, Problem};

/// The most a message may weigh to be read: a login email is a few kilobytes.
const MAX_MESSAGE_BYTES: u64 = 16 * 1024 * 1024;

pub(super) struct Folder {
    path: PathBuf,
}

impl Folder {
    pub(super) fn open(path: &Path) -> Result<Folder, Problem> {
        if !path.join("new").is_dir() {
            return Err(Problem::fatal(
                format!("{} is not a Maildir folder (it has no new/ folder)", path.display()),
                Some("give the folder that holds tmp/, new/ and cur/".into()),
            ));
        }
        Ok(Folder { path: path.to_path_buf() })
    }

    pub(super) fn list(&self, newest: usize) -> Result<Vec<Listed>, Problem> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.path.join(sub);
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Problem::passing(format!("failed to list {}: {e}", dir.display()))),
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                // Gone since it was listed: another reader took it.
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_file() {
                    files.push((meta.modified().ok(), entry.path()));
                }
            }
        }
        files.sort();
        let skip = files.len().saturating_sub(newest);
        let mut listed = Vec::new();
        for (modified, path) in files.into_iter().skip(skip) {
            let Some(raw) = read(&path)? else { continue };
            listed.push(Listed { headers: message::headers(&raw, modified), key: Key::File(path) });
        }
        Ok(listed)
    }

    pub(super) fn fetch(&self, key: &Key) -> Result<Vec<u8>, Problem> {
        let Key::File(path) = key else { return Err(Problem::passing("a message of another inbox")) };
        Ok(read(path)?.unwrap_or_default())
    }

    pub(super) fn delete(&self, key: &Key) -> Result<bool, Problem> {
        let Key::File(path) = key else { return Err(Problem::passing("a message of another inbox")) };
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Problem::fatal(
                format!("failed to delete {}: {e}", path.display()),
                Some("ft deletes what it read, so that no other run takes it: let it write to the folder".into()),
            )),
        }
    }
}

/// A message file's bytes; `None` when another reader deleted it meanwhile.
fn read(path: &Path) -> Result<Option<Vec<u8>>, Problem> {
    use crate::shared::files::{read_regular, Refused};
    match read_regular(path, MAX_MESSAGE_BYTES) {
        Ok(raw) => Ok(Some(raw)),
        Err(Refused::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(refused) => {
            let e: std::io::Error = refused.into();
            Err(Problem::passing(format!("failed to read {}: {e}", path.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_new_is_not_a_maildir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Folder::open(dir.path()).err().expect("not a maildir");
        assert!(err.to_string().contains("is not a Maildir folder"), "{err}");
    }

    #[test]
    fn messages_in_new_and_cur_are_listed_oldest_first_and_deleted_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        let old = dir.path().join("cur/1.a:2,S");
        std::fs::write(&old, "To: a@b.c\r\nSubject: old\r\n\r\nx").expect("write");
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&old).and_then(|f| f.set_modified(hour_ago)).expect("mtime");
        std::fs::write(dir.path().join("new/2.b"), "To: a@b.c\r\nSubject: new\r\n\r\ny").expect("write");
        std::fs::write(dir.path().join("tmp/3.c"), "To: a@b.c\r\nSubject: half\r\n\r\n").expect("write");
        let folder = Folder::open(dir.path()).expect("open");
        let listed = folder.list(10).expect("list");
        let subjects: Vec<_> = listed.iter().map(|m| m.headers.subject.clone().unwrap_or_default()).collect();
        assert_eq!(subjects, ["old", "new"]);
        assert!(folder.delete(&listed[1].key).expect("delete"));
        assert!(!folder.delete(&listed[1].key).expect("delete again"), "a second reader does not get it");
        assert_eq!(folder.list(1).expect("list").len(), 1);
    }
}
