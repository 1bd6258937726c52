//! The history browser: saved conversations, newest first, with a search box over the list while
//! searching (each match previewed under its title) and a title box while renaming.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::app::search::Preview;
use crate::app::state::{HistoryBrowser, HistorySearch, ListViewport, State};
use crate::ui::input;
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;
use crate::ui::wrap;

/// Widths of the columns beside the title, and the gaps between the five columns.
const MARK_WIDTH: u16 = 1;
const UPDATED_WIDTH: u16 = 19;
const MESSAGES_WIDTH: u16 = 4;
const COLUMN_GAPS: u16 = 4;

/// Draws the conversations and returns where their rows are.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    browser: &HistoryBrowser,
) -> Option<ListViewport> {
    let inner = popup::open(frame, area, 90, 70, strings::HISTORY_TITLE, theme);
    let search_height = if browser.search.is_some() { 3 } else { 0 };
    let rename_height = if browser.rename.is_some() { 3 } else { 0 };
    let [search_area, list_area, rename_area] =
        Layout::vertical([Constraint::Length(search_height), Constraint::Fill(1), Constraint::Length(rename_height)])
            .areas(inner);
    if let Some(search) = &browser.search {
        render_search_box(frame, search_area, theme, search, browser.items.len());
    }
    let mut drawn_rows = None;
    if browser.row_count() == 0 {
        let empty = if browser.items.is_empty() { strings::HISTORY_EMPTY } else { strings::NO_MATCHES };
        frame.render_widget(Paragraph::new(Line::styled(empty, theme.dim)), list_area);
    } else {
        drawn_rows = Some(render_list(frame, list_area, state, theme, browser));
    }
    if let Some(rename) = &browser.rename {
        let block = Block::bordered().title(strings::RENAME_TITLE).border_style(theme.border_focused);
        let inner = block.inner(rename_area);
        frame.render_widget(block, rename_area);
        frame.render_widget(rename, inner);
    }
    drawn_rows
}

fn render_search_box(frame: &mut Frame, area: Rect, theme: &Theme, search: &HistorySearch, total: usize) {
    let border = if search.typing { theme.border_focused } else { theme.border };
    let title = strings::search_title(search.matches.len(), total);
    let block = Block::bordered().title(title).border_style(border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    input::render_text(frame, inner, &search.query, theme);
}

/// Draws the list and returns where its rows are.
fn render_list(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, browser: &HistoryBrowser) -> ListViewport {
    // A search's previews take the model column's room, and every row is two lines (a title
    // matched by its title alone has an empty second line), so a click finds its row.
    let searching = browser.search.is_some();
    let row_height = if searching { 2 } else { 1 };
    let gaps = if searching { COLUMN_GAPS - 1 } else { COLUMN_GAPS };
    let rest = usize::from(area.width.saturating_sub(MARK_WIDTH + UPDATED_WIDTH + MESSAGES_WIDTH + gaps));
    let title_width = if searching { rest } else { rest * 3 / 4 };
    let rows = (0..browser.row_count()).filter_map(|r| browser.row(r)).map(|(item, preview)| {
        let mark = if item.id == state.conversation.id { "●" } else { " " };
        let mut title = Text::raw(wrap::terminal_safe(&item.title).into_owned());
        if let Some(preview) = preview {
            title.lines.push(preview_line(preview, theme, title_width));
        }
        let mut cells = vec![
            mark.into(),
            title,
            item.updated.replace('T', " ").trim_end_matches('Z').to_string().into(),
            item.messages.to_string().into(),
        ];
        if !searching {
            cells.push(item.model.clone().unwrap_or_default().into());
        }
        Row::new(cells).height(row_height)
    });
    let mut header = vec!["", "title", "updated", "msgs"];
    let mut widths = vec![
        Constraint::Length(MARK_WIDTH),
        Constraint::Fill(3),
        Constraint::Length(UPDATED_WIDTH),
        Constraint::Length(MESSAGES_WIDTH),
    ];
    if !searching {
        header.push("model");
        widths.push(Constraint::Fill(1));
    }
    let table =
        Table::new(rows, widths).header(Row::new(header).style(theme.title)).row_highlight_style(theme.selected);
    let mut table_state = TableState::default().with_selected(Some(browser.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
    ListViewport { row_height, ..popup::table_rows(area, table_state.offset()) }
}

/// "you: …text before MATCH text after…", the match marked, with no more of the text before it
/// than leaves the match in sight in a column `width` wide.
fn preview_line(preview: &Preview, theme: &Theme, width: usize) -> Line<'static> {
    let role = strings::preview_role(preview.role);
    let room = (width / 2).saturating_sub(role.chars().count());
    let before: Vec<char> = preview.before.chars().collect();
    let before = if before.len() > room {
        let kept: String = before[before.len() - room.saturating_sub(1)..].iter().collect();
        format!("…{kept}")
    } else {
        preview.before.clone()
    };
    Line::from(vec![
        Span::styled(role, theme.dim),
        Span::styled(wrap::terminal_safe(&before).into_owned(), theme.dim),
        Span::styled(wrap::terminal_safe(&preview.matched).into_owned(), theme.search_match),
        Span::styled(wrap::terminal_safe(&preview.after).into_owned(), theme.dim),
    ])
}
