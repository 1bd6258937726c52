//! HTTP plumbing shared by resolving and fetching. Redirects are followed by hand: the hub's
//! headers come on the first response, and the token must not travel to the CDN.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ureq::http::Response;
use ureq::Body;

use super::error::DownloadError;

/// Redirect hops followed before giving up.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Characters kept as they are in a URL path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// An agent plus the token for hub requests.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub agent: ureq::Agent,
    pub token: Option<String>,
}

impl Http {
    /// `idle_timeout` bounds each socket read, so a stalled transfer fails (and can be resumed)
    /// instead of hanging.
    pub fn new(token: Option<String>, idle_timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(idle_timeout))
            // Fewer system calls per gigabyte than the default 128 kB.
            .input_buffer_size(256 << 10)
            .user_agent(concat!("bitnet-tui/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { agent: ureq::Agent::new_with_config(config), token }
    }

    /// A HEAD or GET, with the token when `with_token`.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        range_from: Option<u64>,
        with_token: bool,
    ) -> Result<Response<Body>, DownloadError> {
        let mut request = match method {
            Method::Head => self.agent.head(url),
            Method::Get => self.agent.get(url),
        };
        if let (true, Some(token)) = (with_token, &self.token) {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(from) = range_from {
            request = request.header("Range", format!("bytes={from}-"));
        }
        request.call().map_err(|e| DownloadError::Network { url: url.to_string(), reason: e.to_string() })
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    Head,
    Get,
}

/// `{endpoint}/{repo}/resolve/{revision}/{file}`, each part percent-encoded (the revision as one
/// segment, so `refs/pr/1` becomes `refs%2Fpr%2F1`, as the hub expects).
pub(crate) fn resolve_url(endpoint: &str, repo: &str, revision: &str, file: &str) -> String {
    let file: Vec<String> = file.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    format!("{endpoint}/{repo}/resolve/{}/{}", utf8_percent_encode(revision, SEGMENT), file.join("/"))
}

/// A response header as text.
pub(crate) fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string())
}

/// Whether two URLs share scheme, host and port. The hub's own redirects (a renamed repo) stay
/// on its origin and keep the token; a redirect elsewhere (the CDN) does not get it. This is
/// huggingface_hub's rule.
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// `(scheme, host, port)` of an absolute URL, with the scheme's default port.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (
            host_port,
            match scheme {
                "http" => 80,
                "https" => 443,
                _ => return None,
            },
        ),
    };
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), port))
}

/// Resolves `location` against the URL that sent it.
pub(crate) fn join_location(base: &str, location: &str) -> Option<String> {
    if location.contains("://") {
        return Some(location.to_string());
    }
    let scheme_end = base.find("://")? + 3;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{}{rest}", &base[..scheme_end]));
    }
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    if location.starts_with('/') {
        return Some(format!("{}{location}", &base[..path_start]));
    }
    let path = base[path_start..].split(['?', '#']).next().unwrap_or("");
    let dir_end = path.rfind('/').map_or(0, |i| i + 1);
    Some(format!("{}{}{location}", &base[..path_start], &path[..dir_end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_urls_are_encoded() {
        assert_eq!(
            resolve_url("http://h", "org/m", "refs/pr/1", "dir/a b.gguf"),
            "http://h/org/m/resolve/refs%2Fpr%2F1/dir/a%20b.gguf"
        );
        assert_eq!(
            resolve_url("https://huggingface.co", "microsoft/bitnet-b1.58-2B-4T-gguf", "main", "ggml-model-i2_s.gguf"),
            "https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf/resolve/main/ggml-model-i2_s.gguf"
        );
    }

    #[test]
    fn locations() {
        let base = "http://127.0.0.1:9/a/b/c?x=1";
        assert_eq!(join_location(base, "https://cdn/x").as_deref(), Some("https://cdn/x"));
        assert_eq!(join_location(base, "//cdn/x").as_deref(), Some("http://cdn/x"));
        assert_eq!(join_location(base, "/new/path").as_deref(), Some("http://127.0.0.1:9/new/path"));
        assert_eq!(join_location(base, "d").as_deref(), Some("http://127.0.0.1:9/a/b/d"));
        assert_eq!(join_location("http://h", "/p").as_deref(), Some("http://h/p"));
        assert_eq!(join_location("no-scheme", "/p"), None);
        assert!(same_origin("https://huggingface.co/a", "https://HuggingFace.co:443/b?c"));
        assert!(same_origin("http://127.0.0.1:9/a", "http://127.0.0.1:9"));
        assert!(!same_origin("http://127.0.0.1:9/a", "http://127.0.0.1:10/a"));
        assert!(!same_origin("https://huggingface.co/a", "https://cas-bridge.xethub.hf.co/x"));
        assert!(!same_origin("https://h/a", "http://h/a"));
        assert!(!same_origin("https://h/a", "/relative"));
    }
}
