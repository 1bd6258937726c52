//! `bitnet-tui models [PATH]... [--dir DIR]... [--json] [--catalog]`: the models on this machine
//! (hub cache, models folders, given paths), or the models offered for download.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::app::config::{CliOverrides, Paths, Settings};
use crate::app::models::{discover, ModelSources};
use crate::app::store::Store;
use crate::cli::args::{LoadArgs, SamplingArgs};
use crate::hub::cache::HfCache;
use crate::hub::catalog::{Catalog, CatalogEntry, ModelKind};
use crate::hub::discovery::{inspect, ModelEntry, ModelSource};
use crate::hub::format::human_bytes;
use crate::hub::repo::DEFAULT_REVISION;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// GGUF files (or folders of them) to list besides the hub cache.
    pub paths: Vec<PathBuf>,
    /// A models folder to search, up to 4 levels deep (repeatable).
    #[arg(long = "dir", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// List the models offered for download, and whether each is already here.
    #[arg(long)]
    pub catalog: bool,
}

pub fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let cache = HfCache::from_env();
    if let Err(e) = &cache {
        eprintln!("note: {e}; listing the other places only");
    }
    let cache = cache.ok();
    if args.catalog {
        return print_catalog(cache.as_ref(), args.json);
    }
    // Given files are inspected one by one, so a bad one is reported rather than skipped.
    let (files, folders): (Vec<PathBuf>, Vec<PathBuf>) = args.paths.into_iter().partition(|p| !p.is_dir());
    let mut problems = Vec::new();
    let mut given = Vec::new();
    for file in files {
        match inspect(&file, ModelSource::CommandLine) {
            Ok(_) => given.push(file),
            Err(e) => problems.push(e.to_string()),
        }
    }
    // The same places the chat's model picker looks, through the same discovery: the config's
    // models and models_dir (or BITNET_TUI_MODELS_DIR), the recent list, the hub cache.
    let env = |name: &str| std::env::var(name).ok();
    let paths = Paths::resolve(&env)?;
    let (sampling, load) = (SamplingArgs::default(), LoadArgs::default());
    let overrides =
        CliOverrides { models: &[], sampling: &sampling, load: &load, max_tokens: None, system_prompt: None };
    let settings = Settings::load(&paths.config_file, &env, overrides)?;
    let sources = ModelSources {
        command_line: given,
        config: settings.config_models,
        recent: Store::new(&paths.data_dir).recent_models(),
        models_dirs: args.dirs.into_iter().chain(folders).chain(settings.models_dir).collect(),
        hf_cache: cache.clone(),
    };
    // What is on this machine: not the catalog's offers, nor remembered files that are gone.
    let models: Vec<ModelEntry> = discover(&sources).into_iter().filter(ModelEntry::is_downloaded).collect();
    if args.json {
        let rows: Vec<JsonModel> = models.iter().map(JsonModel::from).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if models.is_empty() {
        print_none_found(cache.as_ref());
    } else {
        print!("{}", render_table(&models));
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if !problems.is_empty() {
        anyhow::bail!("{} of the given files are not loadable GGUF models", problems.len());
    }
    Ok(())
}

fn print_none_found(cache: Option<&HfCache>) {
    let default = Catalog::builtin().default_entry();
    if let Some(cache) = cache {
        println!("No GGUF models found in the hub cache ({}).", cache.root().display());
    } else {
        println!("No GGUF models found.");
    }
    println!(
        "Download {} ({}) with:\n  bitnet-tui download {}",
        default.name,
        human_bytes(default.size_bytes),
        default.repo
    );
}

/// A model as `--json` prints it (the field names scripts already read).
#[derive(Serialize)]
struct JsonModel<'a> {
    path: &'a Path,
    repo: Option<&'a str>,
    commit: Option<&'a str>,
    refs: &'a [String],
    file_name: String,
    size_bytes: Option<u64>,
    architecture: Option<&'a str>,
    quant: Option<&'a str>,
    n_params: Option<u64>,
    name: &'a str,
    kind: ModelKind,
    source: ModelSource,
}

impl<'a> From<&'a ModelEntry> for JsonModel<'a> {
    fn from(m: &'a ModelEntry) -> Self {
        Self {
            path: &m.path,
            repo: m.hub.as_ref().map(|h| h.repo.as_str()),
            commit: m.commit.as_deref(),
            refs: &m.refs,
            file_name: m.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            size_bytes: m.size_bytes,
            architecture: m.arch.as_deref(),
            quant: m.quant.as_deref(),
            n_params: m.n_params,
            name: &m.name,
            kind: m.kind,
            source: m.source,
        }
    }
}

/// `2.41B`, `135M`.
fn params(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.2}B", n as f64 / 1e9)
    } else {
        format!("{}M", (n as f64 / 1e6).round())
    }
}

/// One line per model, then its path indented below it.
fn render_table(models: &[ModelEntry]) -> String {
    let unknown = || "?".to_string();
    let rows: Vec<[String; 7]> = models
        .iter()
        .map(|m| {
            [
                m.file_label(),
                m.arch.clone().unwrap_or_else(unknown),
                m.quant.clone().unwrap_or_else(unknown),
                m.n_params.map_or_else(unknown, params),
                m.size_bytes.map_or_else(unknown, human_bytes),
                m.kind.to_string(),
                m.source.to_string(),
            ]
        })
        .collect();
    let header = ["MODEL", "ARCH", "QUANT", "PARAMS", "SIZE", "KIND", "SOURCE"].map(String::from);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().chain([&header]).map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String; 7]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, &w)| format!("{cell:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&header);
    for (row, model) in rows.iter().zip(models) {
        out.push_str(&line(row));
        out.push_str(&format!("  {}\n", model.path.display()));
    }
    out
}

#[derive(Serialize)]
struct CatalogRow<'a> {
    #[serde(flatten)]
    entry: &'a CatalogEntry,
    /// The cached copy at `main`, if any.
    local_path: Option<PathBuf>,
}

fn print_catalog(cache: Option<&HfCache>, json: bool) -> anyhow::Result<()> {
    let rows: Vec<CatalogRow> = Catalog::builtin()
        .entries()
        .iter()
        .map(|entry| CatalogRow {
            entry,
            local_path: cache.and_then(|c| {
                let repo = entry.repo.parse().ok()?;
                c.cached_file(&repo, DEFAULT_REVISION, &entry.file)
            }),
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for (i, row) in rows.iter().enumerate() {
        let e = row.entry;
        println!(
            "{}{} — {}/{} ({}, {} {}, {}, {}){}",
            e.name,
            if i == 0 { " [default]" } else { "" },
            e.repo,
            e.file,
            human_bytes(e.size_bytes),
            e.architecture,
            e.quant,
            e.kind,
            e.license,
            if row.local_path.is_some() { " — downloaded" } else { "" },
        );
        println!("  {}", e.description);
    }
    println!("Download one with: bitnet-tui download REPO");
    Ok(())
}
