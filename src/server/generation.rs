//! One request's generation: a place among the server's running and queued requests, the
//! engine request (a sequence in its scheduler), and the stream of text pieces and the end that
//! the endpoints turn into OpenAI responses.
//!
//! Dropping a [`Generation`] before its end (the client went away, the handler was dropped)
//! cancels the engine request, which ends within one scheduler step.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;

use crate::engine::protocol::{EngineCmd, EngineEvent, GenStats, Prompt, RequestId, StopReason, TokenLogprobs};
use crate::engine::sampler::SamplingParams;

use super::error::ApiError;
use super::metrics::Metrics;
use super::openai::{FinishReason, Usage};
use super::registry::LoadedModel;
use super::stop::StopMatcher;

/// What to generate.
pub struct GenerationSpec {
    pub prompt: Prompt,
    pub sampling: SamplingParams,
    pub max_tokens: usize,
    /// Alternatives per token when log-probabilities are wanted.
    pub logprobs: Option<usize>,
    pub stops: Vec<String>,
}

/// How many requests may run or wait at once (`--parallel` + `--queue`).
pub struct Admission {
    in_flight: AtomicUsize,
    limit: usize,
}

/// A request's place; given back when dropped.
pub struct Place(Arc<Admission>);

impl Admission {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self { in_flight: AtomicUsize::new(0), limit })
    }

    /// A place, or 503 when all are taken.
    pub fn enter(self: &Arc<Self>) -> Result<Place, ApiError> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.limit).then_some(n + 1))
            .map(|_| Place(Arc::clone(self)))
            .map_err(|_| ApiError::overloaded(self.limit))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a generation yields.
#[derive(Debug)]
pub enum Output {
    /// Reply text (never part of a stop string) and the log-probabilities of the tokens it came
    /// from, when asked for.
    Piece {
        text: String,
        logprobs: Vec<TokenLogprobs>,
    },
    End {
        finish: FinishReason,
        usage: Usage,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sent to the engine, which has not started it.
    Queued,
    Active,
    Ended,
}

pub struct Generation {
    id: RequestId,
    model: Arc<LoadedModel>,
    events: UnboundedReceiver<EngineEvent>,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
    stop: StopMatcher,
    phase: Phase,
    arrived: Instant,
    last_token: Option<Instant>,
    /// Tokens received up to a stop string.
    tokens: usize,
    stopped: bool,
    cut_short: bool,
    /// Prompt tokens the current prefill has reported done.
    prefilled: usize,
    pending_logprobs: Vec<TokenLogprobs>,
    out: VecDeque<Output>,
    first_event: Option<EngineEvent>,
    _place: Place,
}

impl Generation {
    /// Sends the request to `model`'s engine and waits until the engine has started it; a prompt
    /// the engine refuses (too long for the context, empty) is a 400 here, before any response.
    pub async fn start(
        model: Arc<LoadedModel>,
        spec: GenerationSpec,
        place: Place,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
        id: RequestId,
        arrived: Instant,
    ) -> Result<Self, ApiError> {
        let events = model.subscribe(id);
        model.send(EngineCmd::Generate {
            id,
            prompt: spec.prompt,
            sampling: spec.sampling,
            max_tokens: spec.max_tokens,
            logprobs: spec.logprobs,
        });
        metrics.queued.fetch_add(1, Ordering::Relaxed);
        let mut generation = Self {
            id,
            model,
            events,
            metrics,
            shutdown,
            stop: StopMatcher::new(spec.stops),
            phase: Phase::Queued,
            arrived,
            last_token: None,
            tokens: 0,
            stopped: false,
            cut_short: false,
            prefilled: 0,
            pending_logprobs: Vec::new(),
            out: VecDeque::new(),
            first_event: None,
            _place: place,
        };
        let event = tokio::select! {
            event = generation.events.recv() => event,
            _ = generation.shutdown.wait_for(|&stopping| stopping) => {
                return Err(ApiError::unavailable("the server is shutting down"));
            }
        };
        match event {
            Some(EngineEvent::Error { message, .. }) => {
                generation.end();
                Err(ApiError::bad_prompt(message))
            }
            Some(event) => {
                generation.first_event = Some(event);
                Ok(generation)
            }
            None => {
                generation.end();
                Err(ApiError::internal("the engine stopped"))
            }
        }
    }

