//! `bitnet-tui download REPO [--file NAME] [--revision REV]`: fetch a model into the hub cache,
//! with a progress bar; Ctrl+C stops it and keeps the partial file for the next run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::convert::{fetch_and_convert, CheckpointModel};
use crate::hub::catalog::{Catalog, CatalogEntry};
use crate::hub::download::{Downloader, Progress};
use crate::hub::format::{human_bytes, human_duration};
use crate::hub::repo::DEFAULT_REVISION;

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Hub repo, e.g. microsoft/bitnet-b1.58-2B-4T-gguf. For repos in the catalog
    /// (`bitnet-tui models --catalog`) the file is known.
    pub repo: String,
    /// The file in the repo, e.g. model-Q8_0.gguf.
    #[arg(long, value_name = "NAME")]
    pub file: Option<String>,
    /// Branch, tag or commit.
    #[arg(long, value_name = "REV", default_value = DEFAULT_REVISION)]
    pub revision: String,
}

pub fn run(args: DownloadArgs) -> anyhow::Result<()> {
    let file = match args.file {
        Some(file) => file,
        None => match Catalog::builtin().find_repo(&args.repo) {
            Some(entry) => entry.file.clone(),
            None => anyhow::bail!(
                "{} is not in the built-in catalog (see `bitnet-tui models --catalog`); name the \
                 file to download with --file, e.g. --file model-Q8_0.gguf",
                args.repo
            ),
        },
    };
    let downloader = Downloader::from_env()?;
    let cancel = cancel_on_ctrl_c()?;
    if let Some(entry) = Catalog::builtin().find_file(&args.repo, &file).filter(|e| e.convert) {
        return download_and_convert(&downloader, entry, &args.revision, &cancel);
    }
    eprintln!(
        "Downloading {}/{file} (revision {}) into {}",
        args.repo,
        args.revision,
        downloader.cache().root().display()
    );
    let bar = ProgressBar::hidden();
    bar.set_style(ProgressStyle::with_template("{bar:40} {decimal_bytes}/{decimal_total_bytes} {msg}")?);
    let mut transferred = false;
    let result = downloader.download(
        &args.repo,
        &file,
        &args.revision,
        |p| {
            transferred = true;
            show(&bar, &p);
        },
        &cancel,
    );
    bar.finish_and_clear();
    let path = result?;
    let size = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?.len();
    let done = if transferred { "Downloaded and verified" } else { "Already in the cache:" };
    eprintln!("{done} {}/{file} ({})", args.repo, human_bytes(size));
    println!("{}", path.display());
    Ok(())
}

/// Draws a transfer on `bar` (shown from the first report on, so a cached file draws nothing).
pub(crate) fn show(bar: &ProgressBar, p: &Progress) {
    if bar.is_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    bar.set_length(p.total);
    bar.set_position(p.downloaded);
    let rate = if p.bytes_per_sec > 0.0 { format!("{}/s", human_bytes(p.bytes_per_sec as u64)) } else { String::new() };
    let eta = p.eta.map(|eta| format!(", {} left", human_duration(eta))).unwrap_or_default();
    bar.set_message(format!("{rate}{eta}"));
}

/// The first Ctrl+C asks the download to stop (it keeps the partial file); a second one exits at
/// once, for a transfer stuck waiting on the network.
pub(crate) fn cancel_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .context("installing the Ctrl+C handler")?;
    Ok(cancel)
}

/// A catalog model published as a checkpoint: download it, then convert it beside the snapshot.
fn download_and_convert(
    downloader: &Downloader,
    entry: &CatalogEntry,
    revision: &str,
    cancel: &Arc<AtomicBool>,
) -> anyhow::Result<()> {
    eprintln!(
        "{} is a Hugging Face checkpoint: downloading it into {}, then converting it to {}",
        entry.repo,
        downloader.cache().root().display(),
        entry.file
    );
    let bar = ProgressBar::hidden();
    bar.set_style(ProgressStyle::with_template("{prefix:>28} {bar:30} {decimal_bytes}/{decimal_total_bytes} {msg}")?);
    let converting = ProgressBar::hidden();
    converting.set_style(ProgressStyle::with_template("{prefix:>28} {bar:30} {pos}/{len} tensors")?);
    converting.set_prefix("converting");
    let model = CheckpointModel { repo: &entry.repo, revision, file: &entry.file, name: &entry.name };
    let path = fetch_and_convert(
        downloader,
        &model,
        |file, p| {
            bar.set_prefix(file.to_owned());
            show(&bar, &p);
        },
        |done, total| {
            if converting.is_hidden() {
                bar.finish_and_clear();
                converting.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            converting.set_length(total as u64);
            converting.set_position(done as u64);
        },
        cancel,
    );
    bar.finish_and_clear();
    converting.finish_and_clear();
    let path = path?;
    eprintln!("Ready: {}", entry.name);
    println!("{}", path.display());
    Ok(())
}
