//! What a key can ask for. Keys map to these through the keymap; `update` acts on them.

use std::fmt;

/// A user intent, named in `assets/keymap.toml` by its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    // Anywhere.
    Interrupt,
    Quit,
    Suspend,
    Help,
    ToggleStats,
    OpenSliders,
    OpenModels,
    OpenHistory,
    NextModel,
    PrevModel,
    /// Clear the terminal and draw everything again (after another program wrote over it).
    Redraw,
    /// See and edit the open conversation's system prompt.
    OpenSystemPrompt,
    /// Context size, threads and LM head of the loaded model (or, in the model manager, of the
    /// selected one).
    OpenModelSettings,
    /// Take the mouse or leave it to the terminal (to select text).
    ToggleMouse,
    /// Switch to the next built-in colour theme.
    CycleTheme,
    // The chat screen.
    Send,
    Stop,
    Regenerate,
    /// Let the model go on with the last reply where it stopped.
    ContinueReply,
    EditLast,
    /// Pick a message of the conversation to edit, flip, regenerate or delete.
    SelectMessages,
    /// Show the previous / next version of a message (a regenerated reply, an edited message).
    PrevVersion,
    NextVersion,
    /// Edit the picked message; sending adds a version of it.
    EditMessage,
    NewChat,
    HistoryPrev,
    HistoryNext,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    ScrollTop,
    ScrollBottom,
    CopyReply,
    CopyLastCode,
    /// Copy the numbered code block (1..=9) of the conversation.
    CopyCode(u8),
    ExportMarkdown,
    // Any text box.
    Newline,
    LineStart,
    LineEnd,
    WordLeft,
    WordRight,
    DeleteToLineStart,
    DeleteToLineEnd,
    DeleteWordBack,
    DeleteWordForward,
    Undo,
    /// Edit the box's text in `$VISUAL` / `$EDITOR`.
    OpenEditor,
    // Lists and panels.
    Up,
    Down,
    Decrease,
    Increase,
    DecreaseCoarse,
    IncreaseCoarse,
    Reset,
    Confirm,
    Rename,
    Delete,
    Close,
    /// Filter the history browser by a query.
    Search,
    // The model manager.
    Download,
    CancelDownload,
    // Quitting with unsaved conversations.
    Retry,
    SaveElsewhere,
    QuitAnyway,
}

/// Every action with a fixed name, in the order the help overlay lists them.
const NAMED: &[(&str, Action)] = &[
    ("interrupt", Action::Interrupt),
    ("quit", Action::Quit),
    ("suspend", Action::Suspend),
    ("help", Action::Help),
    ("toggle_stats", Action::ToggleStats),
    ("open_sliders", Action::OpenSliders),
    ("open_models", Action::OpenModels),
    ("open_history", Action::OpenHistory),
    ("next_model", Action::NextModel),
    ("prev_model", Action::PrevModel),
    ("redraw", Action::Redraw),
    ("open_system_prompt", Action::OpenSystemPrompt),
    ("open_model_settings", Action::OpenModelSettings),
    ("toggle_mouse", Action::ToggleMouse),
    ("cycle_theme", Action::CycleTheme),
    ("send", Action::Send),
    ("stop", Action::Stop),
    ("regenerate", Action::Regenerate),
    ("continue_reply", Action::ContinueReply),
    ("edit_last", Action::EditLast),
    ("select_messages", Action::SelectMessages),
    ("prev_version", Action::PrevVersion),
    ("next_version", Action::NextVersion),
    ("edit_message", Action::EditMessage),
    ("new_chat", Action::NewChat),
    ("history_prev", Action::HistoryPrev),
    ("history_next", Action::HistoryNext),
    ("scroll_up", Action::ScrollUp),
    ("scroll_down", Action::ScrollDown),
    ("page_up", Action::PageUp),
    ("page_down", Action::PageDown),
    ("scroll_top", Action::ScrollTop),
    ("scroll_bottom", Action::ScrollBottom),
    ("copy_reply", Action::CopyReply),
    ("copy_last_code", Action::CopyLastCode),
    ("export_markdown", Action::ExportMarkdown),
    ("newline", Action::Newline),
    ("line_start", Action::LineStart),
    ("line_end", Action::LineEnd),
    ("word_left", Action::WordLeft),
    ("word_right", Action::WordRight),
    ("delete_to_line_start", Action::DeleteToLineStart),
    ("delete_to_line_end", Action::DeleteToLineEnd),
    ("delete_word_back", Action::DeleteWordBack),
    ("delete_word_forward", Action::DeleteWordForward),
    ("undo", Action::Undo),
    ("open_editor", Action::OpenEditor),
    ("up", Action::Up),
    ("down", Action::Down),
    ("decrease", Action::Decrease),
    ("increase", Action::Increase),
    ("decrease_coarse", Action::DecreaseCoarse),
    ("increase_coarse", Action::IncreaseCoarse),
    ("reset", Action::Reset),
    ("confirm", Action::Confirm),
    ("rename", Action::Rename),
    ("delete", Action::Delete),
    ("close", Action::Close),
    ("search", Action::Search),
    ("download", Action::Download),
    ("cancel_download", Action::CancelDownload),
    ("retry", Action::Retry),
    ("save_elsewhere", Action::SaveElsewhere),
    ("quit_anyway", Action::QuitAnyway),
];

const COPY_CODE_PREFIX: &str = "copy_code_";

impl Action {
    /// Parses a keymap name such as `send` or `copy_code_3`.
    pub fn from_name(name: &str) -> Option<Action> {
        if let Some(n) = name.strip_prefix(COPY_CODE_PREFIX) {
            return match n.parse::<u8>() {
                Ok(n @ 1..=9) => Some(Action::CopyCode(n)),
                _ => None,
            };
        }
        NAMED.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CopyCode(n) => write!(f, "{COPY_CODE_PREFIX}{n}"),
            other => {
                let name = NAMED.iter().find(|(_, a)| a == other).map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (name, action) in NAMED {
            assert_eq!(Action::from_name(name), Some(*action));
            assert_eq!(action.to_string(), *name);
        }
        assert_eq!(Action::from_name("copy_code_7"), Some(Action::CopyCode(7)));
        assert_eq!(Action::CopyCode(7).to_string(), "copy_code_7");
        assert_eq!(Action::from_name("copy_code_0"), None);
        assert_eq!(Action::from_name("sned"), None);
    }
}
