//! The template profiles kept in the user's cache, one per machine and Firefox
//! (`$XDG_CACHE_HOME/ft/firefox-templates/`, else `~/.cache/ft/firefox-templates/`,
//! folders 0700), so that a run pays for making one only when nothing it would be made
//! from has changed since the last run that made it.
//!
//! A template is kept under a key (`Key`): a digest of everything that shapes the profile
//! Firefox writes at its first start: the capabilities of that start (with the profile path
//! left out), the Firefox binary and geckodriver (resolved path, size, modification time),
//! ft's version and `FORMAT`. The description the digest is taken of is the template's
//! completion marker (`MARKER`), written once the template is whole: a folder without it,
//! or with another description, is never used.
//!
//! Made safely: in a folder of its own in the cache (`.making-PID-XXXXXX`), renamed into
//! place when whole, by one run at a time (an `flock` on `lock`); a run that finds another
//! making one waits for it, bounded by the caller. Made from nothing of any run's own:
//! each session's settings (its user agent, the certificates it accepts, BiDi) reach its
//! copy when it starts, never the template (`profile::first_start_config`).
//!
//! Pruned when a new one is made: the templates of other keys unused (`MARKER`'s
//! modification time, set at every use) for `UNUSED_FOR`, and beyond the `KEEP` last used;
//! the making folders of runs whose ft has died.

use std::future::Future;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::json;
use sha2::{Digest, Sha256};

/// Changed whenever the way a template is made changes in a way the key would not show.
const FORMAT: u32 = 1;

/// The file a whole template holds: its key's description.
pub(super) const MARKER: &str = "ft-template.json";

/// The file runs lock (`flock`) to make a template, one run at a time.
const LOCK: &str = "lock";

/// The prefix of a template being made; ft's pid follows, then a random part.
const MAKING_PREFIX: &str = ".making-";

/// How many templates are kept, the last used first (one is about 36 MB, mostly Firefox's
/// startup cache).
const KEEP: usize = 4;

/// A template of another key unused this long is removed when a new one is made.
const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The cache folder of templates.
pub(super) struct Cache {
    dir: PathBuf,
}

/// What a template is made from, described (`description`, the marker's content) and
/// named by a digest of that description (`name`, the template's folder).
#[derive(Debug)]
pub(super) struct Key {
    name: String,
    description: String,
}

impl Key {
    /// The key of a template made by a first start with `capabilities` (the profile path
    /// left out) of the Firefox at `firefox` through the geckodriver at `geckodriver`.
    pub(super) fn new(capabilities: &serde_json::Value, firefox: &Path, geckodriver: &Path) -> Key {
        let description = json!({
            "format": FORMAT,
            "ft": env!("CARGO_PKG_VERSION"),
            "capabilities": capabilities,
            "firefox": identity(firefox),
            "geckodriver": identity(geckodriver),
        });
        let description = serde_json::to_string_pretty(&description).unwrap_or_default();
        let digest = Sha256::digest(description.as_bytes());
        let name = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Key { name, description }
    }
}

/// A binary as the key sees it: its resolved path, size and modification time, and those of
/// the `application.ini` beside it where there is one (Firefox's, which names its build).
/// A wrapper script that stays the same across an upgrade of what it starts keeps its key:
/// Firefox itself then sees another version in the copy (`compatibility.ini`) and rebuilds
/// its caches, so the template is slower, never wrong.
fn identity(path: &Path) -> serde_json::Value {
    let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let stamp = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| json!({ "size": m.len(), "modified": format!("{}.{:09}", m.mtime(), m.mtime_nsec()) }))
    };
    let mut id = json!({ "path": resolved.display().to_string(), "file": stamp(&resolved) });
    if let Some(ini) = stamp(&resolved.with_file_name("application.ini")) {
        id["application.ini"] = ini;
    }
    id
}

impl Cache {
    /// The user's cache of templates, made (0700) where missing; `None` where there is no
    /// home to put it in, or it cannot be made, or it is not this user's own folder (another
    /// user's template could carry what they trust into this run).
    pub(super) fn open() -> Option<Cache> {
        let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
        let base = xdg.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Cache::at(base.join("ft").join("firefox-templates"))
    }

