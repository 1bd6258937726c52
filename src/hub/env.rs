//! The `HF_*` environment, read the way huggingface_hub reads it, so that the hub, the cache and
//! the token are the same ones the `hf` CLI and llama.cpp `-hf` use.

use std::ffi::OsString;
use std::path::PathBuf;

/// The hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Hub settings from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubEnv {
    /// `HF_ENDPOINT`, without a trailing slash.
    pub endpoint: String,
    /// `HF_TOKEN`, else the file named by `HF_TOKEN_PATH`, else `$HF_HOME/token`.
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE` set to 1, true, yes or on: no network requests at all.
    pub offline: bool,
    /// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
    /// `~/.cache/huggingface/hub`; None when not even a home folder is known.
    pub cache_dir: Option<PathBuf>,
}

impl HubEnv {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads variables through `var`, so tests need not touch the process environment.
    /// Empty values count as unset, as in huggingface_hub.
    pub fn from_lookup(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        let home = get("HOME").or_else(|| get("USERPROFILE")).map(PathBuf::from);
        let cache_home = get("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| home.map(|h| h.join(".cache")));
        let hf_home = get("HF_HOME").map(PathBuf::from).or_else(|| cache_home.map(|c| c.join("huggingface")));
        let cache_dir = get("HF_HUB_CACHE")
            .or_else(|| get("HUGGINGFACE_HUB_CACHE"))
            .map(PathBuf::from)
            .or_else(|| hf_home.as_ref().map(|h| h.join("hub")));
        let token_file = get("HF_TOKEN_PATH").map(PathBuf::from).or_else(|| hf_home.as_ref().map(|h| h.join("token")));
        let token = get("HF_TOKEN")
            .and_then(|t| t.into_string().ok())
            .or_else(|| token_file.and_then(|f| std::fs::read_to_string(f).ok()))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let endpoint = get("HF_ENDPOINT")
            .and_then(|e| e.into_string().ok())
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let offline = get("HF_HUB_OFFLINE").and_then(|v| v.into_string().ok()).is_some_and(|v| is_true(&v));
        Self { endpoint, token, offline, cache_dir }
    }
}

fn is_true(value: &str) -> bool {
    ["1", "true", "yes", "on"].contains(&value.trim().to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HubEnv {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        HubEnv::from_lookup(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| OsString::from(v)))
    }

    #[test]
    fn cache_dir_precedence() {
        let all = [("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg"), ("HF_HOME", "/hf"), ("HF_HUB_CACHE", "/hub")];
        assert_eq!(env(&all).cache_dir, Some("/hub".into()));
        assert_eq!(env(&all[..3]).cache_dir, Some("/hf/hub".into()));
        assert_eq!(env(&all[..2]).cache_dir, Some("/xdg/huggingface/hub".into()));
        assert_eq!(env(&all[..1]).cache_dir, Some("/home/u/.cache/huggingface/hub".into()));
        assert_eq!(env(&[]).cache_dir, None);
        assert_eq!(
            env(&[("HOME", "/home/u"), ("HF_HUB_CACHE", "")]).cache_dir,
            Some("/home/u/.cache/huggingface/hub".into()),
            "an empty variable counts as unset"
        );
    }

    #[test]
    fn endpoint_token_offline() {
        let e =
            env(&[("HF_ENDPOINT", "http://127.0.0.1:8080/"), ("HF_TOKEN", " hf_abc\n"), ("HF_HUB_OFFLINE", "True")]);
        assert_eq!(e.endpoint, "http://127.0.0.1:8080");
        assert_eq!(e.token.as_deref(), Some("hf_abc"));
        assert!(e.offline);
        let d = env(&[("HF_HUB_OFFLINE", "0")]);
        assert_eq!(d.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(d.token, None);
        assert!(!d.offline);
    }

    #[test]
    fn token_from_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_file\n").unwrap();
        let home = dir.path().to_str().unwrap();
        assert_eq!(env(&[("HF_HOME", home)]).token.as_deref(), Some("hf_file"));
        let other = dir.path().join("other");
        std::fs::write(&other, "hf_other").unwrap();
        let e = env(&[("HF_HOME", home), ("HF_TOKEN_PATH", other.to_str().unwrap())]);
        assert_eq!(e.token.as_deref(), Some("hf_other"));
    }
}
