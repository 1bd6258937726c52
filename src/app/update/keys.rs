//! From a key press to an action, and from an action to the handler that carries it out.

use crossterm::event::{KeyEvent, KeyEventKind};

use super::{
    chat, history, messages, model_settings, panels, personas, scroll, system_prompt, text_box, toggle_overlay,
};
use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::msg::Effect;
use crate::app::state::{NoticeLevel, Overlay, State};
use crate::app::text;

pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    state.notice = None;
    let armed = std::mem::take(&mut state.quit_armed);
    if state.is_renaming() {
        return history::rename_key(state, key);
    }
    let scope = focused_scope(state);
    let handled = state.keymap.action_for(scope, &key).and_then(|action| on_action(state, action, armed));
    match handled {
        Some(effects) => effects,
        None => {
            text_box::type_key(state, key);
            Vec::new()
        }
    }
}

/// Bracketed paste: the whole text becomes one edit of the focused text box.
pub(super) fn on_paste(state: &mut State, text: &str) {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    match &mut state.overlay {
        Some(Overlay::History(browser)) if browser.rename.is_some() => {
            if let Some(rename) = &mut browser.rename {
                rename.insert_str(text.replace('\n', " "));
            }
        }
        _ => text_box::paste(state, &text),
    }
}

/// Which keymap scope has the keys.
fn focused_scope(state: &State) -> Scope {
    match &state.overlay {
        None => Scope::Chat,
        Some(Overlay::Help { .. }) => Scope::Help,
        Some(Overlay::Sliders { .. }) => Scope::Sliders,
        Some(Overlay::Picker { .. }) => Scope::Picker,
        Some(Overlay::History(browser)) if browser.is_typing_query() => Scope::HistorySearch,
        Some(Overlay::History(_)) => Scope::History,
        Some(Overlay::Messages { .. }) => Scope::Messages,
        Some(Overlay::SystemPrompt(_)) => Scope::SystemPrompt,
        Some(Overlay::Personas { .. }) => Scope::Personas,
        Some(Overlay::Unsaved) => Scope::Unsaved,
        Some(Overlay::ModelSettings(_)) => Scope::ModelSettings,
        Some(Overlay::Error(_)) => Scope::Error,
    }
}

/// Runs `action`; `None` means it did not apply here and the key goes to the input box.
fn on_action(state: &mut State, action: Action, armed: bool) -> Option<Vec<Effect>> {
    let none = Vec::new;
    let effects = match action {
        Action::Interrupt => chat::interrupt(state, armed),
        Action::Quit => chat::quit(state),
        Action::Suspend => vec![Effect::Suspend],
        Action::Redraw => vec![Effect::Redraw],
        Action::ToggleMouse => {
            state.mouse_capture = !state.mouse_capture;
            state.notify(NoticeLevel::Info, text::mouse_toggled(state.mouse_capture, &state.keymap));
            vec![Effect::SetMouseCapture(state.mouse_capture)]
        }
        Action::Help => {
            toggle_overlay(state, Overlay::Help { scroll: 0 });
            none()
        }
        Action::ToggleStats => {
            state.show_stats = Some(!state.stats_visible());
            none()
        }
        Action::OpenSliders => {
            toggle_overlay(state, Overlay::Sliders { selected: 0 });
            none()
        }
        Action::OpenModels => panels::open_picker(state),
        Action::OpenHistory => history::open(state),
        Action::OpenSystemPrompt => system_prompt::open(state),
        Action::OpenModelSettings => model_settings::open(state),
        Action::CycleTheme => {
            state.theme.name = state.theme.name.next();
            state.notify(NoticeLevel::Info, text::theme(state.theme.name.name()));
            none()
        }
        Action::NextModel => panels::cycle_model(state, 1),
        Action::PrevModel => panels::cycle_model(state, -1),
        Action::Send => chat::send(state),
        Action::Stop => chat::stop(state),
        Action::Regenerate => match state.overlay {
            Some(Overlay::Messages { .. }) => messages::on_action(state, action),
            _ => chat::regenerate(state),
        },
        Action::ContinueReply => chat::continue_reply(state),
        Action::EditLast => chat::edit_last(state),
        Action::SelectMessages => messages::open(state),
        Action::PrevVersion | Action::NextVersion if state.overlay.is_none() => {
            return messages::flip_latest(state, action == Action::NextVersion)
        }
        Action::NewChat => personas::new_chat(state),
        Action::HistoryPrev => return chat::recall(state, true).then(none),
        Action::HistoryNext => return chat::recall(state, false).then(none),
        Action::ScrollUp => scroll::up(state, 1),
        Action::ScrollDown => scroll::down(state, 1),
        Action::PageUp => match &mut state.overlay {
            Some(Overlay::Help { scroll }) => {
                *scroll = scroll.saturating_sub(scroll::page(state.size.1 as usize));
                none()
            }
            _ => scroll::up(state, scroll::page(state.viewport.height)),
        },
        Action::PageDown => match &mut state.overlay {
            Some(Overlay::Help { scroll }) => {
                *scroll += scroll::page(state.size.1 as usize);
                none()
            }
            _ => scroll::down(state, scroll::page(state.viewport.height)),
        },
        Action::ScrollTop => scroll::top(state),
        Action::ScrollBottom => scroll::bottom(state),
        Action::CopyReply => chat::copy_reply(state),
        Action::CopyLastCode => chat::copy_code(state, None),
        Action::CopyCode(n) => chat::copy_code(state, Some(usize::from(n))),
        Action::ExportMarkdown => match &state.overlay {
            Some(Overlay::History(_)) => history::export_selected(state),
            _ => chat::export(state),
        },
        Action::Newline
        | Action::LineStart
        | Action::LineEnd
        | Action::WordLeft
        | Action::WordRight
        | Action::DeleteToLineStart
        | Action::DeleteToLineEnd
        | Action::DeleteWordBack
        | Action::DeleteWordForward
        | Action::Undo
        | Action::OpenEditor => return text_box::on_action(state, action),
        Action::PrevVersion | Action::NextVersion | Action::EditMessage => messages::on_action(state, action),
        Action::Up
        | Action::Down
        | Action::Decrease
        | Action::Increase
        | Action::DecreaseCoarse
        | Action::IncreaseCoarse
        | Action::Reset
        | Action::Confirm
        | Action::Rename
        | Action::Delete
        | Action::Close
        | Action::Search
        | Action::Download
        | Action::CancelDownload
        | Action::Retry
        | Action::SaveElsewhere
        | Action::QuitAnyway => panels::on_overlay_action(state, action),
    };
    Some(effects)
}
