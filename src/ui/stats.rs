//! The live panel: speed now and its sparkline, time to first token, prefill speed, per-token
//! latency, context use (warns at 80%), memory, and facts about the model.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Gauge, Paragraph, Sparkline};
use ratatui::Frame;

use crate::app::state::State;
use crate::hub::format::human_bytes;
use crate::ui::strings;
use crate::ui::theme::Theme;

/// Context use from which the gauge warns.
pub const CONTEXT_WARN: f64 = 0.8;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block =
        Block::bordered().border_type(BorderType::Rounded).title(strings::STATS_TITLE).border_style(theme.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [model_area, speed_area, spark_area, figures_area, gauge_area] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Length(1),
    ])
    .areas(inner);

    frame.render_widget(Paragraph::new(model_lines(state, theme)), model_area);

    let now = state.live.current_speed().map_or("–".to_string(), |s| s.to_string());
    let speed = Line::from(vec![Span::styled(now, theme.title), Span::styled(" tok/s now", theme.dim)]);
    frame.render_widget(Paragraph::new(speed), speed_area);
    let speeds: Vec<u64> = state.live.token_speeds.iter().copied().collect();
    frame.render_widget(Sparkline::default().data(&speeds).style(theme.sparkline), spark_area);

    frame.render_widget(Paragraph::new(figure_lines(state, theme)), figures_area);

    if let Some(s) = &state.live.stats {
        if s.ctx_max > 0 {
            let ratio = (s.ctx_used as f64 / s.ctx_max as f64).clamp(0.0, 1.0);
            let style = if ratio >= CONTEXT_WARN { theme.gauge_warn } else { theme.gauge };
            let gauge = Gauge::default()
                .ratio(ratio)
                .label(format!("ctx {}/{} ({:.0}%)", s.ctx_used, s.ctx_max, ratio * 100.0))
                .gauge_style(style)
                .use_unicode(true);
            frame.render_widget(gauge, gauge_area);
        }
    }
}

fn model_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let Some(m) = &state.model else {
        return vec![Line::styled(strings::NO_MODEL_LOADED, theme.dim)];
    };
    vec![
        Line::styled(m.name.clone(), theme.title),
        Line::raw(format!("{} · {}", m.arch, m.quant)),
        Line::raw(format!("{} threads · {}", m.threads, m.kernel)),
        Line::styled(format!("{} · ctx {}", m.chat_format, m.ctx_max), theme.dim),
    ]
}

fn figure_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let Some(s) = &state.live.stats else {
        return vec![Line::styled(strings::STATS_NONE, theme.dim)];
    };
    let row =
        |name: &str, value: String| Line::from(vec![Span::styled(format!("{name:<10}"), theme.dim), Span::raw(value)]);
    let prefill = match state.live.prefill {
        Some((done, total)) => format!("{done}/{total} tok"),
        None => format!("{:.0} tok/s ({} tok)", s.prefill_tok_s, s.prefill_tokens),
    };
    let mut lines = vec![
        row("TTFT", format!("{:.0} ms", s.ttft_ms)),
        row("prefill", prefill),
        row("per token", format!("{:.1} ms", s.last_token_ms)),
        row("decode", format!("{:.1} tok/s · {} tok", s.decode_tok_s, s.generated_tokens)),
    ];
    if let Some(rate) = s.draft_acceptance() {
        lines.push(row("drafts", format!("{:.0}% kept · {}/{} tok", rate * 100.0, s.draft_accepted, s.draft_tokens)));
    }
    lines.push(row("memory", human_bytes(s.rss_bytes)));
    lines
}
