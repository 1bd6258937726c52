//! The inference worker: a named OS thread that owns the engine (model, tokenizer, KV pool,
//! compute threads) and its step scheduler, and streams [`EngineEvent`]s back.
//!
//! Between steps the worker reads every command that arrived: requests join the scheduler,
//! `SetSampling` and `Cancel` apply to the request they name, and `Load`/`Unload` cancel what is
//! running and then run. With nothing to run it sleeps until the next command.

use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver, UnboundedSender};

use super::protocol::{EngineCmd, EngineEvent};
use super::runtime::Engine;
use super::scheduler::{Request, Scheduler};

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
            match next {
                Some(cmd) => {
                    if let Flow::Stop = self.handle(cmd) {
                        return;
                    }
                }
                None => {
                    let events = &self.events;
                    if let Some(s) = self.scheduler.as_mut() {
                        s.step(&mut |event| {
                            // A front end that hung up no longer listens; its requests end when
                            // the channel closes.
                            let _ = events.send(event);
                        });
                    }
                }
            }
        }
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
                if let Some(mut s) = self.scheduler.take() {
                    // Free the old model's memory before mapping the new one.
                    s.cancel_all(&mut emit);
                }
                let mut progress = |fraction: f32, stage: &str| {
                    emit(EngineEvent::LoadProgress { fraction, stage: stage.to_string() });
                };
                match Engine::load(&path, &options, &mut progress) {
                    Ok(engine) => {
                        self.send(EngineEvent::Ready(engine.info.clone()));
                        self.scheduler = Some(Scheduler::new(engine));
                    }
                    Err(e) => self.send(EngineEvent::Error { id: None, message: format!("{e:#}") }),
                }
            }
            EngineCmd::Unload => {
                if let Some(mut s) = self.scheduler.take() {
                    s.cancel_all(&mut emit);
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
                    s.set_sampling(id, sampling);
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
