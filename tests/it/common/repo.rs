//! A git work tree for the tests that need one (records name a commit; `ft deploy` and
//! `ft gate` refuse to run outside a clean tree): one helper, not a copy per module.

use std::path::Path;
use std::process::Command;

use super::{ft_in, Output};

pub struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// A new repository on `main` with one commit (a README) and a committer identity.
    pub fn new() -> Repo {
        let repo = Repo { dir: tempfile::tempdir().expect("tempdir") };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "ft@example.com"]);
        repo.git(&["config", "user.name", "ft tests"]);
        std::fs::write(repo.path().join("README"), "superlists\n").expect("write");
        repo.git(&["add", "README"]);
        repo.git(&["commit", "-q", "-m", "first"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run git in the work tree; a failing git fails the test, saying why.
    pub fn git(&self, args: &[&str]) {
        let out = Command::new("git").args(args).current_dir(self.path()).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Run ft in the work tree.
    pub fn ft(&self, args: &[&str]) -> Output {
        ft_in(self.path(), args)
    }
}
