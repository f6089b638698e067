//! Versioned schema migrations (`PRAGMA user_version`), each applied in its own transaction.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior};

/// The newest schema version this build knows.
pub(crate) const LATEST: u32 = 4;

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
    // The book's accounts app: a user is an email address (its primary key, as the book's
    // custom user model has it), a login token is a UUID sent to that address, and a
    // session is a random key in the `sessionid` cookie. Sessions live here, not in the
    // app's memory, so that another process (`ft serve create-session`) can make one.
    "CREATE TABLE users (email TEXT PRIMARY KEY);
     CREATE TABLE tokens (
         uid TEXT PRIMARY KEY,
         email TEXT NOT NULL,
         created INTEGER NOT NULL
     );
     CREATE TABLE sessions (
         key TEXT PRIMARY KEY,
         email TEXT NOT NULL REFERENCES users(email),
         expires INTEGER NOT NULL
     );",
    // Lists get an owner (none for the lists of visitors who were not logged in, and for
    // every list from before this migration) and the users they are shared with.
    "ALTER TABLE lists ADD COLUMN owner TEXT REFERENCES users(email);
     CREATE TABLE sharees (
         list_id INTEGER NOT NULL REFERENCES lists(id),
         email TEXT NOT NULL REFERENCES users(email),
         PRIMARY KEY (list_id, email)
     );",
];

/// Migrations applied ahead of a gap (see `Plan::without`), as (version) rows; the table
/// exists only while there are such migrations.
const AHEAD_TABLE: &str = "superlists_migrations_ahead";

/// Which migrations a build applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The newest version to bring the schema to.
    pub(crate) target: u32,
    /// One migration this build leaves out (the accept-duplicates defect's build predates
    /// the unique index, but not the accounts). The schema version then stays below it, and
    /// the later migrations it applies are recorded in `AHEAD_TABLE`, so that a build
    /// without the gap applies the missing one and skips those.
    pub(crate) without: Option<u32>,
}

impl Plan {
    /// Every migration up to the newest.
    pub(crate) const LATEST: Plan = Plan { target: LATEST, without: None };

    /// Every migration but the unique index (the accept-duplicates defect's build).
    pub(crate) const WITHOUT_UNIQUE_ITEMS: Plan = Plan { target: LATEST, without: Some(UNIQUE_ITEMS) };

    /// Every migration up to `target`.
    #[cfg(test)]
    pub(crate) fn up_to(target: u32) -> Plan {
        Plan { target, without: None }
    }

    /// The newest version the schema's `user_version` reaches under this plan.
    fn reaches(self) -> u32 {
        match self.without {
            Some(gap) if gap <= self.target => gap - 1,
            _ => self.target,
        }
    }
}

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

/// Bring the schema of `conn` (the database file at `path`) up to what `plan` asks.
///
/// Each migration runs in an immediate transaction together with its version bump, so a
/// failure leaves every row and the version as they were.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, plan: Plan) -> Result<(), MigrateError> {
    let found = version(conn)?;
    if found > plan.reaches() {
        return Err(MigrateError::TooNew { found, known: plan.reaches() });
    }
    let ahead = applied_ahead(conn)?;
    let mut past_gap = false;
    for version in found + 1..=plan.target {
        if plan.without == Some(version) {
            past_gap = true;
            continue;
        }
        let from = if past_gap { plan.reaches() } else { version - 1 };
        let apply_error = |source| MigrateError::Apply { version, from, source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(apply_error)?;
        let already = ahead.contains(&version);
        if version == UNIQUE_ITEMS {
            // Checked inside the transaction so no writer can slip a duplicate in between.
            let duplicates = duplicate_items(&tx).map_err(apply_error)?;
            if !duplicates.is_empty() {
                return Err(MigrateError::Duplicates { path: path.to_owned(), from, duplicates });
            }
        }
        if !already {
            tx.execute_batch(MIGRATIONS[version as usize - 1]).map_err(apply_error)?;
        }
        record(&tx, version, past_gap, already).map_err(apply_error)?;
        tx.commit().map_err(apply_error)?;
    }
    Ok(())
}