    /// The next piece or the end; `None` after the end.
    pub async fn next(&mut self) -> Option<Result<Output, ApiError>> {
        loop {
            if let Some(out) = self.out.pop_front() {
                return Some(Ok(out));
            }
            if self.phase == Phase::Ended {
                return None;
            }
            let event = match self.first_event.take() {
                Some(event) => Some(event),
                None => tokio::select! {
                    event = self.events.recv() => event,
                    _ = self.shutdown.wait_for(|&stopping| stopping), if !self.cut_short => {
                        // Shutting down: end the reply now, with what it has.
                        self.cut_short = true;
                        self.model.send(EngineCmd::Cancel { id: self.id });
                        continue;
                    }
                },
            };
            match event {
                Some(EngineEvent::Token { token, text, logprobs, .. }) => self.on_token(token, &text, logprobs),
                Some(EngineEvent::PrefillProgress { done, .. }) => {
                    self.set_active();
                    // A new feed (a shifted context) counts from zero again.
                    let new = if done >= self.prefilled { done - self.prefilled } else { done };
                    self.prefilled = done;
                    self.metrics.prefill_tokens.fetch_add(new as u64, Ordering::Relaxed);
                }
                Some(EngineEvent::Done { reason, stats, .. }) => self.on_done(reason, &stats),
                Some(EngineEvent::Error { message, .. }) => {
                    self.end();
                    return Some(Err(ApiError::internal(message)));
                }
                Some(_) => {}
                None => {
                    self.end();
                    return Some(Err(ApiError::internal("the engine stopped")));
                }
            }
        }
    }

    /// `token` is `None` for the text a reply's last token left unfinished (no new token).
    fn on_token(&mut self, token: Option<u32>, text: &str, logprobs: Option<Box<TokenLogprobs>>) {
        self.set_active();
        if self.stopped {
            // Generated before the cancel reached the engine: past the stop string.
            return;
        }
        if token.is_some() {
            let now = Instant::now();
            match self.last_token.replace(now) {
                None => self.metrics.ttft.observe(now - self.arrived),
                Some(previous) => self.metrics.inter_token.observe(now - previous),
            }
            self.metrics.generated_tokens.fetch_add(1, Ordering::Relaxed);
            self.tokens += 1;
        }
        self.pending_logprobs.extend(logprobs.map(|lp| *lp));
        let matched = self.stop.push(text);
        if matched.stopped {
            self.stopped = true;
            self.model.send(EngineCmd::Cancel { id: self.id });
        }
        if !matched.text.is_empty() {
            self.out
                .push_back(Output::Piece { text: matched.text, logprobs: std::mem::take(&mut self.pending_logprobs) });
        }
    }

    fn on_done(&mut self, reason: StopReason, stats: &GenStats) {
        self.end();
        self.metrics.prompt_tokens.fetch_add(stats.prompt_tokens as u64, Ordering::Relaxed);
        self.metrics.kv_cache_bytes.store(stats.kv_bytes, Ordering::Relaxed);
        let tail = if self.stopped { String::new() } else { self.stop.flush() };
        if !tail.is_empty() || !self.pending_logprobs.is_empty() {
            self.out.push_back(Output::Piece { text: tail, logprobs: std::mem::take(&mut self.pending_logprobs) });
        }
        let finish = match reason {
            _ if self.stopped => FinishReason::Stop,
            StopReason::EndOfText => FinishReason::Stop,
            StopReason::MaxTokens | StopReason::ContextFull | StopReason::Cancelled => FinishReason::Length,
        };
        let completion = if self.stopped { self.tokens } else { stats.generated_tokens };
        self.out.push_back(Output::End { finish, usage: Usage::new(stats.prompt_tokens, completion) });
    }

    fn set_active(&mut self) {
        if self.phase == Phase::Queued {
            self.metrics.queued.fetch_sub(1, Ordering::Relaxed);
            self.metrics.active.fetch_add(1, Ordering::Relaxed);
            self.phase = Phase::Active;
        }
    }

    fn end(&mut self) {
        match self.phase {
            Phase::Queued => self.metrics.queued.fetch_sub(1, Ordering::Relaxed),
            Phase::Active => self.metrics.active.fetch_sub(1, Ordering::Relaxed),
            Phase::Ended => return,
        };
        self.phase = Phase::Ended;
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        if self.phase != Phase::Ended {
            self.model.send(EngineCmd::Cancel { id: self.id });
            self.model.unsubscribe(self.id);
            self.end();
        }
    }
}
