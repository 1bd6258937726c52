//! The model manager: local and catalog models in one list, with whether each is on disk, and
//! the selected one's hub file and size below.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::app::models::{ModelEntry, ModelStatus};
use crate::app::state::State;
use crate::hub::format::human_bytes;
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, selected: usize) {
    let inner = popup::open(frame, area, 90, 70, strings::PICKER_TITLE, theme);
    if state.models.is_empty() {
        let text = Paragraph::new(Line::styled(strings::PICKER_EMPTY, theme.dim)).wrap(Wrap { trim: true });
        frame.render_widget(text, inner);
        return;
    }
    let [list_area, detail_area] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let current = state.current_model_path();
    let rows = state.models.iter().map(|m| {
        let mark = if m.is_downloaded() && Some(&m.path) == current { "●" } else { " " };
        Row::new(vec![
            mark.to_string(),
            m.name.clone(),
            m.arch.clone().unwrap_or_else(|| "?".into()),
            m.quant.clone().unwrap_or_else(|| "?".into()),
            m.size_bytes.map_or("?".into(), human_bytes),
            status_text(state, m),
            strings::model_kind(m.kind).to_string(),
            strings::model_source(m.source).to_string(),
        ])
    });
    let header = Row::new(["", "model", "arch", "quant", "size", "state", "kind", "found in"]).style(theme.title);
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(12),
    ];
    let table = Table::new(rows, widths).header(header).row_highlight_style(theme.selected);
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, list_area, &mut table_state);
    if let Some(entry) = state.models.get(selected) {
        frame.render_widget(Paragraph::new(Line::styled(detail_text(entry), theme.dim)), detail_area);
    }
}

fn status_text(state: &State, entry: &ModelEntry) -> String {
    let percent = state.download_fraction(entry).map(|f| f * 100.0);
    let running = state.download.as_ref().is_some_and(|d| entry.hub.as_ref() == Some(&d.file));
    match entry.status {
        _ if running => strings::downloading(percent),
        ModelStatus::Downloaded => strings::DOWNLOADED.to_string(),
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
