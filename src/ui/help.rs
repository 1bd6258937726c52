//! The help overlay, generated from the active keymap so it always tells the truth.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::keymap::{Keymap, Scope};
use crate::app::state::State;
use crate::app::text;
use crate::ui::popup;
use crate::ui::strings;
use crate::ui::theme::Theme;

/// Width of the keys column.
const KEYS_COLUMN: usize = 22;

/// The help text: per scope, each action with its keys.
pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for scope in Scope::ALL {
        let bindings = keymap.bindings(scope);
        if bindings.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(strings::scope_title(scope), theme.title));
        for (action, keys) in bindings {
            let keys = text::keys_text(keys);
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<KEYS_COLUMN$}"), theme.key),
                Span::raw(strings::action_label(*action)),
            ]));
        }
    }
    lines
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: usize) {
    let inner = popup::open(frame, area, 80, 90, strings::HELP_TITLE, theme);
    let lines = lines(&state.keymap, theme);
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    let top = scroll.min(max_scroll);
    let visible: Vec<Line<'static>> = lines.into_iter().skip(top).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}
