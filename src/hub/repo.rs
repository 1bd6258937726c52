//! Names on the hub: repo ids, revisions and file paths, checked before they reach a URL or a
//! path on disk (a file name from the command line must never climb out of the cache).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// The branch a download uses when none is given.
pub const DEFAULT_REVISION: &str = "main";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error(
        "invalid repo id {0:?}: expected owner/name (letters, digits, '-', '_', '.'), \
         e.g. microsoft/bitnet-b1.58-2B-4T-gguf"
    )]
    Repo(String),
    #[error("invalid file name {0:?}: expected a relative path inside the repo, e.g. model-Q8_0.gguf")]
    File(String),
    #[error("invalid revision {0:?}: expected a branch, tag or commit hash, e.g. main")]
    Revision(String),
}

/// A model repo id such as `microsoft/bitnet-b1.58-2B-4T-gguf` (or a legacy single name such as
/// `gpt2`), with the rules huggingface_hub's `validate_repo_id` applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId(String);

impl RepoId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cache folder name: `models--owner--name`.
    pub fn folder_name(&self) -> String {
        hf_hub::Repo::model(self.0.clone()).folder_name()
    }

    /// The repo id a cache folder name stands for (`models--a--b` → `a/b`); None for datasets,
    /// spaces and anything else.
    pub fn from_folder_name(folder: &str) -> Option<RepoId> {
        let rest = folder.strip_prefix("models--")?;
        rest.replace("--", "/").parse().ok()
    }
}

impl FromStr for RepoId {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = (1..=2).contains(&parts.len())
            && s.len() <= 96
            && !s.contains("--")
            && !s.contains("..")
            && parts.iter().all(|p| is_name_part(p));
        if valid {
            Ok(RepoId(s.to_string()))
        } else {
            Err(NameError::Repo(s.to_string()))
        }
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_name_part(part: &str) -> bool {
    let mut chars = part.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    starts_well
        && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !part.ends_with('.')
        && !part.ends_with('-')
}

/// Checks a file path inside a repo: relative, `/`-separated, no `.`/`..` segments, no
/// backslashes or control characters.
pub fn check_file(file: &str) -> Result<(), NameError> {
    let valid = !file.is_empty()
        && !file.starts_with('/')
        && !file.contains('\\')
        && !file.chars().any(char::is_control)
        && file.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if valid {
        Ok(())
    } else {
        Err(NameError::File(file.to_string()))
    }
}

/// Checks a revision: a branch or tag (which may contain `/`, e.g. `refs/pr/1`) or a commit hash.
/// It becomes a path under `refs/`, so the same rules as file paths apply.
pub fn check_revision(revision: &str) -> Result<(), NameError> {
    check_file(revision).map_err(|_| NameError::Revision(revision.to_string()))
}

/// A full commit hash: 40 lowercase hex digits.
pub fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        for ok in ["microsoft/bitnet-b1.58-2B-4T-gguf", "gpt2", "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF"] {
            assert_eq!(ok.parse::<RepoId>().map(|r| r.to_string()), Ok(ok.to_string()));
        }
        for bad in ["", "a/b/c", "../x", "a/..", "a--b/c", "/a", "a/", "a/-b", "a b/c", "a/b."] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn folder_names_round_trip() {
        let repo: RepoId = "microsoft/bitnet-b1.58-2B-4T-gguf".parse().unwrap();
        assert_eq!(repo.folder_name(), "models--microsoft--bitnet-b1.58-2B-4T-gguf");
        assert_eq!(RepoId::from_folder_name(&repo.folder_name()), Some(repo));
        assert_eq!(RepoId::from_folder_name("datasets--a--b"), None);
    }

    #[test]
    fn file_names() {
        for ok in ["model.gguf", "sub/dir/model.gguf", "refs/pr/1"] {
            assert!(check_file(ok).is_ok(), "{ok:?}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./a", "a/\n"] {
            assert!(check_file(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn commit_hashes() {
        assert!(is_commit_hash(&"a".repeat(40)));
        assert!(!is_commit_hash(&"A".repeat(40)));
        assert!(!is_commit_hash("main"));
    }
}
