//! `bitnet-tui convert HF_DIR_OR_REPO --out FILE.gguf [--type i2_s|tq2_0|tq1_0|f16]`: a Hugging
//! Face BitNet checkpoint to GGUF, downloading it first when given a repo name.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::download::{cancel_on_ctrl_c, show};
use crate::convert::{convert, fetch_checkpoint, ConvertOptions, ProjectionType};
use crate::hub::download::Downloader;
use crate::hub::format::human_bytes;
use crate::hub::repo::{RepoId, DEFAULT_REVISION};

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// A checkpoint folder (config.json, *.safetensors, tokenizer.json), or a hub repo such as
    /// tiiuae/Falcon3-1B-Instruct-1.58bit, downloaded into the hub cache first (resumable, verified).
    #[arg(value_name = "HF_DIR_OR_REPO")]
    pub input: String,
    /// The GGUF to write (atomically: an interrupted conversion leaves no file).
    #[arg(short, long, value_name = "FILE.gguf")]
    pub out: PathBuf,
    /// The type of the ternary projections.
    #[arg(long = "type", value_enum, default_value = "i2_s")]
    pub projection_type: ProjectionType,
    /// Branch, tag or commit, for a repo.
    #[arg(long, value_name = "REV", default_value = DEFAULT_REVISION)]
    pub revision: String,
    /// `general.name` in the file (default: the repo or folder name).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    // The first Ctrl+C stops the download or the conversion (the partial download is kept for a
    // resume, the partial GGUF removed); a second one exits at once.
    let cancel = cancel_on_ctrl_c()?;
    let local = Path::new(&args.input);
    let (dir, default_name) = if local.is_dir() {
        (local.to_path_buf(), None)
    } else {
        let repo: RepoId = args
            .input
            .parse()
            .with_context(|| format!("{} is neither a folder nor a hub repo name (owner/name)", args.input))?;
        (download(repo.as_str(), &args.revision, &cancel)?, Some(repo.as_str().to_owned()))
    };
    let options = ConvertOptions {
        projection_type: args.projection_type,
        name: args.name.or(default_name),
        cancel: Some(cancel),
    };
    eprintln!("Converting {} to {}", dir.display(), args.out.display());
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} tensors {msg}")?);
    let started = Instant::now();
    let report = convert(&dir, &args.out, &options, |done, total, tensor| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(tensor.to_owned());
    });
    bar.finish_and_clear();
    let report = report?;
    let formats: Vec<String> = report.formats.iter().map(ToString::to_string).collect();
    eprintln!(
        "Wrote {} ({}, {} tensors, architecture {}, projections from {}) in {:.1} s",
        args.out.display(),
        human_bytes(report.bytes),
        report.tensors,
        report.arch,
        formats.join(" and "),
        started.elapsed().as_secs_f64()
    );
    if !report.ignored.is_empty() {
        eprintln!("Not converted (no GGUF counterpart): {}", report.ignored.join(", "));
    }
    Ok(())
}

fn download(repo: &str, revision: &str, cancel: &AtomicBool) -> anyhow::Result<PathBuf> {
    let downloader = Downloader::from_env()?;
    eprintln!("Fetching {repo} (revision {revision}) into {}", downloader.cache().root().display());
    let bar = ProgressBar::hidden();
    bar.set_style(ProgressStyle::with_template("{prefix:>28} {bar:30} {decimal_bytes}/{decimal_total_bytes} {msg}")?);
    let dir = fetch_checkpoint(
        &downloader,
        repo,
        revision,
        |file, p| {
            bar.set_prefix(file.to_owned());
            show(&bar, &p);
        },
        cancel,
    );
    bar.finish_and_clear();
    dir
}
