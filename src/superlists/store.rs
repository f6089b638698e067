//! SQLite storage of lists and their items: one connection, locked briefly per operation.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _};

use super::{migrate, ServeError};

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Store {
    conn: Mutex<Connection>,
}

/// The result of adding an item to a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Insert {
    Added,
    /// The list already holds this text (the database's unique index said so).
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
#[error("failed to {action}")]
pub(crate) struct StoreError {
    action: String,
    #[source]
    source: rusqlite::Error,
}

fn failed(action: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError { action, source }
}

impl Store {
    /// Open (creating if missing) the database at `path` and migrate it to `schema`.
    pub(crate) fn open(path: &Path, schema: u32) -> Result<Store, ServeError> {
        let open_error = |source| ServeError::OpenDatabase { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(open_error)?;
        migrate::migrate(&mut conn, path, schema)
            .map_err(|source| ServeError::MigrateDatabase { path: path.to_owned(), source })?;
        // Only after a successful migration, so a refused database is left untouched.
        // WAL lets readers (another ft, an operator's sqlite3) work while we write.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)).map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_error)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done write behind (transactions
        // roll back on drop), so the connection is still good to use.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The texts of the items in list `list_id`, oldest first; `None` if there is no such list.
    pub(crate) fn items(&self, list_id: i64) -> Result<Option<Vec<String>>, StoreError> {
        let conn = self.conn();
        let action = || format!("read the items of list {list_id}");
        let exists = conn
            .query_row("SELECT 1 FROM lists WHERE id = ?1", [list_id], |_| Ok(()))
            .optional()
            .map_err(failed(action()))?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let mut statement =
            conn.prepare_cached("SELECT text FROM items WHERE list_id = ?1 ORDER BY id").map_err(failed(action()))?;
        let texts = statement
            .query_map([list_id], |row| row.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
            .map_err(failed(action()))?;
        Ok(Some(texts))
    }

    /// Create a list holding one item; returns the new list's id.
    pub(crate) fn new_list_with_item(&self, text: &str) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let action = "create a list";
        let tx = conn.transaction().map_err(failed(action))?;
        tx.execute("INSERT INTO lists DEFAULT VALUES", []).map_err(failed(action))?;
        let list_id = tx.last_insert_rowid();
        tx.execute("INSERT INTO items (list_id, text) VALUES (?1, ?2)", (list_id, text)).map_err(failed(action))?;
        tx.commit().map_err(failed(action))?;
        Ok(list_id)
    }

    /// Add an item to an existing list. A unique-index violation (another request added the
    /// same text since the app checked) is `Insert::Duplicate`, not an error.
    pub(crate) fn add_item(&self, list_id: i64, text: &str) -> Result<Insert, StoreError> {
        let inserted = self.conn().execute("INSERT INTO items (list_id, text) VALUES (?1, ?2)", (list_id, text));
        match inserted {
            Ok(_) => Ok(Insert::Added),
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                Ok(Insert::Duplicate)
            }
            Err(source) => Err(StoreError { action: format!("add an item to list {list_id}"), source }),
        }
    }

    /// The id of the oldest list, created if there is none (the shared-list defect).
    pub(crate) fn shared_list(&self) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let action = "find the shared list";
        let tx = conn.transaction().map_err(failed(action))?;
        let first: Option<i64> =
            tx.query_row("SELECT MIN(id) FROM lists", [], |row| row.get(0)).map_err(failed(action))?;
        let list_id = match first {
            Some(id) => id,
            None => {
                tx.execute("INSERT INTO lists DEFAULT VALUES", []).map_err(failed(action))?;
                tx.last_insert_rowid()
            }
        };
        tx.commit().map_err(failed(action))?;
        Ok(list_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("db.sqlite3"), migrate::LATEST).expect("opens");
        (dir, store)
    }

    #[test]
    fn items_come_back_in_insertion_order() {
        let (_dir, store) = store();
        let list = store.new_list_with_item("b").expect("creates");
        assert_eq!(store.add_item(list, "a").expect("adds"), Insert::Added);
        assert_eq!(store.items(list).expect("reads"), Some(vec!["b".to_owned(), "a".to_owned()]));
    }

    #[test]
    fn a_missing_list_has_no_items() {
        let (_dir, store) = store();
        assert_eq!(store.items(42).expect("reads"), None);
    }

    #[test]
    fn the_database_reports_a_duplicate_the_app_missed() {
        let (_dir, store) = store();
        let list = store.new_list_with_item("x").expect("creates");
        assert_eq!(store.add_item(list, "x").expect("adds"), Insert::Duplicate);
        assert_eq!(store.items(list).expect("reads"), Some(vec!["x".to_owned()]));
    }

    #[test]
    fn the_shared_list_is_the_first_list() {
        let (_dir, store) = store();
        let shared = store.shared_list().expect("creates");
        assert_eq!(store.shared_list().expect("finds"), shared);
        store.new_list_with_item("later").expect("creates");
        assert_eq!(store.shared_list().expect("finds"), shared);
    }
}
