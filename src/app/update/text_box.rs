//! The text boxes (the draft and the system prompt editor): readline's editing keys, typing,
//! pasting, and `$EDITOR`.

use crossterm::event::KeyEvent;
use ratatui_textarea::{CursorMove, TextArea};

use crate::app::action::Action;
use crate::app::msg::Effect;
use crate::app::state::{new_input, Overlay, State, TextBox};

/// The text box that has the focus, if any.
fn focused(state: &mut State) -> Option<(TextBox, &mut TextArea<'static>)> {
    match &mut state.overlay {
        None => Some((TextBox::Draft, &mut state.input)),
        Some(Overlay::SystemPrompt(text)) => Some((TextBox::SystemPrompt, text)),
        Some(_) => None,
    }
}

/// Runs an editing action on the focused box; `None` when there is no box or it is no editing
/// action.
pub(super) fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let (target, text) = focused(state)?;
    if action == Action::OpenEditor {
        let text = text.lines().join("\n");
        return Some(vec![Effect::OpenEditor { target, text }]);
    }
    if !edit(text, action) {
        return None;
    }
    if target == TextBox::Draft {
        state.input_history.stop_browsing();
    }
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
    if let Some((target, text)) = focused(state) {
        text.input(key);
        if target == TextBox::Draft {
            state.input_history.stop_browsing();
        }
    }
}

/// Bracketed paste: the whole text is one edit of the focused box.
pub(super) fn paste(state: &mut State, text: &str) {
    if let Some((target, box_text)) = focused(state) {
        box_text.insert_str(text);
        if target == TextBox::Draft {
            state.input_history.stop_browsing();
        }
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
