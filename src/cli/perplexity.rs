//! `bitnet-tui perplexity`: llama.cpp's perplexity method on a text file.

use std::path::PathBuf;

use clap::Args;

use crate::engine::protocol::{EngineCmd, EngineEvent, KvType, LoadOptions};

use super::engine::{load, next_event};

#[derive(Debug, Args)]
pub struct PerplexityArgs {
    /// The GGUF model.
    #[arg(short, long)]
    pub model: PathBuf,
    /// The text to score.
    #[arg(short, long)]
    pub file: PathBuf,
    /// Window length in tokens; the second half of each window is scored.
    #[arg(long, default_value_t = 512)]
    pub ctx: usize,
    /// Compute threads.
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// The KV cache's format (q8: Q8_0 blocks, to measure what they cost).
    #[arg(long, value_enum, default_value = "f16")]
    pub kv: KvType,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PerplexityArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let options =
        LoadOptions { threads: args.threads.unwrap_or(0), ctx: args.ctx, kv: args.kv, ..LoadOptions::default() };
    let (mut engine, _info) = load(&args.model, options)?;
    engine.send(EngineCmd::Perplexity { id: 1, text, ctx: args.ctx });
    loop {
        match next_event(&mut engine)? {
            EngineEvent::Perplexity { report, finished, .. } => {
                eprintln!("[{}/{}] ppl {:.4}", report.windows_done, report.windows, report.ppl);
                if finished {
                    if args.json {
                        println!("{}", serde_json::to_string_pretty(&report)?);
                    } else {
                        println!(
                            "PPL = {:.4} +/- {:.5} ({} windows of {}, {} tokens scored, {:.1} s)",
                            report.ppl, report.std_err, report.windows, args.ctx, report.scored_tokens, report.seconds
                        );
                    }
                    return Ok(());
                }
            }
            EngineEvent::Done { .. } => anyhow::bail!("perplexity was cancelled"),
            _ => {}
        }
    }
}
