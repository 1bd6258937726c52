//! `kill -9` in the middle of writing: a conversation being saved is either the old file or the
//! new one, whole, and a download killed mid-transfer resumes from its partial file.

mod hub_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitnet_tui::app::conversation::{Conversation, Message};
use bitnet_tui::app::store::Store;
use bitnet_tui::engine::protocol::Role;
use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::{noise, put};

const CHILD_DIR: &str = "BITNET_TUI_KILL_TEST_DIR";

/// A conversation whose every message says which save wrote it.
fn version(n: usize) -> Conversation {
    let mut c = Conversation::new("c1".into(), "2026-01-01T00:00:00Z".into());
    let text = format!("version {n} ").repeat(20_000);
    c.messages = (0..4).map(|i| Message::new(if i % 2 == 0 { Role::User } else { Role::Assistant }, &text)).collect();
    c
}

/// Not a test of its own: the process the parent kills. It saves new versions until killed.
#[test]
#[ignore = "run by a_conversation_killed_mid_save_is_old_or_new_never_torn"]
fn child_saves_until_killed() {
    let dir = std::env::var(CHILD_DIR).expect("run by the parent test");
    let store = Store::new(dir);
    for n in 1.. {
        store.save(&version(n)).unwrap();
    }
}

#[test]
fn a_conversation_killed_mid_save_is_old_or_new_never_torn() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    store.save(&version(0)).unwrap();
    let mut newest = String::new();
    for round in 0..10u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "child_saves_until_killed", "--nocapture"])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Different moments of the save cycle each round.
        std::thread::sleep(Duration::from_millis(150 + 37 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let saved = store.load("c1").unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        let first = saved.messages[0].content.clone();
        assert!(first.starts_with("version "), "round {round}");
        assert!(saved.messages.iter().all(|m| m.content == first), "round {round}: a torn file");
        let listing = store.list().unwrap();
        assert!(listing.unreadable.is_empty(), "round {round}: {:?}", listing.unreadable);
        let listed = listing.items;
        assert_eq!(listed.len(), 1, "round {round}: {listed:?}");
        newest = first;
    }
    // The children did write (the last file is not the parent's version 0).
    assert!(!newest.starts_with("version 0 "), "no child ever saved");
}

fn partials(cache: &Path) -> Vec<u64> {
    let blobs = cache.join("models--org--model").join("blobs");
    std::fs::read_dir(blobs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incomplete"))
        .map(|e| e.metadata().unwrap().len())
        .collect()
}

#[test]
fn a_download_killed_mid_transfer_resumes_where_it_stopped() {
    let (served, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = noise(8 << 20, 9);
    put(served.path(), "org/model", "model.gguf", &data);
    let mut config = HubConfig::new(served.path());
    config.faults.bytes_per_sec = Some(4 << 20);
    let hub = FakeHub::start(config).unwrap();
    let cache = home.path().join("hub");
    let download = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
        for var in ["HF_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", home.path()).env("HF_HUB_CACHE", &cache).env("HF_ENDPOINT", hub.url());
        cmd.args(["download", "org/model", "--file", "model.gguf"]).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    };
    let mut child = download().spawn().unwrap();
    let started = Instant::now();
    while partials(&cache).first().is_none_or(|&len| len < 1 << 20) {
        assert!(started.elapsed() < Duration::from_secs(60), "no partial file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = partials(&cache)[0];
    assert!(kept > 0 && kept < data.len() as u64, "{kept}");

    let out = download().output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = String::from_utf8(out.stdout).unwrap();
    assert_eq!(std::fs::read(path.trim()).unwrap(), data);
    let ranges: Vec<Option<String>> =
        hub.requests().into_iter().filter(|r| r.method == "GET").map(|r| r.range).collect();
    assert_eq!(ranges.last().unwrap().as_deref(), Some(format!("bytes={kept}-").as_str()), "{ranges:?}");
}
