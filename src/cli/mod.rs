//! Command-line interface: `bitnet-tui [SUBCOMMAND]`. Each subcommand lives in its own file.

pub mod args;
pub mod batch;
pub mod bench;
pub mod chat;
pub mod config_cmd;
pub mod convert;
pub mod download;
mod engine;
pub mod gen_model;
mod input;
pub mod inspect;
pub mod logits;
pub mod models;
pub mod perplexity;
pub mod run;
pub mod serve;
pub mod tokenize;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::cli::args::{LoadArgs, SamplingArgs, SystemArgs};

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
    #[command(flatten)]
    pub system: SystemArgs,
    /// Longest reply in tokens.
    #[arg(short = 'n', long, value_name = "N")]
    pub max_tokens: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure prompt processing and generation speed (llama-bench's pp/tg).
    Bench(bench::BenchArgs),
    /// Generate one reply (chat-formatted unless --raw), streamed to stdout.
    Run(run::RunArgs),
    /// Show the logits at a prompt's last position, and a greedy continuation.
    Logits(logits::LogitsArgs),
    /// Perplexity of a text file (llama.cpp's method).
    Perplexity(perplexity::PerplexityArgs),
    /// One chat reply per line of a JSON-lines file.
    Batch(batch::BatchArgs),
    /// Show what a GGUF file holds: architecture, hyperparameters, tokenizer, tensors.
    Inspect(inspect::InspectArgs),
    /// Print a model's token ids for a text, as JSON (reads only the file's metadata).
    Tokenize(tokenize::TokenizeArgs),
    /// Write a synthetic BitNet b1.58 model in the real 2B4T layout.
    GenModel(gen_model::GenModelArgs),
    /// Convert a Hugging Face BitNet checkpoint (a folder or a hub repo) to a GGUF.
    Convert(convert::ConvertArgs),
    /// Show where the config file is, or write a commented one.
    Config {
        #[command(subcommand)]
        action: config_cmd::ConfigAction,
    },
    /// List the GGUF models on this machine (hub cache, models folders, given paths).
    Models(models::ModelsArgs),
    /// Download a model from the Hugging Face hub into its cache (resumable, verified).
    Download(download::DownloadArgs),
    /// Serve models over an OpenAI-compatible HTTP API, batching concurrent requests.
    Serve(serve::ServeArgs),
    /// Print a shell completion script, e.g. `bitnet-tui completions bash > ~/.local/share/bash-completion/completions/bitnet-tui`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// Parses the arguments, runs the command, prints an error once and maps it to an exit code:
/// 0 success, 1 failure, 2 usage error (clap).
pub fn main() -> ExitCode {
    quiet_engine_panics();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A panic on the engine's threads is caught by the engine and reported as an error event,
/// which each front end shows in its own way; the default hook would also print it (over the
/// chat screen, or beside `run`'s one-line error), so it only goes to the log.
fn quiet_engine_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread.name().is_some_and(|name| name.starts_with("bitnet-engine") || name.starts_with("bitnet-compute")) {
            tracing::error!("panic on {}: {info}", thread.name().unwrap_or_default());
        } else {
            default_hook(info);
        }
    }));
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => chat::run(&cli),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Logits(args)) => logits::run(args),
        Some(Command::Perplexity(args)) => perplexity::run(args),
        Some(Command::Batch(args)) => batch::run(args),
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Tokenize(args)) => tokenize::run(args),
        Some(Command::GenModel(args)) => gen_model::run(args),
        Some(Command::Convert(args)) => convert::run(args),
        Some(Command::Config { action }) => config_cmd::run(&action),
        Some(Command::Models(args)) => models::run(args),
        Some(Command::Download(args)) => download::run(args),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "bitnet-tui", &mut std::io::stdout());
            Ok(())
        }
    }
}
