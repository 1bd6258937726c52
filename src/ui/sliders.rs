//! The sampling panel: one bar per setting; the selected one moves with ←/→.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Frame;

use crate::app::sliders::Slider;
use crate::app::state::State;
use crate::ui::strings;
use crate::ui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, selected: usize) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(strings::SLIDERS_TITLE)
        .border_style(theme.border_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let bar_width = usize::from(inner.width.saturating_sub(2));
    let mut lines = Vec::new();
    for (i, slider) in Slider::ALL.into_iter().enumerate() {
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
    }
    if Slider::ALL.get(selected) == Some(&Slider::MaxTokens) {
        lines.push(Line::styled(format!("  {}", strings::MAX_TOKENS_NEXT_REPLY), theme.dim));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
