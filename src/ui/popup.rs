//! A centred box drawn over the chat.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::widgets::{Block, BorderType, Clear};
use ratatui::Frame;

use crate::app::state::ListViewport;

use crate::ui::theme::Theme;

/// Below this size a popup takes all of the chat area: a list needs the room more than a margin.
const MIN_WIDTH: u16 = 64;
const MIN_HEIGHT: u16 = 12;

/// Clears a centred box of `percent_x`×`percent_y` of `area` (at least `MIN_WIDTH`×`MIN_HEIGHT`
/// where the area allows), draws its border and returns its inside.
pub fn open(frame: &mut Frame, area: Rect, percent_x: u16, percent_y: u16, title: &str, theme: &Theme) -> Rect {
    let width = percent(area.width, percent_x).max(area.width.min(MIN_WIDTH));
    let height = percent(area.height, percent_y).max(area.height.min(MIN_HEIGHT));
    let [row] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(row);
    frame.render_widget(Clear, rect);
    let block =
        Block::bordered().border_type(BorderType::Rounded).title(title.to_string()).border_style(theme.border_focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// Where the rows of a table with a one-line header drawn in `area` are, scrolled to `first`.
pub fn table_rows(area: Rect, first: usize) -> ListViewport {
    let rows = Rect { y: area.y.saturating_add(1), height: area.height.saturating_sub(1), ..area };
    ListViewport { rows, first, row_height: 1 }
}

fn percent(cells: u16, percent: u16) -> u16 {
    u16::try_from(u32::from(cells) * u32::from(percent) / 100).unwrap_or(cells)
}
