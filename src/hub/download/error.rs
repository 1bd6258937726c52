//! Why a download failed, each message naming the file or URL and what to do next.

use std::path::PathBuf;

use thiserror::Error;

use crate::hub::cache::NoCacheDir;
use crate::hub::format::human_bytes;
use crate::hub::repo::NameError;

#[derive(Debug, Error)]
pub enum DownloadError {
    #[error(transparent)]
    InvalidName(#[from] NameError),

    #[error(transparent)]
    NoCacheDir(#[from] NoCacheDir),

    #[error(
        "HF_HUB_OFFLINE is set and {file} from {repo} (revision {revision}) is not in the cache \
         at {cache}; unset HF_HUB_OFFLINE to download it"
    )]
    Offline { repo: String, file: String, revision: String, cache: PathBuf },

    #[error("file {file} not found in repo {repo} at revision {revision} ({url})")]
    FileNotFound { repo: String, file: String, revision: String, url: String },

    #[error("revision {revision} not found in repo {repo} ({url}); check the branch, tag or commit")]
    RevisionNotFound { repo: String, revision: String, url: String },

    #[error(
        "repo {repo} not found at {url}; check its name (if it is private or gated, set HF_TOKEN \
         to a token that can read it)"
    )]
    RepoNotFound { repo: String, url: String },

    #[error("access denied to {repo} (HTTP {status} from {url}): {hint}")]
    AccessDenied { repo: String, status: u16, url: String, hint: &'static str },

    #[error("unexpected HTTP {status} from {url}{detail}")]
    Http { status: u16, url: String, detail: String },

    #[error("cannot reach {url}: {reason}; check the network (or HF_ENDPOINT), then run the download again to resume")]
    Network { url: String, reason: String },

    #[error("the server at {url} sent no usable {header} header; is HF_ENDPOINT a Hugging Face hub?")]
    BadHeader { url: String, header: &'static str },

    #[error("too many redirects from {url}")]
    TooManyRedirects { url: String },

    #[error(
        "not enough disk space in {dir}: {} needed, {} free; free some space and run the \
         download again", human_bytes(*needed), human_bytes(*available)
    )]
    InsufficientDisk { dir: PathBuf, needed: u64, available: u64 },

    #[error(
        "another download of this file is in progress (lock {lock} is held); wait for it to \
         finish, or stop it"
    )]
    Busy { lock: PathBuf },

    #[error(
        "download cancelled at {} of {}; the partial file {partial} resumes on the next attempt",
        human_bytes(*downloaded), human_bytes(*total)
    )]
    Cancelled { partial: PathBuf, downloaded: u64, total: u64 },

    #[error(
        "the transfer from {url} stopped at {} of {} after {attempts} attempts: {reason}; run the \
         download again to resume from the partial file", human_bytes(*downloaded), human_bytes(*total)
    )]
    Interrupted { url: String, downloaded: u64, total: u64, attempts: u32, reason: String },

    #[error(
        "checksum mismatch for {file}: expected {algorithm} {expected}, got {actual}; the \
         corrupt download was deleted, run the download again"
    )]
    ChecksumMismatch { file: String, algorithm: &'static str, expected: String, actual: String },

    // The OS error is shown here and is not also a `source`, which reports would print again.
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: std::io::Error },
}

impl DownloadError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DownloadError {
        let path = path.to_path_buf();
        move |reason| DownloadError::Io { path, reason }
    }

    /// Whether running the same download again may succeed by itself (the network, not the
    /// request, was at fault).
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::Network { .. } | DownloadError::Interrupted { .. } => true,
            DownloadError::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
