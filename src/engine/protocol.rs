//! The channel protocol between a front end (the TUI, a headless command, a test) and the
//! inference worker thread.
//!
//! The worker owns the model, the tokenizer, the KV cache and the compute threads; the front end
//! only sends [`EngineCmd`]s and reads [`EngineEvent`]s. Nothing here refers to weights or kernels,
//! so a test can play either side: a fake engine for the UI, or a scripted front end for the engine.
//!
//! Conversation state: every `Generate` carries the *whole* conversation. The worker keeps the
//! tokens it already has in its KV cache and prefills only what changed, so a new user turn costs
//! only its own tokens, and regenerate / edit-and-resend / model switch need no extra commands.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::draft::DraftMode;
pub use crate::engine::sampler::SamplingParams;
use crate::engine::token_counter::TokenCounter;

/// Identifies one `Generate` request in the events it causes.
pub type RequestId = u64;

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }

    /// A conversation as every front end sends it: the system message first when there is one
    /// with text in it (a blank one would still change what some templates render), then `turns`.
    pub fn with_system(system: Option<&str>, turns: impl IntoIterator<Item = ChatMessage>) -> Vec<ChatMessage> {
        let system = system.filter(|s| !s.trim().is_empty()).map(|s| ChatMessage::new(Role::System, s));
        system.into_iter().chain(turns).collect()
    }
}

/// What to feed the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Prompt {
    /// A conversation, rendered with the model's chat format; the reply is the next assistant turn,
    /// or, when the last message is the assistant's with text, the rest of that message (the
    /// chat's "continue" of a stopped reply).
    Chat(Vec<ChatMessage>),
    /// Plain text completion: tokenized as is (BOS per the model), no chat format.
    Raw(String),
    /// Exact token ids (logit tests, benchmarks).
    Tokens(Vec<u32>),
}

/// What to do when the context window is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextPolicy {
    /// Stop the reply with [`StopReason::ContextFull`] (a prompt that does not fit is an error).
    #[default]
    Stop,
    /// Drop the oldest turns (never the system prompt) and prefill again.
    DropOldest,
}

/// Options for loading a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Compute threads; 0 means the number of physical cores.
    pub threads: usize,
    /// Context length cap; 0 means the model's own `context_length`.
    pub ctx: usize,
    pub context_policy: ContextPolicy,
    /// How to hold the LM head of a model whose head is stored in F16.
    pub lm_head: LmHead,
    /// Most prompt tokens one step of the scheduler evaluates (beside one token of every
    /// sequence that is generating). Larger chunks prefill a long prompt faster (a shorter time
    /// to first token); smaller ones keep the other sequences' tokens flowing (a shorter longest
    /// gap between their tokens while a prompt is read).
    pub prefill_chunk: usize,
    /// Most requests that run at once; later ones wait for a place.
    pub sequences: usize,
    /// Bytes of finished replies' caches kept for reuse (a conversation's next turn then prefills
    /// only its new tokens), least recently used freed first; `None` keeps at most four replies
    /// of together one context's positions.
    pub kept_cache_bytes: Option<usize>,
    /// Speculative decoding by prompt lookup ([`DraftMode`]): the same text at temperature 0,
    /// the same distribution when sampling, several tokens per pass where a reply repeats its
    /// input.
    #[serde(default)]
    pub draft: DraftMode,
    /// The KV cache's format.
    #[serde(default)]
    pub kv: KvType,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            ctx: 4096,
            context_policy: ContextPolicy::Stop,
            lm_head: LmHead::Q8,
            prefill_chunk: DEFAULT_PREFILL_CHUNK,
            sequences: DEFAULT_SEQUENCES,
            kept_cache_bytes: None,
            draft: DraftMode::default(),
            kv: KvType::F16,
        }
    }
}

/// Default of [`LoadOptions::prefill_chunk`]: enough tokens to reuse each weight row many times.
pub const DEFAULT_PREFILL_CHUNK: usize = 128;
/// Default of [`LoadOptions::sequences`].
pub const DEFAULT_SEQUENCES: usize = 8;

