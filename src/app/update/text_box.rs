//! The text boxes (the draft, the system prompt editor, the conversations' search): readline's
//! editing keys, typing, pasting, and `$EDITOR`.

use crossterm::event::KeyEvent;
use ratatui_textarea::{CursorMove, TextArea};

use super::history;
use crate::app::action::Action;
use crate::app::msg::Effect;
use crate::app::state::{new_input, Overlay, State, TextBox};

/// A text box that can have the focus.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Focus {
    /// One that `$EDITOR` can fill.
    Editable(TextBox),
    /// The history browser's search: one line, searched again at every change.
    Query,
}

/// The text box that has the focus, if any.
fn focused(state: &mut State) -> Option<(Focus, &mut TextArea<'static>)> {
    match &mut state.overlay {
        None => Some((Focus::Editable(TextBox::Draft), &mut state.input)),
        Some(Overlay::SystemPrompt(text)) => Some((Focus::Editable(TextBox::SystemPrompt), text)),
        Some(Overlay::History(browser)) => {
            browser.search.as_mut().filter(|s| s.typing).map(|s| (Focus::Query, &mut s.query))
        }
        Some(_) => None,
    }
}

/// What follows an edit of the focused box.
fn edited_box(state: &mut State, focus: Focus) {
    match focus {
        Focus::Editable(TextBox::Draft) => state.input_history.stop_browsing(),
        Focus::Editable(TextBox::SystemPrompt) => {}
        Focus::Query => history::query_changed(state),
    }
}

/// Runs an editing action on the focused box; `None` when there is no box or it is no editing
/// action.
pub(super) fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let (focus, text) = focused(state)?;
    match (focus, action) {
        // The query is one short line.
        (Focus::Query, Action::OpenEditor | Action::Newline) => return Some(Vec::new()),
        (Focus::Editable(target), Action::OpenEditor) => {
            let text = text.lines().join("\n");
            return Some(vec![Effect::OpenEditor { target, text }]);
        }
        _ => {}
    }
    if !edit(text, action) {
        return None;
    }
    edited_box(state, focus);
    Some(Vec::new())
}

/// Applies `action` to `text`; false when it is not an editing action.
pub(super) fn edit(text: &mut TextArea<'static>, action: Action) -> bool {
    // A move ends a selection (as the box's own arrow keys do), so typing no longer replaces it.
    let mut move_to = |to: CursorMove| {
        text.cancel_selection();
        text.move_cursor(to);
    };
    match action {
        Action::LineStart => move_to(CursorMove::Head),
        Action::LineEnd => move_to(CursorMove::End),
        Action::WordLeft => move_to(CursorMove::WordBack),
        Action::WordRight => move_to(CursorMove::WordForward),
        Action::Newline => text.insert_newline(),
        Action::DeleteToLineStart => {
            text.delete_line_by_head();
        }
        Action::DeleteToLineEnd => {
            text.delete_line_by_end();
        }
        Action::DeleteWordBack => {
            text.delete_word();
        }
        Action::DeleteWordForward => {
            text.delete_next_word();
        }
        Action::Undo => {
            text.undo();
        }
        _ => return false,
    }
    true
}

/// A key no binding took: text for the focused box.
pub(super) fn type_key(state: &mut State, key: KeyEvent) {
    if let Some((focus, text)) = focused(state) {
        text.input(key);
        edited_box(state, focus);
    }
}

/// Bracketed paste: the whole text is one edit of the focused box.
pub(super) fn paste(state: &mut State, text: &str) {
    if let Some((focus, box_text)) = focused(state) {
        match focus {
            Focus::Query => box_text.insert_str(text.replace('\n', " ")),
            Focus::Editable(_) => box_text.insert_str(text),
        };
        edited_box(state, focus);
    }
}

/// `$EDITOR` has closed: its text replaces the box's (less the final newline editors add).
pub(super) fn edited(state: &mut State, target: TextBox, text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    match (target, &mut state.overlay) {
        (TextBox::Draft, None) => {
            state.input = filled(new_input(), text);
            state.input_history.stop_browsing();
        }
        (TextBox::SystemPrompt, Some(Overlay::SystemPrompt(box_text))) => {
            let blank = crate::app::state::new_system_prompt_box();
            **box_text = filled(blank, text);
        }
        // The box closed meanwhile (it cannot while the editor runs, but a stale message must
        // not land in another box).
        _ => {}
    }
}

/// `text` in `empty`, with the cursor at its end.
pub(super) fn filled(mut empty: TextArea<'static>, text: &str) -> TextArea<'static> {
    empty.insert_str(text);
    empty
}
