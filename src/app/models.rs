//! The model manager's list: [`discover`] gathers every model we know of — the files named on
//! the command line, in the config and recently loaded, then what `hub::discovery` finds in the
//! models folder and the hub cache (the same search as `bitnet-tui models`), then catalog models
//! not on disk ([`hub_rows`](super::hub_rows)).

use std::fs;
use std::path::{Path, PathBuf};

use super::hub_rows;
use crate::engine::protocol::ModelInfo;
use crate::hub::cache::HfCache;
use crate::hub::catalog::Catalog;
pub use crate::hub::catalog::ModelKind;
use crate::hub::discovery::{scan, ScanSources};
pub use crate::hub::discovery::{HubFile, ModelEntry, ModelSource, ModelStatus};

impl ModelEntry {
    /// Replaces guesses with what the engine read from the loaded file.
    pub fn apply_info(&mut self, info: &ModelInfo) {
        self.name = info.name.clone();
        self.arch = Some(info.arch.clone());
        self.quant = Some(info.quant.clone());
        self.n_params = Some(info.n_params);
        self.size_bytes = Some(info.file_bytes);
    }
}

/// Where to look for models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelSources {
    pub command_line: Vec<PathBuf>,
    pub config: Vec<PathBuf>,
    pub recent: Vec<PathBuf>,
    /// Folders searched for GGUF files (config's `models_dir`, `models --dir`).
    pub models_dirs: Vec<PathBuf>,
    /// The hub cache: its models are listed, and catalog models download into it.
    pub hf_cache: Option<HfCache>,
}

/// Every model we know of, without duplicates, in source order (command line first). Reads file
/// headers: the loop runs it off the UI thread.
pub fn discover(sources: &ModelSources) -> Vec<ModelEntry> {
    let listed = [
        (ModelSource::CommandLine, &sources.command_line),
        (ModelSource::Config, &sources.config),
        (ModelSource::Recent, &sources.recent),
    ];
    let mut entries: Vec<ModelEntry> = Vec::new();
    let folders = ScanSources { models_dirs: sources.models_dirs.clone(), ..ScanSources::default() };
    let named =
        listed.into_iter().flat_map(|(source, paths)| paths.iter().map(move |p| ModelEntry::from_path(p, source)));
    for entry in named.collect::<Vec<_>>().into_iter().chain(scan(&folders)) {
        if !entries.iter().any(|e| same_file(&e.path, &entry.path)) {
            entries.push(entry);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::{GgufWriter, TensorSpec, TensorType, Value};

    /// A minimal GGUF file whose header names `arch`.
    fn write_gguf(path: &Path, arch: &str) {
        let mut w = GgufWriter::new();
        w.set("general.architecture", Value::String(arch.into()));
        w.add_tensor(TensorSpec::new("blk.0.attn_q.weight", TensorType::F32, &[4, 4]));
        fs::write(path, w.to_bytes(&[vec![0u8; 64]]).unwrap()).unwrap();
    }

    #[test]
    fn discover_merges_sources_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a-q8_0.gguf");
        // Three levels down, as LM Studio keeps them: `bitnet-tui models` finds it, so does the picker.
        let nested = dir.path().join("publisher").join("model");
        fs::create_dir_all(&nested).unwrap();
        let b = nested.join("b-f16.gguf");
        write_gguf(&a, "llama");
        write_gguf(&b, "llama");
        fs::write(dir.path().join("notes.txt"), b"").unwrap();
        let sources = ModelSources {
            command_line: vec![a.clone()],
            config: vec![],
            recent: vec![PathBuf::from("/gone/old.gguf"), a.clone()],
            models_dirs: vec![dir.path().to_path_buf()],
            hf_cache: None,
        };
        let entries = discover(&sources);
        let found: Vec<_> = entries.iter().map(|e| (e.path.clone(), e.source)).collect();
        assert_eq!(
            found,
            [
                (a.clone(), ModelSource::CommandLine),
                (PathBuf::from("/gone/old.gguf"), ModelSource::Recent),
                (b, ModelSource::ModelsDir),
            ]
        );
        assert_eq!(entries[0].size_bytes, fs::metadata(&a).ok().map(|m| m.len()));
        assert_eq!(entries[0].arch.as_deref(), Some("llama"));
        assert_eq!(entries[0].status, ModelStatus::Downloaded);
        assert_eq!(entries[1].status, ModelStatus::Missing);
        let listed = scan(&ScanSources { models_dirs: vec![dir.path().to_path_buf()], ..ScanSources::default() });
        assert_eq!(listed.len(), 2, "the CLI lists the same files");
    }
}
