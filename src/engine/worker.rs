//! The inference worker: a named OS thread that owns the session (model, tokenizer, KV cache,
//! compute threads) and serves [`EngineCmd`]s one at a time, streaming [`EngineEvent`]s back.
//!
//! While a request runs, the worker keeps reading commands between tokens and prefill batches:
//! `SetSampling` applies at once, `Cancel` stops the request, `Load`/`Unload`/`Shutdown` stop it
//! and then run, and a new `Generate` waits its turn.

use std::collections::VecDeque;

use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver, UnboundedSender};

use super::generate::GenerateRequest;
use super::protocol::{EngineCmd, EngineEvent, RequestId, SamplingParams, StopReason};
use super::session::{Control, Session};

pub(super) struct Worker {
    cmds: UnboundedReceiver<EngineCmd>,
    events: UnboundedSender<EngineEvent>,
    /// Commands that arrived during a request and run after it.
    pending: VecDeque<EngineCmd>,
    session: Option<Session>,
}

/// The worker's side of a running request: commands are read without blocking.
struct RequestControl<'a> {
    cmds: &'a mut UnboundedReceiver<EngineCmd>,
    events: &'a UnboundedSender<EngineEvent>,
    pending: &'a mut VecDeque<EngineCmd>,
    cancel: bool,
    sampling: Option<SamplingParams>,
}

impl RequestControl<'_> {
    fn drain(&mut self) {
        loop {
            match self.cmds.try_recv() {
                Ok(EngineCmd::SetSampling(p)) => self.sampling = Some(p),
                Ok(EngineCmd::Cancel) => self.cancel = true,
                Ok(cmd @ (EngineCmd::Load { .. } | EngineCmd::Unload | EngineCmd::Shutdown)) => {
                    self.cancel = true;
                    self.pending.push_back(cmd);
                }
                Ok(cmd) => self.pending.push_back(cmd),
                // A closed channel means the front end is gone: stop.
                Err(TryRecvError::Disconnected) => {
                    self.cancel = true;
                    return;
                }
                Err(TryRecvError::Empty) => return,
            }
        }
    }
}

impl Control for RequestControl<'_> {
    fn send(&mut self, event: EngineEvent) {
        // A front end that hung up no longer listens; the request stops at the next check.
        let _ = self.events.send(event);
    }

    fn cancelled(&mut self) -> bool {
        self.drain();
        self.cancel
    }

    fn new_sampling(&mut self) -> Option<SamplingParams> {
        self.drain();
        self.sampling.take()
    }
}

impl Worker {
    pub(super) fn new(cmds: UnboundedReceiver<EngineCmd>, events: UnboundedSender<EngineEvent>) -> Self {
        Self { cmds, events, pending: VecDeque::new(), session: None }
    }

    fn send(&self, event: EngineEvent) {
        let _ = self.events.send(event);
    }

    /// Serves commands until `Shutdown` or until every sender is dropped.
    pub(super) fn run(mut self) {
        loop {
            let cmd = match self.pending.pop_front() {
                Some(cmd) => cmd,
                None => match self.cmds.blocking_recv() {
                    Some(cmd) => cmd,
                    None => return,
                },
            };
            match cmd {
                EngineCmd::Shutdown => return,
                EngineCmd::Load { path, options } => {
                    self.session = None; // free the old model's memory before mapping the new one
                    let events = self.events.clone();
                    let mut progress = |fraction: f32, stage: &str| {
                        let _ = events.send(EngineEvent::LoadProgress { fraction, stage: stage.to_string() });
                    };
                    match Session::load(&path, &options, &mut progress) {
                        Ok(session) => {
                            self.send(EngineEvent::Ready(session.info.clone()));
                            self.session = Some(session);
                        }
                        Err(e) => self.send(EngineEvent::Error { id: None, message: format!("{e:#}") }),
                    }
                }
                EngineCmd::Unload => {
                    self.session = None;
                    self.send(EngineEvent::Unloaded);
                }
                EngineCmd::Generate { id, prompt, sampling, max_tokens } => {
                    let req = GenerateRequest { id, prompt, sampling, max_tokens };
                    self.with_session(id, |s, ctl| {
                        let reply = s.generate(&req, ctl)?;
                        ctl.send(EngineEvent::Done { id, reason: reply.reason, stats: reply.stats });
                        Ok(())
                    });
                }
                EngineCmd::Logits { id, prompt, steps } => self.with_session(id, |s, ctl| {
                    let finished = s.logits(id, &prompt, steps, ctl)?;
                    let reason = if finished { StopReason::MaxTokens } else { StopReason::Cancelled };
                    ctl.send(EngineEvent::Done { id, reason, stats: Default::default() });
                    Ok(())
                }),
                EngineCmd::Perplexity { id, text, ctx } => self.with_session(id, |s, ctl| {
                    if s.perplexity(id, &text, ctx, ctl)?.is_none() {
                        ctl.send(EngineEvent::Done { id, reason: StopReason::Cancelled, stats: Default::default() });
                    }
                    Ok(())
                }),
                // Nothing is running: there is nothing to cancel, and the next Generate carries its settings.
                EngineCmd::Cancel | EngineCmd::SetSampling(_) => {}
            }
        }
    }

    /// Runs a request against the loaded session, reporting a missing model or a failure as `Error`.
    fn with_session(
        &mut self,
        id: RequestId,
        f: impl FnOnce(&mut Session, &mut RequestControl<'_>) -> anyhow::Result<()>,
    ) {
        let Some(session) = self.session.as_mut() else {
            let _ = self.events.send(EngineEvent::Error {
                id: Some(id),
                message: "no model is loaded; load one first (bitnet-tui --model PATH)".into(),
            });
            return;
        };
        let mut ctl = RequestControl {
            cmds: &mut self.cmds,
            events: &self.events,
            pending: &mut self.pending,
            cancel: false,
            sampling: None,
        };
        if let Err(e) = f(session, &mut ctl) {
            let _ = self.events.send(EngineEvent::Error { id: Some(id), message: format!("{e:#}") });
        }
    }
}
