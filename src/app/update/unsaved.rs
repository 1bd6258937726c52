//! Conversations the data folder would not take (disk full, read-only): kept in memory, written
//! again with every later save, and never dropped on quit without asking. A signal cannot ask,
//! so it writes them to the rescue folder instead.

use super::chat;
use crate::app::action::Action;
use crate::app::conversation::Conversation;
use crate::app::msg::{Effect, Msg};
use crate::app::state::{NoticeLevel, Overlay, State};
use crate::app::text;
use crate::engine::protocol::EngineCmd;

pub(super) fn on_saved(state: &mut State, id: &str) {
    state.unsaved.retain(|c| c.id != id);
    if state.unsaved.is_empty() {
        state.save_error = None;
    }
}

pub(super) fn on_save_failed(state: &mut State, conversation: Conversation, error: String) {
    state.unsaved.retain(|c| c.id != conversation.id);
    state.unsaved.push(conversation);
    state.notify(NoticeLevel::Error, text::save_failed(&error));
    state.save_error = Some(error);
}

/// Saves of the unsaved conversations other than `except` (the one about to be saved anew).
pub(super) fn retries(state: &State, except: Option<&str>) -> Vec<Effect> {
    let others = state.unsaved.iter().filter(|c| Some(c.id.as_str()) != except);
    others.map(|c| Effect::SaveConversation(c.clone())).collect()
}

/// Stops the reply, saves everything once more, then quits when all of it reached the disk
/// (see [`on_quit_when_saved`]). `ask`: whether a user is there to choose what happens otherwise.
pub(super) fn quit(state: &mut State, ask: bool) -> Vec<Effect> {
    // Abandoning saves the open conversation and retries the others.
    let mut effects = chat::abandon_generation(state);
    effects.push(Effect::Queue(Box::new(Msg::QuitWhenSaved { ask })));
    effects
}

pub(super) fn on_quit_when_saved(state: &mut State, ask: bool) -> Vec<Effect> {
    if state.unsaved.is_empty() {
        return leave(state);
    }
    if ask {
        state.overlay = Some(Overlay::Unsaved);
        return Vec::new();
    }
    let mut effects = vec![rescue(state)];
    effects.extend(leave(state));
    effects
}

pub(super) fn on_rescued(state: &mut State, dir: &std::path::Path, count: usize) {
    state.unsaved.clear();
    state.save_error = None;
    let message = text::rescued(dir, count);
    state.notify(NoticeLevel::Info, message.clone());
    state.farewell = Some(message);
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Retry => {
            state.overlay = None;
            quit(state, true)
        }
        Action::SaveElsewhere => {
            state.overlay = None;
            vec![rescue(state), Effect::Queue(Box::new(Msg::QuitWhenSaved { ask: true }))]
        }
        Action::QuitAnyway => {
            let lost = std::mem::take(&mut state.unsaved);
            tracing::warn!(count = lost.len(), "quitting without saving conversations");
            state.farewell = Some(text::not_saved(lost.len()));
            leave(state)
        }
        Action::Close => {
            state.overlay = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn rescue(state: &State) -> Effect {
    Effect::Rescue { dir: state.rescue_dir.clone(), conversations: state.unsaved.clone() }
}

fn leave(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.quitting = true;
    vec![Effect::Engine(EngineCmd::Shutdown)]
}
