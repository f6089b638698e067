//! The git operations the release flow needs, each through the `git` command with a
//! deadline: the commit tested, a clean tree, tags, pushes.

use std::path::Path;
use std::time::Duration;

const GIT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("failed to run git {args}")]
    Spawn { args: String, source: std::io::Error },
    #[error("git {args} did not finish within {timeout:?}")]
    Timeout { args: String, timeout: Duration },
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// Run `git ARGS` in `dir`; its trimmed standard output.
pub async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let shown = args.join(" ");
    let child = tokio::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(GIT_TIMEOUT, child)
        .await
        .map_err(|_| GitError::Timeout { args: shown.clone(), timeout: GIT_TIMEOUT })?
        .map_err(|source| GitError::Spawn { args: shown.clone(), source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(GitError::Failed { args: shown, stderr });
    }
    // Only the end: `git status --porcelain` lines start with meaningful spaces.
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// HEAD's full commit id, if `dir` is inside a git work tree with a commit.
pub async fn head(dir: &Path) -> Result<String, GitError> {
    git(dir, &["rev-parse", "--verify", "HEAD^{commit}"]).await
}

/// Tracked files with uncommitted changes (staged or not), as `git status` lists them.
pub async fn dirty_files(dir: &Path) -> Result<Vec<String>, GitError> {
    let out = git(dir, &["status", "--porcelain", "--untracked-files=no"]).await?;
    Ok(out.lines().map(|l| l.to_string()).filter(|l| !l.trim().is_empty()).collect())
}

/// The commit a tag points at, if the tag exists.
pub async fn tag_commit(dir: &Path, tag: &str) -> Result<Option<String>, GitError> {
    let refname = format!("refs/tags/{tag}^{{commit}}");
    match git(dir, &["rev-parse", "--verify", "--quiet", &refname]).await {
        Ok(sha) if !sha.is_empty() => Ok(Some(sha)),
        Ok(_) => Ok(None),
        // --quiet: a missing tag is exit 1 with no message.
        Err(GitError::Failed { stderr, .. }) if stderr.is_empty() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Tag `commit`; `force` moves an existing tag (the book's `git tag -f LIVE`).
pub async fn tag(dir: &Path, name: &str, commit: &str, force: bool) -> Result<(), GitError> {
    let mut args = vec!["tag"];
    if force {
        args.push("-f");
    }
    args.extend([name, commit]);
    git(dir, &args).await.map(|_| ())
}

/// Push tags to `remote`; `force` for a tag that moves (LIVE).
pub async fn push_tag(dir: &Path, remote: &str, name: &str, force: bool) -> Result<(), GitError> {
    let refspec = format!("{}refs/tags/{name}:refs/tags/{name}", if force { "+" } else { "" });
    git(dir, &["push", "--quiet", remote, &refspec]).await.map(|_| ())
}
