//! The model manager's list: which GGUF files we know of and what we can tell about them.
//! [`discover`] is the one data source: local files first, then catalog models not on disk
//! ([`hub_rows`](super::hub_rows)).

use std::fs;
use std::path::{Path, PathBuf};

use super::hub_rows;
use crate::engine::protocol::ModelInfo;
use crate::gguf::{GgufFile, ModelSummary};
use crate::hub::cache::HfCache;
use crate::hub::catalog::Catalog;

/// Whether a model was tuned to chat, as far as we can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Base,
    Instruct,
    Unknown,
}

/// Where the picker found a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ModelSource {
    CommandLine,
    Config,
    Recent,
    ModelsDir,
    /// The Hugging Face hub cache.
    HfCache,
    /// The download catalog (not on disk yet).
    Catalog,
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
    pub file: String,
}

/// One model the manager lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Empty for a model that is not downloaded.
    pub path: PathBuf,
    pub name: String,
    pub arch: Option<String>,
    pub quant: Option<String>,
    pub size_bytes: Option<u64>,
    pub kind: ModelKind,
    pub source: ModelSource,
    pub status: ModelStatus,
    /// Where the file comes from on the hub, when known.
    pub hub: Option<HubFile>,
}

impl ModelEntry {
    /// What the file's GGUF header tells about `path` (metadata only, no weights); where the file
    /// cannot be read, what its name suggests.
    pub fn from_path(path: &Path, source: ModelSource) -> Self {
        let stem =
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        let lower = stem.to_ascii_lowercase();
        let header = GgufFile::open(path).and_then(|f| ModelSummary::of(&f));
        let (arch, quant, named_kind) = match &header {
            Ok(summary) => (Some(summary.architecture.clone()), Some(summary.quant.clone()), summary_kind(summary)),
            // A name says nothing reliable about the architecture (a `bitnet` file may be
            // mainline's or Microsoft's): without a header it stays unknown.
            Err(_) => (None, guess_quant(&lower), ModelKind::Unknown),
        };
        let kind = match guess_kind(&lower) {
            ModelKind::Unknown => named_kind,
            known => known,
        };
        let size_bytes = fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len());
        Self {
            path: path.to_path_buf(),
            name: stem,
            arch,
            quant,
            size_bytes,
            kind,
            source,
            status: if size_bytes.is_some() { ModelStatus::Downloaded } else { ModelStatus::Missing },
            hub: None,
        }
    }

    pub fn is_downloaded(&self) -> bool {
        self.status == ModelStatus::Downloaded
    }

    /// Replaces guesses with what the engine read from the loaded file.
    pub fn apply_info(&mut self, info: &ModelInfo) {
        self.name = info.name.clone();
        self.arch = Some(info.arch.clone());
        self.quant = Some(info.quant.clone());
        self.size_bytes = Some(info.file_bytes);
    }
}

/// Where to look for models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelSources {
    pub command_line: Vec<PathBuf>,
    pub config: Vec<PathBuf>,
    pub recent: Vec<PathBuf>,
    pub models_dir: Option<PathBuf>,
    /// The hub cache: its models are listed, and catalog models download into it.
    pub hf_cache: Option<HfCache>,
}

/// Every model we know of, without duplicates, in source order (command line first).
pub fn discover(sources: &ModelSources) -> Vec<ModelEntry> {
    let listed = [
        (ModelSource::CommandLine, &sources.command_line),
        (ModelSource::Config, &sources.config),
        (ModelSource::Recent, &sources.recent),
    ];
    let mut candidates: Vec<(PathBuf, ModelSource)> =
        listed.into_iter().flat_map(|(source, paths)| paths.iter().map(move |p| (p.clone(), source))).collect();
    if let Some(dir) = &sources.models_dir {
        candidates.extend(gguf_files_in(dir).into_iter().map(|p| (p, ModelSource::ModelsDir)));
    }
    let mut entries: Vec<ModelEntry> = Vec::new();
    for (path, source) in candidates {
        if !entries.iter().any(|e| same_file(&e.path, &path)) {
            entries.push(ModelEntry::from_path(&path, source));
        }
    }
    if let Some(cache) = &sources.hf_cache {
        hub_rows::add_cached(&mut entries, cache);
        hub_rows::add_catalog(&mut entries, cache, Catalog::builtin());
    }
    entries
}

pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// `*.gguf` files in `dir` and one level below (a folder per model is common), sorted.
fn gguf_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            if path.is_dir() && depth == 0 {
                folders.push((path, depth + 1));
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

const QUANTS: &[&str] = &[
    "i2_s", "tq1_0", "tq2_0", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_k_m", "q4_k_s", "q5_k_m", "q6_k", "f16",
    "bf16", "f32",
];

fn guess_quant(lower_name: &str) -> Option<String> {
    QUANTS.iter().filter(|q| lower_name.contains(*q)).max_by_key(|q| q.len()).map(|q| q.to_ascii_uppercase())
}

/// A chat template in the file means the model was tuned to chat.
fn summary_kind(summary: &ModelSummary) -> ModelKind {
    if summary.tokenizer.chat_template.is_some() {
        ModelKind::Instruct
    } else {
        ModelKind::Unknown
    }
}

fn guess_kind(lower_name: &str) -> ModelKind {
    let has = |words: &[&str]| words.iter().any(|w| lower_name.contains(w));
    if has(&["instruct", "chat", "-it", "_it"]) {
        ModelKind::Instruct
    } else if has(&["base", "pretrain"]) {
        ModelKind::Base
    } else {
        ModelKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_file_names() {
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
        assert_eq!(e.arch, None);
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
        fs::write(&path, w.to_bytes(&[vec![0u8; 64]]).unwrap()).unwrap();
        let e = ModelEntry::from_path(&path, ModelSource::ModelsDir);
        assert_eq!(e.arch.as_deref(), Some("llama"));
        assert_eq!(e.quant.as_deref(), Some("F32"));
        assert_eq!(e.kind, ModelKind::Instruct);
        assert_eq!(e.name, "mystery");
    }

    #[test]
    fn discover_merges_sources_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a-q8_0.gguf");
        let nested = dir.path().join("org");
        fs::create_dir(&nested).unwrap();
        let b = nested.join("b-f16.gguf");
        fs::write(&a, b"GGUF").unwrap();
        fs::write(&b, b"GGUF").unwrap();
        fs::write(dir.path().join("notes.txt"), b"").unwrap();
        let sources = ModelSources {
            command_line: vec![a.clone()],
            config: vec![],
            recent: vec![PathBuf::from("/gone/old.gguf"), a.clone()],
            models_dir: Some(dir.path().to_path_buf()),
            hf_cache: None,
        };
        let entries = discover(&sources);
        let found: Vec<_> = entries.iter().map(|e| (e.path.clone(), e.source)).collect();
        assert_eq!(
            found,
            [
                (a, ModelSource::CommandLine),
                (PathBuf::from("/gone/old.gguf"), ModelSource::Recent),
                (b, ModelSource::ModelsDir),
            ]
        );
        assert_eq!(entries[0].size_bytes, Some(4));
        assert_eq!(entries[0].status, ModelStatus::Downloaded);
        assert_eq!(entries[1].status, ModelStatus::Missing);
    }
}
