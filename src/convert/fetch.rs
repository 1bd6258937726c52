//! Bringing a checkpoint from the hub into its cache before converting it: the config, the
//! tokenizer files and every safetensors shard, each resumable and verified like any download.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::checkpoint::read_index;
use super::{CONFIG_FILE, INDEX_FILE, SINGLE_FILE, TEMPLATE_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE};
use crate::hub::download::{DownloadError, Downloader, Progress};
use anyhow::{Context, Result};

/// Downloads the files `convert` reads from `repo` at `revision` and returns the snapshot folder
/// they are in. `progress(file, report)` sees each transfer.
pub fn fetch_checkpoint(
    downloader: &Downloader,
    repo: &str,
    revision: &str,
    mut progress: impl FnMut(&str, Progress),
    cancel: &AtomicBool,
) -> Result<PathBuf> {
    let mut get = |file: &str| downloader.download(repo, file, revision, |p| progress(file, p), cancel);
    let config = get(CONFIG_FILE).with_context(|| format!("{repo} has no usable {CONFIG_FILE}"))?;
    get(TOKENIZER_FILE)?;
    for optional in [TOKENIZER_CONFIG_FILE, TEMPLATE_FILE] {
        match get(optional) {
            Ok(_) | Err(DownloadError::FileNotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let shards = match get(INDEX_FILE) {
        Ok(index) => read_index(&index)?,
        Err(DownloadError::FileNotFound { .. }) => vec![SINGLE_FILE.to_owned()],
        Err(e) => return Err(e.into()),
    };
    for shard in &shards {
        get(shard)?;
    }
    Ok(config.parent().map(PathBuf::from).unwrap_or_default())
}