    /// The cache in `dir`, as `open` says.
    fn at(dir: PathBuf) -> Option<Cache> {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).ok()?;
        let meta = std::fs::symlink_metadata(&dir).ok()?;
        // SAFETY: geteuid has no preconditions.
        if !meta.is_dir() || meta.uid() != unsafe { libc::geteuid() } {
            return None;
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
        }
        Some(Cache { dir })
    }

    /// The template of `key`: the one kept, else one `make` makes now in the empty folder
    /// it is given (after waiting for a run that makes one); `None` when there is none
    /// within `limit`, or it cannot be made or kept.
    pub(super) async fn template<F, Fut>(&self, key: &Key, limit: Duration, make: F) -> Option<PathBuf>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let at = self.dir.join(&key.name);
        if whole(&at, key) {
            return Some(at);
        }
        let made = async {
            let _lock = self.lock().await?;
            // The run this one waited for may have made it.
            if whole(&at, key) {
                return Some(at.clone());
            }
            self.make(key, &at, make).await
        };
        tokio::time::timeout(limit, made).await.ok().flatten()
    }

    /// The lock on making templates, once no other run holds it; `None` if it cannot be
    /// taken. A run that stops waiting (its deadline passed) drops the receiver, and the
    /// thread drops the lock as soon as it has it.
    async fn lock(&self) -> Option<std::fs::File> {
        let path = self.dir.join(LOCK);
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(path).ok()?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Some(file);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        // A thread of its own rather than the runtime's blocking pool, which the runtime
        // waits for when it shuts down: ft never waits for another run's template.
        std::thread::spawn(move || {
            // SAFETY: as above; the file moved into this thread.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0;
            let _ = tx.send(locked.then_some(file));
        });
        rx.await.ok().flatten()
    }

    /// Make the template of `key` in a folder of its own, mark it whole and rename it to
    /// `at`; prune the others. Called with the lock held.
    async fn make<F, Fut>(&self, key: &Key, at: &Path, make: F) -> Option<PathBuf>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        sweep_dead_making(&self.dir);
        let prefix = format!("{MAKING_PREFIX}{}-", std::process::id());
        // Removed when dropped: a making that fails or is cut short leaves nothing.
        let making = tempfile::Builder::new().prefix(&prefix).tempdir_in(&self.dir).ok()?;
        make(making.path().to_path_buf()).await.ok()?;
        // Firefox opens its profile's folder to others; the user's cache is the user's alone.
        tokio::fs::set_permissions(making.path(), std::fs::Permissions::from_mode(0o700)).await.ok()?;
        tokio::fs::write(making.path().join(MARKER), &key.description).await.ok()?;
        // A folder of this name without the marker is none: nothing uses it.
        if tokio::fs::symlink_metadata(at).await.is_ok() {
            tokio::fs::remove_dir_all(at).await.ok()?;
        }
        let made = making.keep();
        if std::fs::rename(&made, at).is_err() {
            let _ = tokio::fs::remove_dir_all(&made).await;
            return None;
        }
        for old in stale(&self.dir, &key.name, SystemTime::now()) {
            let _ = tokio::fs::remove_dir_all(old).await;
        }
        Some(at.to_path_buf())
    }
}

/// Whether `at` is a whole template of `key` (its marker describes `key`); if so, marked
/// as used now, for pruning.
fn whole(at: &Path, key: &Key) -> bool {
    let marker = at.join(MARKER);
    let ours = std::fs::read_to_string(&marker).is_ok_and(|d| d == key.description);
    if ours {
        if let Ok(file) = std::fs::OpenOptions::new().append(true).open(&marker) {
            let _ = file.set_modified(SystemTime::now());
        }
    }
    ours
}

/// The templates in `dir` to remove now that `made` is the newest: of the others, those
/// unused for `UNUSED_FOR` and those beyond the `KEEP` last used (counting `made`), and any
/// folder without a marker (never used), the making folders aside.
fn stale(dir: &Path, made: &str, now: SystemTime) -> Vec<PathBuf> {
    let mut kept = Vec::new();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let ours = name == made || name.to_string_lossy().starts_with('.');
        if ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match std::fs::metadata(entry.path().join(MARKER)).and_then(|m| m.modified()) {
            Ok(used) => kept.push((used, entry.path())),
            Err(_) => out.push(entry.path()),
        }
    }
    kept.sort_by(|a, b| b.0.cmp(&a.0));
    for (i, (used, path)) in kept.into_iter().enumerate() {
        let unused = now.duration_since(used).is_ok_and(|d| d > UNUSED_FOR);
        if unused || i + 1 >= KEEP {
            out.push(path);
        }
    }
    out
}

