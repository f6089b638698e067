//! SQLite storage of lists, their items, owners and sharees: one connection, locked briefly
//! per operation. (The accounts' tables have their queries in `accounts`.)

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _};

use super::random::RandomError;
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

/// What a list's page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListDetails {
    pub(crate) items: Vec<String>,
    pub(crate) owner: Option<String>,
    pub(crate) sharees: Vec<String>,
}

/// A list as a link shows it: named by its first item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamedList {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) owner: Option<String>,
}

/// What "My lists" shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserLists {
    pub(crate) owned: Vec<NamedList>,
    pub(crate) shared: Vec<NamedList>,
}

#[derive(Debug, thiserror::Error)]
#[error("failed to {action}")]
pub struct StoreError {
    action: String,
    #[source]
    source: Cause,
}

#[derive(Debug, thiserror::Error)]
enum Cause {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl StoreError {
    /// A key for a new row could not be made.
    pub(crate) fn random(action: &str, error: RandomError) -> StoreError {
        StoreError { action: action.to_owned(), source: Cause::Random(error) }
    }
}

pub(super) fn failed(action: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError { action, source: Cause::Sqlite(source) }
}

impl Store {
    /// Open (creating if missing) the database at `path` and migrate it as `plan` says.
    pub(crate) fn open(path: &Path, plan: migrate::Plan) -> Result<Store, ServeError> {
        Store::open_with(path, |_| Ok(plan))
    }

    /// Open the database at `path` and migrate it as the plan `choose` picks for it.
    pub(super) fn open_with(
        path: &Path,
        choose: impl FnOnce(&Connection) -> Result<migrate::Plan, migrate::MigrateError>,
    ) -> Result<Store, ServeError> {
        let open_error = |source| ServeError::OpenDatabase { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(open_error)?;
        let migrate_error = |source| ServeError::MigrateDatabase { path: path.to_owned(), source };
        let plan = choose(&conn).map_err(migrate_error)?;
        migrate::migrate(&mut conn, path, plan).map_err(migrate_error)?;
        // Only after a successful migration, so a refused database is left untouched.
        // WAL lets readers (another ft, an operator's sqlite3) work while we write.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)).map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_error)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
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

    /// One list's page: its items, owner and sharees; `None` if there is no such list.
    pub(crate) fn list(&self, list_id: i64) -> Result<Option<ListDetails>, StoreError> {
        let Some(items) = self.items(list_id)? else {
            return Ok(None);
        };
        let conn = self.conn();
        let action = || format!("read the owner and sharees of list {list_id}");
        let owner = conn
            .query_row("SELECT owner FROM lists WHERE id = ?1", [list_id], |row| row.get(0))
            .map_err(failed(action()))?;
        let mut statement = conn
            .prepare_cached("SELECT email FROM sharees WHERE list_id = ?1 ORDER BY rowid")
            .map_err(failed(action()))?;
        let sharees = statement
            .query_map([list_id], |row| row.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
            .map_err(failed(action()))?;
        Ok(Some(ListDetails { items, owner, sharees }))
    }

    /// Create a list holding one item, owned by `owner` if given; returns the new list's id.
    pub(crate) fn new_list_with_item(&self, text: &str, owner: Option<&str>) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let action = "create a list";
        let tx = conn.transaction().map_err(failed(action))?;
        tx.execute("INSERT INTO lists (owner) VALUES (?1)", [owner]).map_err(failed(action))?;
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
            Err(source) => Err(failed(format!("add an item to list {list_id}"))(source)),
        }
    }

    /// Share list `list_id` with the user `email` (who need not have logged in yet); false if
    /// there is no such list. Sharing twice is sharing once.
    pub(crate) fn share(&self, list_id: i64, email: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let action = format!("share list {list_id}");
        let tx = conn.transaction().map_err(failed(&action))?;
        let exists = tx
            .query_row("SELECT 1 FROM lists WHERE id = ?1", [list_id], |_| Ok(()))
            .optional()
            .map_err(failed(&action))?;
        if exists.is_none() {
            return Ok(false);
        }
        tx.execute("INSERT OR IGNORE INTO users (email) VALUES (?1)", [email]).map_err(failed(&action))?;
        tx.execute("INSERT OR IGNORE INTO sharees (list_id, email) VALUES (?1, ?2)", (list_id, email))
            .map_err(failed(&action))?;
        tx.commit().map_err(failed(&action))?;
        Ok(true)
    }

    /// The lists a user owns and those shared with them, oldest first, each named by its
    /// first item; `None` if there is no such user.
    pub(crate) fn lists_of(&self, email: &str) -> Result<Option<UserLists>, StoreError> {
        let conn = self.conn();
        let action = || format!("read the lists of {email}");
        let exists = conn
            .query_row("SELECT 1 FROM users WHERE email = ?1", [email], |_| Ok(()))
            .optional()
            .map_err(failed(action()))?;
        if exists.is_none() {
            return Ok(None);
        }
        let named = |row: &rusqlite::Row<'_>| -> rusqlite::Result<NamedList> {
            Ok(NamedList {
                id: row.get(0)?,
                name: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                owner: row.get(2)?,
            })
        };
        // The name is the first item's text, as the book's `List.name`.
        let first_item = "(SELECT text FROM items WHERE items.list_id = lists.id ORDER BY items.id LIMIT 1)";
        let mut owned = conn
            .prepare_cached(&format!("SELECT id, {first_item}, owner FROM lists WHERE owner = ?1 ORDER BY id"))
            .map_err(failed(action()))?;
        let owned = owned
            .query_map([email], named)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(failed(action()))?;
        let mut shared = conn
            .prepare_cached(&format!(
                "SELECT lists.id, {first_item}, lists.owner FROM sharees JOIN lists ON lists.id = sharees.list_id \
                 WHERE sharees.email = ?1 ORDER BY lists.id"
            ))
            .map_err(failed(action()))?;
        let shared = shared
            .query_map([email], named)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(failed(action()))?;
        Ok(Some(UserLists { owned, shared }))
    }

