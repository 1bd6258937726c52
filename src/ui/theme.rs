//! Styles. `NO_COLOR` gives a monochrome theme that marks things with bold, reverse and underline.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// No colors: code is not highlighted, emphasis uses modifiers only.
    pub mono: bool,
    pub dim: Style,
    pub title: Style,
    pub user_label: Style,
    pub assistant_label: Style,
    pub heading: Style,
    pub inline_code: Style,
    pub code_frame: Style,
    pub link: Style,
    pub quote: Style,
    pub table_border: Style,
    pub selected: Style,
    pub border: Style,
    pub border_focused: Style,
    pub key: Style,
    pub hint: Style,
    pub info: Style,
    pub warning: Style,
    pub error: Style,
    pub gauge: Style,
    pub gauge_warn: Style,
    pub sparkline: Style,
    /// The words a search found, in its previews.
    pub search_match: Style,
}

impl Theme {
    pub fn new(no_color: bool) -> Self {
        if no_color {
            Self::mono()
        } else {
            Self::color()
        }
    }

    fn color() -> Self {
        let fg = |c| Style::new().fg(c);
        Self {
            mono: false,
            dim: fg(Color::DarkGray),
            title: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            user_label: fg(Color::Green).add_modifier(Modifier::BOLD),
            assistant_label: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            heading: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            inline_code: fg(Color::LightYellow),
            code_frame: fg(Color::DarkGray),
            link: fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
            quote: fg(Color::Gray).add_modifier(Modifier::ITALIC),
            table_border: fg(Color::DarkGray),
            selected: Style::new().bg(Color::DarkGray).add_modifier(Modifier::BOLD),
            border: fg(Color::DarkGray),
            border_focused: fg(Color::Cyan),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            hint: Style::new().fg(Color::Black).bg(Color::Yellow),
            info: fg(Color::Green),
            warning: fg(Color::Yellow),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            gauge: fg(Color::Cyan),
            gauge_warn: fg(Color::Red),
            sparkline: fg(Color::Green),
            search_match: Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
        }
    }

    fn mono() -> Self {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        let reverse = plain.add_modifier(Modifier::REVERSED);
        Self {
            mono: true,
            dim: plain,
            title: bold,
            user_label: bold,
            assistant_label: bold.add_modifier(Modifier::UNDERLINED),
            heading: bold.add_modifier(Modifier::UNDERLINED),
            inline_code: bold,
            code_frame: plain,
            link: plain.add_modifier(Modifier::UNDERLINED),
            quote: plain.add_modifier(Modifier::ITALIC),
            table_border: plain,
            selected: reverse,
            border: plain,
            border_focused: bold,
            key: bold,
            hint: reverse,
            info: plain,
            warning: bold,
            error: bold.add_modifier(Modifier::REVERSED),
            gauge: plain,
            gauge_warn: bold,
            sparkline: plain,
            search_match: reverse,
        }
    }
}
