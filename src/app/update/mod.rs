//! `update(&mut State, Msg) -> Vec<Effect>`: every state change happens here, without I/O.

mod chat;
mod downloads;
mod engine;
mod history;
mod keys;
mod messages;
mod model_settings;
mod mouse;
mod panels;
mod personas;
mod scroll;
mod system_prompt;
mod text_box;
mod tokens;
mod unsaved;

use crate::app::msg::{Effect, Msg};
use crate::app::state::{NoticeLevel, Overlay, State};
use crate::app::text;

/// Applies `msg` to `state` and returns the side effects to run, in order.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    state.dirty = true;
    // What can change the draft: keys, a paste, the editor, a refused send.
    let draft_may_change = matches!(msg, Msg::Key(_) | Msg::Paste(_) | Msg::Edited { .. } | Msg::Engine(_));
    let mut effects = on_msg(state, msg);
    if draft_may_change {
        effects.extend(tokens::count_draft(state));
    }
    effects
}

fn on_msg(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => keys::on_key(state, key),
        Msg::Mouse(event) => mouse::on_mouse(state, event),
        Msg::Paste(text) => {
            keys::on_paste(state, &text);
            Vec::new()
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            Vec::new()
        }
        Msg::Engine(event) => engine::on_event(state, event),
        Msg::EngineGone => engine::on_engine_gone(state),
        Msg::ModelsFound(models) => {
            panels::on_models_found(state, models);
            Vec::new()
        }
        Msg::Download(event) => downloads::on_event(state, event),
        Msg::ConversationsListed(listing) => {
            history::on_listed(state, listing);
            Vec::new()
        }
        Msg::ConversationOpened(conversation) => chat::open(state, conversation),
        Msg::Copied { what, via } => {
            state.notify(NoticeLevel::Info, text::copied(what, via));
            Vec::new()
        }
        Msg::Exported(path) => {
            state.notify(NoticeLevel::Info, text::exported(&path));
            Vec::new()
        }
        Msg::Edited { target, text } => {
            text_box::edited(state, target, &text);
            Vec::new()
        }
        Msg::EffectFailed(text) => {
            state.notify(NoticeLevel::Error, text);
            Vec::new()
        }
        Msg::Saved(id) => {
            unsaved::on_saved(state, &id);
            Vec::new()
        }
        Msg::SaveFailed { conversation, error } => {
            unsaved::on_save_failed(state, *conversation, error);
            Vec::new()
        }
        Msg::Rescued { dir, count } => {
            unsaved::on_rescued(state, &dir, count);
            Vec::new()
        }
        Msg::QuitWhenSaved { ask } => unsaved::on_quit_when_saved(state, ask),
        Msg::Terminate => unsaved::quit(state, false),
        Msg::TokensCounted(count) => {
            tokens::on_counted(state, count);
            Vec::new()
        }
    }
}

/// What to do when the app opens: load the model named on the command line or the most recent
/// one; without any, open the model picker.
pub fn start(state: &mut State) -> Vec<Effect> {
    match state.recent_models.first().cloned() {
        Some(path) => panels::load_model(state, path),
        None => {
            state.notify(NoticeLevel::Warning, text::no_model(&state.keymap));
            panels::open_picker(state)
        }
    }
}

/// Opens `overlay`, or closes it when one of the same kind is open.
fn toggle_overlay(state: &mut State, overlay: Overlay) -> bool {
    let same = state.overlay.as_ref().is_some_and(|o| std::mem::discriminant(o) == std::mem::discriminant(&overlay));
    state.overlay = if same { None } else { Some(overlay) };
    !same
}
