//! Styles, from the chosen palette (`app::theme`). `NO_COLOR` gives a monochrome theme that marks
//! things with bold, reverse and underline.

use ratatui::style::{Modifier, Style};

use crate::app::theme::{Palette, ThemeChoice, ThemeName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Theme {
    /// No colors: code is not highlighted, emphasis uses modifiers only.
    pub mono: bool,
    /// The syntect theme that colours code blocks.
    pub syntax: &'static str,
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
    /// The styles of `choice`, or the monochrome ones under `NO_COLOR`.
    pub fn new(choice: &ThemeChoice, no_color: bool) -> Self {
        if no_color {
            Self::mono()
        } else {
            Self::color(&choice.palette(), syntax_theme(choice.name))
        }
    }

    fn color(p: &Palette, syntax: &'static str) -> Self {
        let fg = |c| Style::new().fg(c);
        let highlight = Style::new().fg(p.highlight_text).bg(p.highlight);
        Self {
            mono: false,
            syntax,
            dim: fg(p.dim),
            title: fg(p.accent).add_modifier(Modifier::BOLD),
            user_label: fg(p.user).add_modifier(Modifier::BOLD),
            assistant_label: fg(p.accent).add_modifier(Modifier::BOLD),
            heading: fg(p.heading).add_modifier(Modifier::BOLD),
            inline_code: fg(p.code),
            code_frame: fg(p.dim),
            link: fg(p.link).add_modifier(Modifier::UNDERLINED),
            quote: fg(p.quote).add_modifier(Modifier::ITALIC),
            table_border: fg(p.dim),
            selected: Style::new().bg(p.selection).add_modifier(Modifier::BOLD),
            border: fg(p.dim),
            border_focused: fg(p.accent),
            key: fg(p.accent).add_modifier(Modifier::BOLD),
            hint: highlight,
            info: fg(p.user),
            warning: fg(p.warning),
            error: fg(p.error).add_modifier(Modifier::BOLD),
            gauge: fg(p.accent),
            gauge_warn: fg(p.error),
            sparkline: fg(p.user),
            search_match: highlight.add_modifier(Modifier::BOLD),
        }
    }

    /// No colours: bold, reverse and underline mark things.
    pub fn mono() -> Self {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        let reverse = plain.add_modifier(Modifier::REVERSED);
        Self {
            mono: true,
            syntax: syntax_theme(ThemeName::Dark),
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

/// The code colours that go with a palette (themes that syntect ships).
fn syntax_theme(name: ThemeName) -> &'static str {
    match name {
        ThemeName::Dark => "base16-ocean.dark",
        ThemeName::Light => "InspiredGitHub",
        ThemeName::HighContrast => "base16-eighties.dark",
    }
}
