//! The top line: app name, model, what the engine is doing; a gauge while a model loads, else
//! while a model downloads.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};
use ratatui::Frame;

use crate::app::state::{Download, State};
use crate::ui::strings;
use crate::ui::theme::Theme;
use crate::ui::wrap;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let model = state.model.as_ref().map_or(strings::NO_MODEL_LOADED.to_string(), |m| m.name.clone());
    let status = match (&state.loading, &state.generation) {
        (Some(_), _) => strings::LOADING,
        (None, Some(g)) if g.cancelling => strings::STOPPING,
        (None, Some(_)) if state.live.prefill.is_some() => strings::READING_PROMPT,
        (None, Some(_)) => strings::GENERATING,
        (None, None) => strings::IDLE,
    };
    let left = Line::from(vec![
        Span::styled(format!(" {} ", strings::APP_NAME), theme.title),
        Span::styled("│ ", theme.dim),
        Span::raw(model),
        Span::styled(" │ ", theme.dim),
        Span::styled(status, theme.key),
    ]);
    let [left_area, gauge_area] =
        Layout::horizontal([Constraint::Length(left.width() as u16 + 1), Constraint::Fill(1)]).areas(area);
    let Some(loading) = &state.loading else {
        match &state.download {
            Some(download) => {
                frame.render_widget(Paragraph::new(left), left_area);
                download_gauge(frame, gauge_area, download, theme);
            }
            None => {
                let title =
                    Line::styled(format!("{} ", wrap::terminal_safe(&state.conversation.display_title())), theme.dim);
                frame.render_widget(Paragraph::new(left), area);
                frame.render_widget(Paragraph::new(title).right_aligned(), area);
            }
        }
        return;
    };
    frame.render_widget(Paragraph::new(left), left_area);
    let name = loading
        .path
        .file_name()
        .map_or_else(|| loading.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let label = format!("{name} {:>3.0}% {}", loading.fraction * 100.0, loading.stage);
    let gauge = LineGauge::default()
        .ratio(f64::from(loading.fraction).clamp(0.0, 1.0))
        .label(label)
        .filled_style(theme.gauge)
        .unfilled_style(theme.dim);
    frame.render_widget(gauge, gauge_area);
}

fn download_gauge(frame: &mut Frame, area: Rect, download: &Download, theme: &Theme) {
    let (ratio, label) = match download.converting {
        Some((done, total)) => {
            (done as f64 / total.max(1) as f64, strings::converting_gauge(&download.name, done, total))
        }
        None => (
            download.progress.map_or(0.0, |p| p.downloaded as f64 / p.total.max(1) as f64),
            strings::download_gauge(&download.name, download.progress.as_ref()),
        ),
    };
    let gauge = LineGauge::default()
        .ratio(ratio.clamp(0.0, 1.0))
        .label(label)
        .filled_style(theme.gauge)
        .unfilled_style(theme.dim);
    frame.render_widget(gauge, area);
}
