//! Finds GGUF models on disk: in the hub cache (ours and every other tool's), in models folders
//! and at explicit paths. Only what a snapshot links to is read from the cache, so a partial
//! download (`blobs/*.incomplete`) is never listed; neither is a file whose GGUF header does not
//! parse or whose tensors run past its end.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cache::HfCache;
use super::catalog::{Catalog, ModelKind};
use super::repo::RepoId;
use crate::gguf::{GgufError, GgufFile, ModelSummary};

/// How deep a models folder is searched (LM Studio uses `<publisher>/<model>/<file>`).
const MAX_FOLDER_DEPTH: usize = 4;

/// Where a model was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    HfCache,
    ModelsDir,
    Explicit,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::HfCache => "hf-cache",
            Source::ModelsDir => "models-dir",
            Source::Explicit => "path",
        })
    }
}

/// A model file on disk, described from its GGUF header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalModel {
    pub path: PathBuf,
    /// The hub repo, for files in the hub cache.
    pub repo: Option<String>,
    /// The snapshot commit, for files in the hub cache.
    pub commit: Option<String>,
    /// Branches and tags that point at that commit (e.g. `main`).
    pub refs: Vec<String>,
    pub file_name: String,
    pub size_bytes: u64,
    pub architecture: String,
    pub quant: String,
    pub n_params: u64,
    /// `general.name`.
    pub name: Option<String>,
    pub kind: ModelKind,
    pub source: Source,
}

/// What to search.
#[derive(Debug, Clone, Default)]
pub struct ScanSources {
    pub hf_cache: Option<HfCache>,
    pub models_dirs: Vec<PathBuf>,
    /// Files, or folders searched like models folders.
    pub explicit: Vec<PathBuf>,
}

/// Every model found, in source order (cache, models folders, explicit paths). Files that are not
/// loadable GGUF models are skipped (and logged); use [`inspect`] to learn why a given file is.
pub fn scan(sources: &ScanSources) -> Vec<LocalModel> {
    let mut models = Vec::new();
    if let Some(cache) = &sources.hf_cache {
        models.extend(scan_hf_cache(cache));
    }
    for dir in &sources.models_dirs {
        models.extend(scan_folder(dir, Source::ModelsDir));
    }
    for path in &sources.explicit {
        if path.is_dir() {
            models.extend(scan_folder(path, Source::Explicit));
        } else {
            models.extend(inspect_logged(path, Source::Explicit));
        }
    }
    models
}

/// Describes one file from its GGUF header (no tensor data are read).
pub fn inspect(path: &Path, source: Source) -> Result<LocalModel, GgufError> {
    let file = GgufFile::open(path)?;
    let summary = ModelSummary::of(&file)?;
    let file_name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let finetune = file.opt_str("general.finetune")?.map(str::to_owned);
    let kind = guess_kind(&[finetune.as_deref(), summary.name.as_deref(), Some(&file_name)]);
    Ok(LocalModel {
        path: path.to_path_buf(),
        repo: None,
        commit: None,
        refs: Vec::new(),
        file_name,
        size_bytes: summary.file_bytes,
        architecture: summary.architecture,
        quant: summary.quant,
        n_params: summary.n_params,
        name: summary.name,
        kind,
        source,
    })
}

fn inspect_logged(path: &Path, source: Source) -> Option<LocalModel> {
    inspect(path, source).inspect_err(|e| tracing::debug!("not listed: {e}")).ok()
}

/// Chat-tuned or base, from words in the fine-tune label, the model name and the file name.
fn guess_kind(labels: &[Option<&str>]) -> ModelKind {
    let words: Vec<String> = labels
        .iter()
        .flatten()
        .flat_map(|l| {
            l.to_ascii_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(&x.as_str()));
    if has(&["instruct", "chat", "it", "sft", "dpo", "rlhf"]) {
        ModelKind::Instruct
    } else if has(&["base"]) {
        ModelKind::Base
    } else {
        ModelKind::Unknown
    }
}

fn scan_hf_cache(cache: &HfCache) -> Vec<LocalModel> {
    let mut models = Vec::new();
    for repo_dir in sorted_entries(cache.root()) {
        let Some(repo) = repo_dir.file_name().and_then(|n| n.to_str()).and_then(RepoId::from_folder_name) else {
            continue;
        };
        let refs = refs_by_commit(&repo_dir.join("refs"));
        let mut seen_blobs = HashSet::new();
        // Snapshots that a ref points to come first, so a blob shared by several snapshots is
        // listed under its current name.
        let mut snapshots = sorted_entries(&repo_dir.join("snapshots"));
        snapshots.sort_by_key(|s| !refs.contains_key(&dir_name(s)));
        for snapshot in snapshots {
            let commit = dir_name(&snapshot);
            for path in gguf_files(&snapshot, usize::MAX) {
                // A link whose blob is gone does not resolve and is skipped.
                let Ok(blob) = path.canonicalize() else {
                    continue;
                };
                if !seen_blobs.insert(blob) {
                    continue;
                }
                let Some(mut model) = inspect_logged(&path, Source::HfCache) else {
                    continue;
                };
                let in_repo = path.strip_prefix(&snapshot).unwrap_or(&path);
                let in_repo = in_repo.to_string_lossy().replace('\\', "/");
                model.kind = Catalog::builtin().find_file(repo.as_str(), &in_repo).map_or(model.kind, |e| e.kind);
                model.repo = Some(repo.to_string());
                model.refs = refs.get(&commit).cloned().unwrap_or_default();
                model.commit = Some(commit.clone());
                models.push(model);
            }
        }
    }
    models
}

fn scan_folder(dir: &Path, source: Source) -> Vec<LocalModel> {
    gguf_files(dir, MAX_FOLDER_DEPTH).iter().filter_map(|p| inspect_logged(p, source)).collect()
}

/// `commit → [ref names]` from a `refs/` folder (refs may be nested, e.g. `refs/pr/1`).
fn refs_by_commit(refs_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files_under(refs_dir, 8) {
        let Ok(commit) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.strip_prefix(refs_dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        map.entry(commit.trim().to_string()).or_default().push(name);
    }
    map
}

/// GGUF files under `dir` (following links), in name order, skipping hidden entries.
fn gguf_files(dir: &Path, max_depth: usize) -> Vec<PathBuf> {
    files_under(dir, max_depth)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")))
        .collect()
}

fn files_under(dir: &Path, max_depth: usize) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in sorted_entries(dir) {
        if dir_name(&entry).starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            if max_depth > 1 {
                files.extend(files_under(&entry, max_depth - 1));
            }
        } else if entry.is_file() {
            files.push(entry);
        }
    }
    files
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    entries
}

fn dir_name(path: &Path) -> String {
    path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_from_names() {
        assert_eq!(guess_kind(&[Some("Instruct")]), ModelKind::Instruct);
        assert_eq!(guess_kind(&[None, Some("SmolLM2-135M-Instruct.Q4_1.gguf")]), ModelKind::Instruct);
        assert_eq!(guess_kind(&[Some("gemma-3-270m-it-Q8_0.gguf")]), ModelKind::Instruct);
        assert_eq!(guess_kind(&[Some("Base"), Some("llama")]), ModelKind::Base);
        assert_eq!(guess_kind(&[Some("bitnet-tiny.gguf")]), ModelKind::Unknown);
        assert_eq!(guess_kind(&[Some("italian-model.gguf")]), ModelKind::Unknown);
    }
}
