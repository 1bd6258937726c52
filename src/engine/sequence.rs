//! One running request between scheduler steps: its sequence (a KV slot and the tokens it holds),
//! the tokens still to feed, and what to do with the logits it gets back: sample a reply, report
//! logits, or score perplexity.

use std::time::Instant;

use super::draft::Drafter;
use super::kv_cache::SeqId;
use super::memory::rss_bytes;
use super::model::{BatchRow, RowKind};
use super::protocol::{
    ContextPolicy, EngineEvent, GenStats, PerplexityReport, Prompt, RequestId, SamplingParams, StopReason,
    TokenLogprobs, TokenProb,
};
use super::runtime::{drop_oldest_tokens, Engine};
use super::sampler::{argmax, Sampler};
use super::tokenizer::StreamDecoder;

/// A sequence's tokens and its place in the KV pool.
#[derive(Debug, Clone)]
pub(super) struct SeqTokens {
    pub slot: SeqId,
    /// The tokens whose keys and values are in the slot, position by position (`..held`), then
    /// the ones still to feed.
    pub tokens: Vec<u32>,
    pub held: usize,
}

impl SeqTokens {
    /// Tokens still to feed.
    pub fn pending(&self) -> usize {
        self.tokens.len() - self.held
    }
}

/// How a request ended.
pub(super) enum Finish {
    /// With a `Done` event.
    Done(StopReason),
    /// Its last event already said so (perplexity's `finished`).
    Reported,
}

/// What a request does with its logits.
pub(super) enum Task {
    Generate(Box<Generation>),
    /// Greedy steps, reporting every step's logits (the `logits` command).
    Logits {
        steps: usize,
        step: usize,
    },
    Perplexity(Perplexity),
}

/// A reply being sampled.
pub(super) struct Generation {
    pub prompt: Prompt,
    /// The prompt's tokens as fed (after fitting the context).
    pub prompt_tokens: Vec<u32>,
    pub sampler: Sampler,
    pub decoder: StreamDecoder,
    pub max_tokens: usize,
    /// How many alternatives each token's log-probabilities list, when they are wanted.
    pub logprobs: Option<usize>,
    pub text: String,
    pub reply: Vec<u32>,
    /// Prompt lookup, when drafting is on.
    pub drafter: Option<Drafter>,
    /// Drafted tokens at the end of the sequence's tokens, fed after the sampled one.
    pub drafted: usize,
    /// Drafted tokens verified so far, and kept.
    pub draft_tokens: usize,
    pub draft_accepted: usize,
}

/// llama.cpp's perplexity over windows of a text, each from an empty cache.
pub(super) struct Perplexity {
    /// The whole text's tokens.
    pub text: Vec<u32>,
    pub ctx: usize,
    /// BOS replaces each window's first token when the model adds one.
    pub bos: Option<u32>,
    pub window: usize,
    pub started: Instant,
    pub nll: f64,
    pub nll2: f64,
    pub report: PerplexityReport,
}

impl Perplexity {
    /// Window `w`'s tokens.
    pub fn window_tokens(&self, w: usize) -> Vec<u32> {
        let mut window = self.text[w * self.ctx..(w + 1) * self.ctx].to_vec();
        if let Some(bos) = self.bos {
            window[0] = bos;
        }
        window
    }

    /// Whether position `pos`'s logits are scored: in the second half of the window, but not
    /// the last (nothing follows it).
    fn scores(ctx: usize, pos: usize) -> bool {
        pos >= ctx / 2 && pos + 1 < ctx
    }
}

/// Timestamps of one request, turned into [`GenStats`].
pub(super) struct Clock {
    started: Instant,
    prefill_done: Option<Instant>,
    first_token: Option<Instant>,
    last_token: Option<Instant>,
    prev_token: Option<Instant>,
}

impl Clock {
    pub fn start() -> Self {
        Self { started: Instant::now(), prefill_done: None, first_token: None, last_token: None, prev_token: None }
    }

