//! The model manager's side of a catalog model that is published as a checkpoint: the download
//! thread fetches the checkpoint from the (local) hub, converts it beside its snapshot with a
//! "converting" report per tensor, and the result is a model that discovery lists as downloaded
//! and that loads and runs. Its own test binary: it sets the process's `HF_*` environment.

mod hf_checkpoint;
mod hub_support;

use std::time::{Duration, Instant};

use bitnet_tui::app::downloads::Downloads;
use bitnet_tui::app::models::HubFile;
use bitnet_tui::app::msg::DownloadEvent;
use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::hub::cache::HfCache;
use bitnet_tui::hub::catalog::Catalog;
use bitnet_tui::hub::discovery::{scan, ModelStatus, ScanSources};
use hf_checkpoint::{generated, write_checkpoint, Format, LLAMA};
use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::put;

const REPO: &str = "tiiuae/Falcon3-1B-Instruct-1.58bit";

/// The download thread's next report, waiting up to a minute.
fn next_event(events: &mut tokio::sync::mpsc::UnboundedReceiver<DownloadEvent>) -> DownloadEvent {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(event) = events.try_recv() {
            return event;
        }
        assert!(Instant::now() < deadline, "no download event for a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_manager_downloads_a_checkpoint_converts_it_and_the_result_loads() {
    let entry = Catalog::builtin().find_repo(REPO).expect("the catalog offers Falcon3 1B as a checkpoint").clone();
    assert!(entry.convert);
    let dir = tempfile::tempdir().unwrap();
    let source = generated(dir.path(), &LLAMA);
    let hf = dir.path().join("hf");
    write_checkpoint(&source, &hf, &LLAMA, Format::PackedDivides, &Vocab::small_byte_level());
    let served = dir.path().join("served");
    for file in std::fs::read_dir(&hf).unwrap() {
        let path = file.unwrap().path();
        put(&served, REPO, path.file_name().unwrap().to_str().unwrap(), &std::fs::read(&path).unwrap());
    }
    let hub = FakeHub::start(HubConfig::new(&served)).unwrap();
    let cache = dir.path().join("hub");
    for var in ["HF_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HUGGINGFACE_HUB_CACHE"] {
        std::env::remove_var(var);
    }
    std::env::set_var("HF_ENDPOINT", hub.url());
    std::env::set_var("HF_HUB_CACHE", &cache);

    let (mut downloads, mut events) = Downloads::new();
    downloads.start(HubFile { repo: entry.repo.clone(), file: entry.file.clone() });
    let (mut fetched, mut converting) = (0, Vec::new());
    let path = loop {
        let event = next_event(&mut events);
        match event {
            DownloadEvent::Progress(_) => fetched += 1,
            DownloadEvent::Converting { done, total } => converting.push((done, total)),
            DownloadEvent::Finished(path) => break path,
            other => panic!("{other:?}"),
        }
    };
    assert!(fetched > 0, "no transfer was reported");
    let last = *converting.last().expect("no conversion was reported");
    assert_eq!(last.0, last.1, "the conversion's last report is its end: {converting:?}");
    assert_eq!(path.file_name().unwrap().to_str().unwrap(), entry.file);
    assert!(path.starts_with(&cache), "{}", path.display());

    // Discovery lists it as a downloaded model of that repo, named by the catalog.
    let listed =
        scan(&ScanSources { hf_cache: Some(HfCache::at(&cache)), models_dirs: Vec::new(), explicit: Vec::new() });
    let found = listed.iter().find(|m| m.path == path).expect("the converted model is listed");
    assert_eq!(found.status, ModelStatus::Downloaded);
    assert_eq!(found.hub.as_ref().map(|h| h.repo.as_str()), Some(REPO));
    assert_eq!((found.name.as_str(), found.kind), (entry.name.as_str(), entry.kind));

    let model = Model::load(&path).unwrap();
    let mut kv = model.new_kv_cache(16);
    let logits = model.forward(&mut RunState::default(), &mut kv, &[1, 2, 3], 0, LogitsWanted::Last).to_vec();
    assert!(logits.iter().all(|x| x.is_finite()));

    // Asked again, the converted file is kept: no new conversion.
    downloads.start(HubFile { repo: entry.repo.clone(), file: entry.file.clone() });
    let again = loop {
        match next_event(&mut events) {
            DownloadEvent::Converting { .. } => panic!("converted twice"),
            DownloadEvent::Finished(path) => break path,
            _ => {}
        }
    };
    assert_eq!(again, path);
}
