//! `bitnet-tui run`: one reply, streamed to stdout, with a stats line on stderr.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::engine::protocol::{ChatMessage, EngineCmd, EngineEvent, GenStats, LoadOptions, Prompt, Role, StopReason};
use crate::engine::sampler::SamplingParams;

use super::args::{LoadArgs, SamplingArgs, SystemArgs};
use super::engine::{load, next_event};
use super::input::{model_or_recent, read_text};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The GGUF model (default: the one the chat loaded most recently).
    #[arg(short, long)]
    pub model: Option<PathBuf>,
    /// The user message (or, with --raw, the text to continue); without it, -p or --prompt-file,
    /// standard input is read.
    #[arg(value_name = "PROMPT", conflicts_with_all = ["prompt", "prompt_file"])]
    pub text: Option<String>,
    /// The user message, as a flag.
    #[arg(short, long, conflicts_with = "prompt_file")]
    pub prompt: Option<String>,
    /// Read the prompt from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,
    #[command(flatten)]
    pub system: SystemArgs,
    /// Continue the text as is, without the chat format.
    #[arg(long)]
    pub raw: bool,
    /// Most tokens to generate.
    #[arg(short = 'n', long = "max-tokens", default_value_t = 512)]
    pub max_tokens: usize,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Print one JSON object {text, tokens, stop_reason, stats} instead of streaming.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RunJson {
    text: String,
    tokens: Vec<u32>,
    stop_reason: StopReason,
    stats: GenStats,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let text = read_text(args.text.or(args.prompt), args.prompt_file.as_deref(), "the prompt")?;
    let model = model_or_recent(args.model)?;
    let prompt = if args.raw {
        Prompt::Raw(text)
    } else {
        // As the chat sends it: the newline `echo` or an editor leaves at the end is not part of it.
        let user = ChatMessage::new(Role::User, text.trim_end());
        Prompt::Chat(ChatMessage::with_system(args.system.system.as_deref(), [user]))
    };
    let (mut engine, _info) = load(&model, args.load.apply(LoadOptions::default()))?;
    let sampling = args.sampling.apply(SamplingParams::default());
    engine.send(EngineCmd::Generate { id: 1, prompt, sampling, max_tokens: args.max_tokens, logprobs: None });

    let mut out = RunJson {
        text: String::new(),
        tokens: Vec::new(),
        stop_reason: StopReason::EndOfText,
        stats: GenStats::default(),
    };
    let mut stdout = std::io::stdout().lock();
    loop {
        match next_event(&mut engine)? {
            EngineEvent::Token { token, text, .. } => {
                out.tokens.extend(token);
                if !args.json {
                    stdout.write_all(text.as_bytes())?;
                    stdout.flush()?;
                }
                out.text.push_str(&text);
            }
            EngineEvent::Done { reason, stats, .. } => {
                out.stop_reason = reason;
                out.stats = stats;
                break;
            }
            _ => {}
        }
    }
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string(&out)?)?;
    } else {
        writeln!(stdout)?;
        eprintln!("{}", stats_line(&out.stats, out.stop_reason));
    }
    Ok(())
}

/// `[ prompt 37 tok (37 new) 341.5 tok/s | generation 12 tok 128.0 tok/s | ttft 110 ms | context 49/4096
/// | drafts 75% of 8 kept | end-of-text ]` (the drafts part only when something was drafted).
pub fn stats_line(s: &GenStats, reason: StopReason) -> String {
    let drafts = s
        .draft_acceptance()
        .map(|rate| format!(" | drafts {:.0}% of {} kept", rate * 100.0, s.draft_tokens))
        .unwrap_or_default();
    format!(
        "[ prompt {} tok ({} new) {:.1} tok/s | generation {} tok {:.1} tok/s | ttft {:.0} ms | context {}/{}{drafts} | {} ]",
        s.prompt_tokens,
        s.prefill_tokens,
        s.prefill_tok_s,
        s.generated_tokens,
        s.decode_tok_s,
        s.ttft_ms,
        s.ctx_used,
        s.ctx_max,
        serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    )
}
