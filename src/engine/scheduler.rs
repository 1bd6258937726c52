//! The step scheduler (continuous batching): each step gathers one decode row of every request
//! that is generating plus chunks of the prompts being read, up to `prefill_chunk` prompt tokens,
//! runs them as one batch (every weight read once for all of them), and hands each request its
//! logits. A request joins at the next step after it arrives and leaves when it ends; at most
//! `sequences` run at once, the others wait in arrival order.
//!
//! A finished reply's sequence is kept (its KV cache and tokens) for the next request whose
//! prompt starts with the same tokens, which then prefills only what differs: a new turn of a
//! conversation, a regenerated or edited reply.

use std::collections::VecDeque;
use std::time::Instant;

use super::draft::Drafter;
use super::kv_cache::KvPool;
use super::model::{BatchRow, RunState};
use super::protocol::{ContextPolicy, EngineEvent, PerplexityReport, Prompt, RequestId, SamplingParams, StopReason};
use super::runtime::Engine;
use super::sampler::Sampler;
use super::sequence::{Finish, Generation, Perplexity, SeqTokens, Sequence, Task};
use super::tokenizer::StreamDecoder;
use crate::kernels::mmap::return_freed_memory;

/// Finished replies' sequences kept for reuse without [`LoadOptions::kept_cache_bytes`]: at most
/// this many and together at most one context's positions (the memory one full conversation
/// takes); the least recently used is freed first.
///
/// [`LoadOptions::kept_cache_bytes`]: super::protocol::LoadOptions::kept_cache_bytes
const KEPT_SEQUENCES: usize = 4;

/// Decode rows (sampled tokens and drafts) a step of several generating sequences fills with
/// drafts, at most. A pass reads every weight once whatever its rows, so while it is bound by
/// memory, as one sequence's step is, a few more rows cost little and each kept draft saves a
/// pass: a lone sequence drafts as far as its drafter goes. A step of several sequences already
/// computes a group of four tokens per weight block and is bound by arithmetic, where a rejected
/// draft row costs as much as a sequence's token (2B4T, 4 sequences of `batch`: 7% slower with
/// unlimited drafts): drafts only fill the group, and none are made from four sequences on.
const DRAFT_BATCH_ROWS: usize = 4;

/// A request to the scheduler (the request commands of the protocol).
#[derive(Debug, Clone)]
pub enum Request {
    Generate { id: RequestId, prompt: Prompt, sampling: SamplingParams, max_tokens: usize, logprobs: Option<usize> },
    Logits { id: RequestId, prompt: Prompt, steps: usize },
    Perplexity { id: RequestId, text: String, ctx: usize },
}

impl Request {
    pub fn id(&self) -> RequestId {
        match self {
            Self::Generate { id, .. } | Self::Logits { id, .. } | Self::Perplexity { id, .. } => *id,
        }
    }
}

pub struct Scheduler {
    engine: Engine,
    running: Vec<Sequence>,
    waiting: VecDeque<Request>,
    /// Finished replies' sequences, least recently used first.
    kept: Vec<SeqTokens>,
    /// The current step's rows, and how many each running request fed.
    rows: Vec<BatchRow>,
    fed: Vec<usize>,
    /// The activations of a step, and its logits, which each request samples in place.
    state: RunState,
}

