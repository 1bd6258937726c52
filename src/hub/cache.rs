//! The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out, so that models
//! downloaded by other tools are found here and ours are found by them:
//!
//! ```text
//! <cache>/models--<owner>--<name>/
//!     blobs/<etag>                  file contents, named by their sha256 (LFS) or git sha1
//!     blobs/<etag>.incomplete       a download in progress (resumable by either tool)
//!     refs/<revision>               the commit hash a branch or tag pointed to
//!     snapshots/<commit>/<file>     relative symlink to ../../blobs/<etag>
//! <cache>/.locks/models--<owner>--<name>/<etag>.lock
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::env::HubEnv;
use super::repo::{is_commit_hash, RepoId};

#[derive(Debug, Error)]
#[error("cannot locate the Hugging Face cache: set HF_HUB_CACHE (or HF_HOME, or HOME)")]
pub struct NoCacheDir;

/// A hub cache folder (it need not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfCache {
    root: PathBuf,
}

impl HfCache {
    /// The cache named by the environment (see [`HubEnv::cache_dir`]).
    pub fn from_env() -> Result<Self, NoCacheDir> {
        HubEnv::from_env().cache_dir.map(Self::at).ok_or(NoCacheDir)
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn repo_dir(&self, repo: &RepoId) -> PathBuf {
        self.root.join(repo.folder_name())
    }

    pub fn blob_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.repo_dir(repo).join("blobs").join(etag)
    }

    /// Where a download of `etag` writes until it is verified; huggingface_hub's name, so either
    /// tool resumes the other's partial file.
    pub fn incomplete_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.repo_dir(repo).join("blobs").join(format!("{etag}.incomplete"))
    }

    /// The lock file huggingface_hub holds while it writes `etag`.
    pub fn lock_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.root.join(".locks").join(repo.folder_name()).join(format!("{etag}.lock"))
    }

    pub fn snapshot_path(&self, repo: &RepoId, commit: &str, file: &str) -> PathBuf {
        let mut path = self.repo_dir(repo).join("snapshots").join(commit);
        path.extend(file.split('/'));
        path
    }

    pub fn ref_path(&self, repo: &RepoId, revision: &str) -> PathBuf {
        let mut path = self.repo_dir(repo).join("refs");
        path.extend(revision.split('/'));
        path
    }

    /// The commit a cached branch or tag points to.
    pub fn read_ref(&self, repo: &RepoId, revision: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.ref_path(repo, revision)).ok()?;
        Some(text.trim().to_string()).filter(|c| is_commit_hash(c))
    }

    /// The cached copy of `file` at `revision` (a branch, tag or commit hash), if its snapshot
    /// link resolves to a blob. Reads only the disk.
    pub fn cached_file(&self, repo: &RepoId, revision: &str, file: &str) -> Option<PathBuf> {
        let commit = if is_commit_hash(revision) { revision.to_string() } else { self.read_ref(repo, revision)? };
        let path = self.snapshot_path(repo, &commit, file);
        path.is_file().then_some(path)
    }

    /// Points `refs/<revision>` at `commit`, through a temporary file and a rename so that a
    /// reader never sees a half-written ref.
    pub fn write_ref(&self, repo: &RepoId, revision: &str, commit: &str) -> io::Result<()> {
        let path = self.ref_path(repo, revision);
        let dir = parent_of(&path)?;
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().map_or_else(Default::default, |n| n.to_string_lossy()),
            std::process::id()
        ));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(commit.as_bytes())?;
        drop(file);
        std::fs::rename(&tmp, &path)
    }

    /// Links `snapshots/<commit>/<file>` to `blobs/<etag>` and returns the snapshot path.
    pub fn link_snapshot(&self, repo: &RepoId, commit: &str, file: &str, etag: &str) -> io::Result<PathBuf> {
        let link = self.snapshot_path(repo, commit, file);
        std::fs::create_dir_all(parent_of(&link)?)?;
        // A stale link (e.g. to a blob that was deleted) is replaced.
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link)?;
        }
        // From snapshots/<commit>/<dirs…>/<name> up to the repo folder, then into blobs/.
        let depth = 2 + file.matches('/').count();
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(etag);
        make_link(&target, &self.blob_path(repo, etag), &link)?;
        Ok(link)
    }
}

fn parent_of(path: &Path) -> io::Result<&Path> {
    path.parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} has no parent folder", path.display())))
}

#[cfg(unix)]
fn make_link(relative_target: &Path, _blob: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(relative_target, link)
}

/// Without symlinks huggingface_hub copies the blob; a hard link gives the same file for free
/// when the filesystem allows it.
#[cfg(not(unix))]
fn make_link(_relative_target: &Path, blob: &Path, link: &Path) -> io::Result<()> {
    std::fs::hard_link(blob, link).or_else(|_| std::fs::copy(blob, link).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoId {
        "org/model".parse().unwrap()
    }

    #[test]
    fn paths_follow_the_hub_layout() {
        let cache = HfCache::at("/c");
        let r = repo();
        assert_eq!(cache.blob_path(&r, "ab"), Path::new("/c/models--org--model/blobs/ab"));
        assert_eq!(cache.incomplete_path(&r, "ab"), Path::new("/c/models--org--model/blobs/ab.incomplete"));
        assert_eq!(cache.lock_path(&r, "ab"), Path::new("/c/.locks/models--org--model/ab.lock"));
        assert_eq!(
            cache.snapshot_path(&r, "c0", "sub/m.gguf"),
            Path::new("/c/models--org--model/snapshots/c0/sub/m.gguf")
        );
        assert_eq!(cache.ref_path(&r, "refs/pr/1"), Path::new("/c/models--org--model/refs/refs/pr/1"));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_relative_and_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HfCache::at(dir.path());
        let r = repo();
        let commit = "0".repeat(40);
        std::fs::create_dir_all(cache.blob_path(&r, "e").parent().unwrap()).unwrap();
        std::fs::write(cache.blob_path(&r, "e"), b"weights").unwrap();
        let top = cache.link_snapshot(&r, &commit, "m.gguf", "e").unwrap();
        let nested = cache.link_snapshot(&r, &commit, "a/b/m.gguf", "e").unwrap();
        assert_eq!(std::fs::read_link(&top).unwrap(), Path::new("../../blobs/e"));
        assert_eq!(std::fs::read_link(&nested).unwrap(), Path::new("../../../../blobs/e"));
        assert_eq!(std::fs::read(&nested).unwrap(), b"weights");

        assert_eq!(cache.cached_file(&r, "main", "m.gguf"), None, "no ref yet");
        cache.write_ref(&r, "main", &commit).unwrap();
        assert_eq!(cache.read_ref(&r, "main"), Some(commit.clone()));
        assert_eq!(cache.cached_file(&r, "main", "m.gguf"), Some(top.clone()));
        assert_eq!(cache.cached_file(&r, &commit, "m.gguf"), Some(top));
        std::fs::remove_file(cache.blob_path(&r, "e")).unwrap();
        assert_eq!(cache.cached_file(&r, "main", "m.gguf"), None, "dangling link");
    }
}
