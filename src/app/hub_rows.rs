//! The hub's part of the model manager's list: models in the hub cache, and catalog models that
//! are not on disk (with what a stopped download left). Reads only the disk.

use crate::app::models::{same_file, HubFile, ModelEntry, ModelSource, ModelStatus};
use crate::hub::cache::HfCache;
use crate::hub::catalog::{Catalog, CatalogEntry};
use crate::hub::discovery::{scan, ScanSources};
use crate::hub::repo::RepoId;

/// Adds the models of `cache` that `entries` does not list yet; a file listed already (e.g. as a
/// recent model) learns its hub repo.
pub fn add_cached(entries: &mut Vec<ModelEntry>, cache: &HfCache) {
    let found = scan(&ScanSources { hf_cache: Some(cache.clone()), ..ScanSources::default() });
    for model in found {
        match entries.iter_mut().find(|e| same_file(&e.path, &model.path)) {
            Some(known) => {
                known.hub = model.hub;
                known.commit = model.commit;
                known.refs = model.refs;
            }
            None => entries.push(model),
        }
    }
}

/// Adds a row for each catalog model that no entry holds: not downloaded, or partial.
pub fn add_catalog(entries: &mut Vec<ModelEntry>, cache: &HfCache, catalog: &Catalog) {
    for item in catalog.entries() {
        let held = entries
            .iter()
            .any(|e| e.hub.as_ref().is_some_and(|h| h.repo.eq_ignore_ascii_case(&item.repo) && h.file == item.file));
        if !held {
            entries.push(from_catalog(item, cache));
        }
    }
}

fn from_catalog(item: &CatalogEntry, cache: &HfCache) -> ModelEntry {
    let status =
        partial_bytes(cache, &item.repo).map_or(ModelStatus::NotDownloaded, |bytes| ModelStatus::Partial { bytes });
    ModelEntry {
        path: Default::default(),
        name: item.name.clone(),
        arch: Some(item.architecture.clone()),
        quant: Some(item.quant.clone()),
        n_params: None,
        size_bytes: Some(item.size_bytes),
        kind: item.kind,
        source: if item.convert { ModelSource::CatalogCheckpoint } else { ModelSource::Catalog },
        status,
        hub: Some(HubFile { repo: item.repo.clone(), file: item.file.clone() }),
        commit: None,
        refs: Vec::new(),
    }
}

/// The size of the largest `blobs/*.incomplete` of `repo`. Which file a partial blob belongs to
/// takes the hub to tell (its name is the etag), so a partial counts for the repo's model.
fn partial_bytes(cache: &HfCache, repo: &str) -> Option<u64> {
    let repo: RepoId = repo.parse().ok()?;
    let blobs = cache.repo_dir(&repo).join("blobs");
    std::fs::read_dir(blobs)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incomplete"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_rows_show_partial_downloads() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HfCache::at(dir.path());
        let catalog = Catalog::builtin();
        let default = catalog.default_entry();
        let blobs = cache.repo_dir(&default.repo.parse().unwrap()).join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join("abc.incomplete"), vec![0u8; 1000]).unwrap();

        let mut entries = Vec::new();
        add_cached(&mut entries, &cache);
        add_catalog(&mut entries, &cache, catalog);
        assert_eq!(entries.len(), catalog.entries().len(), "a partial file is not a model");
        assert_eq!(entries[0].name, default.name);
        assert_eq!(entries[0].status, ModelStatus::Partial { bytes: 1000 });
        assert_eq!(entries[0].size_bytes, Some(default.size_bytes));
        assert_eq!(entries[1].status, ModelStatus::NotDownloaded);
        let source_of = |name: &str| entries.iter().find(|e| e.name == name).map(|e| e.source);
        assert_eq!(source_of("BitNet b1.58 2B4T"), Some(ModelSource::Catalog));
        assert_eq!(source_of("Falcon3 1B Instruct 1.58-bit"), Some(ModelSource::CatalogCheckpoint));
    }
}
