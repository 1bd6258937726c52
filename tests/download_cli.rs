//! `bitnet-tui download` and `bitnet-tui models` as a user runs them, against the fake hub.

mod hub_support;

use std::path::Path;
use std::process::{Command, Output};

use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::{put, tiny_gguf};

const DEFAULT_REPO: &str = "microsoft/bitnet-b1.58-2B-4T-gguf";
const DEFAULT_FILE: &str = "ggml-model-i2_s.gguf";

/// Runs the binary with a private home, cache and hub.
fn bitnet_tui(home: &Path, hub: &FakeHub, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
    for var in ["HF_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "XDG_CACHE_HOME", "HUGGINGFACE_HUB_CACHE"] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("HF_HUB_CACHE", home.join("hub"))
        .env("HF_ENDPOINT", hub.url())
        .args(args)
        .output()
        .expect("run bitnet-tui")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_default_model_downloads_and_is_then_listed() {
    let home = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    put(served.path(), DEFAULT_REPO, DEFAULT_FILE, &tiny_gguf("bitnet-b1.58", "bitnet", None));
    let hub = FakeHub::start(HubConfig::new(served.path())).unwrap();

    let out = bitnet_tui(home.path(), &hub, &["download", DEFAULT_REPO]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = text(&out.stdout).trim().to_string();
    let expected = home
        .path()
        .join("hub/models--microsoft--bitnet-b1.58-2B-4T-gguf/snapshots")
        .join(FakeHub::main_commit(DEFAULT_REPO))
        .join(DEFAULT_FILE);
    assert_eq!(Path::new(&path), expected);
    assert!(text(&out.stderr).contains("Downloaded and verified"), "{}", text(&out.stderr));

    let out = bitnet_tui(home.path(), &hub, &["models", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().expect("a JSON array");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["repo"], DEFAULT_REPO);
    assert_eq!(listed[0]["architecture"], "bitnet-b1.58");
    assert_eq!(listed[0]["kind"], "instruct", "known from the catalog");
    assert_eq!(listed[0]["source"], "hf-cache");
    assert_eq!(listed[0]["path"], path.as_str());
}

#[test]
fn failures_exit_non_zero_with_a_message() {
    let home = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    put(served.path(), "org/model", "a.gguf", b"x");
    let hub = FakeHub::start(HubConfig::new(served.path())).unwrap();

    let out = bitnet_tui(home.path(), &hub, &["download", "org/model", "--file", "b.gguf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: file b.gguf not found in repo org/model at revision main"),
        "{}",
        text(&out.stderr)
    );

    let out = bitnet_tui(home.path(), &hub, &["download", "org/model"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("name the file to download with --file"), "{}", text(&out.stderr));

    let out = bitnet_tui(home.path(), &hub, &["models", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/dev/null"), "{}", text(&out.stderr));
}

#[test]
fn a_cache_that_cannot_be_written_is_reported_once_without_a_resume_hint() {
    let home = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    put(served.path(), DEFAULT_REPO, DEFAULT_FILE, &tiny_gguf("bitnet-b1.58", "bitnet", None));
    let hub = FakeHub::start(HubConfig::new(served.path())).unwrap();
    // A cache folder inside a regular file cannot be created, even by root.
    std::fs::write(home.path().join("blocker"), b"").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
    for var in ["HF_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "XDG_CACHE_HOME", "HUGGINGFACE_HUB_CACHE"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("HOME", home.path())
        .env("HF_HUB_CACHE", home.path().join("blocker").join("hub"))
        .env("HF_ENDPOINT", hub.url())
        .args(["download", DEFAULT_REPO])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
    assert!(err.contains("blocker/hub") && !err.contains("resume"), "{err}");
}
