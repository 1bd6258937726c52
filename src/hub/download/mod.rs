//! Resumable, verified downloads from the hub into the hub cache.
//!
//! A download resolves the file (commit, sha256 etag, size), checks free disk space, then writes
//! `blobs/<etag>.incomplete`, resuming it with HTTP Range after an interruption, a cancel or a
//! restart (also one that huggingface_hub left). Only when the bytes hash to the etag does the
//! file become `blobs/<etag>`, linked from `snapshots/<commit>/<file>`, with `refs/<revision>`
//! written last. So no half file ever sits where a model is looked for.
//!
//! [`Downloader::download`] blocks; run it on a thread and cancel it through the flag.

mod checksum;
mod error;
mod hasher;
mod http;
mod progress;
mod resolve;
mod transfer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use error::DownloadError;
pub use progress::Progress;
pub use resolve::RemoteFile;

use self::http::Http;
use self::transfer::Policy;
use super::cache::HfCache;
use super::env::HubEnv;
use super::repo::{check_file, check_revision, is_commit_hash, RepoId};

/// Downloads files from one hub into one cache.
#[derive(Debug, Clone)]
pub struct Downloader {
    cache: HfCache,
    endpoint: String,
    offline: bool,
    http: Http,
    policy: Policy,
}

impl Downloader {
    /// Hub, token, offline mode and cache from the `HF_*` environment.
    pub fn from_env() -> Result<Self, DownloadError> {
        let env = HubEnv::from_env();
        let cache = env.cache_dir.clone().map(HfCache::at).ok_or(super::cache::NoCacheDir)?;
        Ok(Self::new(cache, &env))
    }

    /// Downloads into `cache` from `env.endpoint`, with `env.token` and `env.offline`
    /// (`env.cache_dir` is not used).
    pub fn new(cache: HfCache, env: &HubEnv) -> Self {
        Self {
            cache,
            endpoint: env.endpoint.clone(),
            offline: env.offline,
            http: Http::new(env.token.clone(), Duration::from_secs(30)),
            policy: Policy {
                progress_interval: Duration::from_millis(100),
                max_attempts: 5,
                retry_delay: Duration::from_millis(500),
                low_speed_bytes_per_sec: 1024,
                low_speed_time: Duration::from_secs(60),
            },
        }
    }

    /// How often progress is reported (default 100 ms; zero reports every chunk).
    pub fn with_progress_interval(mut self, interval: Duration) -> Self {
        self.policy.progress_interval = interval;
        self
    }

    /// Attempts in a row without new bytes before a transfer gives up (default 5), and the wait
    /// before the first retry (default 500 ms, doubling).
    pub fn with_retries(mut self, max_attempts: u32, first_delay: Duration) -> Self {
        self.policy.max_attempts = max_attempts.max(1);
        self.policy.retry_delay = first_delay;
        self
    }

    /// A transfer slower than `bytes_per_sec` over a whole `time` is retried as a failed attempt
    /// (default 1 KiB/s over 60 s).
    pub fn with_low_speed_limit(mut self, bytes_per_sec: u64, time: Duration) -> Self {
        self.policy.low_speed_bytes_per_sec = bytes_per_sec;
        self.policy.low_speed_time = time;
        self
    }