/// How the KV cache stores keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KvType {
    /// F16, as bitnet.cpp and llama.cpp keep it (exact against them).
    #[default]
    F16,
    /// Q8_0 blocks (ggml's layout, 8.5 bits a value): about half the bytes, so long contexts
    /// read half as much per token; logits move in the last digits.
    Q8,
}

/// The LM head's format for the output product. The embedding lookup always reads the file's
/// exact rows; a head stored in another format than F16 (e.g. SmolLM2's Q8_0) is used as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LmHead {
    /// The F16 rows from the file: exact (matches bitnet.cpp), twice the bytes of q8.
    F16,
    /// Int8 rows with a per-row scale, repacked at load (bitnet.cpp reports perplexity 17.120
    /// with an 8-bit head against 17.109 with F16).
    #[default]
    Q8,
    /// Q6_K super-blocks (6.56 bits per weight), repacked at load with ggml's reference
    /// quantizer; rows that are not whole 256-weight super-blocks fall back to q8.
    Q6,
    /// Q4_0 blocks (4.5 bits per weight, a quarter of F16's bytes), repacked at load; the
    /// smallest and least exact head.
    Q4,
}

/// A command from a front end to the worker. Requests (`Generate`, `Logits`, `Perplexity`) run
/// together: the worker steps every running request in one batched forward pass.
#[derive(Debug, Clone)]
pub enum EngineCmd {
    /// Load a GGUF file, replacing the current model (running requests are cancelled). Answered
    /// by `LoadProgress`… then `Ready` or `Error`; after an `Error` the previous model, if any,
    /// is still loaded (it is replaced only once the new one has loaded).
    Load { path: PathBuf, options: LoadOptions },
    /// Produce a reply. Answered by `PrefillProgress`…, `Token`…, `Stats`…, then `Done` (or `Error`).
    /// With `logprobs: Some(n)` each `Token` carries its log-probability and the `n` most likely
    /// tokens' (OpenAI's `logprobs` / `top_logprobs`).
    Generate { id: RequestId, prompt: Prompt, sampling: SamplingParams, max_tokens: usize, logprobs: Option<usize> },
    /// Evaluate a prompt and report its last position's logits, then continue greedily for
    /// `steps` tokens reporting each step's (the `logits` command). Answered by `Logits`… then `Done`.
    Logits { id: RequestId, prompt: Prompt, steps: usize },
    /// Perplexity of `text` in llama.cpp's way: non-overlapping windows of `ctx` tokens, each from
    /// an empty cache, the second half of each window scored. Answered by `Perplexity` events.
    Perplexity { id: RequestId, text: String, ctx: usize },
    /// Change a request's sampling settings; applies from its next sampled token.
    SetSampling { id: RequestId, sampling: SamplingParams },
    /// Stop a request (between steps), answered by its `Done` with `Cancelled`; the partial
    /// reply is kept.
    Cancel { id: RequestId },
    /// Drop the model and free its memory. Answered by `Unloaded`.
    Unload,
    /// End the worker thread.
    Shutdown,
}

/// Facts about the loaded model, for the stats panel and the model picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub name: String,
    /// `general.architecture`, e.g. `bitnet-b1.58` or `llama`.
    pub arch: String,
    /// Dominant weight type, e.g. `I2_S` or `Q4_1`.
    pub quant: String,
    pub n_params: u64,
    pub file_bytes: u64,
    pub n_layers: usize,
    pub vocab_size: usize,
    /// The context the KV cache was sized for.
    pub ctx_max: usize,
    pub threads: usize,
    /// The kernel path picked by runtime detection (`avx512`, `avx2`, `scalar`).
    pub kernel: String,
    /// The chat format in use (`bitnet`, `jinja`, …).
    pub chat_format: String,
    pub load_ms: f64,
}

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The model produced an end-of-generation token.
    EndOfText,
    /// `max_tokens` were generated.
    MaxTokens,
    /// A `Cancel` arrived.
    Cancelled,
    /// The context window is full and the policy is `Stop`.
    ContextFull,
}

