//! Downloads against the fake hub on 127.0.0.1: cache layout, resume, verification, errors,
//! cancel and offline mode.

mod hub_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bitnet_tui::hub::cache::HfCache;
use bitnet_tui::hub::discovery::{scan, ModelSource, ScanSources};
use bitnet_tui::hub::download::{DownloadError, Downloader, Progress};
use bitnet_tui::hub::env::HubEnv;
use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::{noise, put, sha256_hex, tiny_gguf};

const REPO: &str = "org/model";
const FILE: &str = "model-Q8_0.gguf";

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cache: HfCache,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("served");
    let cache = HfCache::at(dir.path().join("cache"));
    Setup { root, cache, _dir: dir }
}

fn env(hub: &FakeHub, token: Option<&str>, offline: bool) -> HubEnv {
    HubEnv { endpoint: hub.url(), token: token.map(str::to_owned), offline, cache_dir: None }
}

fn downloader(s: &Setup, hub: &FakeHub) -> Downloader {
    Downloader::new(s.cache.clone(), &env(hub, None, false))
        .with_retries(3, Duration::from_millis(10))
        .with_progress_interval(Duration::ZERO)
}

fn run(d: &Downloader, file: &str) -> Result<PathBuf, DownloadError> {
    d.download(REPO, file, "main", |_| {}, &AtomicBool::new(false))
}

fn gets(hub: &FakeHub) -> Vec<hub_support::hub_server::RequestRecord> {
    hub.requests().into_iter().filter(|r| r.method == "GET").collect()
}

/// Files under the repo's blobs/ folder.
fn blobs(s: &Setup) -> Vec<String> {
    let dir = s.cache.root().join("models--org--model").join("blobs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_download_lands_in_the_hub_layout_and_other_tools_find_it() {
    let s = setup();
    let model = tiny_gguf("llama", "Tiny", Some("Instruct"));
    put(&s.root, REPO, FILE, &model);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let mut reports: Vec<Progress> = Vec::new();
    let path = downloader(&s, &hub)
        .download(REPO, FILE, "main", |p| reports.push(p), &AtomicBool::new(false))
        .expect("download");

    let sha = sha256_hex(&model);
    let commit = FakeHub::main_commit(REPO);
    let repo_dir = s.cache.root().join("models--org--model");
    assert_eq!(path, repo_dir.join("snapshots").join(&commit).join(FILE));
    assert_eq!(std::fs::read_link(&path).unwrap(), Path::new("../../blobs").join(&sha));
    assert_eq!(std::fs::read(&path).unwrap(), model);
    assert_eq!(std::fs::read_to_string(repo_dir.join("refs/main")).unwrap(), commit);
    assert_eq!(blobs(&s), vec![sha.clone()], "one verified blob, no partial file");
    let calls: Vec<(String, String)> = hub.requests().into_iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(
        calls,
        vec![("HEAD".into(), format!("/{REPO}/resolve/main/{FILE}")), ("GET".into(), format!("/cdn/{sha}")),],
        "one question to the hub, one transfer from the CDN"
    );
    let last = reports.last().expect("progress reported");
    assert_eq!((last.downloaded, last.total), (model.len() as u64, model.len() as u64));

    // huggingface's own Rust crate resolves the file through refs/main and the snapshot link.
    let theirs = hf_hub::Cache::new(s.cache.root().to_path_buf()).model(REPO.to_string());
    assert_eq!(theirs.get(FILE), Some(path.clone()));
    // And a fresh scan of the cache lists it, with its metadata.
    let found = scan(&ScanSources { hf_cache: Some(HfCache::at(s.cache.root())), ..Default::default() });
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, path);
    assert_eq!(found[0].hub.as_ref().map(|h| h.repo.as_str()), Some(REPO));
    assert_eq!(found[0].refs, vec!["main".to_string()]);
    assert_eq!((found[0].arch.as_deref(), found[0].quant.as_deref()), (Some("llama"), Some("Q8_0")));
    assert_eq!(found[0].source, ModelSource::HfCache);

    // A second download finds the blob: one HEAD, no transfer.
    hub.reset_counters();
    assert_eq!(run(&downloader(&s, &hub), FILE).unwrap(), path);
    assert_eq!(gets(&hub), vec![]);
    assert_eq!(hub.body_bytes_served(), 0);
}

#[test]
fn a_transfer_cut_halfway_resumes_and_fetches_only_the_rest() {
    let s = setup();
    let data = noise(6 << 20, 1);
    put(&s.root, REPO, FILE, &data);
    let cut = 3 << 20;
    let mut config = HubConfig::new(&s.root);
    config.faults.cut_first_get_after = Some(cut);
    let hub = FakeHub::start(config).expect("start hub");

    let path = run(&downloader(&s, &hub), FILE).expect("download resumes by itself");
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(hub.body_bytes_served(), data.len() as u64, "no byte fetched twice");
    let ranges: Vec<Option<String>> = gets(&hub).into_iter().map(|r| r.range).collect();
    assert_eq!(ranges, vec![None, Some(format!("bytes={cut}-"))]);
}

