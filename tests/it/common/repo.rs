//! A git work tree for the tests that need one (records name a commit; `ft deploy` and
//! `ft gate` refuse to run outside a clean tree): one helper, not a copy per module.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{ft_in, Output};

pub struct Repo {
    dir: tempfile::TempDir,
    /// The work tree: the temporary folder itself, or a folder in it (`in_folder`).
    tree: PathBuf,
}

impl Repo {
    /// A new repository on `main` with one commit (a README) and a committer identity.
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().to_path_buf();
        Repo::init(dir, tree)
    }

    /// As `new`, with the work tree in folder `name` of a temporary folder (`outside()`),
    /// where a test keeps what must not be in the tree: deploy scripts, keys, an origin.
    pub fn in_folder(name: &str) -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join(name);
        std::fs::create_dir(&tree).expect("mkdir");
        Repo::init(dir, tree)
    }

    fn init(dir: tempfile::TempDir, tree: PathBuf) -> Repo {
        let repo = Repo { dir, tree };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "ft@example.com"]);
        repo.git(&["config", "user.name", "ft tests"]);
        std::fs::write(repo.path().join("README"), "superlists\n").expect("write");
        repo.git(&["add", "README"]);
        repo.git(&["commit", "-q", "-m", "first"]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.tree
    }

    /// The temporary folder that holds the work tree (the work tree itself after `new`).
    pub fn outside(&self) -> &Path {
        self.dir.path()
    }

    /// Run git in the work tree and return what it printed (trimmed); a failing git fails
    /// the test, saying why.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git").args(args).current_dir(self.path()).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Stage every file of the work tree and commit it; the new commit.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// The commit tag `name` points at, if there is that tag.
    pub fn tag(&self, name: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["rev-parse", "--verify", "--quiet", &format!("refs/tags/{name}^{{commit}}")])
            .current_dir(self.path())
            .output()
            .expect("git runs");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Run ft in the work tree.
    pub fn ft(&self, args: &[&str]) -> Output {
        ft_in(self.path(), args)
    }
}