/// Record migration `version` as applied: past a gap, in the table of those applied ahead;
/// otherwise as the schema version (taking it off that table if it was applied ahead).
fn record(tx: &Transaction<'_>, version: u32, past_gap: bool, already: bool) -> rusqlite::Result<()> {
    if past_gap {
        if !already {
            tx.execute_batch(&format!("CREATE TABLE IF NOT EXISTS {AHEAD_TABLE} (version INTEGER PRIMARY KEY)"))?;
            tx.execute(&format!("INSERT INTO {AHEAD_TABLE} (version) VALUES (?1)"), [version])?;
        }
        return Ok(());
    }
    if already {
        tx.execute(&format!("DELETE FROM {AHEAD_TABLE} WHERE version = ?1"), [version])?;
        let left: i64 = tx.query_row(&format!("SELECT COUNT(*) FROM {AHEAD_TABLE}"), [], |row| row.get(0))?;
        if left == 0 {
            tx.execute_batch(&format!("DROP TABLE {AHEAD_TABLE}"))?;
        }
    }
    tx.pragma_update(None, "user_version", version)
}

/// The migrations recorded as applied ahead of a gap.
fn applied_ahead(conn: &Connection) -> Result<BTreeSet<u32>, MigrateError> {
    let read = || -> rusqlite::Result<BTreeSet<u32>> {
        let exists = conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [AHEAD_TABLE], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(BTreeSet::new());
        }
        let mut statement = conn.prepare(&format!("SELECT version FROM {AHEAD_TABLE}"))?;
        let versions = statement.query_map([], |row| row.get(0))?.collect();
        versions
    };
    read().map_err(MigrateError::ReadVersion)
}

