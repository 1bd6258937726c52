//! Colour themes as data: the built-in palettes, and the `[theme]` colours of config.toml on top
//! of the chosen one. `ui::theme` turns a palette into the styles it draws with.

use std::str::FromStr;

use ratatui::style::Color;
use serde::Deserialize;

/// A built-in palette, named in config.toml as `[ui] theme = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    /// For dark terminal backgrounds.
    #[default]
    Dark,
    /// For light terminal backgrounds.
    Light,
    /// Bright text, no dim grey, strong selection: for low vision or washed-out screens.
    HighContrast,
}

impl ThemeName {
    pub const ALL: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];

    pub fn name(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
        }
    }

    /// The next one in [`ThemeName::ALL`], round.
    pub fn next(self) -> ThemeName {
        let at = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        Self::ALL[(at + 1) % Self::ALL.len()]
    }

    pub fn palette(self) -> Palette {
        match self {
            ThemeName::Dark => Palette {
                dim: Color::DarkGray,
                accent: Color::Cyan,
                user: Color::Green,
                heading: Color::Yellow,
                code: Color::LightYellow,
                link: Color::Blue,
                quote: Color::Gray,
                selection: Color::DarkGray,
                highlight: Color::Yellow,
                highlight_text: Color::Black,
                warning: Color::Yellow,
                error: Color::Red,
            },
            // The 256-colour indexes are darker shades than the 16 named colours offer, which are
            // too pale on white.
            ThemeName::Light => Palette {
                dim: Color::Indexed(244),
                accent: Color::Blue,
                user: Color::Indexed(28),
                heading: Color::Magenta,
                code: Color::Indexed(124),
                link: Color::Blue,
                quote: Color::Indexed(240),
                selection: Color::Indexed(253),
                highlight: Color::Indexed(222),
                highlight_text: Color::Black,
                warning: Color::Indexed(130),
                error: Color::Red,
            },
            ThemeName::HighContrast => Palette {
                dim: Color::White,
                accent: Color::LightCyan,
                user: Color::LightGreen,
                heading: Color::LightYellow,
                code: Color::LightYellow,
                link: Color::LightBlue,
                quote: Color::White,
                selection: Color::Blue,
                highlight: Color::LightYellow,
                highlight_text: Color::Black,
                warning: Color::LightYellow,
                error: Color::LightRed,
            },
        }
    }
}

/// The colours the screen is drawn with, by what they mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Palette {
    /// Secondary text, borders, figures.
    pub dim: Color,
    /// Titles, the assistant's label, keys, the focused border, gauges.
    pub accent: Color,
    /// Your label, good news, the sparkline.
    pub user: Color,
    pub heading: Color,
    /// Inline code.
    pub code: Color,
    pub link: Color,
    pub quote: Color,
    /// The background of a selected row.
    pub selection: Color,
    /// The background of hints and search matches, and their text.
    pub highlight: Color,
    pub highlight_text: Color,
    pub warning: Color,
    pub error: Color,
}

/// `[theme]` in config.toml: colours that replace the chosen palette's. A colour is a name
/// ("light-blue", "dark-gray"), `#rrggbb`, or a 256-colour index ("244").
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorOverrides {
    #[serde(default, deserialize_with = "color")]
    dim: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    accent: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    user: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    heading: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    code: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    link: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    quote: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    selection: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    highlight: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    highlight_text: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    warning: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    error: Option<Color>,
}

impl ColorOverrides {
    /// `palette` with these colours in place of its own.
    fn apply(&self, palette: Palette) -> Palette {
        let pick = |own: Option<Color>, base: Color| own.unwrap_or(base);
        Palette {
            dim: pick(self.dim, palette.dim),
            accent: pick(self.accent, palette.accent),
            user: pick(self.user, palette.user),
            heading: pick(self.heading, palette.heading),
            code: pick(self.code, palette.code),
            link: pick(self.link, palette.link),
            quote: pick(self.quote, palette.quote),
            selection: pick(self.selection, palette.selection),
            highlight: pick(self.highlight, palette.highlight),
            highlight_text: pick(self.highlight_text, palette.highlight_text),
            warning: pick(self.warning, palette.warning),
            error: pick(self.error, palette.error),
        }
    }
}

/// A colour written in config.toml; the error names what is accepted (serde adds the key).
fn color<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Color>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Color::from_str(text.trim()).map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown colour `{text}` (give a name such as \"light-blue\", \"#rrggbb\" or a 256-colour index)"
        ))
    })
}

/// The theme in use: a built-in palette (cycled by a key) under the configured colours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ThemeChoice {
    pub name: ThemeName,
    pub overrides: ColorOverrides,
}

impl ThemeChoice {
    pub fn palette(&self) -> Palette {
        self.overrides.apply(self.name.palette())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cycle_through_every_theme() {
        let mut name = ThemeName::Dark;
        let mut seen = Vec::new();
        for _ in 0..ThemeName::ALL.len() {
            seen.push(name.name());
            name = name.next();
        }
        assert_eq!(name, ThemeName::Dark);
        assert_eq!(seen, ["dark", "light", "high-contrast"]);
    }

    #[test]
    fn configured_colours_replace_the_palettes_own() {
        let overrides: ColorOverrides = toml::from_str("accent = \"#ff8000\"\ndim = \"244\"\n").unwrap();
        let choice = ThemeChoice { name: ThemeName::Light, overrides };
        let palette = choice.palette();
        assert_eq!((palette.accent, palette.dim), (Color::Rgb(255, 128, 0), Color::Indexed(244)));
        assert_eq!(palette.error, ThemeName::Light.palette().error);
        let err = toml::from_str::<ColorOverrides>("accent = \"bleu\"\n").unwrap_err().to_string();
        assert!(err.contains("accent") && err.contains("bleu"), "{err}");
        assert!(toml::from_str::<ColorOverrides>("acent = \"blue\"\n").is_err());
    }
}
