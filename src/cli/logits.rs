//! `bitnet-tui logits`: the logits at a prompt's last position (top K, or all of them to a file),
//! and optionally a greedy continuation with each step's top 5 — the shape of the fixture's
//! reference files.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::engine::protocol::{ChatMessage, EngineCmd, EngineEvent, LmHead, LoadOptions, Prompt, Role};

use super::engine::{load, next_event};

#[derive(Debug, Args)]
pub struct LogitsArgs {
    /// The GGUF model.
    #[arg(short, long)]
    pub model: PathBuf,
    /// Exact token ids, comma separated (include BOS yourself).
    #[arg(long, value_delimiter = ',', conflicts_with = "prompt", required_unless_present = "prompt")]
    pub tokens: Option<Vec<u32>>,
    /// A user message in the chat format (or, with --raw, plain text).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Tokenize --prompt as plain text, without the chat format.
    #[arg(long)]
    pub raw: bool,
    /// How many of the highest logits to print.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Write all logits of the last prompt position to FILE as little-endian f32.
    #[arg(long, value_name = "FILE")]
    pub all: Option<PathBuf>,
    /// Continue greedily for N tokens, reporting each step's id and top 5.
    #[arg(long, default_value_t = 0)]
    pub steps: usize,
    /// Compute threads.
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// The LM head's format (f16 is exact; q8 is the default everywhere for speed).
    #[arg(long, value_enum, default_value = "q8")]
    pub lm_head: LmHead,
}

#[derive(Serialize)]
struct Step {
    step: usize,
    id: u32,
    top5: Vec<(u32, f32)>,
}

#[derive(Serialize)]
struct LogitsJson {
    top: Vec<(u32, f32)>,
    steps: Vec<Step>,
}

/// The `k` largest logits, highest first (lowest id first among equals).
pub fn top_k(logits: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
    ids.sort_by(|&a, &b| logits[b as usize].total_cmp(&logits[a as usize]).then(a.cmp(&b)));
    ids.into_iter().take(k).map(|i| (i, logits[i as usize])).collect()
}

pub fn run(args: LogitsArgs) -> anyhow::Result<()> {
    let prompt = match (args.tokens, args.prompt) {
        (Some(ids), _) => Prompt::Tokens(ids),
        (None, Some(text)) if args.raw => Prompt::Raw(text),
        (None, Some(text)) => Prompt::Chat(vec![ChatMessage::new(Role::User, text)]),
        (None, None) => unreachable!("clap requires --tokens or --prompt"),
    };
    let options = LoadOptions { threads: args.threads.unwrap_or(0), lm_head: args.lm_head, ..LoadOptions::default() };
    let (mut engine, _info) = load(&args.model, options)?;
    engine.send(EngineCmd::Logits { id: 1, prompt, steps: args.steps });
    let mut out = LogitsJson { top: Vec::new(), steps: Vec::new() };
    // Step s reports greedy token s and the top 5 of the logits it was chosen from.
    let mut previous: Vec<f32> = Vec::new();
    loop {
        match next_event(&mut engine)? {
            EngineEvent::Logits { step: 0, logits, .. } => {
                out.top = top_k(&logits, args.top);
                if let Some(path) = &args.all {
                    let bytes: Vec<u8> = logits.iter().flat_map(|v| v.to_le_bytes()).collect();
                    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                }
                previous = logits;
            }
            EngineEvent::Logits { step, token: Some(id), logits, .. } => {
                out.steps.push(Step { step: step - 1, id, top5: top_k(&previous, 5) });
                previous = logits;
            }
            EngineEvent::Done { .. } => break,
            _ => {}
        }
    }
    writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