/// The plan the database at `conn` was migrated by, if it is not the full one: a database
/// of the accept-duplicates build stays without the unique index when a server-side command
/// opens it under the running app.
pub(crate) fn plan_of(conn: &Connection) -> Result<Option<Plan>, MigrateError> {
    let gap = version(conn)? == UNIQUE_ITEMS - 1 && !applied_ahead(conn)?.is_empty();
    Ok(gap.then_some(Plan::WITHOUT_UNIQUE_ITEMS))
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
        migrate(&mut conn, Path::new(":memory:"), Plan::LATEST).expect("migrates");
        assert_eq!(version(&conn).expect("version"), LATEST);
        // Running again is a no-op.
        migrate(&mut conn, Path::new(":memory:"), Plan::LATEST).expect("migrates again");
    }

    #[test]
    fn the_unique_index_refuses_a_repeated_item() {
        let mut conn = memory();
        migrate(&mut conn, Path::new(":memory:"), Plan::LATEST).expect("migrates");
        conn.execute_batch("INSERT INTO lists (id) VALUES (1); INSERT INTO items (list_id, text) VALUES (1, 'a');")
            .expect("first insert");
        let repeat = conn.execute("INSERT INTO items (list_id, text) VALUES (1, 'a')", []);
        assert!(repeat.is_err(), "the index must refuse a duplicate");
    }

    #[test]
    fn duplicates_stop_migration_2_and_change_nothing() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("/tmp/old db"), Plan::up_to(1)).expect("migrates to 1");
        conn.execute_batch(
            "INSERT INTO lists (id) VALUES (1), (2);
             INSERT INTO items (list_id, text) VALUES (1, 'milk'), (1, 'milk'), (1, 'milk'), (2, 'milk'), (2, 'tea');",
        )
        .expect("rows");
        let err = migrate(&mut conn, Path::new("/tmp/old db"), Plan::LATEST).expect_err("refuses");
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
        migrate(&mut conn, Path::new("db"), Plan::up_to(1)).expect("migrates to 1");
        conn.execute_batch(
            "INSERT INTO lists (id) VALUES (1);
             INSERT INTO items (list_id, text) VALUES (1, 'a'), (1, 'b'), (1, 'a');
             DELETE FROM items WHERE id NOT IN (SELECT MIN(id) FROM items GROUP BY list_id, text);",
        )
        .expect("rows and fix");
        migrate(&mut conn, Path::new("db"), Plan::LATEST).expect("migrates after the fix");
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM items"), 2);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), Plan::LATEST).expect("migrates");
        let err = migrate(&mut conn, Path::new("db"), Plan::up_to(1)).expect_err("refuses");
        assert!(matches!(err, MigrateError::TooNew { found: LATEST, known: 1 }), "{err}");
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone() {
        assert_eq!(shell_quote("/tmp/x/db.sqlite3"), "/tmp/x/db.sqlite3");
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut statement =
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").expect("prepare");
        let names = statement.query_map([], |row| row.get(0)).expect("query").collect::<Result<_, _>>();
        names.expect("names")
    }

    #[test]
    fn a_version_2_database_gains_the_accounts_and_keeps_its_rows() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), Plan::up_to(2)).expect("migrates to 2");
        conn.execute_batch(
            "INSERT INTO lists (id) VALUES (1), (2);
             INSERT INTO items (list_id, text) VALUES (1, 'a'), (1, 'b'), (2, 'c');",
        )
        .expect("rows");
        migrate(&mut conn, Path::new("db"), Plan::LATEST).expect("migrates to the latest");
        assert_eq!(version(&conn).expect("version"), LATEST);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM items"), 3);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM lists WHERE owner IS NULL"), 2, "old lists have no owner");
        for table in ["users", "tokens", "sessions", "sharees"] {
            assert!(tables(&conn).contains(&table.to_owned()), "{table}: {:?}", tables(&conn));
        }
    }

    #[test]
    fn a_plan_without_migration_2_stays_at_version_1_with_the_accounts() {
        let without = Plan { target: LATEST, without: Some(UNIQUE_ITEMS) };
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), without).expect("migrates");
        assert_eq!(version(&conn).expect("version"), 1);
        assert!(tables(&conn).contains(&"sessions".to_owned()));
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'items%'"), 0);
        // Again: nothing to do.
        migrate(&mut conn, Path::new("db"), without).expect("migrates again");
        assert_eq!(count(&conn, &format!("SELECT COUNT(*) FROM {AHEAD_TABLE}")), 2);
    }

    #[test]
    fn the_full_plan_then_fills_the_gap_and_skips_what_was_applied_ahead() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), Plan { target: LATEST, without: Some(UNIQUE_ITEMS) }).expect("gap");
        conn.execute_batch(
            "INSERT INTO users (email) VALUES ('edith@example.com');
             INSERT INTO lists (id, owner) VALUES (1, 'edith@example.com');
             INSERT INTO items (list_id, text) VALUES (1, 'a');",
        )
        .expect("rows");
        migrate(&mut conn, Path::new("db"), Plan::LATEST).expect("fills the gap");
        assert_eq!(version(&conn).expect("version"), LATEST);
        assert!(!tables(&conn).contains(&AHEAD_TABLE.to_owned()), "{:?}", tables(&conn));
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM lists WHERE owner = 'edith@example.com'"), 1);
        let repeat = conn.execute("INSERT INTO items (list_id, text) VALUES (1, 'a')", []);
        assert!(repeat.is_err(), "the unique index is there now");
    }

    #[test]
    fn a_plan_without_migration_2_refuses_a_database_that_has_it() {
        let mut conn = memory();
        migrate(&mut conn, Path::new("db"), Plan::LATEST).expect("migrates");
        let err = migrate(&mut conn, Path::new("db"), Plan { target: LATEST, without: Some(UNIQUE_ITEMS) })
            .expect_err("refuses");
        assert!(matches!(err, MigrateError::TooNew { found: LATEST, known: 1 }), "{err}");
    }
}
