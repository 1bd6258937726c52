//! Engine events: load progress, streamed tokens, live figures, the end of a reply.

use super::{chat, tokens};
use crate::app::msg::Effect;
use crate::app::state::{NoticeLevel, State, RECENT_MODELS};
use crate::app::text;
use crate::engine::protocol::{EngineEvent, ModelInfo, RequestId, StopReason};

pub(super) fn on_event(state: &mut State, event: EngineEvent) -> Vec<Effect> {
    match event {
        EngineEvent::LoadProgress { fraction, stage } => {
            if let Some(loading) = &mut state.loading {
                loading.fraction = fraction.clamp(0.0, 1.0);
                loading.stage = stage;
            }
            Vec::new()
        }
        EngineEvent::Tokenizer(counter) => tokens::on_counter(state, counter),
        EngineEvent::Ready(info) => on_ready(state, info),
        EngineEvent::PrefillProgress { id, done, total } => {
            if is_current(state, id) {
                state.live.prefill = Some((done, total));
            }
            Vec::new()
        }
        EngineEvent::Token { id, text, .. } => {
            if let Some(message) = current_message(state, id) {
                message.content.push_str(&text);
                if state.scroll.top.is_some() {
                    state.scroll.unseen_output = true;
                }
            }
            Vec::new()
        }
        EngineEvent::Stats { id, stats } => {
            if is_current(state, id) {
                state.live.record(stats);
            }
            Vec::new()
        }
        EngineEvent::Done { id, reason, stats } => {
            let Some(message) = current_message(state, id) else {
                return Vec::new();
            };
            message.stats = Some(stats.clone());
            message.stop_reason = Some(reason);
            end_generation(state);
            state.live.prefill = None;
            state.live.stats = Some(stats);
            if reason == StopReason::ContextFull {
                state.notify(NoticeLevel::Warning, text::CONTEXT_FULL);
            }
            chat::save(state)
        }
        EngineEvent::Error { id: Some(id), message } => {
            let nothing_written = current_message(state, id).is_some_and(|reply| reply.content.is_empty());
            if nothing_written {
                if let Some(sent) = state.generation.take().and_then(|g| g.sent) {
                    chat::undo_send(state, *sent, &message);
                    return Vec::new();
                }
            }
            let Some(reply) = current_message(state, id) else {
                return Vec::new();
            };
            reply.error = Some(message.clone());
            end_generation(state);
            state.notify(NoticeLevel::Error, text::generation_failed(&message));
            chat::save(state)
        }
        EngineEvent::Error { id: None, message } => {
            // These need reading (a path, a field, a reason), so they stay on screen until
            // dismissed, and go to the log for later.
            match state.loading.take() {
                Some(loading) => {
                    tracing::error!(path = %loading.path.display(), "loading the model failed: {message}");
                    let kept = state.model.as_ref().map(|m| m.name.as_str());
                    let text = text::load_failed(&loading.path, &message, kept);
                    state.show_error(text::LOAD_FAILED_TITLE, text);
                }
                None => {
                    tracing::error!("engine error: {message}");
                    state.show_error(text::ENGINE_ERROR_TITLE, text::engine_error(&message));
                }
            }
            Vec::new()
        }
        // The chat never asks for logits or perplexity.
        EngineEvent::Logits { .. } | EngineEvent::Perplexity { .. } => Vec::new(),
        EngineEvent::Unloaded => {
            state.model = None;
            Vec::new()
        }
    }
}

/// The reply has ended: "a reply is being written" is no longer true.
fn end_generation(state: &mut State) {
    state.generation = None;
    let busy = text::busy(&state.keymap);
    if state.notice.as_ref().is_some_and(|n| n.text == busy) {
        state.notice = None;
    }
}

fn is_current(state: &State, id: RequestId) -> bool {
    state.generation.as_ref().is_some_and(|g| g.id == id)
}

/// The message the request `id` writes to, if it is the running one (stale ids are ignored).
fn current_message(state: &mut State, id: RequestId) -> Option<&mut crate::app::conversation::Message> {
    let index = state.generation.as_ref().filter(|g| g.id == id)?.message;
    state.conversation.messages.get_mut(index)
}

fn on_ready(state: &mut State, info: ModelInfo) -> Vec<Effect> {
    state.loading = None;
    // New files go first; known ones keep their place so that next/prev model cycles in a
    // stable order.
    if !state.recent_models.contains(&info.path) {
        state.recent_models.insert(0, info.path.clone());
        state.recent_models.truncate(RECENT_MODELS);
    }
    for entry in state.models.iter_mut().filter(|e| e.path == info.path) {
        entry.apply_info(&info);
    }
    let reprefill = !state.conversation.messages.is_empty();
    state.notify(NoticeLevel::Info, text::loaded(&info, reprefill));
    state.model = Some(info);
    vec![Effect::SaveRecentModels(state.recent_models.clone())]
}

/// The engine's channel closed: nothing more will arrive.
pub(super) fn on_engine_gone(state: &mut State) -> Vec<Effect> {
    state.engine_alive = false;
    state.loading = None;
    let mut effects = Vec::new();
    if let Some(generation) = state.generation.take() {
        if let Some(message) = state.conversation.messages.get_mut(generation.message) {
            message.error = Some(text::ENGINE_GONE.to_string());
        }
        effects = chat::save(state);
    }
    state.notify(NoticeLevel::Error, text::ENGINE_GONE);
    effects
}
