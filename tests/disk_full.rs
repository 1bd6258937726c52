//! A full disk, made real with a small tmpfs (root only; skipped with a message elsewhere): a
//! conversation save fails with the path named and the old file whole, and a download that
//! meets a disk filled by another writer ends whole or with a clear error, never a corrupt model.

mod hub_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bitnet_tui::app::conversation::{Conversation, Message};
use bitnet_tui::app::store::Store;
use bitnet_tui::engine::protocol::Role;
use bitnet_tui::hub::cache::HfCache;
use bitnet_tui::hub::download::Downloader;
use bitnet_tui::hub::env::HubEnv;
use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::{noise, put};

/// A tmpfs of `kib` KiB, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(kib: usize) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (it needs root); the disk-full cases did not run");
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full, then frees `keep` bytes of it.
    fn fill_leaving(&self, keep: usize) {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let len = std::fs::metadata(&filler).unwrap().len();
        f.set_len(len.saturating_sub(keep as u64)).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn conversation(text: &str) -> Conversation {
    let mut c = Conversation::new("c1".into(), "2026-01-01T00:00:00Z".into());
    c.messages = vec![Message::new(Role::User, text), Message::new(Role::Assistant, text)];
    c
}

#[test]
fn a_save_on_a_full_disk_fails_clearly_and_keeps_the_old_file() {
    let Some(disk) = SmallDisk::mount(512) else { return };
    let store = Store::new(disk.path().join("data"));
    store.save(&conversation("first")).unwrap();
    disk.fill_leaving(16 << 10);
    let err = store.save(&conversation(&"much longer ".repeat(10_000))).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("c1.json") && text.contains("No space left"), "{text}");
    assert_eq!(store.load("c1").unwrap().messages[0].content, "first");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(disk.path().join("data").join("conversations"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("c1.json"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_download_that_fills_the_disk_stops_with_a_clear_error() {
    let Some(disk) = SmallDisk::mount(2048) else { return };
    let served = tempfile::tempdir().unwrap();
    let data = noise(1 << 20, 4);
    put(served.path(), "org/model", "model.gguf", &data);
    let mut config = HubConfig::new(served.path());
    config.faults.bytes_per_sec = Some(512 << 10);
    let hub = FakeHub::start(config).unwrap();
    let env = HubEnv { endpoint: hub.url(), token: None, offline: false, cache_dir: None };
    let cache = HfCache::at(disk.path().join("hub"));
    let downloader = Downloader::new(cache.clone(), &env).with_retries(2, Duration::from_millis(10));

    // The free-space check passes; then another writer takes the space mid-transfer.
    let finished = Arc::new(AtomicBool::new(false));
    let filler = {
        let root = disk.path().join("hub");
        let disk_path = disk.path().to_path_buf();
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            while !has_partial(&root) {
                if finished.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let mut f = std::fs::File::create(disk_path.join("filler")).unwrap();
            let block = vec![0u8; 4096];
            while f.write_all(&block).is_ok() {}
        })
    };
    let result = downloader.download("org/model", "model.gguf", "main", |_| {}, &AtomicBool::new(false));
    finished.store(true, Ordering::SeqCst);
    filler.join().unwrap();
    // The partial file takes its whole size up front, so the transfer itself cannot run out;
    // what comes after it (the ref) may, and must say so.
    if let Err(err) = result {
        let text = err.to_string();
        assert!(text.contains("No space left") || text.contains("not enough disk space"), "{text}");
        assert!(text.contains(&disk.path().display().to_string()), "the error names the path: {text}");
    }
    // Whatever the disk let through is whole: a file linked into a snapshot is the model itself.
    let snapshots = disk.path().join("hub").join("models--org--model").join("snapshots");
    for commit in std::fs::read_dir(&snapshots).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(commit.path()).unwrap().flatten() {
            assert_eq!(std::fs::read(file.path()).unwrap(), data, "{} is not the model", file.path().display());
        }
    }
}

fn has_partial(root: &Path) -> bool {
    let blobs = root.join("models--org--model").join("blobs");
    std::fs::read_dir(blobs)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".incomplete") && e.metadata().is_ok_and(|m| m.len() > 0))
}