    fn token(&mut self) {
        let now = Instant::now();
        self.first_token.get_or_insert(now);
        self.prev_token = self.last_token.replace(now);
    }
}

/// A running request.
pub(super) struct Sequence {
    pub id: RequestId,
    pub seq: SeqTokens,
    /// What its next rows are: a sampled token is a decode row; the tokens of a prompt (or of
    /// a context shifted under drop-oldest) are prefill rows, however the scheduler cuts them
    /// into chunks and however much of them a kept cache already holds, unless the whole prompt
    /// is one token (one row, as bitnet.cpp evaluates it). So a row's kind depends on the
    /// request alone, never on the schedule or the cache: a regenerated reply equals the first.
    kind: RowKind,
    /// Where the current feed started, for prefill progress.
    feed_start: usize,
    /// Tokens the first feed had to evaluate (the rest of the prompt was in the cache).
    prefill_tokens: usize,
    pub task: Task,
    clock: Clock,
}

impl Sequence {
    pub fn new(id: RequestId, seq: SeqTokens, task: Task) -> Self {
        let prefill_tokens = seq.pending();
        let kind = if seq.tokens.len() == 1 { RowKind::Decode } else { RowKind::Prefill };
        let feed_start = seq.held;
        Self { id, seq, kind, feed_start, prefill_tokens, task, clock: Clock::start() }
    }

    /// Marks what is pending now as one feed of rows of `kind`.
    fn start_feed(&mut self, kind: RowKind) {
        self.feed_start = self.seq.held;
        self.kind = kind;
    }

    /// Whether its next rows are decode rows: the sampled token, then any draft.
    pub fn decoding(&self) -> bool {
        self.kind == RowKind::Decode
    }

    /// Drafts up to `max` tokens to follow its sampled one, within the reply's and the
    /// context's room, when it is generating with drafting on; returns how many.
    pub fn draft(&mut self, engine: &Engine, max: usize) -> usize {
        let Task::Generate(g) = &mut self.task else { return 0 };
        let Some(d) = &mut g.drafter else { return 0 };
        if max == 0 || self.kind != RowKind::Decode || g.drafted > 0 {
            return 0;
        }
        // A draft token kept is a reply token, and the token after the last kept one comes from
        // the same pass, so one less than the room of either.
        let room = (g.max_tokens - g.reply.len()).min(engine.ctx_max() - self.seq.tokens.len());
        let draft = d.propose(&self.seq.tokens, room.saturating_sub(1).min(max));
        g.drafted = draft.len();
        self.seq.tokens.extend_from_within(draft);
        g.drafted
    }

    fn wants_logits(&self, pos: usize) -> bool {
        match &self.task {
            Task::Perplexity(p) => Perplexity::scores(p.ctx, pos),
            // The sampled token's row and each drafted one's, to verify the draft.
            Task::Generate(g) => pos + 1 + g.drafted >= self.seq.tokens.len(),
            Task::Logits { .. } => pos + 1 == self.seq.tokens.len(),
        }
    }

    /// Appends up to `budget` of its pending tokens to `rows`; returns how many.
    pub fn push_rows(&self, budget: usize, rows: &mut Vec<BatchRow>) -> usize {
        let take = self.seq.pending().min(budget);
        rows.extend((self.seq.held..self.seq.held + take).map(|pos| BatchRow {
            seq: self.seq.slot,
            pos,
            token: self.seq.tokens[pos],
            kind: self.kind,
            wants_logits: self.wants_logits(pos),
        }));
        take
    }

    /// How many of the next `fed` rows want logits.
    pub fn logits_rows(&self, fed: usize) -> usize {
        (self.seq.held..self.seq.held + fed).filter(|&pos| self.wants_logits(pos)).count()
    }

