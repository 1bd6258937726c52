//! A message picked in the conversation (with a key or a click): move to another, flip its
//! versions, edit it, write a new version of a reply, delete it. Flipping in the chat itself
//! (an empty input box) acts on the latest message with versions.

use super::{chat, scroll};
use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::msg::Effect;
use crate::app::state::{NoticeLevel, Overlay, State};
use crate::app::text;
use crate::engine::protocol::Role;

/// Picks the last message.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    match state.conversation.messages.len().checked_sub(1) {
        Some(last) => pick(state, last),
        None => state.notify(NoticeLevel::Info, text::NOTHING_TO_SELECT),
    }
    Vec::new()
}

/// Picks message `index` and scrolls it into view.
pub(super) fn pick(state: &mut State, index: usize) {
    state.overlay = Some(Overlay::Messages { selected: index, confirm_delete: false });
    scroll::reveal_message(state, index);
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Overlay::Messages { selected, confirm_delete }) = &mut state.overlay else {
        return Vec::new();
    };
    let index = *selected;
    let confirming = std::mem::take(confirm_delete);
    let count = state.conversation.messages.len();
    match action {
        Action::Up => pick(state, index.saturating_sub(1)),
        Action::Down => pick(state, (index + 1).min(count.saturating_sub(1))),
        Action::PrevVersion | Action::NextVersion => return flip(state, index, action == Action::NextVersion),
        Action::EditMessage => {
            let effects = chat::edit(state, index);
            if state.editing.is_some() {
                state.overlay = None;
            }
            return effects;
        }
        Action::Regenerate => {
            let is_user = state.conversation.messages.get(index).is_some_and(|m| m.role == Role::User);
            let effects = chat::regenerate_at(state, index + usize::from(is_user));
            if state.is_generating() {
                state.overlay = None;
            }
            return effects;
        }
        Action::Delete if confirming => return delete(state, index),
        Action::Delete => {
            if let Some(Overlay::Messages { confirm_delete, .. }) = &mut state.overlay {
                *confirm_delete = true;
            }
            let keys = state.keymap.keys_for(Scope::Messages, Action::Delete);
            state.notify(NoticeLevel::Warning, text::confirm_delete_message(index + 1 < count, keys));
        }
        Action::Close => state.overlay = None,
        _ => {}
    }
    Vec::new()
}

/// The chat's ←/→: flips the latest message with versions; `None` (the key goes to the input
/// box) while the box has text or there is nothing to flip.
pub(super) fn flip_latest(state: &mut State, forward: bool) -> Option<Vec<Effect>> {
    if !state.input.is_empty() {
        return None;
    }
    let index = state.conversation.latest_fork()?;
    Some(flip(state, index, forward))
}

/// Shows another version at `index` and saves the choice.
fn flip(state: &mut State, index: usize, forward: bool) -> Vec<Effect> {
    if state.is_generating() {
        state.notify(NoticeLevel::Warning, text::busy(&state.keymap));
        return Vec::new();
    }
    if !state.conversation.flip(index, forward) {
        state.notify(NoticeLevel::Info, text::NO_OTHER_VERSION);
        return Vec::new();
    }
    let position = state.conversation.messages[index].version_position();
    state.notify(NoticeLevel::Info, text::showing_version(position.shown, position.count));
    chat::save(state)
}

/// Deletes the picked version and what follows it; the neighbouring version, if any, shows.
fn delete(state: &mut State, index: usize) -> Vec<Effect> {
    if state.is_generating() {
        state.notify(NoticeLevel::Warning, text::busy(&state.keymap));
        return Vec::new();
    }
    let only_version = state.conversation.messages[index].alternatives.is_empty();
    if index == 0 && only_version {
        // An emptied conversation is one to delete in the list, where deleting asks about it.
        state.notify(NoticeLevel::Warning, text::empties_conversation(&state.keymap));
        return Vec::new();
    }
    state.conversation.delete_version(index);
    state.editing = None;
    let last = state.conversation.messages.len() - 1;
    pick(state, index.min(last));
    state.notify(NoticeLevel::Info, text::MESSAGE_DELETED);
    chat::save(state)
}
