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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    /// Named on the command line (`--model`, or `bitnet-tui models PATH`).
    #[serde(rename = "explicit")]
    CommandLine,
    Config,
    /// Loaded recently by the chat.
    Recent,
    ModelsDir,
    /// The Hugging Face hub cache.
    HfCache,
    /// The download catalog (not on disk yet).
    Catalog,
    /// The download catalog, as a checkpoint that is downloaded and then converted here.
    CatalogCheckpoint,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelSource::CommandLine => "path",
            ModelSource::Config => "config",
            ModelSource::Recent => "recent",
            ModelSource::ModelsDir => "models-dir",
            ModelSource::HfCache => "hf-cache",
            ModelSource::Catalog => "catalog",
            ModelSource::CatalogCheckpoint => "catalog-checkpoint",
        })
    }
}

/// Whether the model file is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelStatus {
    Downloaded,
    /// A file we knew of (named on the command line, in the config or recently loaded) is gone.
    Missing,
    /// A download stopped part way; `bytes` of the file are on disk.
    Partial {
        bytes: u64,
    },
    NotDownloaded,
}

/// A file of a hub repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubFile {
    pub repo: String,
    /// The path within the repo.
    pub file: String,
}

/// One model: a file on disk described from its GGUF header, a file we know of that is gone,
/// or a catalog model not downloaded yet. The chat's model picker and `bitnet-tui models` both
/// list these.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Empty for a model that is not downloaded.
    pub path: PathBuf,
    /// The catalog's name for a catalog model, else `general.name`, else the file name without
    /// `.gguf`.
    pub name: String,
    /// `general.architecture`; unknown for a file whose header cannot be read.
    pub arch: Option<String>,
    /// The dominant weight type.
    pub quant: Option<String>,
    pub n_params: Option<u64>,
    pub size_bytes: Option<u64>,
    pub kind: ModelKind,
    pub source: ModelSource,
    pub status: ModelStatus,
    /// Where the file comes from on the hub, when known.
    pub hub: Option<HubFile>,
    /// The snapshot commit, for files in the hub cache.
    pub commit: Option<String>,
    /// Branches and tags that point at that commit (e.g. `main`).
    pub refs: Vec<String>,
}

impl ModelEntry {
    /// What the file's GGUF header tells about `path`; where the header cannot be read, what its
    /// name suggests, and [`ModelStatus::Missing`] when the file is not there.
    pub fn from_path(path: &Path, source: ModelSource) -> Self {
        if let Ok(entry) = inspect(path, source) {
            return entry;
        }
        let stem = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        let size_bytes = std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len());
        Self {
            path: path.to_path_buf(),
            // A name says nothing reliable about the architecture (a `bitnet` file may be
            // mainline's or Microsoft's): without a header it stays unknown.
            arch: None,
            quant: guess_quant(&stem.to_ascii_lowercase()),
            n_params: None,
            size_bytes,
            kind: guess_kind(&[Some(&stem)]),
            source,
            status: if size_bytes.is_some() { ModelStatus::Downloaded } else { ModelStatus::Missing },
            hub: None,
            commit: None,
            refs: Vec::new(),
            name: stem,
        }
    }

    pub fn is_downloaded(&self) -> bool {
        self.status == ModelStatus::Downloaded
    }

    /// The file's name, or the hub file's path within its repo.
    pub fn file_label(&self) -> String {
        match &self.hub {
            Some(hub) => format!("{}/{}", hub.repo, hub.file),
            None => self.path.file_name().map_or_else(|| self.name.clone(), |n| n.to_string_lossy().into_owned()),
        }
    }
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
pub fn scan(sources: &ScanSources) -> Vec<ModelEntry> {
    let mut models = Vec::new();
    if let Some(cache) = &sources.hf_cache {
        models.extend(scan_hf_cache(cache));
    }
    for dir in &sources.models_dirs {
        models.extend(scan_folder(dir, ModelSource::ModelsDir));
    }
    for path in &sources.explicit {
        if path.is_dir() {
            models.extend(scan_folder(path, ModelSource::CommandLine));
        } else {
            models.extend(inspect_logged(path, ModelSource::CommandLine));
        }
    }
    models
}