    /// Takes the result of a step that fed `fed` of its tokens: `logits` holds its rows' logits
    /// (`vocab` floats per row that wanted them). Returns how it ended, if it did.
    pub fn after_step(
        &mut self,
        engine: &mut Engine,
        fed: usize,
        logits: &mut [f32],
        emit: &mut dyn FnMut(EngineEvent),
    ) -> anyhow::Result<Option<Finish>> {
        let first = self.seq.held;
        self.seq.held += fed;
        if self.kind == RowKind::Prefill {
            let (done, total) = (self.seq.held - self.feed_start, self.seq.tokens.len() - self.feed_start);
            emit(EngineEvent::PrefillProgress { id: self.id, done, total });
        }
        let id = self.id;
        let token = match &mut self.task {
            Task::Perplexity(p) => {
                return Ok(score_perplexity(id, p, &mut self.seq, engine, first, fed, logits, emit));
            }
            _ if self.seq.pending() > 0 => return Ok(None),
            Task::Logits { steps, step } => {
                let fed_token = (*step > 0).then(|| self.seq.tokens[self.seq.held - 1]);
                emit(EngineEvent::Logits { id, step: *step, token: fed_token, logits: logits.to_vec() });
                if *step == *steps {
                    return Ok(Some(Finish::Done(StopReason::MaxTokens)));
                }
                *step += 1;
                argmax(logits)
            }
            Task::Generate(g) => {
                self.clock.prefill_done.get_or_insert_with(Instant::now);
                if g.max_tokens == 0 {
                    return Ok(Some(Finish::Done(StopReason::MaxTokens)));
                }
                let vocab = engine.model.config.vocab_size;
                // The rows of the last sampled token (or the prompt's last) and of its draft.
                let first = self.seq.held - 1 - g.drafted;
                let drafted = std::mem::take(&mut g.drafted);
                let mut accepted = 0;
                for (i, row) in logits.chunks_exact_mut(vocab).enumerate() {
                    let pos = first + 1 + i;
                    let draft = (i < drafted).then(|| self.seq.tokens[pos]);
                    let token = g.sampler.sample_with_draft(row, &self.seq.tokens[..pos], draft);
                    let kept = draft == Some(token);
                    accepted += usize::from(kept);
                    let mut sink = TokenSink { id, prefill_tokens: self.prefill_tokens, engine, emit };
                    let ended = take_token(g, &mut self.clock, row, token, pos, &mut sink);
                    if ended.is_some() || !kept {
                        // Positions from `pos` on hold a rejected draft, or nothing that counts.
                        self.seq.held = pos;
                        self.seq.tokens.truncate(pos);
                        engine.kv.truncate(self.seq.slot, pos);
                        g.draft_tokens += drafted;
                        g.draft_accepted += accepted;
                        if let Some(d) = &mut g.drafter {
                            d.record(drafted, accepted);
                        }
                        if let Some(ended) = ended {
                            return match ended {
                                Ended::Finish(finish) => Ok(Some(finish)),
                                Ended::ContextFull => {
                                    let shifted = shifted_context(engine, g)?;
                                    self.refeed(engine, shifted);
                                    Ok(None)
                                }
                            };
                        }
                        self.seq.tokens.push(token);
                        break;
                    }
                }
                self.start_feed(RowKind::Decode);
                return Ok(None);
            }
        };
        self.seq.tokens.push(token);
        self.start_feed(RowKind::Decode);
        Ok(None)
    }

    /// Makes the sequence hold `target` next: keeps the common prefix of what it holds (but
    /// evaluates the last token again, for its logits) and feeds the rest.
    fn refeed(&mut self, engine: &mut Engine, target: Vec<u32>) {
        let common = self.seq.tokens[..self.seq.held].iter().zip(&target).take_while(|(a, b)| a == b).count();
        self.seq.held = common.min(target.len() - 1);
        engine.kv.truncate(self.seq.slot, self.seq.held);
        self.seq.tokens = target;
        self.start_feed(RowKind::Prefill);
    }