impl Scheduler {
    pub fn new(engine: Engine) -> Self {
        Self {
            state: RunState::new(engine.info.threads),
            engine,
            running: Vec::new(),
            waiting: VecDeque::new(),
            kept: Vec::new(),
            rows: Vec::new(),
            fed: Vec::new(),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Changes how many prompt tokens a step reads (see [`LoadOptions::prefill_chunk`]).
    pub fn set_prefill_chunk(&mut self, tokens: usize) {
        self.engine.options.prefill_chunk = tokens.max(1);
    }

    /// The requests running or waiting.
    pub fn request_ids(&self) -> Vec<RequestId> {
        self.running.iter().map(|s| s.id).chain(self.waiting.iter().map(Request::id)).collect()
    }

    /// Whether no request is running or waiting.
    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }

    /// Queues a request; it starts at the next step with a free place.
    pub fn submit(&mut self, request: Request) {
        self.waiting.push_back(request);
    }

    /// Stops a request, running or waiting, with `Done` / `Cancelled`; an unknown id is ignored
    /// (it has already ended).
    pub fn cancel(&mut self, id: RequestId, emit: &mut dyn FnMut(EngineEvent)) {
        if let Some(i) = self.waiting.iter().position(|r| r.id() == id) {
            self.waiting.remove(i);
            emit(EngineEvent::Done { id, reason: StopReason::Cancelled, stats: Default::default() });
        } else if let Some(i) = self.running.iter().position(|s| s.id == id) {
            let seq = self.running.remove(i);
            end(&mut self.engine, &mut self.kept, seq, Finish::Done(StopReason::Cancelled), emit);
        }
    }

    /// Stops every request.
    pub fn cancel_all(&mut self, emit: &mut dyn FnMut(EngineEvent)) {
        for id in self.request_ids() {
            self.cancel(id, emit);
        }
    }

    /// Changes a request's sampling from its next token on; settings out of range are refused
    /// with an `Error` and the request keeps its old ones.
    pub fn set_sampling(&mut self, id: RequestId, params: SamplingParams, emit: &mut dyn FnMut(EngineEvent)) {
        if let Err(message) = params.validate() {
            emit(EngineEvent::Error { id: Some(id), message });
        } else if let Some(seq) = self.running.iter_mut().find(|s| s.id == id) {
            seq.set_sampling(params);
        } else if let Some(Request::Generate { sampling, .. }) = self.waiting.iter_mut().find(|r| r.id() == id) {
            *sampling = params;
        }
    }

    /// Admits waiting requests, runs one batch, and lets each request take its logits.
    pub fn step(&mut self, emit: &mut dyn FnMut(EngineEvent)) {
        while self.running.len() < self.engine.options.sequences {
            let Some(request) = self.waiting.pop_front() else { break };
            let id = request.id();
            match self.start(request) {
                Ok(seq) => self.running.push(seq),
                Err(e) => emit(EngineEvent::Error { id: Some(id), message: format!("{e:#}") }),
            }
        }
        if self.running.is_empty() {
            return;
        }

        // Every generating request's next token, and prompt chunks in arrival order; rows stay
        // grouped by request, as each request's logits come back in row order.
        self.rows.clear();
        self.fed.clear();
        let mut budget = self.engine.options.prefill_chunk;
        let decoding = self.running.iter().filter(|s| s.decoding()).count();
        let mut draft_rows = if decoding == 1 { usize::MAX } else { DRAFT_BATCH_ROWS.saturating_sub(decoding) };
        for seq in self.running.iter_mut().filter(|s| s.decoding()) {
            draft_rows -= seq.draft(&self.engine, draft_rows);
        }
        for seq in &self.running {
            let fed = if seq.decoding() {
                // The sampled token and its draft, all decode rows.
                seq.push_rows(usize::MAX, &mut self.rows)
            } else {
                let fed = seq.push_rows(budget, &mut self.rows);
                budget -= fed;
                fed
            };
            self.fed.push(fed);
        }

        let logits = match self.engine.run_batch(&mut self.state, &self.rows) {
            Ok(logits) => logits,
            Err(e) => {
                // Not expected (the rows are built to fit); end the step's requests, not the engine.
                let message = format!("{e:#}");
                for seq in std::mem::take(&mut self.running) {
                    emit(EngineEvent::Error { id: Some(seq.id), message: message.clone() });
                    self.engine.kv.free(seq.seq.slot);
                }
                return;
            }
        };

        let vocab = self.engine.model.config.vocab_size;
        let mut at = 0;
        let mut still = Vec::with_capacity(self.running.len());
        let fed_rows = std::mem::take(&mut self.fed);
        for (mut seq, &fed) in std::mem::take(&mut self.running).into_iter().zip(&fed_rows) {
            let n = seq.logits_rows(fed) * vocab;
            let logits = &mut logits[at..at + n];
            at += n;
            if fed == 0 {
                still.push(seq);
                continue;
            }
            match seq.after_step(&mut self.engine, fed, logits, emit) {
                Ok(None) => still.push(seq),
                Ok(Some(finish)) => end(&mut self.engine, &mut self.kept, seq, finish, emit),
                Err(e) => {
                    emit(EngineEvent::Error { id: Some(seq.id), message: format!("{e:#}") });
                    self.engine.kv.free(seq.seq.slot);
                }
            }
        }
        self.running = still;
        self.fed = fed_rows;
    }

    /// A request's sequence, ready for its first step.
    fn start(&mut self, request: Request) -> anyhow::Result<Sequence> {
        let e = &mut self.engine;
        let ctx = e.ctx_max();
        match request {
            Request::Generate { id, prompt, sampling, max_tokens, logprobs } => {
                sampling.validate().map_err(anyhow::Error::msg)?;
                let mut tokens = e.prompt_tokens(&prompt)?;
                anyhow::ensure!(!tokens.is_empty(), "the prompt is empty");
                if tokens.len() >= ctx {
                    tokens = match e.options.context_policy {
                        ContextPolicy::Stop => anyhow::bail!(
                            "the prompt has {} tokens but the context holds {ctx}; raise --ctx or use \
                             --context-policy drop-oldest",
                            tokens.len()
                        ),
                        // Leave a quarter of the context for the reply.
                        ContextPolicy::DropOldest => e.fit_prompt(&prompt, ctx - ctx / 4)?,
                    };
                }
                let seq = self.reuse_or_alloc(&tokens);
                let task = Task::Generate(Box::new(Generation {
                    prompt,
                    prompt_tokens: tokens,
                    sampler: Sampler::new(sampling),
                    decoder: StreamDecoder::new(),
                    max_tokens,
                    logprobs,
                    text: String::new(),
                    reply: Vec::new(),
                    drafter: Drafter::new(self.engine.options.draft),
                    drafted: 0,
                    draft_tokens: 0,
                    draft_accepted: 0,
                }));
                Ok(Sequence::new(id, seq, task))
            }
            Request::Logits { id, prompt, steps } => {
                let tokens = e.prompt_tokens(&prompt)?;
                if tokens.is_empty() || tokens.len() + steps > ctx {
                    anyhow::bail!("{} prompt tokens + {steps} steps do not fit the context of {ctx}", tokens.len());
                }
                // A fresh sequence, so the prompt is evaluated as the references do.
                let seq = SeqTokens { slot: e.kv.alloc(), tokens, held: 0 };
                Ok(Sequence::new(id, seq, Task::Logits { steps, step: 0 }))
            }
            Request::Perplexity { id, text, ctx: window } => {
                let add_bos = e.tokenizer.add_bos_default();
                let tokens = e.tokenizer.encode(&text, add_bos, false)?;
                if window < 4 || window > ctx {
                    anyhow::bail!("--ctx {window} must be between 4 and the loaded context ({ctx})");
                }
                let windows = tokens.len() / window;
                if windows == 0 {
                    anyhow::bail!("the text has {} tokens, fewer than one window of {window}", tokens.len());
                }
                let p = Perplexity {
                    ctx: window,
                    bos: e.tokenizer.bos().filter(|_| add_bos),
                    window: 0,
                    started: Instant::now(),
                    nll: 0.0,
                    nll2: 0.0,
                    report: PerplexityReport { windows, text_tokens: tokens.len(), ..Default::default() },
                    text: tokens,
                };
                let seq = SeqTokens { slot: e.kv.alloc(), tokens: p.window_tokens(0), held: 0 };
                Ok(Sequence::new(id, seq, Task::Perplexity(p)))
            }
        }
    }

    /// The kept sequence sharing the longest prefix with `tokens`, cut back to that prefix (but
    /// the last token, whose logits are needed), or a new one. A kept sequence that holds more
    /// than the shared prefix (another conversation with the same start, or a reply being
    /// regenerated) stays kept, and the prefix is copied, so its own next turn still finds it.
    fn reuse_or_alloc(&mut self, tokens: &[u32]) -> SeqTokens {
        let common = |s: &SeqTokens| s.tokens.iter().zip(tokens).take_while(|(a, b)| a == b).count();
        let best = (0..self.kept.len()).filter(|&i| common(&self.kept[i]) > 0).max_by_key(|&i| common(&self.kept[i]));
        let Some(i) = best else {
            return SeqTokens { slot: self.engine.kv.alloc(), tokens: tokens.to_vec(), held: 0 };
        };
        let held = common(&self.kept[i]).min(tokens.len() - 1);
        if held < self.kept[i].held {
            let slot = self.engine.kv.fork(self.kept[i].slot, held);
            return SeqTokens { slot, tokens: tokens.to_vec(), held };
        }
        let mut seq = self.kept.remove(i);
        seq.held = held;
        self.engine.kv.truncate(seq.slot, seq.held);
        seq.tokens = tokens.to_vec();
        seq
    }
}

/// Ends a request: a reply's sequence is kept for reuse, any other is freed.
fn end(
    engine: &mut Engine,
    kept: &mut Vec<SeqTokens>,
    seq: Sequence,
    finish: Finish,
    emit: &mut dyn FnMut(EngineEvent),
) {
    let keep = matches!(seq.task, Task::Generate(_));
    let tokens = seq.finish(engine, finish, emit);
    if !keep {
        engine.kv.free(tokens.slot);
        return_freed_memory();
        return;
    }
    kept.push(tokens);
    let ctx = engine.ctx_max();
    let budget = engine.options.kept_cache_bytes;
    // A budget counts what the slabs have allocated, not the positions held: a reused sequence
    // keeps the room it grew to, and that room is resident memory too.
    let too_many = |kv: &KvPool, kept: &[SeqTokens]| match budget {
        Some(bytes) => kept.iter().map(|s| kv.seq_bytes(s.slot)).sum::<usize>() > bytes,
        None => kept.len() > KEPT_SEQUENCES || kept.iter().map(|s| s.held).sum::<usize>() > ctx,
    };
    let mut freed = false;
    while too_many(&engine.kv, kept) {
        let oldest = kept.remove(0);
        engine.kv.free(oldest.slot);
        freed = true;
    }
    // A cache is hundreds of small slabs grown piece by piece: without a trim, glibc keeps their
    // pages, and a server's resident size creeps up request after request.
    if freed {
        return_freed_memory();
    }
}
