//! Command-line interface: `bitnet-tui [SUBCOMMAND]`. Each subcommand lives in its own file.

pub mod args;
pub mod chat;
pub mod config_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli::args::{LoadArgs, SamplingArgs};

/// Chat with a 1-bit LLM in your terminal; no subcommand opens the chat.
#[derive(Debug, Parser)]
#[command(name = "bitnet-tui", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// GGUF model to open the chat with; repeat to offer several (Ctrl+N / Ctrl+P cycle them).
    #[arg(short, long, value_name = "PATH")]
    pub model: Vec<PathBuf>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Longest reply in tokens.
    #[arg(short = 'n', long, value_name = "N")]
    pub max_tokens: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show where the config file is, or write a commented one.
    Config {
        #[command(subcommand)]
        action: config_cmd::ConfigAction,
    },
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
        None => chat::run(&cli),
        Some(Command::Config { action }) => config_cmd::run(&action),
    }
}