/// Timing and size figures of one request, sent live (`Stats`) and at the end (`Done`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenStats {
    /// Tokens of the whole rendered prompt.
    pub prompt_tokens: usize,
    /// Of those, the ones that had to be prefilled (the rest were already in the KV cache).
    pub prefill_tokens: usize,
    pub prefill_ms: f64,
    pub prefill_tok_s: f64,
    /// From the request to the first generated token.
    pub ttft_ms: f64,
    pub generated_tokens: usize,
    pub decode_ms: f64,
    pub decode_tok_s: f64,
    /// Latency of the most recent token.
    pub last_token_ms: f64,
    pub ctx_used: usize,
    pub ctx_max: usize,
    /// Resident memory of the process.
    pub rss_bytes: u64,
    /// Bytes the KV caches of every sequence have allocated: running ones and those kept for
    /// reuse (part of `rss_bytes`).
    #[serde(default)]
    pub kv_bytes: u64,
    /// Drafted tokens verified so far (speculative decoding), and how many of them were kept.
    #[serde(default)]
    pub draft_tokens: usize,
    #[serde(default)]
    pub draft_accepted: usize,
}

impl GenStats {
    /// The share of drafted tokens that were kept, if any were drafted.
    pub fn draft_acceptance(&self) -> Option<f64> {
        (self.draft_tokens > 0).then(|| self.draft_accepted as f64 / self.draft_tokens as f64)
    }
}

/// The perplexity of a text, with llama.cpp's standard error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerplexityReport {
    pub ppl: f64,
    pub std_err: f64,
    pub windows_done: usize,
    pub windows: usize,
    pub scored_tokens: usize,
    pub text_tokens: usize,
    pub seconds: f64,
}

/// A token with its log-probability under the distribution it was sampled from (the logits after
/// the penalties, at temperature 1, before the top-k/top-p/min-p filters: llama-server's choice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenProb {
    pub token: u32,
    /// Its text; a control token's vocabulary entry (e.g. `<|eot_id|>`), broken UTF-8 as U+FFFD.
    pub text: String,
    /// The bytes it stands for (part of a character for byte tokens; empty for control tokens).
    pub bytes: Vec<u8>,
    pub logprob: f32,
}

/// The log-probabilities reported with a sampled token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprobs {
    pub chosen: TokenProb,
    /// The most likely tokens, most likely first.
    pub top: Vec<TokenProb>,
}

/// An event from the worker to the front end.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// Loading advanced; `fraction` is in 0..=1.
    LoadProgress { fraction: f32, stage: String },
    /// The model being loaded is in place: its tokenizer, for a front end that counts the
    /// tokens of typed text. Sent just before `Ready`.
    Tokenizer(TokenCounter),
    /// A model is loaded and ready.
    Ready(ModelInfo),
    /// Prefill advanced: `done` of `total` new prompt tokens are in the KV cache.
    PrefillProgress { id: RequestId, done: usize, total: usize },
    /// A piece of reply text (always whole UTF-8 characters; may be empty for control tokens)
    /// and the token that completed it; `logprobs` is set when the request asked for them.
    /// `token` is `None` (and `logprobs` too) for the end of an unfinished character when a reply
    /// stops in the middle of one: text, but no new token.
    Token { id: RequestId, token: Option<u32>, text: String, logprobs: Option<Box<TokenLogprobs>> },
    /// Live figures, sent after each generated token.
    Stats { id: RequestId, stats: GenStats },
    /// The request ended.
    Done { id: RequestId, reason: StopReason, stats: GenStats },
    /// Logits after the prompt (`step` 0, `token` None) or after feeding greedy token `token`.
    Logits { id: RequestId, step: usize, token: Option<u32>, logits: Vec<f32> },
    /// Perplexity so far (`finished` on the last window).
    Perplexity { id: RequestId, report: PerplexityReport, finished: bool },
    /// A command failed; `id` is set when it was a request.
    Error { id: Option<RequestId>, message: String },
    /// The model was dropped.
    Unloaded,
}
