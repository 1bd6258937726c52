//! The model manager's downloads through `update()`: first start, start, progress, done, failure,
//! cancel, and Enter on a model that is not on disk.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use bitnet_tui::app::hub_rows::add_catalog;
use bitnet_tui::app::models::{HubFile, ModelEntry, ModelSource, ModelStatus};
use bitnet_tui::app::msg::{DownloadEvent, Effect, Msg};
use bitnet_tui::app::state::{NoticeLevel, Overlay};
use bitnet_tui::app::update::start;
use bitnet_tui::app::{update, State};
use bitnet_tui::hub::cache::HfCache;
use bitnet_tui::hub::catalog::Catalog;
use bitnet_tui::hub::download::Progress;
use crossterm::event::KeyCode;
use support::*;

fn default_file() -> HubFile {
    let d = Catalog::builtin().default_entry();
    HubFile { repo: d.repo.clone(), file: d.file.clone() }
}

/// The catalog's rows over an empty cache, last entry first (so the default is not row 0).
fn catalog_rows() -> Vec<ModelEntry> {
    let empty = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    add_catalog(&mut rows, &HfCache::at(empty.path()), Catalog::builtin());
    rows.reverse();
    rows
}

fn selected(state: &State) -> usize {
    match state.overlay {
        Some(Overlay::Picker { selected }) => selected,
        ref other => panic!("the manager is not open: {other:?}"),
    }
}

/// A first start with nothing on disk, the default model selected in the manager.
fn first_start() -> State {
    let mut state = state();
    let effects = start(&mut state);
    assert!(matches!(effects[..], [Effect::DiscoverModels]), "{effects:?}");
    update(&mut state, Msg::ModelsFound(catalog_rows()));
    state
}

fn notice(state: &State) -> (NoticeLevel, String) {
    let n = state.notice.as_ref().expect("a notice");
    (n.level, n.text.clone())
}

fn progress(downloaded: u64) -> Msg {
    Msg::Download(DownloadEvent::Progress(Progress {
        downloaded,
        total: 1000,
        bytes_per_sec: 100.0,
        eta: Some(Duration::from_secs(5)),
    }))
}

#[test]
fn first_start_opens_the_manager_on_the_default_model() {
    let state = first_start();
    let row = &state.models[selected(&state)];
    assert_eq!(row.hub, Some(default_file()));
    assert_eq!(row.status, ModelStatus::NotDownloaded);
    assert_eq!(row.size_bytes, Some(Catalog::builtin().default_entry().size_bytes));
    assert_ne!(selected(&state), 0);
}

#[test]
fn download_key_starts_progress_updates_and_done_rescans() {
    let mut state = first_start();
    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert!(matches!(&effects[..], [Effect::StartDownload(f)] if *f == default_file()), "{effects:?}");
    assert!(state.download.is_some());

    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert!(effects.is_empty(), "one download at a time");
    assert_eq!(notice(&state).0, NoticeLevel::Warning);

    update(&mut state, progress(400));
    let row = &state.models[selected(&state)];
    assert_eq!(state.download_fraction(row), Some(0.4));

    // Keys keep working in the chat while the download runs.
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
    update(&mut state, progress(900));
    let path = PathBuf::from("/hub/models--microsoft--bitnet-b1.58-2B-4T-gguf/snapshots/c/ggml-model-i2_s.gguf");
    let effects = update(&mut state, Msg::Download(DownloadEvent::Finished(path.clone())));
    assert!(matches!(effects[..], [Effect::DiscoverModels]), "{effects:?}");
    assert!(state.download.is_none());
    let (level, text) = notice(&state);
    assert_eq!(level, NoticeLevel::Info);
    assert!(text.contains("Downloaded"), "{text}");
}

#[test]
fn a_rescan_keeps_the_downloaded_model_selected_and_enter_loads_it() {
    let mut state = first_start();
    update(&mut state, key(KeyCode::Char('d')));
    let snapshot = tempfile::tempdir().unwrap();
    let path = snapshot.path().join("ggml-model-i2_s.gguf");
    std::fs::write(&path, b"GGUF").unwrap();
    update(&mut state, Msg::Download(DownloadEvent::Finished(path.clone())));
    let mut rows = catalog_rows();
    let at = rows.iter().position(|r| r.hub == Some(default_file())).unwrap();
    let mut cached = ModelEntry::from_path(&path, ModelSource::HfCache);
    cached.hub = Some(default_file());
    rows[at] = cached;
    rows.insert(0, ModelEntry::from_path(std::path::Path::new("/models/other.gguf"), ModelSource::ModelsDir));
    update(&mut state, Msg::ModelsFound(rows));
    assert_eq!(selected(&state), at + 1);

    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    assert!(matches!(&cmds[..], [bitnet_tui::engine::protocol::EngineCmd::Load { path: p, .. }] if *p == path));
}

#[test]
fn enter_on_a_model_not_downloaded_says_how_to_get_it() {
    let mut state = first_start();
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(state.overlay.is_some());
    let (level, text) = notice(&state);
    assert_eq!(level, NoticeLevel::Warning);
    assert!(text.contains("not downloaded yet: d downloads it"), "{text}");
}

#[test]
fn a_failure_shows_the_error() {
    let mut state = first_start();
    update(&mut state, key(KeyCode::Char('d')));
    let error = "cannot reach http://127.0.0.1:9/x: refused; check the network";
    let effects = update(&mut state, Msg::Download(DownloadEvent::Failed(error.into())));
    assert!(matches!(effects[..], [Effect::DiscoverModels]));
    assert!(state.download.is_none());
    let (level, text) = notice(&state);
    assert_eq!(level, NoticeLevel::Error);
    assert!(text.contains(error) && text.contains(&Catalog::builtin().default_entry().name), "{text}");
}

#[test]
fn cancel_stops_the_download_and_keeps_the_partial() {
    let mut state = first_start();
    let effects = update(&mut state, key(KeyCode::Char('x')));
    assert!(effects.is_empty());
    assert_eq!(notice(&state).0, NoticeLevel::Warning, "nothing to cancel");

    update(&mut state, key(KeyCode::Char('d')));
    update(&mut state, progress(300));
    let effects = update(&mut state, key(KeyCode::Char('x')));
    assert!(matches!(effects[..], [Effect::CancelDownload]), "{effects:?}");
    assert!(state.download.as_ref().unwrap().cancelling);
    assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty(), "cancelling once is enough");

    let effects = update(&mut state, Msg::Download(DownloadEvent::Cancelled));
    assert!(matches!(effects[..], [Effect::DiscoverModels]));
    assert!(state.download.is_none());
    let (_, text) = notice(&state);
    assert!(text.contains("partial file is kept and d resumes it"), "{text}");
}
