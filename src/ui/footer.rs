//! The bottom line: the latest notice, or a legend of the keys that matter in the focused view,
//! taken from the active keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::state::{NoticeLevel, Overlay, State};
use crate::ui::strings;
use crate::ui::theme::Theme;

/// The actions the legend lists per view, most useful first; cut from the end to fit.
fn legend_actions(state: &State) -> (Scope, Vec<Action>) {
    match &state.overlay {
        // Only these two keys are not text while a title is typed.
        Some(Overlay::History(_)) if state.is_renaming() => (Scope::History, vec![Action::Confirm, Action::Close]),
        Some(Overlay::History(_)) if state.is_searching() => {
            (Scope::HistorySearch, vec![Action::Confirm, Action::Down, Action::Close])
        }
        None if state.is_generating() => {
            (Scope::Chat, vec![Action::Stop, Action::ScrollUp, Action::OpenSliders, Action::ToggleStats, Action::Help])
        }
        None => (
            Scope::Chat,
            vec![
                Action::Send,
                Action::Newline,
                Action::Regenerate,
                Action::ToggleMouse,
                Action::OpenModels,
                Action::OpenSliders,
                Action::OpenHistory,
                Action::Help,
            ],
        ),
        Some(Overlay::Sliders { .. }) => (
            Scope::Sliders,
            vec![Action::Decrease, Action::Increase, Action::IncreaseCoarse, Action::Reset, Action::Close],
        ),
        Some(Overlay::Picker { .. }) => {
            (Scope::Picker, vec![Action::Confirm, Action::Download, Action::CancelDownload, Action::Close])
        }
        Some(Overlay::History(_)) => (
            Scope::History,
            vec![
                Action::Confirm,
                Action::Search,
                Action::Rename,
                Action::Delete,
                Action::NewChat,
                Action::ExportMarkdown,
                Action::Close,
            ],
        ),
        Some(Overlay::Help { .. }) => (Scope::Help, vec![Action::Down, Action::Close]),
        Some(Overlay::SystemPrompt(_)) => {
            (Scope::SystemPrompt, vec![Action::Confirm, Action::Newline, Action::OpenEditor, Action::Close])
        }
        Some(Overlay::Personas { .. }) => (Scope::Personas, vec![Action::Confirm, Action::Close]),
        Some(Overlay::Messages { .. }) => (
            Scope::Messages,
            vec![
                Action::Down,
                Action::PrevVersion,
                Action::NextVersion,
                Action::EditMessage,
                Action::Regenerate,
                Action::Delete,
                Action::Close,
            ],
        ),
        Some(Overlay::Unsaved) => {
            (Scope::Unsaved, vec![Action::Retry, Action::SaveElsewhere, Action::QuitAnyway, Action::Close])
        }
        Some(Overlay::ModelSettings(_)) => (
            Scope::ModelSettings,
            vec![Action::Confirm, Action::Close, Action::Increase, Action::Decrease, Action::Reset],
        ),
        Some(Overlay::Error(_)) => (Scope::Error, vec![Action::Close]),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if let Some(notice) = &state.notice {
        let style = match notice.level {
            NoticeLevel::Info => theme.info,
            NoticeLevel::Warning => theme.warning,
            NoticeLevel::Error => theme.error,
        };
        frame.render_widget(Paragraph::new(Line::styled(format!(" {}", notice.text), style)), area);
        return;
    }
    let (scope, actions) = legend_actions(state);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for action in actions {
        let Some(key) = state.keymap.keys_for(scope, action).first() else {
            continue;
        };
        let item = [
            Span::styled(format!(" {key}"), theme.key),
            Span::styled(format!(" {} ", label(state, action)), theme.dim),
        ];
        let width: usize = item.iter().map(Span::width).sum();
        if used + width > usize::from(area.width) {
            break;
        }
        used += width;
        spans.extend(item);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What an action does here: confirm and close save or drop a typed title, a system prompt or
/// model settings, close steps back out of a search, and confirm starts a chat with the chosen
/// persona.
fn label(state: &State, action: Action) -> String {
    let text = match (action, &state.overlay) {
        (Action::Confirm, _) if state.is_renaming() => strings::SAVE_TITLE,
        (Action::Close, _) if state.is_renaming() => strings::KEEP_TITLE,
        (Action::Close, _) if state.is_searching() => strings::TO_THE_LIST,
        (Action::Close, Some(Overlay::History(browser))) if browser.search.is_some() => strings::CLEAR_SEARCH,
        (Action::Confirm, Some(Overlay::SystemPrompt(_))) => strings::SAVE_SYSTEM_PROMPT,
        (Action::Close, Some(Overlay::SystemPrompt(_))) => strings::DISCARD_CHANGES,
        (Action::Confirm, Some(Overlay::Personas { .. })) => strings::START_CHAT,
        (Action::Confirm, Some(Overlay::ModelSettings(_))) => strings::APPLY_SETTINGS,
        (Action::Close, Some(Overlay::ModelSettings(_))) => strings::DISCARD_CHANGES,
        (Action::ToggleMouse, _) if state.mouse_capture => strings::SELECT_TEXT,
        (Action::ToggleMouse, _) => strings::TAKE_MOUSE,
        (Action::Down, Some(Overlay::Messages { .. })) => strings::OTHER_MESSAGE,
        (Action::PrevVersion, Some(Overlay::Messages { .. })) => strings::PREVIOUS,
        (Action::NextVersion, Some(Overlay::Messages { .. })) => strings::NEXT,
        (Action::EditMessage, Some(Overlay::Messages { .. })) => strings::EDIT,
        _ => return strings::action_label(action),
    };
    text.to_string()
}