    /// Delete every list, item, user, token and session; the schema stays (the book's
    /// `manage.py flush`).
    pub(crate) fn reset(&self) -> Result<(), StoreError> {
        let action = "reset the database";
        self.conn()
            .execute_batch(
                "BEGIN IMMEDIATE;
                 DELETE FROM sharees; DELETE FROM sessions; DELETE FROM tokens;
                 DELETE FROM items; DELETE FROM lists; DELETE FROM users;
                 COMMIT;",
            )
            .map_err(failed(action))
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
        let store = Store::open(&dir.path().join("db.sqlite3"), migrate::Plan::LATEST).expect("opens");
        (dir, store)
    }

    #[test]
    fn items_come_back_in_insertion_order() {
        let (_dir, store) = store();
        let list = store.new_list_with_item("b", None).expect("creates");
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
        let list = store.new_list_with_item("x", None).expect("creates");
        assert_eq!(store.add_item(list, "x").expect("adds"), Insert::Duplicate);
        assert_eq!(store.items(list).expect("reads"), Some(vec!["x".to_owned()]));
    }

    #[test]
    fn the_shared_list_is_the_first_list() {
        let (_dir, store) = store();
        let shared = store.shared_list().expect("creates");
        assert_eq!(store.shared_list().expect("finds"), shared);
        store.new_list_with_item("later", None).expect("creates");
        assert_eq!(store.shared_list().expect("finds"), shared);
    }

    #[test]
    fn my_lists_are_named_by_their_first_item_and_shared_ones_name_their_owner() {
        let (_dir, store) = store();
        store.conn().execute("INSERT INTO users (email) VALUES ('edith@example.com')", []).expect("user");
        let first = store.new_list_with_item("Reticulate splines", Some("edith@example.com")).expect("creates");
        store.add_item(first, "Immanentize eschaton").expect("adds");
        let anonymous = store.new_list_with_item("nobody's", None).expect("creates");
        assert!(store.share(first, "oni@example.com").expect("shares"));
        assert!(store.share(first, "oni@example.com").expect("shares again"));
        assert!(!store.share(999, "oni@example.com").expect("no such list"));
        let edith = store.lists_of("edith@example.com").expect("reads").expect("a user");
        let names: Vec<&str> = edith.owned.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Reticulate splines"]);
        assert!(edith.shared.is_empty());
        let oni = store.lists_of("oni@example.com").expect("reads").expect("a user by sharing");
        assert_eq!(
            oni.shared,
            [NamedList { id: first, name: "Reticulate splines".into(), owner: Some("edith@example.com".into()) }]
        );
        let details = store.list(first).expect("reads").expect("a list");
        assert_eq!(details.owner.as_deref(), Some("edith@example.com"));
        assert_eq!(details.sharees, ["oni@example.com"]);
        assert_eq!(store.list(anonymous).expect("reads").expect("a list").owner, None);
        assert_eq!(store.lists_of("nobody@example.com").expect("reads"), None);
    }

    #[test]
    fn reset_empties_every_table() {
        let (_dir, store) = store();
        let list = store.new_list_with_item("x", None).expect("creates");
        store.share(list, "oni@example.com").expect("shares");
        store.reset().expect("resets");
        assert_eq!(store.items(list).expect("reads"), None);
        assert_eq!(store.lists_of("oni@example.com").expect("reads"), None);
        assert_eq!(store.new_list_with_item("y", None).expect("creates"), 1, "ids start again");
    }
}
