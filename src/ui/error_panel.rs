//! An error in a panel of its own: the whole message, wrapped, and where the log is.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::app::state::{ErrorPanel, State};
use crate::ui::theme::Theme;
use crate::ui::{popup, strings, wrap};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, panel: &ErrorPanel) {
    let title = format!(" {} ", panel.title);
    let inner = popup::open(frame, area, 70, 50, &title, theme);
    let mut lines: Vec<Line> =
        panel.message.lines().map(|l| Line::styled(wrap::terminal_safe(l).into_owned(), theme.error)).collect();
    if let Some(log) = &state.log_file {
        lines.push(Line::from(""));
        lines.push(Line::styled(strings::logged_in(log), theme.dim));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
