//! The model manager: local and catalog models in one list, with whether each is on disk, and
//! the selected one's hub file and size below. On a narrow screen the name keeps its room and
//! the other columns drop, least important first.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::app::models::{ModelEntry, ModelStatus};
use crate::app::state::{ListViewport, State};
use crate::hub::format::human_bytes;
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;
use crate::ui::wrap;

/// The columns after the name, most important first, with their widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    State,
    Size,
    Quant,
    Arch,
    Kind,
    FoundIn,
}

const COLUMNS: [(Column, u16); 6] = [
    (Column::State, 16),
    (Column::Size, 8),
    (Column::Quant, 6),
    (Column::Arch, 12),
    (Column::Kind, 8),
    (Column::FoundIn, 12),
];

/// Width the name column keeps before any other column is shown (less if every name is shorter).
const NAME_MIN: u16 = 24;

/// The columns that fit beside the names in `width` cells, in table order.
fn columns_for(width: u16, longest_name: u16) -> Vec<(Column, u16)> {
    // The selection mark and the gap after it, then the name.
    let mut used = 2 + longest_name.min(NAME_MIN);
    let mut shown = Vec::new();
    for (column, column_width) in COLUMNS {
        if used + 1 + column_width > width {
            break;
        }
        used += 1 + column_width;
        shown.push((column, column_width));
    }
    shown.sort_by_key(|(c, _)| table_order(*c));
    shown
}

/// Where a column sits, left to right.
fn table_order(column: Column) -> usize {
    [Column::Arch, Column::Quant, Column::Size, Column::State, Column::Kind, Column::FoundIn]
        .iter()
        .position(|c| *c == column)
        .unwrap_or(usize::MAX)
}

fn title(column: Column) -> &'static str {
    match column {
        Column::State => "state",
        Column::Size => "size",
        Column::Quant => "quant",
        Column::Arch => "arch",
        Column::Kind => "kind",
        Column::FoundIn => "found in",
    }
}

fn cell(state: &State, entry: &ModelEntry, column: Column) -> String {
    match column {
        Column::State => status_text(state, entry),
        Column::Size => entry.size_bytes.map_or("?".into(), human_bytes),
        Column::Quant => entry.quant.clone().unwrap_or_else(|| "?".into()),
        Column::Arch => entry.arch.clone().unwrap_or_else(|| "?".into()),
        Column::Kind => entry.kind.to_string(),
        Column::FoundIn => strings::model_source(entry.source).to_string(),
    }
}

/// Draws the model list and returns where its rows are.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, selected: usize) -> Option<ListViewport> {
    let inner = popup::open(frame, area, 90, 70, strings::PICKER_TITLE, theme);
    if state.models.is_empty() {
        let empty = if state.discovering { strings::PICKER_SEARCHING } else { strings::PICKER_EMPTY };
        let text = Paragraph::new(Line::styled(empty, theme.dim)).wrap(Wrap { trim: true });
        frame.render_widget(text, inner);
        return None;
    }
    let [list_area, detail_area] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let longest_name = state.models.iter().map(|m| wrap::width(&m.name)).max().unwrap_or(0);
    let columns = columns_for(inner.width, u16::try_from(longest_name).unwrap_or(u16::MAX));
    let current = state.current_model_path();
    let rows = state.models.iter().map(|m| {
        let mark = if m.is_downloaded() && Some(&m.path) == current { "●" } else { " " };
        let cells = [mark.to_string(), m.name.clone()];
        Row::new(cells.into_iter().chain(columns.iter().map(|(c, _)| cell(state, m, *c))))
    });
    let header = Row::new(["", "model"].into_iter().chain(columns.iter().map(|(c, _)| title(*c)))).style(theme.title);
    let widths = [Constraint::Length(1), Constraint::Fill(1)]
        .into_iter()
        .chain(columns.iter().map(|(_, w)| Constraint::Length(*w)));
    let table = Table::new(rows, widths).header(header).row_highlight_style(theme.selected);
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, list_area, &mut table_state);
    if let Some(entry) = state.models.get(selected) {
        frame.render_widget(Paragraph::new(Line::styled(detail_text(entry), theme.dim)), detail_area);
    }
    Some(popup::table_rows(list_area, table_state.offset()))
}

fn status_text(state: &State, entry: &ModelEntry) -> String {
    let percent = state.download_fraction(entry).map(|f| f * 100.0);
    let running = state.download.as_ref().is_some_and(|d| entry.hub.as_ref() == Some(&d.file));
    match entry.status {
        _ if running => strings::downloading(percent),
        ModelStatus::Downloaded => strings::DOWNLOADED.to_string(),
        ModelStatus::Missing => strings::MISSING.to_string(),
        ModelStatus::Partial { .. } => strings::partial(percent.unwrap_or(0.0)),
        ModelStatus::NotDownloaded => strings::NOT_DOWNLOADED.to_string(),
    }
}

/// The selected model's hub file (or path) and size.
fn detail_text(entry: &ModelEntry) -> String {
    let place =
        entry.hub.as_ref().map_or_else(|| entry.path.display().to_string(), |h| format!("{}/{}", h.repo, h.file));
    let size = entry.size_bytes.map_or("?".into(), human_bytes);
    format!("{} · {place} · {size}", entry.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_keeps_its_room_and_columns_drop_least_important_first() {
        let names = |cols: Vec<(Column, u16)>| cols.into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert_eq!(
            names(columns_for(120, 30)),
            [Column::Arch, Column::Quant, Column::Size, Column::State, Column::Kind, Column::FoundIn]
        );
        assert_eq!(names(columns_for(70, 30)), [Column::Quant, Column::Size, Column::State]);
        assert_eq!(names(columns_for(58, 30)), [Column::Size, Column::State]);
        assert_eq!(names(columns_for(30, 30)), []);
        // Short names leave more room for the other columns.
        assert_eq!(names(columns_for(58, 10)).len(), 4);
    }
}
