//! A centred box drawn over the chat.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::widgets::{Block, BorderType, Clear};
use ratatui::Frame;

use crate::ui::theme::Theme;

/// Clears a centred box of `percent_x`×`percent_y` of `area`, draws its border and returns its
/// inside.
pub fn open(frame: &mut Frame, area: Rect, percent_x: u16, percent_y: u16, title: &str, theme: &Theme) -> Rect {
    let [row] = Layout::vertical([Constraint::Percentage(percent_y)]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Percentage(percent_x)]).flex(Flex::Center).areas(row);
    frame.render_widget(Clear, rect);
    let block =
        Block::bordered().border_type(BorderType::Rounded).title(title.to_string()).border_style(theme.border_focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}
