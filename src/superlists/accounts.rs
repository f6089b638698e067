//! The accounts' queries (users, login tokens, sessions) and the two server-side commands
//! built on them, `create_session` and `reset_database` (the book's `manage.py
//! create_session` and `flush`), which another process runs against the app's database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::OptionalExtension as _;

use super::migrate::Plan;
use super::random;
use super::store::{failed, Store, StoreError};
use super::ServeError;

/// How long a session lasts: Django's `SESSION_COOKIE_AGE`, two weeks.
pub(crate) const SESSION_AGE: Duration = Duration::from_secs(14 * 24 * 3600);
/// How long a login link works. (The book's tokens never expire; an hour is plenty for a
/// person, or a test, to open their email.)
const TOKEN_AGE: Duration = Duration::from_secs(3600);
/// The longest email address accepted (RFC 5321's path limit, less the brackets).
const MAX_EMAIL: usize = 254;

/// Why a server-side command failed; exit 2 for each (bad input or an unusable database).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("failed to use {email:?} as an email address: expected one like edith@example.com")]
    Email { email: String },
    #[error("failed to open database {}: its folder does not exist", path.display())]
    NoFolder { path: PathBuf },
    #[error(transparent)]
    Open(#[from] ServeError),
    #[error("failed to {action} in database {}", path.display())]
    Store {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: StoreError,
    },
}

/// `ft serve create-session --db PATH EMAIL`: make the user if needed and a session for
/// them; returns its key (the `sessionid` cookie's value). The database is created and
/// migrated if needed, as the app itself would.
pub fn create_session(db: &Path, email: &str) -> Result<String, CommandError> {
    let email = parse_email(email).ok_or_else(|| CommandError::Email { email: email.to_owned() })?;
    let store = open_for_command(db)?;
    store.create_session(&email).map_err(|source| CommandError::Store {
        action: "create a session",
        path: db.to_owned(),
        source,
    })
}

/// `ft serve reset-database --db PATH`: delete every list, item, user, token and session;
/// the schema stays.
pub fn reset_database(db: &Path) -> Result<(), CommandError> {
    let store = open_for_command(db)?;
    store.reset().map_err(|source| CommandError::Store { action: "reset", path: db.to_owned(), source })
}

/// Open the database a running app may be using, keeping the build it was migrated by
/// (`Plan` of the database itself: the accept-duplicates build's stays without the index).
fn open_for_command(db: &Path) -> Result<Store, CommandError> {
    let folder = match db.parent() {
        Some(parent) if parent.as_os_str().is_empty() => Path::new("."),
        Some(parent) => parent,
        None => Path::new("/"),
    };
    if !folder.is_dir() {
        return Err(CommandError::NoFolder { path: db.to_owned() });
    }
    Ok(Store::open_as_built(db)?)
}

