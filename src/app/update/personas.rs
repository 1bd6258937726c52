//! A new chat: with personas configured, the user picks the one it starts with first.

use super::{chat, panels};
use crate::app::action::Action;
use crate::app::msg::Effect;
use crate::app::state::{new_conversation, Overlay, State};
use crate::app::text;

/// Opens the persona list, or without personas starts the new chat at once (keeping the
/// sampling settings as they are).
pub(super) fn new_chat(state: &mut State) -> Vec<Effect> {
    if state.personas.len() < 2 {
        state.overlay = None;
        let persona = state.personas[0].clone();
        return chat::new_chat(state, new_conversation(state.now, &persona), text::NEW_CHAT.to_string());
    }
    // The list starts on the open conversation's persona.
    let current = &state.conversation.persona;
    let selected = state.personas.iter().position(|p| &p.name == current).unwrap_or(0);
    state.overlay = Some(Overlay::Personas { selected });
    Vec::new()
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Overlay::Personas { selected }) = &mut state.overlay else {
        return Vec::new();
    };
    match action {
        Action::Up | Action::Down => {
            *selected = panels::step(*selected, action, state.personas.len());
            Vec::new()
        }
        Action::Confirm => {
            let persona = state.personas[(*selected).min(state.personas.len() - 1)].clone();
            state.overlay = None;
            // The persona's settings replace the sliders' values and become what reset goes to.
            state.knobs = persona.knobs.clone();
            state.knob_defaults = persona.knobs.clone();
            let notice = text::new_chat_with(persona.name.as_deref());
            chat::new_chat(state, new_conversation(state.now, &persona), notice)
        }
        Action::Close => {
            state.overlay = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}
