//! The history browser: saved conversations, newest first, with a title box while renaming.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::app::state::{HistoryBrowser, ListViewport, State};
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;
use crate::ui::wrap;

/// Draws the conversations and returns where their rows are.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    browser: &HistoryBrowser,
) -> Option<ListViewport> {
    let inner = popup::open(frame, area, 90, 70, strings::HISTORY_TITLE, theme);
    let rename_height = if browser.rename.is_some() { 3 } else { 0 };
    let [list_area, rename_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(rename_height)]).areas(inner);
    let mut drawn_rows = None;
    if browser.items.is_empty() {
        frame.render_widget(Paragraph::new(Line::styled(strings::HISTORY_EMPTY, theme.dim)), list_area);
    } else {
        let rows = browser.items.iter().map(|item| {
            let mark = if item.id == state.conversation.id { "●" } else { " " };
            Row::new(vec![
                mark.to_string(),
                wrap::terminal_safe(&item.title).into_owned(),
                item.updated.replace('T', " ").trim_end_matches('Z').to_string(),
                item.messages.to_string(),
                item.model.clone().unwrap_or_default(),
            ])
        });
        let header = Row::new(["", "title", "updated", "msgs", "model"]).style(theme.title);
        let widths = [
            Constraint::Length(1),
            Constraint::Fill(3),
            Constraint::Length(19),
            Constraint::Length(4),
            Constraint::Fill(1),
        ];
        let table = Table::new(rows, widths).header(header).row_highlight_style(theme.selected);
        let mut table_state = TableState::default().with_selected(Some(browser.selected));
        frame.render_stateful_widget(table, list_area, &mut table_state);
        drawn_rows = Some(popup::table_rows(list_area, table_state.offset()));
    }
    if let Some(rename) = &browser.rename {
        let block = Block::bordered().title(strings::RENAME_TITLE).border_style(theme.border_focused);
        let inner = block.inner(rename_area);
        frame.render_widget(block, rename_area);
        frame.render_widget(rename, inner);
    }
    drawn_rows
}
