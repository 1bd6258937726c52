//! Asks the hub's resolve endpoint what a file is at a revision: its commit, content hash (etag)
//! and size, and where to fetch its bytes. As huggingface_hub does: HEAD, following redirects
//! that stay on the hub (renamed repos); a redirect elsewhere points at the CDN holding the bytes,
//! and the hub's headers are on that redirect response.

use ureq::http::Response;
use ureq::Body;

use super::error::DownloadError;
use super::http::{header, join_location, resolve_url, same_origin, Http, Method, MAX_REDIRECTS};
use crate::hub::repo::{is_commit_hash, RepoId};

/// One file at one revision, as the hub describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub repo: String,
    pub file: String,
    pub revision: String,
    /// The commit the revision points to.
    pub commit: String,
    /// The content hash: sha256 for LFS files (every model file), git sha1 otherwise.
    pub etag: String,
    pub size: u64,
    /// Where the bytes are fetched from.
    pub(crate) content_url: String,
    /// Whether `content_url` is on the hub itself (then it gets the token; a CDN never does).
    pub(crate) content_on_hub: bool,
}

impl RemoteFile {
    /// An LFS file, whose etag is its sha256.
    pub fn is_lfs(&self) -> bool {
        self.etag.len() == 64
    }
}

/// The headers the hub puts on the first response of the chain.
#[derive(Default)]
struct HubHeaders {
    commit: Option<String>,
    linked_etag: Option<String>,
    linked_size: Option<String>,
}

impl HubHeaders {
    fn take_from(&mut self, response: &Response<Body>) {
        self.commit = self.commit.take().or_else(|| header(response, "x-repo-commit"));
        self.linked_etag = self.linked_etag.take().or_else(|| header(response, "x-linked-etag"));
        self.linked_size = self.linked_size.take().or_else(|| header(response, "x-linked-size"));
    }
}

pub(crate) fn resolve(
    http: &Http,
    endpoint: &str,
    repo: &RepoId,
    revision: &str,
    file: &str,
) -> Result<RemoteFile, DownloadError> {
    let mut url = resolve_url(endpoint, repo.as_str(), revision, file);
    let mut hub = HubHeaders::default();
    let mut hops = 0;
    let (last, cdn_url) = loop {
        let response = http.send(Method::Head, &url, None, true)?;
        hub.take_from(&response);
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            break (response, None);
        }
        if !(300..400).contains(&status) {
            return Err(status_error(&response, &url, repo, revision, file, http));
        }
        let location = header(&response, "location").ok_or_else(|| bad(&url, "Location"))?;
        let target = join_location(&url, &location).ok_or_else(|| bad(&url, "Location"))?;
        if !same_origin(&url, &target) {
            break (response, Some(target));
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(DownloadError::TooManyRedirects { url });
        }
        url = target;
    };

    let commit = hub.commit.filter(|c| is_commit_hash(c)).ok_or_else(|| bad(&url, "X-Repo-Commit"))?;
    let etag = hub
        .linked_etag
        .or_else(|| header(&last, "etag"))
        .map(|e| normalize_etag(&e))
        .filter(|e| is_content_hash(e))
        .ok_or_else(|| bad(&url, "ETag"))?;
    let size = match hub.linked_size.or_else(|| header(&last, "content-length")) {
        Some(size) => size.parse().map_err(|_| bad(&url, "X-Linked-Size"))?,
        None => match &cdn_url {
            Some(cdn) => content_length(http, cdn)?,
            None => return Err(bad(&url, "Content-Length")),
        },
    };
    Ok(RemoteFile {
        repo: repo.to_string(),
        file: file.to_string(),
        revision: revision.to_string(),
        commit,
        etag,
        size,
        content_on_hub: cdn_url.is_none(),
        content_url: cdn_url.unwrap_or(url),
    })
}

/// The size the CDN reports, when the hub did not say (a HEAD without the token).
fn content_length(http: &Http, url: &str) -> Result<u64, DownloadError> {
    let mut url = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let response = http.send(Method::Head, &url, None, false)?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let location = header(&response, "location").ok_or_else(|| bad(&url, "Location"))?;
            url = join_location(&url, &location).ok_or_else(|| bad(&url, "Location"))?;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(DownloadError::Http { status, url, detail: String::new() });
        }
        return header(&response, "content-length")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(&url, "Content-Length"));
    }
    Err(DownloadError::TooManyRedirects { url })
}

/// The hub's error responses, by status and `X-Error-Code`, turned into errors that say what to do.
fn status_error(
    response: &Response<Body>,
    url: &str,
    repo: &RepoId,
    revision: &str,
    file: &str,
    http: &Http,
) -> DownloadError {
    let status = response.status().as_u16();
    let code = header(response, "x-error-code").unwrap_or_default();
    let url = url.to_string();
    let repo = repo.to_string();
    match (status, code.as_str()) {
        (401 | 404, "RepoNotFound") => DownloadError::RepoNotFound { repo, url },
        (404, "RevisionNotFound") => DownloadError::RevisionNotFound { repo, revision: revision.to_string(), url },
        (404, _) => DownloadError::FileNotFound { repo, file: file.to_string(), revision: revision.to_string(), url },
        (401 | 403, _) => DownloadError::AccessDenied {
            repo,
            status,
            url,
            hint: if http.token.is_some() {
                "the token in HF_TOKEN was refused or cannot read this repo; check the token, and \
                 accept the model's terms on its hub page if it is gated"
            } else {
                "the repo is private or gated; set HF_TOKEN to a token that can read it"
            },
        },
        _ => DownloadError::Http {
            status,
            url,
            detail: header(response, "x-error-message").map(|m| format!(": {m}")).unwrap_or_default(),
        },
    }
}

fn bad(url: &str, header: &'static str) -> DownloadError {
    DownloadError::BadHeader { url: url.to_string(), header }
}

/// `W/"abc"` → `abc`, as huggingface_hub normalizes etags.
fn normalize_etag(etag: &str) -> String {
    etag.trim().trim_start_matches("W/").trim_matches('"').to_string()
}

/// A sha256 or git sha1 in lowercase hex; it names a file in `blobs/`, so nothing else passes.
fn is_content_hash(etag: &str) -> bool {
    matches!(etag.len(), 40 | 64) && etag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        let sha = "a".repeat(64);
        assert_eq!(normalize_etag(&format!("W/\"{sha}\"")), sha);
        assert!(is_content_hash(&sha));
        assert!(is_content_hash(&"0".repeat(40)));
        assert!(!is_content_hash("../../evil"));
        assert!(!is_content_hash(&"A".repeat(64)));
    }
}
