//! `bitnet-tui batch`: one chat reply per JSON line of input, results appended as they finish.
//!
//! Input lines: `{"prompt": "...", "system": "...", "max_tokens": 256, "temperature": 0.7,
//! "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1, "seed": 1}` (all but
//! `prompt` optional; defaults from the command line). A bad line is reported on stderr and skipped.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::engine::protocol::{ChatMessage, EngineCmd, EngineEvent, GenStats, LoadOptions, Prompt, Role, StopReason};
use crate::engine::sampler::SamplingParams;

use super::args::{LoadArgs, SamplingArgs};
use super::engine::load;

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The GGUF model.
    #[arg(short, long)]
    pub model: PathBuf,
    /// JSON lines of prompts.
    #[arg(short, long)]
    pub input: PathBuf,
    /// Where to write one JSON line per reply.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Default most tokens per reply.
    #[arg(short = 'n', long = "max-tokens", default_value_t = 512)]
    pub max_tokens: usize,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchLine {
    prompt: String,
    system: Option<String>,
    max_tokens: Option<usize>,
    temperature: Option<f32>,
    top_k: Option<usize>,
    top_p: Option<f32>,
    min_p: Option<f32>,
    repeat_penalty: Option<f32>,
    repeat_last_n: Option<usize>,
    seed: Option<u64>,
}

#[derive(Serialize)]
struct BatchResult<'a> {
    line: usize,
    prompt: &'a str,
    text: String,
    tokens: usize,
    stop_reason: StopReason,
    stats: GenStats,
}

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    let input = std::fs::File::open(&args.input).map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    let mut output = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.output)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.output.display()))?;
    let (mut engine, _info) = load(&args.model, args.load.apply(LoadOptions::default()))?;
    let defaults = args.sampling.apply(SamplingParams::default());
    let (mut done, mut skipped) = (0usize, 0usize);
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let number = i + 1;
        let line = line.map_err(|e| anyhow::anyhow!("{}: line {number}: {e}", args.input.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let req: BatchLine = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: line {number}: skipped: {e}", args.input.display());
                skipped += 1;
                continue;
            }
        };
        let sampling = SamplingParams {
            temperature: req.temperature.unwrap_or(defaults.temperature),
            top_k: req.top_k.unwrap_or(defaults.top_k),
            top_p: req.top_p.unwrap_or(defaults.top_p),
            min_p: req.min_p.unwrap_or(defaults.min_p),
            repeat_penalty: req.repeat_penalty.unwrap_or(defaults.repeat_penalty),
            repeat_last_n: req.repeat_last_n.unwrap_or(defaults.repeat_last_n),
            seed: req.seed.unwrap_or(defaults.seed),
        };
        let mut messages: Vec<ChatMessage> = req.system.iter().map(|s| ChatMessage::new(Role::System, s)).collect();
        messages.push(ChatMessage::new(Role::User, req.prompt.clone()));
        let id = number as u64;
        engine.send(EngineCmd::Generate {
            id,
            prompt: Prompt::Chat(messages),
            sampling,
            max_tokens: req.max_tokens.unwrap_or(args.max_tokens),
        });
        let mut text = String::new();
        let mut tokens = 0;
        let result = loop {
            match engine.recv_blocking() {
                Some(EngineEvent::Token { text: t, .. }) => {
                    text.push_str(&t);
                    tokens += 1;
                }
                Some(EngineEvent::Done { reason, stats, .. }) => break Ok((reason, stats)),
                Some(EngineEvent::Error { message, .. }) => break Err(message),
                Some(_) => {}
                None => anyhow::bail!("the engine thread stopped unexpectedly"),
            }
        };
        match result {
            Ok((stop_reason, stats)) => {
                let record = BatchResult { line: number, prompt: &req.prompt, text, tokens, stop_reason, stats };
                writeln!(output, "{}", serde_json::to_string(&record)?)?;
                output.flush()?;
                done += 1;
            }
            Err(message) => {
                eprintln!("{}: line {number}: skipped: {message}", args.input.display());
                skipped += 1;
            }
        }
    }
    eprintln!("{done} replies written to {}, {skipped} lines skipped", args.output.display());
    Ok(())
}
