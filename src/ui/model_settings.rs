//! The model settings panel: the file, one row per setting (the selected one marked), and what
//! the selected setting trades.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::app::model_settings::SettingField;
use crate::app::state::SettingsForm;
use crate::ui::theme::Theme;
use crate::ui::{popup, strings, wrap};

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme, form: &SettingsForm) {
    let inner = popup::open(frame, area, 70, 80, strings::MODEL_SETTINGS_TITLE, theme);
    let selected = form.selected.min(SettingField::ALL.len() - 1);
    let mut lines = vec![
        Line::styled(wrap::terminal_safe(&form.name).into_owned(), theme.title),
        Line::styled(wrap::terminal_safe(&form.path.display().to_string()).into_owned(), theme.dim),
        Line::from(""),
    ];
    let name_width = SettingField::ALL.map(|f| strings::setting_name(f).len()).into_iter().max().unwrap_or(0);
    for (i, field) in SettingField::ALL.into_iter().enumerate() {
        let chosen = i == selected;
        let value = strings::setting_value(field, &form.settings);
        let changed = field_differs(field, form);
        lines.push(Line::from(vec![
            Span::styled(if chosen { "▶ " } else { "  " }, theme.key),
            Span::styled(
                format!("{:<name_width$}  ", strings::setting_name(field)),
                if chosen { theme.selected } else { theme.dim },
            ),
            Span::styled(format!("‹ {value} ›"), if chosen { theme.key } else { theme.title }),
            Span::styled(if changed { " *" } else { "" }, theme.warning),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(strings::setting_help(SettingField::ALL[selected]), theme.dim));
    lines.push(Line::styled(strings::MODEL_SETTINGS_NOTE, theme.dim));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Whether the field was changed since the panel opened (marked so the user sees what Enter
/// will apply).
fn field_differs(field: SettingField, form: &SettingsForm) -> bool {
    strings::setting_value(field, &form.settings) != strings::setting_value(field, &form.opened_with)
}
