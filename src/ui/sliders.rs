//! The sampling panel: one bar per setting; the selected one moves with ←/→. When the panel is
//! shorter than the list it scrolls so that the selected setting is always in view.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Frame;

use crate::app::sliders::Slider;
use crate::app::state::State;
use crate::ui::strings;
use crate::ui::theme::Theme;

/// Rows per setting: its name and value, then its bar.
const ROWS_PER_SLIDER: usize = 2;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, selected: usize) {
    let selected = selected.min(Slider::ALL.len() - 1);
    let note = Slider::ALL[selected] == Slider::MaxTokens;
    let (first, shown) = visible_range(usize::from(area.height.saturating_sub(2)), selected, note);
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(strings::SLIDERS_TITLE)
        .border_style(theme.border_focused);
    if shown < Slider::ALL.len() {
        block = block.title_bottom(strings::position(selected, Slider::ALL.len()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let bar_width = usize::from(inner.width.saturating_sub(2));
    let mut lines = Vec::new();
    for (i, slider) in Slider::ALL.into_iter().enumerate().skip(first).take(shown) {
        let chosen = i == selected;
        let name_style = if chosen { theme.selected } else { theme.dim };
        let marker = if chosen { "▶ " } else { "  " };
        let value = slider.value_text(&state.knobs);
        let name = strings::slider_name(slider);
        let gap = usize::from(inner.width).saturating_sub(2 + name.len() + value.len());
        lines.push(Line::from(vec![
            Span::styled(marker, theme.key),
            Span::styled(name, name_style),
            Span::raw(" ".repeat(gap)),
            Span::styled(value, if chosen { theme.key } else { theme.title }),
        ]));
        let filled = (slider.ratio(&state.knobs) * bar_width as f64).round() as usize;
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled("━".repeat(filled), theme.gauge),
            Span::styled("─".repeat(bar_width.saturating_sub(filled)), theme.dim),
        ]));
        if chosen && note {
            lines.push(Line::styled(format!("  {}", strings::MAX_TOKENS_NEXT_REPLY), theme.dim));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The first setting shown and how many fit in `rows`, keeping `selected` (and its note line,
/// when it has one) in view.
fn visible_range(rows: usize, selected: usize, note: bool) -> (usize, usize) {
    let fit = (rows.saturating_sub(usize::from(note)) / ROWS_PER_SLIDER).clamp(1, Slider::ALL.len());
    let first = (selected + 1).saturating_sub(fit).min(Slider::ALL.len() - fit);
    (first, fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selected_setting_stays_in_view() {
        let all = Slider::ALL.len();
        assert_eq!(visible_range(40, 6, false), (0, all));
        // 11 rows hold five settings; the last one selected scrolls the first two away.
        assert_eq!(visible_range(11, 0, false), (0, 5));
        assert_eq!(visible_range(11, 6, false), (2, 5));
        for selected in 0..all {
            let (first, shown) = visible_range(9, selected, false);
            assert!((first..first + shown).contains(&selected), "{selected}");
        }
    }
}
