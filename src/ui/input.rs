//! The input box: it grows with its text, wrapped at words, up to a third of the screen, and
//! scrolls inside beyond that. Its border shows the draft's token count.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Widget};
use ratatui::Frame;
use ratatui_textarea::{CursorMove, TextArea};

use crate::app::state::State;
use crate::ui::strings;
use crate::ui::theme::Theme;

/// Rows the box takes in a `width`×`screen_height` terminal: its wrapped text plus borders,
/// from one row of text up to about a third of the screen.
pub fn height(state: &State, width: u16, screen_height: u16) -> u16 {
    let most = (screen_height / 3).saturating_sub(1).clamp(1, 15);
    let rows = wrapped_rows(&state.input, width.saturating_sub(2)).clamp(1, usize::from(most));
    rows as u16 + 2
}

/// How many rows `text` takes wrapped to `width` columns, as the box itself wraps it (the
/// text area keeps its wrapping to itself, so a copy is laid out and asked where its end is).
pub fn wrapped_rows(text: &TextArea<'static>, width: u16) -> usize {
    if text.is_empty() || width == 0 {
        return 1;
    }
    let mut copy = text.clone();
    copy.move_cursor(CursorMove::Bottom);
    copy.move_cursor(CursorMove::End);
    let area = Rect::new(0, 0, width, 1);
    (&copy).render(area, &mut Buffer::empty(area));
    copy.screen_cursor().row + 1
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = if state.editing.is_some() { strings::INPUT_TITLE_EDITING } else { strings::INPUT_TITLE };
    let focused = state.overlay.is_none();
    let border = if focused { theme.border_focused } else { theme.border };
    let mut block = Block::bordered().border_type(BorderType::Rounded).title(title).border_style(border);
    if let Some(tokens) = state.tokens.count.filter(|_| !state.input.is_empty()) {
        let count = strings::draft_tokens(tokens, state.model.as_ref().map(|m| m.ctx_max));
        block = block.title(Line::styled(count, theme.dim).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    render_text(frame, inner, &state.input, theme);
}

/// A text box's text, or its placeholder in the theme's dim style.
pub fn render_text(frame: &mut Frame, area: Rect, text: &TextArea<'static>, theme: &Theme) {
    if text.is_empty() {
        // Only the empty box is copied: the placeholder's style comes from the theme.
        let mut empty = text.clone();
        empty.set_placeholder_style(theme.dim);
        frame.render_widget(&empty, area);
    } else {
        frame.render_widget(text, area);
    }
}