    /// Ends the request: the rest of a reply's text, its `Done`, and remembering its tokens.
    pub fn finish(self, engine: &mut Engine, finish: Finish, emit: &mut dyn FnMut(EngineEvent)) -> SeqTokens {
        let id = self.id;
        let stats = match &self.task {
            Task::Generate(g) => generation_stats(g, &self.clock, self.prefill_tokens, self.seq.held, engine),
            _ => GenStats::default(),
        };
        if let Task::Generate(mut g) = self.task {
            let tail = g.decoder.flush();
            if !tail.is_empty() {
                g.text.push_str(&tail);
                emit(EngineEvent::Token { id, token: None, text: tail, logprobs: None });
            }
            engine.remember_reply(g.text, g.reply);
        }
        if let Finish::Done(reason) = finish {
            emit(EngineEvent::Done { id, reason, stats });
        }
        let mut seq = self.seq;
        seq.tokens.truncate(seq.held);
        seq
    }

    /// Applies new sampling settings from the next sampled token on.
    pub fn set_sampling(&mut self, params: SamplingParams) {
        if let Task::Generate(g) = &mut self.task {
            g.sampler.set_params(params);
        }
    }
}

/// What a reply's sampled tokens are reported to.
struct TokenSink<'a> {
    id: RequestId,
    prefill_tokens: usize,
    engine: &'a Engine,
    emit: &'a mut dyn FnMut(EngineEvent),
}

/// Why a reply cannot go on after a token.
enum Ended {
    Finish(Finish),
    /// The context is full under drop-oldest: go on from a shifted context.
    ContextFull,
}

/// Takes the token sampled for position `pos` from `logits` (as the sampler left them): ends the
/// reply on an end-of-generation token, else appends it to the reply and reports it, then ends
/// the reply if it is as long as allowed or the context has no room for the token.
fn take_token(
    g: &mut Generation,
    clock: &mut Clock,
    logits: &[f32],
    token: u32,
    pos: usize,
    sink: &mut TokenSink,
) -> Option<Ended> {
    let engine = sink.engine;
    clock.token();
    if engine.tokenizer.is_end_of_generation(token) {
        return Some(Ended::Finish(Finish::Done(StopReason::EndOfText)));
    }
    let logprobs = g.logprobs.map(|top| {
        let lp = g.sampler.log_probs(logits, token, top);
        let prob = |token: u32, logprob: f32| token_prob(engine, token, logprob);
        Box::new(TokenLogprobs {
            chosen: prob(token, lp.chosen),
            top: lp.top.into_iter().map(|(t, l)| prob(t, l)).collect(),
        })
    });
    g.reply.push(token);
    let text = g.decoder.push(&engine.tokenizer, token);
    g.text.push_str(&text);
    let id = sink.id;
    (sink.emit)(EngineEvent::Token { id, token: Some(token), text, logprobs });
    let stats = generation_stats(g, clock, sink.prefill_tokens, pos, engine);
    (sink.emit)(EngineEvent::Stats { id, stats });
    if g.reply.len() >= g.max_tokens {
        return Some(Ended::Finish(Finish::Done(StopReason::MaxTokens)));
    }
    if pos + 1 > engine.ctx_max() {
        return Some(match engine.options.context_policy {
            ContextPolicy::Stop => Ended::Finish(Finish::Done(StopReason::ContextFull)),
            ContextPolicy::DropOldest => Ended::ContextFull,
        });
    }
    None
}

