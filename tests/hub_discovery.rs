//! Model discovery over a hub cache laid out by hand, as another tool leaves it, plus a models
//! folder and explicit paths.
#![cfg(unix)]

mod hub_support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use bitnet_tui::hub::cache::HfCache;
use bitnet_tui::hub::catalog::ModelKind;
use bitnet_tui::hub::discovery::{inspect, scan, ModelSource, ScanSources};
use hub_support::{sha256_hex, tiny_gguf};

/// Puts `bytes` in `blobs/` and links `snapshots/<commit>/<file>` to it, as huggingface_hub does.
fn cached(root: &Path, folder: &str, commit: &str, file: &str, bytes: &[u8]) -> PathBuf {
    let repo = root.join(folder);
    let sha = sha256_hex(bytes);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::write(repo.join("blobs").join(&sha), bytes).unwrap();
    let link = repo.join("snapshots").join(commit).join(file);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink(Path::new("../../blobs").join(&sha), &link).unwrap();
    link
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn finds_what_loads_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("hub");
    let (c1, c0) = ("1".repeat(40), "0".repeat(40));
    let chat = tiny_gguf("llama", "SmolLM2 135M", Some("Instruct"));
    let current = cached(&cache, "models--org--chat", &c1, "chat-Q8_0.gguf", &chat);
    // An older snapshot of the same blob is the same model: listed once, under `main`.
    cached(&cache, "models--org--chat", &c0, "chat-Q8_0.gguf", &chat);
    write(&cache.join("models--org--chat/refs/main"), c1.as_bytes());
    // Another tool's download in progress, a link whose blob is gone, a blob that is no GGUF.
    write(&cache.join("models--org--chat/blobs/abc.incomplete"), &chat[..100]);
    let dangling = cached(&cache, "models--org--gone", &c1, "gone.gguf", b"x");
    std::fs::remove_file(std::fs::canonicalize(&dangling).unwrap()).unwrap();
    cached(&cache, "models--org--junk", &c1, "junk.gguf", b"<html>rate limited</html>");
    cached(&cache, "datasets--org--data", &c1, "d.gguf", &chat);

    let folder = dir.path().join("models");
    let base = folder.join("publisher/model/base.gguf");
    write(&base, &tiny_gguf("llama", "Tiny", Some("Base")));
    let whole = tiny_gguf("bitnet-b1.58", "cut", None);
    write(&folder.join("truncated.gguf"), &whole[..whole.len() - 10]);
    write(&folder.join(".hidden.gguf"), &whole);
    let explicit = dir.path().join("elsewhere/model.gguf");
    write(&explicit, &whole);

    let found = scan(&ScanSources {
        hf_cache: Some(HfCache::at(&cache)),
        models_dirs: vec![folder],
        explicit: vec![explicit.clone()],
    });
    let summary: Vec<(ModelSource, Option<&str>, &Path, ModelKind)> =
        found.iter().map(|m| (m.source, m.hub.as_ref().map(|h| h.repo.as_str()), m.path.as_path(), m.kind)).collect();
    assert_eq!(
        summary,
        vec![
            (ModelSource::HfCache, Some("org/chat"), current.as_path(), ModelKind::Instruct),
            (ModelSource::ModelsDir, None, base.as_path(), ModelKind::Base),
            (ModelSource::CommandLine, None, explicit.as_path(), ModelKind::Unknown),
        ]
    );
    let chat_model = &found[0];
    assert_eq!(chat_model.commit.as_deref(), Some(c1.as_str()));
    assert_eq!(chat_model.refs, vec!["main".to_string()]);
    assert_eq!(chat_model.size_bytes, Some(chat.len() as u64));
    assert_eq!(chat_model.name, "SmolLM2 135M");
    assert_eq!(found[2].arch.as_deref(), Some("bitnet-b1.58"));
}

#[test]
fn inspect_says_why_a_file_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.gguf");
    std::fs::write(&path, b"hello").unwrap();
    let err = inspect(&path, ModelSource::CommandLine).unwrap_err();
    assert!(err.to_string().contains("notes.gguf"), "{err}");
    let missing = inspect(&dir.path().join("missing.gguf"), ModelSource::CommandLine).unwrap_err();
    assert!(missing.to_string().contains("missing.gguf"), "{missing}");
}