#[test]
fn a_cancelled_download_leaves_a_partial_that_the_next_run_resumes() {
    let s = setup();
    let data = noise(8 << 20, 2);
    let sha = sha256_hex(&data);
    put(&s.root, REPO, FILE, &data);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let cancel = AtomicBool::new(false);
    let err = downloader(&s, &hub)
        .download(
            REPO,
            FILE,
            "main",
            |p| {
                if p.downloaded >= p.total / 4 {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
            &cancel,
        )
        .expect_err("cancelled");
    let DownloadError::Cancelled { partial, downloaded, total } = &err else {
        panic!("expected Cancelled, got {err}");
    };
    assert!(*downloaded > 0 && *downloaded < *total, "{err}");
    assert_eq!(partial, &s.cache.incomplete_path(&REPO.parse().unwrap(), &sha));
    assert_eq!(std::fs::metadata(partial).unwrap().len(), *downloaded);
    assert_eq!(blobs(&s), vec![format!("{sha}.incomplete")]);
    assert!(err.to_string().contains("resumes on the next attempt"), "{err}");
    let listed = scan(&ScanSources { hf_cache: Some(s.cache.clone()), ..Default::default() });
    assert_eq!(listed, vec![], "a partial file is never listed");

    // A new process: the partial file is re-hashed and only the rest is fetched.
    hub.reset_counters();
    let path = run(&downloader(&s, &hub), FILE).expect("resumed download");
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(hub.body_bytes_served(), data.len() as u64 - downloaded);
    assert_eq!(gets(&hub)[0].range, Some(format!("bytes={downloaded}-")));
    assert_eq!(blobs(&s), vec![sha]);
}

/// Writes the first `n` bytes of `data` where huggingface_hub keeps a partial download.
fn leave_partial(s: &Setup, data: &[u8], n: usize) {
    let partial = s.cache.incomplete_path(&REPO.parse().unwrap(), &sha256_hex(data));
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(partial, &data[..n]).unwrap();
}

#[test]
fn a_partial_file_left_by_another_tool_is_resumed() {
    let s = setup();
    let data = noise(3 << 20, 8);
    put(&s.root, REPO, FILE, &data);
    leave_partial(&s, &data, 1 << 20);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");

    let path = run(&downloader(&s, &hub), FILE).expect("download");
    assert_eq!(std::fs::read(path).unwrap(), data);
    assert_eq!(hub.body_bytes_served(), (2 << 20) as u64);
    assert_eq!(gets(&hub)[0].range, Some(format!("bytes={}-", 1 << 20)));
}

#[test]
fn a_server_that_ignores_range_makes_the_download_start_over() {
    let s = setup();
    let data = noise(3 << 20, 9);
    put(&s.root, REPO, FILE, &data);
    leave_partial(&s, &data, 1 << 20);
    let mut config = HubConfig::new(&s.root);
    config.faults.ignore_range = true;
    let hub = FakeHub::start(config).expect("start hub");

    let path = run(&downloader(&s, &hub), FILE).expect("download");
    assert_eq!(std::fs::read(path).unwrap(), data, "not appended to the old part");
    assert_eq!(gets(&hub).len(), 1, "the whole-file answer is used as it is");
    assert_eq!(hub.body_bytes_served(), data.len() as u64);
}

#[test]
fn one_corrupted_byte_is_a_checksum_error_and_leaves_no_model() {
    let s = setup();
    let data = noise(2 << 20, 3);
    put(&s.root, REPO, FILE, &data);
    let mut config = HubConfig::new(&s.root);
    config.faults.corrupt_byte_at = Some(1_000_000);
    let hub = FakeHub::start(config).expect("start hub");

    let err = run(&downloader(&s, &hub), FILE).expect_err("corrupt");
    let DownloadError::ChecksumMismatch { expected, actual, .. } = &err else {
        panic!("expected ChecksumMismatch, got {err}");
    };
    assert_eq!(expected, &sha256_hex(&data));
    assert_ne!(actual, expected);
    let message = err.to_string();
    assert!(message.contains(expected.as_str()) && message.contains(actual.as_str()), "{message}");
    assert_eq!(blobs(&s), Vec::<String>::new(), "neither blob nor partial file");
    assert!(!s.cache.root().join("models--org--model/snapshots").exists());
    assert!(scan(&ScanSources { hf_cache: Some(s.cache.clone()), ..Default::default() }).is_empty());
}

#[test]
fn missing_files_revisions_and_repos_give_clear_messages() {
    let s = setup();
    put(&s.root, REPO, FILE, b"x");
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let d = downloader(&s, &hub);
    let cancel = AtomicBool::new(false);

    let err = run(&d, "nope.gguf").expect_err("404");
    assert!(matches!(err, DownloadError::FileNotFound { .. }), "{err}");
    assert!(err.to_string().starts_with("file nope.gguf not found in repo org/model at revision main"), "{err}");
    let err = d.download(REPO, FILE, "v9", |_| {}, &cancel).expect_err("no such revision");
    assert!(err.to_string().contains("revision v9 not found in repo org/model"), "{err}");
    let err = d.download("org/other", FILE, "main", |_| {}, &cancel).expect_err("no such repo");
    assert!(err.to_string().contains("repo org/other not found"), "{err}");
    let err = d.download("../etc", FILE, "main", |_| {}, &cancel).expect_err("bad name");
    assert!(err.to_string().contains("invalid repo id"), "{err}");
    assert_eq!(gets(&hub), vec![]);
}

#[test]
fn private_repos_need_the_token_which_never_reaches_the_cdn() {
    let s = setup();
    let data = noise(100_000, 4);
    put(&s.root, REPO, FILE, &data);
    let mut config = HubConfig::new(&s.root);
    config.token = Some("hf_secret".into());
    let hub = FakeHub::start(config).expect("start hub");

    let err = run(&downloader(&s, &hub), FILE).expect_err("401");
    assert!(matches!(err, DownloadError::AccessDenied { status: 401, .. }), "{err}");
    assert!(err.to_string().contains("set HF_TOKEN"), "{err}");

    hub.reset_counters();
    let d = Downloader::new(s.cache.clone(), &env(&hub, Some("hf_secret"), false));
    let path = run(&d, FILE).expect("download with token");
    assert_eq!(std::fs::read(path).unwrap(), data);
    for r in hub.requests() {
        let on_cdn = r.path.starts_with("/cdn/");
        assert_eq!(r.authorization.is_some(), !on_cdn, "{r:?}");
    }
}

#[test]
fn offline_mode_sends_no_request() {
    let s = setup();
    let data = noise(50_000, 5);
    put(&s.root, REPO, FILE, &data);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let offline = Downloader::new(s.cache.clone(), &env(&hub, None, true));

    let err = run(&offline, FILE).expect_err("not cached");
    assert!(matches!(err, DownloadError::Offline { .. }), "{err}");
    assert!(err.to_string().starts_with("HF_HUB_OFFLINE is set"), "{err}");
    assert!(offline.resolve(REPO, FILE, "main").is_err());
    assert_eq!(hub.requests(), vec![]);

    let path = run(&downloader(&s, &hub), FILE).expect("online download");
    hub.reset_counters();
    assert_eq!(run(&offline, FILE).expect("served from the cache"), path);
    assert_eq!(hub.requests(), vec![]);
}

#[test]
fn git_files_are_verified_by_their_git_sha1() {
    let s = setup();
    put(&s.root, REPO, "config.json", br#"{"model_type": "llama"}"#);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let path = run(&downloader(&s, &hub), "config.json").expect("download");
    assert_eq!(std::fs::read(path).unwrap(), br#"{"model_type": "llama"}"#);
    assert!(gets(&hub).iter().all(|r| !r.path.starts_with("/cdn/")), "served by the hub itself");
}

#[test]
fn a_file_larger_than_the_free_space_is_refused_before_any_transfer() {
    let s = setup();
    put(&s.root, REPO, FILE, b"small");
    let mut config = HubConfig::new(&s.root);
    config.faults.claimed_size = Some(1 << 60);
    let hub = FakeHub::start(config).expect("start hub");

    let err = run(&downloader(&s, &hub), FILE).expect_err("disk full");
    let DownloadError::InsufficientDisk { needed, .. } = &err else {
        panic!("expected InsufficientDisk, got {err}");
    };
    assert_eq!(*needed, 1 << 60);
    assert!(err.to_string().contains("not enough disk space"), "{err}");
    assert!(err.to_string().contains("free"), "{err}");
    assert_eq!(gets(&hub), vec![]);
}

#[test]
fn a_download_in_progress_elsewhere_is_not_joined() {
    let s = setup();
    let data = noise(10_000, 6);
    put(&s.root, REPO, FILE, &data);
    let hub = FakeHub::start(HubConfig::new(&s.root)).expect("start hub");
    let lock_path = s.cache.lock_path(&REPO.parse().unwrap(), &sha256_hex(&data));
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();

    let err = run(&downloader(&s, &hub), FILE).expect_err("busy");
    assert!(matches!(err, DownloadError::Busy { .. }), "{err}");
    drop(held);
    run(&downloader(&s, &hub), FILE).expect("lock released");
}

#[test]
fn a_server_that_trickles_bytes_is_dropped_at_the_low_speed_limit() {
    let s = setup();
    let data = noise(1 << 20, 5);
    put(&s.root, REPO, FILE, &data);
    let mut config = HubConfig::new(&s.root);
    // 50 bytes a second: every read returns well within the idle timeout, yet the file would
    // take six hours.
    config.faults.bytes_per_sec = Some(50);
    let hub = FakeHub::start(config).expect("start hub");
    let d = downloader(&s, &hub).with_low_speed_limit(1000, Duration::from_millis(1500));
    let err = run(&d, FILE).unwrap_err();
    match &err {
        DownloadError::Interrupted { attempts, reason, downloaded, .. } => {
            assert_eq!(*attempts, 3, "{err}");
            assert!(reason.contains("below the floor of 1000 bytes/s"), "{err}");
            assert!(*downloaded > 0, "the partial is kept for a resume: {err}");
        }
        other => panic!("expected Interrupted, got {other}"),
    }
}
