//! Flag groups shared by several subcommands (and by the chat screen).

use clap::Args;
use serde::Deserialize;

use crate::engine::draft::DraftMode;
use crate::engine::protocol::{ContextPolicy, KvType, LmHead, LoadOptions};
use crate::engine::runtime::max_threads;
use crate::engine::sampler::{SamplingParams, SettingRange};

/// Sampling overrides; each one left out keeps the base value. The same fields are the
/// `[sampling]` table of config.toml and the optional keys of a `batch` input line.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingArgs {
    /// Temperature; 0 picks the most likely token (greedy).
    #[arg(long = "temp", value_name = "T", allow_negative_numbers = true, value_parser = at_least_zero)]
    pub temperature: Option<f32>,
    /// Keep only the K most likely tokens (0 = off).
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Keep the smallest set of tokens whose probability reaches P (1.0 = off).
    #[arg(long, value_name = "P", allow_negative_numbers = true, value_parser = zero_to_one)]
    pub top_p: Option<f32>,
    /// Drop tokens less likely than P times the most likely one (0 = off).
    #[arg(long, value_name = "P", allow_negative_numbers = true, value_parser = zero_to_one)]
    pub min_p: Option<f32>,
    /// Penalty for tokens seen in the last `--repeat-last-n` tokens (1.0 = off).
    #[arg(long, value_name = "R", allow_negative_numbers = true, value_parser = above_zero)]
    pub repeat_penalty: Option<f32>,
    /// How many recent tokens the repetition, presence and frequency penalties look at.
    #[arg(long, value_name = "N")]
    pub repeat_last_n: Option<usize>,
    /// Subtract P from the logit of every token among the recent ones (0 = off; OpenAI's).
    #[arg(long, value_name = "P", allow_negative_numbers = true, value_parser = penalty)]
    pub presence_penalty: Option<f32>,
    /// Subtract F per occurrence from the logit of each recent token (0 = off; OpenAI's).
    #[arg(long, value_name = "F", allow_negative_numbers = true, value_parser = penalty)]
    pub frequency_penalty: Option<f32>,
    /// Random seed, for reproducible sampling.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

/// A flag's number, checked against its setting's range.
fn number_in(text: &str, range: SettingRange) -> Result<f32, String> {
    let value = text.trim().parse::<f32>().map_err(|_| "not a number".to_string())?;
    range.check(value)
}

fn at_least_zero(text: &str) -> Result<f32, String> {
    number_in(text, SettingRange::AtLeastZero)
}

fn zero_to_one(text: &str) -> Result<f32, String> {
    number_in(text, SettingRange::ZeroToOne)
}

fn above_zero(text: &str) -> Result<f32, String> {
    number_in(text, SettingRange::AboveZero)
}

fn penalty(text: &str) -> Result<f32, String> {
    number_in(text, SettingRange::Penalty)
}

impl SamplingArgs {
    /// Applies the flags that were given on top of `base`.
    pub fn apply(&self, base: SamplingParams) -> SamplingParams {
        SamplingParams {
            temperature: self.temperature.unwrap_or(base.temperature),
            top_k: self.top_k.unwrap_or(base.top_k),
            top_p: self.top_p.unwrap_or(base.top_p),
            min_p: self.min_p.unwrap_or(base.min_p),
            repeat_penalty: self.repeat_penalty.unwrap_or(base.repeat_penalty),
            repeat_last_n: self.repeat_last_n.unwrap_or(base.repeat_last_n),
            presence_penalty: self.presence_penalty.unwrap_or(base.presence_penalty),
            frequency_penalty: self.frequency_penalty.unwrap_or(base.frequency_penalty),
            seed: self.seed.unwrap_or(base.seed),
        }
    }
}

/// The system prompt flag of `run` and the chat screen.
#[derive(Debug, Clone, Default, Args)]
pub struct SystemArgs {
    /// A system message before the conversation (the chat: of every new chat without a persona;
    /// overrides `system_prompt` in config.toml).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
}

/// Flags that shape how a model is loaded.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// Compute threads (default: the number of physical cores).
    #[arg(short = 't', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Context length (default: 4096, capped by the model's own).
    #[arg(long, value_name = "N")]
    pub ctx: Option<usize>,
    /// When the context is full: stop the reply, or drop the oldest turns and continue.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub context_policy: Option<ContextPolicyArg>,
    /// The LM head's format: f16 (exact, as stored), q8 (int8 rows repacked at load, faster), q6 or q4.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub lm_head: Option<LmHead>,
    /// Most prompt tokens one engine step reads (default 128): larger chunks give a shorter time
    /// to first token, smaller ones keep other requests' tokens flowing while a prompt is read.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub prefill_chunk: Option<u64>,
    /// Speculative decoding: `ngram` (default; drafts up to 8 tokens by looking the last few up
    /// in the conversation, then verifies them in one pass: same text at temperature 0, same
    /// distribution when sampling), `ngram:K` (up to K, 1-16), or `none`.
    #[arg(long, value_name = "MODE")]
    pub draft: Option<DraftMode>,
    /// The KV cache's format: f16 (default, exact against bitnet.cpp) or q8 (Q8_0 blocks, about
    /// half the bytes: long contexts read half as much per token).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub kv: Option<KvType>,
}

/// `--context-policy` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ContextPolicyArg {
    Stop,
    DropOldest,
}

impl LoadArgs {
    /// Applies the flags that were given on top of `base`.
    pub fn apply(&self, base: LoadOptions) -> LoadOptions {
        LoadOptions {
            threads: match self.threads {
                Some(n) if n > max_threads() => {
                    eprintln!("warning: --threads {n} is more than this machine can use; using {}", max_threads());
                    max_threads()
                }
                n => n.unwrap_or(base.threads),
            },
            ctx: self.ctx.unwrap_or(base.ctx),
            context_policy: match self.context_policy {
                Some(ContextPolicyArg::Stop) => ContextPolicy::Stop,
                Some(ContextPolicyArg::DropOldest) => ContextPolicy::DropOldest,
                None => base.context_policy,
            },
            lm_head: self.lm_head.unwrap_or(base.lm_head),
            prefill_chunk: self.prefill_chunk.map_or(base.prefill_chunk, |n| n as usize),
            sequences: base.sequences,
            kept_cache_bytes: base.kept_cache_bytes,
            draft: self.draft.unwrap_or(base.draft),
            kv: self.kv.unwrap_or(base.kv),
        }
    }
}
