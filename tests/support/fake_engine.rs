//! A fake engine: answers `EngineCmd`s with the events a real engine sends, in the same order,
//! with scripted reply text. Used directly (synchronously) by flow tests and as a tokio task
//! behind real channels by the loop test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitnet_tui::engine::protocol::{EngineCmd, EngineEvent, RequestId, SamplingParams, StopReason};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::{model_info, stats};

/// The reply text the fake streams, one piece per token.
pub const REPLY: [&str; 6] = ["Hello", "!", " How", " can", " I", " help?"];

/// What the fake engine was told.
#[derive(Debug, Default)]
pub struct Journal {
    pub commands: Vec<EngineCmd>,
}

impl Journal {
    /// The sampling settings the engine would use now: the last `Generate`'s, updated by any
    /// `SetSampling` after it.
    pub fn current_sampling(&self) -> Option<SamplingParams> {
        self.commands.iter().fold(None, |acc, cmd| match cmd {
            EngineCmd::Generate { sampling, .. } | EngineCmd::SetSampling { sampling, .. } => Some(sampling.clone()),
            _ => acc,
        })
    }

    pub fn generates(&self) -> Vec<&EngineCmd> {
        self.commands.iter().filter(|c| matches!(c, EngineCmd::Generate { .. })).collect()
    }
}

/// Events for a `Load` of `path`.
pub fn load_events(path: &std::path::Path) -> Vec<EngineEvent> {
    vec![
        EngineEvent::LoadProgress { fraction: 0.5, stage: "weights".into() },
        EngineEvent::Ready(model_info(&path.display().to_string())),
    ]
}

/// Prefill progress and the first token of request `id`.
pub fn start_events(id: RequestId) -> Vec<EngineEvent> {
    vec![EngineEvent::PrefillProgress { id, done: 40, total: 40 }, token(id, 0)]
}

/// Token `n` of the scripted reply and the figures after it.
pub fn token(id: RequestId, n: usize) -> EngineEvent {
    EngineEvent::Token { id, token: Some(n as u32), text: REPLY[n % REPLY.len()].to_string(), logprobs: None }
}

pub fn stats_event(id: RequestId, generated: usize) -> EngineEvent {
    EngineEvent::Stats { id, stats: stats(generated) }
}

pub fn done(id: RequestId, reason: StopReason, generated: usize) -> EngineEvent {
    EngineEvent::Done { id, reason, stats: stats(generated) }
}

/// Spawns the fake on the current tokio runtime behind real channels. It streams the scripted
/// reply with `token_delay` between tokens and stops early on `Cancel`, as the real one does.
pub fn spawn(
    token_delay: Duration,
) -> (UnboundedSender<EngineCmd>, UnboundedReceiver<EngineEvent>, Arc<Mutex<Journal>>) {
    let (cmd_tx, mut cmd_rx) = unbounded_channel::<EngineCmd>();
    let (event_tx, event_rx) = unbounded_channel::<EngineEvent>();
    let journal = Arc::new(Mutex::new(Journal::default()));
    let log = Arc::clone(&journal);
    tokio::spawn(async move {
        let mut pending: Option<EngineCmd> = None;
        loop {
            let cmd = match pending.take() {
                Some(cmd) => cmd,
                None => match cmd_rx.recv().await {
                    Some(cmd) => cmd,
                    None => break,
                },
            };
            log.lock().unwrap().commands.push(cmd.clone());
            match cmd {
                EngineCmd::Load { path, .. } => {
                    for event in load_events(&path) {
                        let _ = event_tx.send(event);
                    }
                }
                EngineCmd::Generate { id, max_tokens, .. } => {
                    let _ = event_tx.send(EngineEvent::PrefillProgress { id, done: 40, total: 40 });
                    let mut reason = StopReason::EndOfText;
                    let mut generated = 0;
                    for n in 0..REPLY.len().min(max_tokens) {
                        tokio::time::sleep(token_delay).await;
                        // Commands that arrive mid-reply: Cancel stops it, SetSampling applies.
                        while let Ok(next) = cmd_rx.try_recv() {
                            match next {
                                EngineCmd::Cancel { id: cancelled } if cancelled == id => {
                                    log.lock().unwrap().commands.push(next);
                                    reason = StopReason::Cancelled;
                                }
                                EngineCmd::SetSampling { id: target, .. } if target == id => {
                                    log.lock().unwrap().commands.push(next)
                                }
                                other => pending = Some(other),
                            }
                        }
                        if reason == StopReason::Cancelled {
                            break;
                        }
                        let _ = event_tx.send(token(id, n));
                        generated += 1;
                        let _ = event_tx.send(stats_event(id, generated));
                    }
                    let _ = event_tx.send(done(id, reason, generated));
                }
                EngineCmd::Logits { id, .. } | EngineCmd::Perplexity { id, .. } => {
                    let message = "the fake engine only chats".to_string();
                    let _ = event_tx.send(EngineEvent::Error { id: Some(id), message });
                }
                EngineCmd::Shutdown => break,
                EngineCmd::SetSampling { .. } | EngineCmd::Cancel { .. } => {}
                EngineCmd::Unload => {
                    let _ = event_tx.send(EngineEvent::Unloaded);
                }
            }
        }
    });
    (cmd_tx, event_rx, journal)
}
