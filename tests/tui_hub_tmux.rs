//! The model manager in a real terminal (tmux): first start with an empty hub cache and the hub
//! at a local fake server that serves the BitNet fixture under the default model's name. The
//! manager opens with that model selected and its size shown; download it with the key, watch
//! the gauge, load it, chat, quit, and check that the terminal is restored.

mod common;
mod hub_support;

use std::time::Duration;

use bitnet_tui::hub::catalog::Catalog;
use bitnet_tui::hub::format::human_bytes;
use common::tmux::Tmux;
use hub_support::hub_server::{FakeHub, HubConfig};

/// The screen line that shows `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

#[test]
fn first_start_downloads_the_default_model_loads_it_and_chats() {
    let default = Catalog::builtin().default_entry();
    let root = tempfile::tempdir().unwrap();
    let served = root.path().join("served");
    let repo_dir = served.join(&default.repo);
    std::fs::create_dir_all(&repo_dir).unwrap();
    std::os::unix::fs::symlink(common::bitnet_tiny(), repo_dir.join(&default.file)).unwrap();
    let mut config = HubConfig::new(&served);
    // Slow enough (about 3 s for the fixture) for the gauge to show.
    config.faults.bytes_per_sec = Some(25_000_000);
    let hub = FakeHub::start(config).unwrap();

    let dir = |name: &str| root.path().join(name).display().to_string();
    let cmd = format!(
        "env -u HF_HOME -u HF_TOKEN -u HF_TOKEN_PATH -u HF_HUB_OFFLINE -u HUGGINGFACE_HUB_CACHE \
         HF_ENDPOINT={} HF_HUB_CACHE={} XDG_CONFIG_HOME={} XDG_DATA_HOME={} XDG_STATE_HOME={} \
         XDG_CACHE_HOME={} {} --temp 0 -n 8; echo EXITED:$?; sleep 60",
        hub.url(),
        dir("hub"),
        dir("config"),
        dir("data"),
        dir("state"),
        dir("cache"),
        env!("CARGO_BIN_EXE_bitnet-tui"),
    );
    let tmux = Tmux::start("hub", &cmd);
    let minute = Duration::from_secs(60);

    // The manager is open, the default model selected (its hub file and size below the list).
    let hub_file = format!("{}/{}", default.repo, default.file);
    let screen = tmux.wait_for("the model manager", minute, |s| s.contains("╭ Models") && s.contains(&hub_file));
    let row = line_with(&screen, &default.name).unwrap_or_else(|| panic!("no row for the default:\n{screen}"));
    let size = human_bytes(default.size_bytes);
    assert!(row.contains("not downloaded") && row.contains(&size), "{screen}");
    let detail = line_with(&screen, &hub_file).unwrap();
    assert!(detail.contains(&format!("{} · {hub_file} · {size}", default.name)), "{screen}");

    tmux.keys(&["d"]);
    let screen =
        tmux.wait_for("download progress", minute, |s| s.contains("% of 74.4 MB") && s.contains("downloading "));
    assert!(line_with(&screen, "downloading ").unwrap().contains(&default.name), "{screen}");
    let screen = tmux.wait_for("the download to finish", minute, |s| {
        line_with(s, "hf cache").is_some_and(|l| l.contains("downloaded") && !l.contains("not downloaded"))
    });
    assert!(screen.contains("Downloaded"), "{screen}");
    assert!(!screen.contains('⇣'), "the gauge stays after the download:\n{screen}");

    // The downloaded row stays selected: Enter loads it.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the model to load", minute, |s| s.contains("Loaded bitnet2b"));
    tmux.text("Hello");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the reply", minute, |s| s.contains(" tokens · "));

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert!(!screen.contains("╭ Message"), "the chat screen is still shown after exit:\n{screen}");
    let blobs = root.path().join("hub/models--microsoft--bitnet-b1.58-2B-4T-gguf/blobs");
    let names: Vec<String> =
        std::fs::read_dir(blobs).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 1, "one verified blob: {names:?}");
    assert!(!names[0].ends_with(".incomplete"), "{names:?}");
}
