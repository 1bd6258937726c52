//! The quit dialog shown when conversations could not be saved: what failed and the choices,
//! with their keys from the keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::state::State;
use crate::app::text;
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let inner = popup::open(frame, area, 60, 40, " Unsaved conversations ", theme);
    let question = text::unsaved_question(state.unsaved.len(), state.save_error.as_deref(), &state.rescue_dir);
    let mut lines = vec![Line::from(question), Line::from("")];
    for action in [Action::Retry, Action::SaveElsewhere, Action::QuitAnyway, Action::Close] {
        let keys = text::keys_text(state.keymap.keys_for(Scope::Unsaved, action));
        let label =
            if action == Action::Close { "back to the chat".to_string() } else { strings::action_label(action) };
        lines.push(Line::from(vec![Span::styled(format!("{keys:>5}  "), theme.key), Span::raw(label)]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
