//! The model picker: every known model with what we know about it.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::app::state::State;
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
    let current = state.current_model_path();
    let rows = state.models.iter().map(|m| {
        let mark = if Some(&m.path) == current { "●" } else { " " };
        Row::new(vec![
            mark.to_string(),
            m.name.clone(),
            m.arch.clone().unwrap_or_else(|| "?".into()),
            m.quant.clone().unwrap_or_else(|| "?".into()),
            m.size_bytes.map_or("?".into(), strings::bytes),
            strings::model_kind(m.kind).to_string(),
            strings::model_source(m.source).to_string(),
        ])
    });
    let header = Row::new(["", "model", "arch", "quant", "size", "kind", "found in"]).style(theme.title);
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(3),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(12),
    ];
    let table = Table::new(rows, widths).header(header).row_highlight_style(theme.selected);
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, inner, &mut table_state);
}