/// Remove the making folders of runs whose ft has died (SIGKILL, which nothing survives).
fn sweep_dead_making(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| super::pid_in(n, MAKING_PREFIX)) else { continue };
        if !super::alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(caps: serde_json::Value, firefox: &Path) -> Key {
        Key::new(&caps, firefox, Path::new("/nonexistent/geckodriver"))
    }

    #[test]
    fn another_capability_or_firefox_binary_gives_another_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let firefox = tmp.path().join("firefox");
        std::fs::write(&firefox, "#!/bin/sh\n").expect("write");
        let caps = json!({ "moz:firefoxOptions": { "args": ["-headless"] } });
        let first = key(caps.clone(), &firefox);
        assert_eq!(first.name, key(caps.clone(), &firefox).name, "the same things, the same key");
        assert_eq!(first.name.len(), 24);
        let headed = key(json!({ "moz:firefoxOptions": { "args": [] } }), &firefox);
        assert_ne!(first.name, headed.name, "another capability");
        let other = tmp.path().join("firefox-nightly");
        std::fs::write(&other, "#!/bin/sh\n").expect("write");
        assert_ne!(first.name, key(caps.clone(), &other).name, "another binary");
        std::fs::write(&firefox, "#!/bin/sh\n# upgraded\n").expect("write");
        assert_ne!(first.name, key(caps.clone(), &firefox).name, "the same binary, changed");
        // A link to it is the binary it resolves to.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&firefox, &link).expect("symlink");
        assert_eq!(key(caps.clone(), &link).name, key(caps, &firefox).name);
    }

    #[tokio::test]
    async fn a_template_is_made_once_and_kept_and_one_without_its_marker_is_not_used() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cache = Cache::at(tmp.path().join("ft/firefox-templates")).expect("cache");
        let mode = std::fs::metadata(&cache.dir).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache is the user's alone");
        let key = key(json!({}), Path::new("/nonexistent/firefox"));
        let made = std::sync::atomic::AtomicUsize::new(0);
        let make = |dir: PathBuf| {
            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { std::fs::write(dir.join("prefs.js"), "made").map_err(|e| e.to_string()) }
        };
        let limit = Duration::from_secs(10);
        let at = cache.template(&key, limit, make).await.expect("made");
        assert!(at.join("prefs.js").is_file() && at.join(MARKER).is_file());
        assert_eq!(std::fs::metadata(&at).expect("meta").mode() & 0o777, 0o700);
        assert_eq!(cache.template(&key, limit, make).await, Some(at.clone()), "kept");
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1, "made once");
        // A template cut short (no marker) is never used: it is made again.
        std::fs::remove_file(at.join(MARKER)).expect("rm marker");
        assert_eq!(cache.template(&key, limit, make).await, Some(at.clone()));
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 2);
        // One that cannot be made leaves nothing and is no template.
        let other = Key::new(&json!({ "other": true }), Path::new("/x"), Path::new("/y"));
        let fails = |_dir: PathBuf| async { Err::<(), String>("no Firefox".into()) };
        assert_eq!(cache.template(&other, limit, fails).await, None);
        let left: Vec<_> = std::fs::read_dir(&cache.dir).expect("read").flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "the template and the lock: {left:?}");
    }

    #[tokio::test]
    async fn a_run_that_finds_another_making_the_template_waits_for_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cache = Cache::at(tmp.path().join("templates")).expect("cache");
        let key = key(json!({}), Path::new("/nonexistent/firefox"));
        let held = cache.lock().await.expect("locked");
        let limit = Duration::from_millis(200);
        let never = |_dir: PathBuf| async { Err::<(), String>("not this run's to make".into()) };
        assert_eq!(cache.template(&key, limit, never).await, None, "it waited, and gave up at its limit");
        drop(held);
        let make = |dir: PathBuf| async move { std::fs::write(dir.join("prefs.js"), "").map_err(|e| e.to_string()) };
        assert!(cache.template(&key, Duration::from_secs(10), make).await.is_some(), "the lock was let go");
    }

    #[test]
    fn a_cache_that_cannot_be_made_or_is_a_link_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("file");
        std::fs::write(&file, "").expect("write");
        assert!(Cache::at(file.join("ft/firefox-templates")).is_none(), "below a file");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).expect("symlink");
        assert!(Cache::at(link).is_none(), "a link is not the user's own folder");
    }

    #[test]
    fn templates_beyond_the_last_used_few_or_unused_for_30_days_are_pruned() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 60 * 60);
        let template = |name: &str, used: SystemTime| {
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).expect("mkdir");
            let marker = std::fs::File::create(dir.join(MARKER)).expect("marker");
            marker.set_modified(used).expect("set mtime");
        };
        template("new", now);
        template("a", now - day);
        template("b", now - 2 * day);
        template("c", now - 3 * day);
        template("d", now - 4 * day);
        template("old", now - 31 * day);
        std::fs::create_dir(tmp.path().join("unmarked")).expect("mkdir");
        std::fs::create_dir(tmp.path().join(".making-1-abc")).expect("mkdir");
        let mut gone: Vec<String> = stale(tmp.path(), "new", now)
            .iter()
            .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
            .collect();
        gone.sort();
        assert_eq!(gone, ["d", "old", "unmarked"]);
    }
}
