//! The system prompt editor: the open conversation's system prompt, edited in a box of its own.

use super::{chat, text_box, toggle_overlay};
use crate::app::action::Action;
use crate::app::msg::Effect;
use crate::app::state::{new_system_prompt_box, NoticeLevel, Overlay, State};
use crate::app::text;

pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let prompt = state.conversation.system_prompt.clone().unwrap_or_default();
    let editor = text_box::filled(new_system_prompt_box(), &prompt);
    toggle_overlay(state, Overlay::SystemPrompt(Box::new(editor)));
    Vec::new()
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Confirm => save(state),
        Action::Close => {
            state.overlay = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Keeps the edited prompt (blank means none); the next request sends it.
fn save(state: &mut State) -> Vec<Effect> {
    let Some(Overlay::SystemPrompt(editor)) = state.overlay.take() else {
        return Vec::new();
    };
    let prompt = editor.lines().join("\n").trim().to_string();
    let prompt = (!prompt.is_empty()).then_some(prompt);
    if prompt == state.conversation.system_prompt {
        return Vec::new();
    }
    let cleared = prompt.is_none();
    state.conversation.system_prompt = prompt;
    state.notify(NoticeLevel::Info, text::system_prompt_saved(cleared, state.is_generating()));
    chat::save(state)
}
