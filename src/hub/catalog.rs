//! The models we offer to download, from `assets/models.toml` (built into the binary).

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::repo::{check_file, RepoId};

/// Whether a model is chat-tuned; base models only continue text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Base,
    Instruct,
    /// Not known (a local file whose metadata and name do not say).
    Unknown,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Base => "base",
            ModelKind::Instruct => "instruct",
            ModelKind::Unknown => "?",
        })
    }
}

/// One downloadable model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Short stable name, e.g. `bitnet-2b4t`.
    pub id: String,
    pub name: String,
    pub repo: String,
    pub file: String,
    /// As the hub's file list shows it (rounded); the download uses the exact size.
    pub size_bytes: u64,
    /// GGUF `general.architecture`.
    pub architecture: String,
    /// Weight type of most matrices.
    pub quant: String,
    pub kind: ModelKind,
    pub license: String,
    pub description: String,
    /// The repo holds a Hugging Face checkpoint, not a GGUF: getting the model downloads the
    /// checkpoint and converts it here (`bitnet-tui convert`) into `file`, beside the snapshot.
    #[serde(default)]
    pub convert: bool,
}

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("catalog has no models")]
    Empty,
    #[error("catalog entry {id:?}: {problem}")]
    Entry { id: String, problem: String },
}

/// The list of downloadable models; the first one is the default.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    model: Vec<CatalogEntry>,
}

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    // The asset is part of the source tree and `tests/hub_catalog.rs` parses it, so a failure
    // here is a build defect, not bad input.
    Catalog::parse(include_str!("../../assets/models.toml")).unwrap_or_else(|e| panic!("assets/models.toml: {e}"))
});

impl Catalog {
    /// The catalog shipped in `assets/models.toml`.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// Parses and checks a catalog: at least one entry, unique ids, valid repo and file names.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(text)?;
        if file.model.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut ids = HashSet::new();
        for entry in &file.model {
            let problem = if !ids.insert(entry.id.as_str()) {
                Some("duplicate id".to_string())
            } else if let Err(e) = entry.repo.parse::<RepoId>() {
                Some(e.to_string())
            } else if let Err(e) = check_file(&entry.file) {
                Some(e.to_string())
            } else if entry.kind == ModelKind::Unknown {
                Some("kind must be \"base\" or \"instruct\"".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(CatalogError::Entry { id: entry.id.clone(), problem });
            }
        }
        Ok(Catalog { entries: file.model })
    }

    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The model a first run offers: the first entry.
    pub fn default_entry(&self) -> &CatalogEntry {
        &self.entries[0]
    }

    /// The first entry of `repo` (hub repo ids are case-insensitive).
    pub fn find_repo(&self, repo: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.repo.eq_ignore_ascii_case(repo))
    }

    /// The entry for `file` in `repo`.
    pub fn find_file(&self, repo: &str, file: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.repo.eq_ignore_ascii_case(repo) && e.file == file)
    }
}