    /// How long a read may wait for data before the connection counts as lost (default 30 s).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.http = Http::new(self.http.token.clone(), timeout);
        self
    }

    pub fn cache(&self) -> &HfCache {
        &self.cache
    }

    /// Asks the hub about `file` at `revision` (one HEAD): commit, etag and size. Lets a caller
    /// show the size before downloading.
    pub fn resolve(&self, repo: &str, file: &str, revision: &str) -> Result<RemoteFile, DownloadError> {
        let repo = checked(repo, file, revision)?;
        self.ensure_online(&repo, file, revision)?;
        resolve::resolve(&self.http, &self.endpoint, &repo, revision, file)
    }

    /// Downloads `file` of `repo` at `revision` (a branch, tag or commit; usually
    /// [`DEFAULT_REVISION`](super::repo::DEFAULT_REVISION)) into the cache and returns its
    /// snapshot path. A file already in the cache is not downloaded again; a partial one is
    /// resumed. `progress` gets reports as bytes arrive; setting `cancel` stops the download
    /// within about 50 ms while data flow (a stalled connection notices at the idle timeout)
    /// and keeps the partial file for the next attempt.
    pub fn download(
        &self,
        repo: &str,
        file: &str,
        revision: &str,
        mut progress: impl FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<PathBuf, DownloadError> {
        let repo = checked(repo, file, revision)?;
        // A commit is immutable, so its snapshot needs no question to the hub; offline, the
        // cache is all there is.
        if is_commit_hash(revision) || self.offline {
            if let Some(path) = self.cache.cached_file(&repo, revision, file) {
                return Ok(path);
            }
        }
        self.ensure_online(&repo, file, revision)?;
        let remote = resolve::resolve(&self.http, &self.endpoint, &repo, revision, file)?;
        let blob = self.cache.blob_path(&repo, &remote.etag);
        // A blob of the wrong size (e.g. cut short by a crash) is fetched again.
        let have_blob = std::fs::metadata(&blob).is_ok_and(|m| m.is_file() && m.len() == remote.size);
        if !have_blob {
            self.fetch_blob(&repo, &remote, &blob, &mut progress, cancel)?;
        }
        let link = self
            .cache
            .link_snapshot(&repo, &remote.commit, file, &remote.etag)
            .map_err(DownloadError::io(&self.cache.snapshot_path(&repo, &remote.commit, file)))?;
        if revision != remote.commit {
            self.cache
                .write_ref(&repo, revision, &remote.commit)
                .map_err(DownloadError::io(&self.cache.ref_path(&repo, revision)))?;
        }
        Ok(link)
    }

    /// Offline mode forbids any request.
    fn ensure_online(&self, repo: &RepoId, file: &str, revision: &str) -> Result<(), DownloadError> {
        if !self.offline {
            return Ok(());
        }
        Err(DownloadError::Offline {
            repo: repo.to_string(),
            file: file.to_string(),
            revision: revision.to_string(),
            cache: self.cache.root().to_path_buf(),
        })
    }

    /// Writes `blob` from the partial file once its bytes match the etag.
    fn fetch_blob(
        &self,
        repo: &RepoId,
        remote: &RemoteFile,
        blob: &Path,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<(), DownloadError> {
        let partial = self.cache.incomplete_path(repo, &remote.etag);
        let blobs_dir = partial.parent().unwrap_or(self.cache.root());
        std::fs::create_dir_all(blobs_dir).map_err(DownloadError::io(blobs_dir))?;
        let _lock = self.lock(repo, &remote.etag)?;
        let have = std::fs::metadata(&partial).map_or(0, |m| m.len().min(remote.size));
        check_disk(blobs_dir, remote.size - have)?;

        let fetched = transfer::fetch(&self.http, remote, &partial, &self.policy, progress, cancel)?;
        if fetched.digest != remote.etag {
            // A corrupt partial would fail the same way on every resume: drop it.
            std::fs::remove_file(&partial).map_err(DownloadError::io(&partial))?;
            return Err(DownloadError::ChecksumMismatch {
                file: format!("{}/{}", remote.repo, remote.file),
                algorithm: fetched.algorithm,
                expected: remote.etag.clone(),
                actual: fetched.digest,
            });
        }
        std::fs::rename(&partial, blob).map_err(DownloadError::io(blob))
    }

    /// Takes huggingface_hub's lock for this blob, so two downloads (ours or its) never write
    /// the same partial file. Held until the returned file is dropped.
    fn lock(&self, repo: &RepoId, etag: &str) -> Result<File, DownloadError> {
        let path = self.cache.lock_path(repo, etag);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(DownloadError::io(dir))?;
        }
        let file = File::create(&path).map_err(DownloadError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(DownloadError::Busy { lock: path }),
            Err(std::fs::TryLockError::Error(e)) => Err(DownloadError::io(&path)(e)),
        }
    }
}

fn checked(repo: &str, file: &str, revision: &str) -> Result<RepoId, DownloadError> {
    check_file(file)?;
    check_revision(revision)?;
    Ok(repo.parse()?)
}

/// Refuses to start a transfer that would fill the disk.
fn check_disk(dir: &Path, needed: u64) -> Result<(), DownloadError> {
    let available = fs4::available_space(dir).map_err(DownloadError::io(dir))?;
    if available < needed {
        return Err(DownloadError::InsufficientDisk { dir: dir.to_path_buf(), needed, available });
    }
    Ok(())
}
