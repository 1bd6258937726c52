//! The inference worker: a named OS thread that owns the engine (model, tokenizer, KV pool,
//! compute threads) and its step scheduler, and streams [`EngineEvent`]s back.
//!
//! Between steps the worker reads every command that arrived: requests join the scheduler,
//! `SetSampling` and `Cancel` apply to the request they name, and `Load`/`Unload` cancel what is
//! running and then run; a `Load` that fails keeps the model that was loaded. With nothing to
//! run it sleeps until the next command.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver, UnboundedSender};

use super::fault::{self, FaultPoint};
use crate::kernels::mmap::return_freed_memory;

use super::protocol::{EngineCmd, EngineEvent};
use super::runtime::Engine;
use super::scheduler::{Request, Scheduler};
use super::token_counter::TokenCounter;

pub(super) struct Worker {
    cmds: UnboundedReceiver<EngineCmd>,
    events: UnboundedSender<EngineEvent>,
    scheduler: Option<Scheduler>,
}

/// Whether the worker goes on after a command.
enum Flow {
    Continue,
    Stop,
}

impl Worker {
    pub(super) fn new(cmds: UnboundedReceiver<EngineCmd>, events: UnboundedSender<EngineEvent>) -> Self {
        Self { cmds, events, scheduler: None }
    }

    /// Serves commands until `Shutdown` or until every sender is dropped.
    pub(super) fn run(mut self) {
        loop {
            let busy = self.scheduler.as_ref().is_some_and(|s| !s.is_idle());
            let next = if busy {
                match self.cmds.try_recv() {
                    Ok(cmd) => Some(cmd),
                    Err(TryRecvError::Empty) => None,
                    // A closed channel means the front end is gone: stop.
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match self.cmds.blocking_recv() {
                    Some(cmd) => Some(cmd),
                    None => return,
                }
            };
            // A panic below is a bug (or a file the load checks missed): it ends the model, not
            // the worker, and the front end hears of it and can load again.
            let loading = matches!(next, Some(EngineCmd::Load { .. }));
            match catch_unwind(AssertUnwindSafe(|| self.serve(next))) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => return,
                Err(panic) => self.recover(panic.as_ref(), loading),
            }
        }
    }

    /// Handles a command, or runs a step when there is none.
    fn serve(&mut self, next: Option<EngineCmd>) -> Flow {
        match next {
            Some(cmd) => self.handle(cmd),
            None => {
                let events = &self.events;
                if let Some(s) = self.scheduler.as_mut() {
                    fault::inject(FaultPoint::Step);
                    s.step(&mut |event| {
                        // A front end that hung up no longer listens; its requests end when
                        // the channel closes.
                        let _ = events.send(event);
                    });
                }
                Flow::Continue
            }
        }
    }

    /// After a panic: a model that was running drops (its state is suspect) with an `Error` for
    /// each of its requests, then `Unloaded`; a failed load leaves what was loaded.
    fn recover(&mut self, panic: &(dyn Any + Send), loading: bool) {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        tracing::error!("engine panic (loading: {loading}): {what}");
        if loading {
            self.send(EngineEvent::Error {
                id: None,
                message: format!("loading failed with an internal error: {what}"),
            });
            return;
        }
        let message = format!("the engine failed with an internal error ({what}); load the model again");
        if let Some(s) = self.scheduler.take() {
            for id in s.request_ids() {
                self.send(EngineEvent::Error { id: Some(id), message: message.clone() });
            }
        }
        self.send(EngineEvent::Error { id: None, message });
        self.send(EngineEvent::Unloaded);
    }

    fn send(&self, event: EngineEvent) {
        let _ = self.events.send(event);
    }

    fn handle(&mut self, cmd: EngineCmd) -> Flow {
        let events = self.events.clone();
        let mut emit = |event| {
            let _ = events.send(event);
        };
        match cmd {
            EngineCmd::Shutdown => return Flow::Stop,
            EngineCmd::Load { path, options } => {
                if let Some(s) = self.scheduler.as_mut() {
                    s.cancel_all(&mut emit);
                }
                let mut progress = |fraction: f32, stage: &str| {
                    emit(EngineEvent::LoadProgress { fraction, stage: stage.to_string() });
                };
                fault::inject(FaultPoint::Load);
                // The old model stays until the new one is fully loaded, so a failed load (a
                // moved file, a bad header) leaves it loaded and usable.
                match Engine::load(&path, &options, &mut progress) {
                    Ok(engine) => {
                        self.send(EngineEvent::Tokenizer(TokenCounter::for_tokenizer(engine.tokenizer.clone())));
                        self.send(EngineEvent::Ready(engine.info.clone()));
                        let old = self.scheduler.replace(Scheduler::new(engine));
                        if old.is_some() {
                            drop(old);
                            return_freed_memory();
                        }
                    }
                    Err(e) => self.send(EngineEvent::Error { id: None, message: format!("{e:#}") }),
                }
            }
            EngineCmd::Unload => {
                if let Some(mut s) = self.scheduler.take() {
                    s.cancel_all(&mut emit);
                    drop(s);
                    return_freed_memory();
                }
                self.send(EngineEvent::Unloaded);
            }
            EngineCmd::Generate { id, prompt, sampling, max_tokens, logprobs } => {
                self.submit(Request::Generate { id, prompt, sampling, max_tokens, logprobs })
            }
            EngineCmd::Logits { id, prompt, steps } => self.submit(Request::Logits { id, prompt, steps }),
            EngineCmd::Perplexity { id, text, ctx } => self.submit(Request::Perplexity { id, text, ctx }),
            EngineCmd::SetSampling { id, sampling } => {
                if let Some(s) = self.scheduler.as_mut() {
                    s.set_sampling(id, sampling, &mut emit);
                }
            }
            EngineCmd::Cancel { id } => {
                if let Some(s) = self.scheduler.as_mut() {
                    s.cancel(id, &mut emit);
                }
            }
        }
        Flow::Continue
    }

    fn submit(&mut self, request: Request) {
        match self.scheduler.as_mut() {
            Some(s) => s.submit(request),
            None => self.send(EngineEvent::Error {
                id: Some(request.id()),
                message: "no model is loaded; load one first (bitnet-tui --model PATH)".into(),
            }),
        }
    }
}