/// `text` as an email address (trimmed), if it is one a mail server can take.
pub(crate) fn parse_email(text: &str) -> Option<String> {
    let email = text.trim();
    let plausible = email.len() <= MAX_EMAIL && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    (plausible && email.parse::<lettre::Address>().is_ok()).then(|| email.to_owned())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl Store {
    /// Open the database at `path` for a server-side command (see `open_for_command`).
    fn open_as_built(path: &Path) -> Result<Store, ServeError> {
        Store::open_with(path, |conn| super::migrate::plan_of(conn).map(|plan| plan.unwrap_or(Plan::LATEST)))
    }

    /// A new login token for `email`; returns its uid, the link's `token`.
    pub(crate) fn create_token(&self, email: &str) -> Result<String, StoreError> {
        let action = "create a login token";
        let uid = random::uuid().map_err(|e| StoreError::random(action, e))?;
        let conn = self.conn();
        // Expired tokens are of no use to anyone: they go as new ones come.
        conn.execute("DELETE FROM tokens WHERE created < ?1", [now() - TOKEN_AGE.as_secs() as i64])
            .map_err(failed(action))?;
        conn.execute("INSERT INTO tokens (uid, email, created) VALUES (?1, ?2, ?3)", (&uid, email, now()))
            .map_err(failed(action))?;
        Ok(uid)
    }

    /// The email of the unexpired token `uid`, which is used up (a login link works once);
    /// `None` for an unknown, used or expired token.
    pub(crate) fn redeem_token(&self, uid: &str) -> Result<Option<String>, StoreError> {
        let action = "read a login token";
        let oldest = now() - TOKEN_AGE.as_secs() as i64;
        self.conn()
            .query_row("DELETE FROM tokens WHERE uid = ?1 AND created >= ?2 RETURNING email", (uid, oldest), |row| {
                row.get(0)
            })
            .optional()
            .map_err(failed(action))
    }

    /// Log `email` in: the user is made if needed, and a new session; returns its key.
    pub(crate) fn create_session(&self, email: &str) -> Result<String, StoreError> {
        let action = "create a session";
        let key = random::session_key().map_err(|e| StoreError::random(action, e))?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(failed(action))?;
        tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now()]).map_err(failed(action))?;
        tx.execute("INSERT OR IGNORE INTO users (email) VALUES (?1)", [email]).map_err(failed(action))?;
        tx.execute(
            "INSERT INTO sessions (key, email, expires) VALUES (?1, ?2, ?3)",
            (&key, email, now() + SESSION_AGE.as_secs() as i64),
        )
        .map_err(failed(action))?;
        tx.commit().map_err(failed(action))?;
        Ok(key)
    }

    /// The email of the user logged in with session `key`, if it exists and has not expired.
    pub(crate) fn session_user(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT email FROM sessions WHERE key = ?1 AND expires > ?2", (key, now()), |row| row.get(0))
            .optional()
            .map_err(failed("read a session"))
    }

    /// Log out: the session is gone.
    pub(crate) fn delete_session(&self, key: &str) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM sessions WHERE key = ?1", [key]).map(drop).map_err(failed("delete a session"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("db.sqlite3"), Plan::LATEST).expect("opens");
        (dir, store)
    }

    #[test]
    fn emails_are_trimmed_and_must_have_a_domain() {
        assert_eq!(parse_email(" edith@example.com ").as_deref(), Some("edith@example.com"));
        assert_eq!(parse_email("edith+1@localhost").as_deref(), Some("edith+1@localhost"));
        for bad in ["", "edith", "@example.com", "edith@", "a b@example.com", "edith@exa mple.com", "x\n@y.com"] {
            assert_eq!(parse_email(bad), None, "{bad:?}");
        }
        assert_eq!(parse_email(&format!("{}@example.com", "a".repeat(250))), None);
    }

    #[test]
    fn a_token_logs_in_once() {
        let (_dir, store) = store();
        let uid = store.create_token("edith@example.com").expect("token");
        assert_eq!(store.redeem_token(&uid).expect("reads").as_deref(), Some("edith@example.com"));
        assert_eq!(store.redeem_token(&uid).expect("reads"), None, "used up");
        assert_eq!(store.redeem_token("no-such-token").expect("reads"), None);
    }

    #[test]
    fn an_old_token_is_refused_and_cleared_away() {
        let (_dir, store) = store();
        let uid = store.create_token("edith@example.com").expect("token");
        store.conn().execute("UPDATE tokens SET created = created - 3601", []).expect("ages");
        assert_eq!(store.redeem_token(&uid).expect("reads"), None);
        store.conn().execute("UPDATE tokens SET created = created - 3601", []).expect("ages");
        store.create_token("francis@example.com").expect("token");
        let left: i64 = store.conn().query_row("SELECT COUNT(*) FROM tokens", [], |row| row.get(0)).expect("count");
        assert_eq!(left, 1, "only the new one");
    }

    #[test]
    fn a_session_names_its_user_until_deleted_or_expired() {
        let (_dir, store) = store();
        let key = store.create_session("edith@example.com").expect("session");
        assert_eq!(store.session_user(&key).expect("reads").as_deref(), Some("edith@example.com"));
        let again = store.create_session("edith@example.com").expect("a second session, same user");
        store.delete_session(&key).expect("deletes");
        assert_eq!(store.session_user(&key).expect("reads"), None);
        assert!(store.session_user(&again).expect("reads").is_some(), "the other session stays");
        store.conn().execute("UPDATE sessions SET expires = 0", []).expect("expires");
        assert_eq!(store.session_user(&again).expect("reads"), None);
    }

    #[test]
    fn the_commands_refuse_a_bad_email_and_a_missing_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("db.sqlite3");
        let err = create_session(&db, "not an email").expect_err("refuses");
        assert!(err.to_string().contains("\"not an email\""), "{err}");
        assert!(!db.exists(), "nothing was created");
        let nowhere = dir.path().join("no-such-folder").join("db.sqlite3");
        let err = reset_database(&nowhere).expect_err("refuses");
        assert!(err.to_string().contains("its folder does not exist"), "{err}");
    }

    #[test]
    fn create_session_then_reset_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("db.sqlite3");
        let key = create_session(&db, "edith@example.com").expect("creates");
        assert!(random::is_session_key(&key), "{key}");
        let store = Store::open(&db, Plan::LATEST).expect("opens");
        assert_eq!(store.session_user(&key).expect("reads").as_deref(), Some("edith@example.com"));
        reset_database(&db).expect("resets");
        assert_eq!(store.session_user(&key).expect("reads"), None);
    }
}
