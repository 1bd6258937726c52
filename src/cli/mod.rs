//! Command-line interface: `bitnet-tui [SUBCOMMAND]`. Each subcommand lives in its own file.

pub mod args;
pub mod download;
pub mod inspect;
pub mod models;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Chat with a 1-bit LLM in your terminal; no subcommand opens the chat.
#[derive(Debug, Parser)]
#[command(name = "bitnet-tui", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a GGUF file holds: architecture, hyperparameters, tokenizer, tensors.
    Inspect(inspect::InspectArgs),
    /// List the GGUF models on this machine (hub cache, models folders, given paths).
    Models(models::ModelsArgs),
    /// Download a model from the Hugging Face hub into its cache (resumable, verified).
    Download(download::DownloadArgs),
}

/// Parses the arguments, runs the command, prints an error once and maps it to an exit code:
/// 0 success, 1 failure, 2 usage error (clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => anyhow::bail!("the chat screen is not built yet; see `bitnet-tui --help`"),
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Models(args)) => models::run(args),
        Some(Command::Download(args)) => download::run(args),
    }
}
