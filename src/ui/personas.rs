//! The persona list a new chat starts from: name, the start of its system prompt, temperature.

use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table, TableState};
use ratatui::Frame;

use crate::app::state::{ListViewport, State};
use crate::ui::theme::Theme;
use crate::ui::{popup, strings, wrap};

/// Draws the persona list and returns where its rows are.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, selected: usize) -> ListViewport {
    let inner = popup::open(frame, area, 80, 60, strings::PERSONAS_TITLE, theme);
    let rows = state.personas.iter().map(|persona| {
        let prompt = persona.system_prompt.as_deref().unwrap_or(strings::NO_SYSTEM_PROMPT);
        let first_line = prompt.lines().next().unwrap_or_default();
        Row::new(vec![
            persona.name.clone().unwrap_or_else(|| strings::DEFAULT_PERSONA.to_string()),
            wrap::terminal_safe(first_line).into_owned(),
            format!("{:.2}", persona.knobs.sampling.temperature),
        ])
    });
    let header = Row::new(["persona", "system prompt", "temp"]).style(theme.title);
    let widths = [Constraint::Max(16), Constraint::Fill(1), Constraint::Length(5)];
    let table = Table::new(rows, widths).header(header).row_highlight_style(theme.selected);
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, inner, &mut table_state);
    popup::table_rows(inner, table_state.offset())
}