/// A token's text and bytes beside its log-probability.
fn token_prob(engine: &Engine, token: u32, logprob: f32) -> TokenProb {
    let bytes = engine.tokenizer.token_bytes(token).to_vec();
    let text = if bytes.is_empty() {
        engine.tokenizer.token_text(token).unwrap_or_default()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    TokenProb { token, text, bytes, logprob }
}

/// The figures of a reply so far.
fn generation_stats(g: &Generation, c: &Clock, prefill_tokens: usize, ctx_used: usize, engine: &Engine) -> GenStats {
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let prefill_ms = c.prefill_done.map_or(0.0, |t| ms(c.started, t));
    let decode_ms = match (c.first_token, c.last_token) {
        (Some(a), Some(b)) => ms(a, b),
        _ => 0.0,
    };
    let per_sec = |n: usize, ms: f64| if ms > 0.0 { n as f64 / (ms / 1e3) } else { 0.0 };
    let generated = g.reply.len();
    GenStats {
        prompt_tokens: g.prompt_tokens.len(),
        prefill_tokens,
        prefill_ms,
        prefill_tok_s: per_sec(prefill_tokens, prefill_ms),
        ttft_ms: c.first_token.map_or(0.0, |t| ms(c.started, t)),
        generated_tokens: generated,
        decode_ms,
        // The first token comes from the prefill's logits; each later one costs a forward.
        decode_tok_s: per_sec(generated.saturating_sub(1), decode_ms),
        last_token_ms: match (c.prev_token, c.last_token) {
            (Some(a), Some(b)) => ms(a, b),
            _ => 0.0,
        },
        ctx_used,
        ctx_max: engine.ctx_max(),
        rss_bytes: rss_bytes(),
        kv_bytes: engine.kv.bytes() as u64,
        draft_tokens: g.draft_tokens,
        draft_accepted: g.draft_accepted,
    }
}

/// Under drop-oldest, what a reply that filled the context goes on from: the prompt cut to half
/// the context (whole turns dropped for a chat), then the reply so far, cut to three quarters.
fn shifted_context(engine: &Engine, g: &Generation) -> anyhow::Result<Vec<u32>> {
    let ctx = engine.ctx_max();
    // Old turns go first; if the last message alone is still more than half the context, the
    // oldest tokens of what is left go too (the first, BOS, stays).
    let mut shifted = match &g.prompt {
        Prompt::Chat(_) => engine.drop_oldest_turns(&g.prompt, ctx / 2)?,
        _ => g.prompt_tokens.clone(),
    };
    shifted.extend_from_slice(&g.reply);
    Ok(drop_oldest_tokens(&shifted, ctx - ctx / 4))
}

/// Scores the rows of a perplexity window that a step fed (positions `first..first + fed`), and
/// moves to the next window when this one is done.
#[allow(clippy::too_many_arguments)]
fn score_perplexity(
    id: RequestId,
    p: &mut Perplexity,
    seq: &mut SeqTokens,
    engine: &mut Engine,
    first: usize,
    fed: usize,
    logits: &[f32],
    emit: &mut dyn FnMut(EngineEvent),
) -> Option<Finish> {
    let vocab = engine.model.config.vocab_size;
    let ctx = p.ctx;
    let scored = (first..first + fed).filter(|&pos| Perplexity::scores(ctx, pos));
    for (pos, row) in scored.zip(logits.chunks_exact(vocab)) {
        let target = p.text[p.window * p.ctx + pos + 1] as usize;
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let lse = row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
        let loss = lse - row[target] as f64;
        p.nll += loss;
        p.nll2 += loss * loss;
        p.report.scored_tokens += 1;
    }
    if seq.pending() > 0 {
        return None;
    }
    p.window += 1;
    let count = p.report.scored_tokens as f64;
    let mean = p.nll / count;
    let var = p.nll2 / count - mean * mean;
    let r = &mut p.report;
    r.ppl = mean.exp();
    r.std_err = if var > 0.0 && count > 1.0 { (var / (count - 1.0)).sqrt() * r.ppl } else { 0.0 };
    r.windows_done = p.window;
    r.seconds = p.started.elapsed().as_secs_f64();
    let finished = p.window == r.windows;
    emit(EngineEvent::Perplexity { id, report: r.clone(), finished });
    if finished {
        return Some(Finish::Reported);
    }
    engine.kv.truncate(seq.slot, 0);
    seq.tokens = p.window_tokens(p.window);
    seq.held = 0;
    None
}
