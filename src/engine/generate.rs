//! One reply: prefill what the cache lacks, then sample token by token, streaming text and
//! figures, honouring Cancel and new sampling settings between tokens.

use std::time::Instant;

use super::memory::rss_bytes;
use super::protocol::{ContextPolicy, EngineEvent, GenStats, Prompt, RequestId, SamplingParams, StopReason};
use super::sampler::Sampler;
use super::session::{drop_oldest_tokens, Cancelled, Control, Session};
use super::tokenizer::StreamDecoder;

/// A `Generate` command's parameters.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub id: RequestId,
    pub prompt: Prompt,
    pub sampling: SamplingParams,
    pub max_tokens: usize,
}

/// How a reply ended.
#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    pub tokens: Vec<u32>,
    pub reason: StopReason,
    pub stats: GenStats,
}

/// Timestamps of one request, turned into [`GenStats`].
struct Clock {
    started: Instant,
    prefill_done: Option<Instant>,
    first_token: Option<Instant>,
    last_token: Option<Instant>,
    prev_token: Option<Instant>,
}

impl Clock {
    fn stats(&self, s: &Session, prompt_tokens: usize, prefill_tokens: usize, generated: usize) -> GenStats {
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        let prefill_ms = self.prefill_done.map_or(0.0, |t| ms(self.started, t));
        let decode_ms = match (self.first_token, self.last_token) {
            (Some(a), Some(b)) => ms(a, b),
            _ => 0.0,
        };
        let per_sec = |n: usize, ms: f64| if ms > 0.0 { n as f64 / (ms / 1e3) } else { 0.0 };
        GenStats {
            prompt_tokens,
            prefill_tokens,
            prefill_ms,
            prefill_tok_s: per_sec(prefill_tokens, prefill_ms),
            ttft_ms: self.first_token.map_or(0.0, |t| ms(self.started, t)),
            generated_tokens: generated,
            decode_ms,
            // The first token comes from the prefill's logits; each later one costs a forward.
            decode_tok_s: per_sec(generated.saturating_sub(1), decode_ms),
            last_token_ms: match (self.prev_token, self.last_token) {
                (Some(a), Some(b)) => ms(a, b),
                _ => 0.0,
            },
            ctx_used: s.ctx_used(),
            ctx_max: s.ctx_max(),
            rss_bytes: rss_bytes(),
        }
    }
}

impl Session {
    /// Generates one reply. Errors only for a prompt that cannot be run (too long, bad ids, a
    /// template that fails); cancellation and full contexts are stop reasons.
    pub fn generate(&mut self, req: &GenerateRequest, ctl: &mut dyn Control) -> anyhow::Result<Reply> {
        self.install(|s| s.generate_on_pool(req, ctl))
    }

    fn generate_on_pool(&mut self, req: &GenerateRequest, ctl: &mut dyn Control) -> anyhow::Result<Reply> {
        let mut clock = Clock {
            started: Instant::now(),
            prefill_done: None,
            first_token: None,
            last_token: None,
            prev_token: None,
        };
        let ctx = self.ctx_max();
        let mut tokens = self.prompt_tokens(&req.prompt)?;
        if tokens.len() >= ctx {
            tokens = match self.policy {
                ContextPolicy::Stop => anyhow::bail!(
                    "the prompt has {} tokens but the context holds {ctx}; raise --ctx or use --context-policy drop-oldest",
                    tokens.len()
                ),
                // Leave a quarter of the context for the reply.
                ContextPolicy::DropOldest => self.fit_prompt(&req.prompt, ctx - ctx / 4)?,
            };
        }
        let prompt_tokens = tokens.len();
        let mut logits = Vec::new();
        let mut reply = Reply {
            text: String::new(),
            tokens: Vec::new(),
            reason: StopReason::Cancelled,
            stats: GenStats::default(),
        };
        let prefill_tokens = match self.sync_cache(&tokens, req.id, &mut logits, ctl) {
            Ok(n) => n,
            Err(Cancelled { prefill_tokens }) => {
                reply.stats = clock.stats(self, prompt_tokens, prefill_tokens, 0);
                return Ok(reply);
            }
        };
        clock.prefill_done = Some(Instant::now());

        let mut sampler = Sampler::new(req.sampling.clone());
        let mut decoder = StreamDecoder::new();
        reply.reason = loop {
            if ctl.cancelled() {
                break StopReason::Cancelled;
            }
            if let Some(params) = ctl.new_sampling() {
                sampler.set_params(params);
            }
            let token = sampler.sample(&mut logits, &self.cached);
            let now = Instant::now();
            clock.first_token.get_or_insert(now);
            clock.prev_token = clock.last_token.replace(now);
            if self.tokenizer.is_end_of_generation(token) {
                break StopReason::EndOfText;
            }
            reply.tokens.push(token);
            let text = decoder.push(&self.tokenizer, token);
            reply.text.push_str(&text);
            ctl.send(EngineEvent::Token { id: req.id, token, text });
            let stats = clock.stats(self, prompt_tokens, prefill_tokens, reply.tokens.len());
            ctl.send(EngineEvent::Stats { id: req.id, stats });
            if reply.tokens.len() >= req.max_tokens {
                break StopReason::MaxTokens;
            }
            if self.ctx_used() + 1 > ctx {
                match self.policy {
                    ContextPolicy::Stop => break StopReason::ContextFull,
                    ContextPolicy::DropOldest => {
                        let mut shifted = match &req.prompt {
                            Prompt::Chat(_) => self.fit_prompt(&req.prompt, ctx / 2)?,
                            _ => drop_oldest_tokens(&tokens, ctx / 2),
                        };
                        shifted.extend_from_slice(&reply.tokens);
                        let shifted = drop_oldest_tokens(&shifted, ctx - ctx / 4);
                        if self.sync_cache(&shifted, req.id, &mut logits, ctl).is_err() {
                            break StopReason::Cancelled;
                        }
                        continue;
                    }
                }
            }
            self.eval(&[token], &mut logits);
        };
        let tail = decoder.flush();
        if !tail.is_empty() {
            reply.text.push_str(&tail);
            ctl.send(EngineEvent::Token { id: req.id, token: *reply.tokens.last().unwrap_or(&0), text: tail });
        }
        reply.stats = clock.stats(self, prompt_tokens, prefill_tokens, reply.tokens.len());
        self.remember_reply(reply.text.clone(), reply.tokens.clone());
        Ok(reply)
    }
}
