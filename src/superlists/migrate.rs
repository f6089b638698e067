//! Versioned schema migrations (`PRAGMA user_version`), each applied in its own transaction.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

/// The newest schema version this build knows.
pub(crate) const LATEST: u32 = 2;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`.
const MIGRATIONS: [&str; LATEST as usize] = [
    "CREATE TABLE lists (id INTEGER PRIMARY KEY);
     CREATE TABLE items (
         id INTEGER PRIMARY KEY,
         list_id INTEGER NOT NULL REFERENCES lists(id),
         text TEXT NOT NULL
     );",
    // The book's `unique_together = ("list", "text")`: the database itself refuses a
    // repeated item, whatever the app checks.
    "CREATE UNIQUE INDEX items_list_id_text ON items (list_id, text);",
];

/// The migration that adds the unique index, and so cannot run over duplicate items.
const UNIQUE_ITEMS: u32 = 2;

/// Items that share one text within one list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateItems {
    pub list_id: i64,
    pub text: String,
    pub count: i64,
}

/// Why the schema could not be brought to the version this build needs.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("failed to read the schema version")]
    ReadVersion(#[source] rusqlite::Error),
    #[error(
        "failed to use a database at schema version {found}: this build knows versions up to \
         {known}; use the ft that wrote it, or another database"
    )]
    TooNew { found: u32, known: u32 },
    #[error(
        "failed to apply schema migration {version}; nothing was changed (the database is still \
         at schema version {from})"
    )]
    Apply {
        version: u32,
        from: u32,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}", describe_duplicates(.path, *.from, .duplicates))]
    Duplicates { path: PathBuf, from: u32, duplicates: Vec<DuplicateItems> },
}

/// Bring the schema of `conn` (the database file at `path`) up to version `target`.
///
/// Each migration runs in an immediate transaction together with its version bump, so a
/// failure leaves every row and the version as they were.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, target: u32) -> Result<(), MigrateError> {
    let found = version(conn)?;
    if found > target {
        return Err(MigrateError::TooNew { found, known: target });
    }
    for version in found + 1..=target {
        let from = version - 1;
        let apply_error = |source| MigrateError::Apply { version, from, source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(apply_error)?;
        if version == UNIQUE_ITEMS {
            // Checked inside the transaction so no writer can slip a duplicate in between.
            let duplicates = duplicate_items(&tx).map_err(apply_error)?;
            if !duplicates.is_empty() {
                return Err(MigrateError::Duplicates { path: path.to_owned(), from, duplicates });
            }
        }
        tx.execute_batch(MIGRATIONS[version as usize - 1]).map_err(apply_error)?;
        tx.pragma_update(None, "user_version", version).map_err(apply_error)?;
        tx.commit().map_err(apply_error)?;
    }
    Ok(())
}

/// The schema version recorded in the database (0 for a new file).
pub(crate) fn version(conn: &Connection) -> Result<u32, MigrateError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(MigrateError::ReadVersion)
}

fn duplicate_items(conn: &Connection) -> rusqlite::Result<Vec<DuplicateItems>> {
    let mut statement = conn.prepare(
        "SELECT list_id, text, COUNT(*) FROM items
         GROUP BY list_id, text HAVING COUNT(*) > 1
         ORDER BY list_id, MIN(id)",
    )?;
    let rows = statement
        .query_map([], |row| Ok(DuplicateItems { list_id: row.get(0)?, text: row.get(1)?, count: row.get(2)? }))?;
    rows.collect()
}

/// The operator's message: what is wrong, where, and one way to fix it.
fn describe_duplicates(path: &Path, from: u32, duplicates: &[DuplicateItems]) -> String {
    let extra: i64 = duplicates.iter().map(|d| d.count - 1).sum();
    let mut message = format!(
        "failed to apply schema migration {UNIQUE_ITEMS} (each item text at most once per \
         list): {extra} item(s) repeat an earlier item in the same list:"
    );
    for duplicate in duplicates {
        let _ =
            write!(message, "\n    list {}: {:?} appears {} times", duplicate.list_id, duplicate.text, duplicate.count);
    }
    let _ = write!(
        message,
        "\n    remove or rename the duplicates, for example keep the first of each with:\
         \n    sqlite3 {} \"DELETE FROM items WHERE id NOT IN (SELECT MIN(id) FROM items GROUP BY list_id, text)\"\
         \n    then start again; nothing was changed (the database is still at schema version {from})",
        shell_quote(&path.display().to_string())
    );
    message
}

/// Quote `word` for a POSIX shell, unless it is plainly safe as it is.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:,@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Connection {
        Connection::open_in_memory().expect("in-memory database")
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |row| row.get(0)).expect("count query")
    }

    #[test]
    fn a_new_database_is_migrated_to_the_latest_version() {
        let mut conn = memory();
        migrate(&mut conn, Path::new(":memory:"), LATEST).expect("migrates");
        assert_eq!(version(&conn).expect("version"), LATEST);
        // Running again is a no-op.
        migrate(&mut conn, Path::new(":memory:"), LATEST).expect("migrates again");
    }

    #[test]
    fn the_unique_index_refuses_a_repeated_item() {
        let mut conn = memory();
        migrate(&mut conn, Path::new(":memory:"), LATEST).expect("migrates");
        conn.execute_batch("INSERT INTO lists (id) VALUES (1); INSERT INTO items (list_id, text) VALUES (1, 'a');")
            .expect("first insert");
        let repeat = conn.execute("INSERT INTO items (list_id, text) VALUES (1, 'a')", []);
        assert!(repeat.is_err(), "the index must refuse a duplicate");
    }

    #[test]
    fn duplicates_stop_migration_2_and_change_nothing() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("/tmp/old db"), 1).expect("migrates to 1");
        conn.execute_batch(
            "INSERT INTO lists (id) VALUES (1), (2);
             INSERT INTO items (list_id, text) VALUES (1, 'milk'), (1, 'milk'), (1, 'milk'), (2, 'milk'), (2, 'tea');",
        )
        .expect("rows");
        let err = migrate(&mut conn, Path::new("/tmp/old db"), LATEST).expect_err("refuses");
        let message = err.to_string();
        assert!(message.contains("list 1: \"milk\" appears 3 times"), "{message}");
        assert!(!message.contains("list 2"), "{message}");
        assert!(message.contains("2 item(s) repeat"), "{message}");
        assert!(message.contains("sqlite3 '/tmp/old db' \"DELETE FROM items"), "{message}");
        assert_eq!(version(&conn).expect("version"), 1);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM items"), 5);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"), 0);
    }

    #[test]
    fn the_suggested_fix_lets_the_migration_through() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), 1).expect("migrates to 1");
        conn.execute_batch(
            "INSERT INTO lists (id) VALUES (1);
             INSERT INTO items (list_id, text) VALUES (1, 'a'), (1, 'b'), (1, 'a');
             DELETE FROM items WHERE id NOT IN (SELECT MIN(id) FROM items GROUP BY list_id, text);",
        )
        .expect("rows and fix");
        migrate(&mut conn, Path::new("db"), LATEST).expect("migrates after the fix");
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM items"), 2);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), LATEST).expect("migrates");
        let err = migrate(&mut conn, Path::new("db"), 1).expect_err("refuses");
        assert!(matches!(err, MigrateError::TooNew { found: 2, known: 1 }), "{err}");
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone() {
        assert_eq!(shell_quote("/tmp/x/db.sqlite3"), "/tmp/x/db.sqlite3");
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