/// Describes one file from its GGUF header (no tensor data are read).
pub fn inspect(path: &Path, source: ModelSource) -> Result<ModelEntry, GgufError> {
    let file = GgufFile::open(path)?;
    let summary = ModelSummary::of(&file)?;
    let file_name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let finetune = file.opt_str("general.finetune")?.map(str::to_owned);
    let mut kind = guess_kind(&[finetune.as_deref(), summary.name.as_deref(), Some(&file_name)]);
    // A chat template in the file means the model was tuned to chat.
    if kind == ModelKind::Unknown && summary.tokenizer.chat_template.is_some() {
        kind = ModelKind::Instruct;
    }
    let stem = path.file_stem().map_or_else(|| file_name.clone(), |s| s.to_string_lossy().into_owned());
    Ok(ModelEntry {
        path: path.to_path_buf(),
        name: summary.name.unwrap_or(stem),
        arch: Some(summary.architecture),
        quant: Some(summary.quant),
        n_params: Some(summary.n_params),
        size_bytes: Some(summary.file_bytes),
        kind,
        source,
        status: ModelStatus::Downloaded,
        hub: None,
        commit: None,
        refs: Vec::new(),
    })
}

fn inspect_logged(path: &Path, source: ModelSource) -> Option<ModelEntry> {
    inspect(path, source).inspect_err(|e| tracing::debug!("not listed: {e}")).ok()
}

const QUANTS: &[&str] = &[
    "i2_s", "tq1_0", "tq2_0", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_k_m", "q4_k_s", "q5_k_m", "q6_k", "f16",
    "bf16", "f32",
];

/// The weight type a file name names (`…-Q4_K_M.gguf`), for a file whose header is unreadable.
fn guess_quant(lower_name: &str) -> Option<String> {
    QUANTS.iter().filter(|q| lower_name.contains(*q)).max_by_key(|q| q.len()).map(|q| q.to_ascii_uppercase())
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

fn scan_hf_cache(cache: &HfCache) -> Vec<ModelEntry> {
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
                let Some(mut model) = inspect_logged(&path, ModelSource::HfCache) else {
                    continue;
                };
                let in_repo = path.strip_prefix(&snapshot).unwrap_or(&path);
                let in_repo = in_repo.to_string_lossy().replace('\\', "/");
                // A catalog model is named and typed as the catalog says; other files by their
                // `general.name` (else their file name) and what that suggests.
                if let Some(entry) = Catalog::builtin().find_file(repo.as_str(), &in_repo) {
                    model.kind = entry.kind;
                    model.name = entry.name.clone();
                }
                model.hub = Some(HubFile { repo: repo.to_string(), file: in_repo });
                model.refs = refs.get(&commit).cloned().unwrap_or_default();
                model.commit = Some(commit.clone());
                models.push(model);
            }
        }
    }
    models
}

fn scan_folder(dir: &Path, source: ModelSource) -> Vec<ModelEntry> {
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
    fn unreadable_files_are_described_from_their_names() {
        let e = ModelEntry::from_path(Path::new("/x/ggml-model-i2_s.gguf"), ModelSource::Recent);
        assert_eq!(e.name, "ggml-model-i2_s");
        assert_eq!(e.quant.as_deref(), Some("I2_S"));
        assert_eq!(e.size_bytes, None);
        assert_eq!(e.status, ModelStatus::Missing, "a file that is not there is marked missing");
        let e = ModelEntry::from_path(Path::new("SmolLM2-135M-Instruct-Q4_K_M.gguf"), ModelSource::CommandLine);
        assert_eq!(e.quant.as_deref(), Some("Q4_K_M"));
        assert_eq!(e.arch, None);
        assert_eq!(e.kind, ModelKind::Instruct);
        let e = ModelEntry::from_path(Path::new("bitnet-b1.58-2B-base.gguf"), ModelSource::Config);
        assert_eq!(e.kind, ModelKind::Base);
    }

    #[test]
    fn reads_arch_quant_and_chat_template_from_the_header() {
        use crate::gguf::{GgufWriter, TensorSpec, TensorType, Value};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mystery.gguf");
        let mut w = GgufWriter::new();
        w.set("general.architecture", Value::String("llama".into()));
        w.set("tokenizer.chat_template", Value::String("{{ messages }}".into()));
        w.add_tensor(TensorSpec::new("blk.0.attn_q.weight", TensorType::F32, &[4, 4]));
        std::fs::write(&path, w.to_bytes(&[vec![0u8; 64]]).unwrap()).unwrap();
        let e = ModelEntry::from_path(&path, ModelSource::ModelsDir);
        assert_eq!(e.arch.as_deref(), Some("llama"));
        assert_eq!(e.quant.as_deref(), Some("F32"));
        assert_eq!(e.kind, ModelKind::Instruct);
        assert_eq!(e.name, "mystery");
        assert_eq!(e.status, ModelStatus::Downloaded);
    }

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
