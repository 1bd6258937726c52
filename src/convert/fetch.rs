//! Bringing a checkpoint from the hub into its cache before converting it: the config, the
//! tokenizer files and every safetensors shard, each resumable and verified like any download.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::checkpoint::read_index;
use super::{convert, ConvertOptions, ProjectionType};
use super::{
    ADDED_TOKENS_FILE, CONFIG_FILE, INDEX_FILE, SENTENCEPIECE_FILE, SINGLE_FILE, TEMPLATE_FILE, TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
};
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
    // A byte-level vocabulary is in tokenizer.json; a SentencePiece one (1bitLLM) in tokenizer.model.
    for optional in [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, TEMPLATE_FILE, SENTENCEPIECE_FILE, ADDED_TOKENS_FILE] {
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

/// A model published as a checkpoint, and the GGUF it becomes.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointModel<'a> {
    pub repo: &'a str,
    pub revision: &'a str,
    /// The GGUF's file name, written beside the snapshot.
    pub file: &'a str,
    /// Its `general.name`.
    pub name: &'a str,
}

/// Fetches the model's checkpoint and converts it (I2_S) into its file beside the snapshot, where
/// the hub cache's model discovery finds it; a file converted before is kept. Returns its path.
/// `converting(done, total)` reports the conversion, tensor by tensor; `cancel` stops the
/// download or the conversion.
pub fn fetch_and_convert(
    downloader: &Downloader,
    model: &CheckpointModel,
    fetched: impl FnMut(&str, Progress),
    mut converting: impl FnMut(usize, usize),
    cancel: &Arc<AtomicBool>,
) -> Result<PathBuf> {
    let CheckpointModel { repo, revision, file, name } = *model;
    if file.contains(['/', '\\']) || !file.ends_with(".gguf") {
        anyhow::bail!("{file:?} is not a GGUF file name to convert {repo} into");
    }
    let dir = fetch_checkpoint(downloader, repo, revision, fetched, cancel)?;
    let out = dir.join(file);
    if !out.is_file() {
        let options = ConvertOptions {
            projection_type: ProjectionType::I2S,
            name: Some(name.to_owned()),
            cancel: Some(Arc::clone(cancel)),
        };
        convert(&dir, &out, &options, |done, total, _| converting(done, total))
            .with_context(|| format!("converting {repo}"))?;
    }
    Ok(out)
}
