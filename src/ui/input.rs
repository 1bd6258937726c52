//! The input box.

use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType};
use ratatui::Frame;

use crate::app::state::State;
use crate::ui::strings;
use crate::ui::theme::Theme;

/// Rows the box takes: its text lines plus borders, between 3 and 8.
pub fn height(state: &State) -> u16 {
    let lines = state.input.lines().len() as u16;
    (lines + 2).clamp(3, 8)
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = if state.editing.is_some() { strings::INPUT_TITLE_EDITING } else { strings::INPUT_TITLE };
    let focused = state.overlay.is_none();
    let block = Block::bordered().border_type(BorderType::Rounded).title(title).border_style(if focused {
        theme.border_focused
    } else {
        theme.border
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.input.is_empty() {
        // Only the empty box is copied: the placeholder's style comes from the theme.
        let mut input = state.input.clone();
        input.set_placeholder_style(theme.dim);
        frame.render_widget(&input, inner);
    } else {
        frame.render_widget(&state.input, inner);
    }
}
