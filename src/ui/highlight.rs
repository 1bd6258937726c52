//! Syntax colors for code blocks: syntect with its pure-Rust regex engine, loaded on first use.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use ratatui::style::{Color, Style};
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme as SyntectTheme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use crate::ui::theme::Theme;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn syntax_theme(name: &str) -> Option<&'static SyntectTheme> {
    static THEMES: OnceLock<ThemeSet> = OnceLock::new();
    THEMES.get_or_init(ThemeSet::load_defaults).themes.get(name)
}

/// Highlighted code blocks kept by [`highlight_closed`].
const CACHED_BLOCKS: usize = 256;

thread_local! {
    static CLOSED_BLOCKS: RefCell<HashMap<u64, Vec<Vec<Span<'static>>>>> = RefCell::new(HashMap::new());
}

/// [`highlight`] for a block that will not change any more: a reply still streaming shows its
/// finished blocks again every frame, and highlighting is the slow part of drawing.
pub fn highlight_closed(code: &str, language: Option<&str>, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let mut hasher = DefaultHasher::new();
    (code, language, theme.mono, theme.syntax).hash(&mut hasher);
    let key = hasher.finish();
    if let Some(lines) = CLOSED_BLOCKS.with(|c| c.borrow().get(&key).cloned()) {
        return lines;
    }
    let lines = highlight(code, language, theme);
    CLOSED_BLOCKS.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHED_BLOCKS {
            cache.clear();
        }
        cache.insert(key, lines.clone());
    });
    lines
}

/// The lines of `code` as styled spans (tabs expanded). Unknown languages and the
/// monochrome theme give plain text.
pub fn highlight(code: &str, language: Option<&str>, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let code = code.replace('\t', "    ");
    let plain = || code.lines().map(|l| vec![Span::raw(l.to_string())]).collect();
    if theme.mono {
        return plain();
    }
    let set = syntaxes();
    let (Some(syntax), Some(colors)) = (language.and_then(|l| set.find_syntax_by_token(l)), syntax_theme(theme.syntax))
    else {
        return plain();
    };
    let mut highlighter = HighlightLines::new(syntax, colors);
    let mut lines = Vec::new();
    for line in LinesWithEndings::from(&code) {
        let Ok(ranges) = highlighter.highlight_line(line, set) else {
            return plain();
        };
        let spans = ranges
            .into_iter()
            .map(|(style, text)| {
                let fg = style.foreground;
                let text = text.trim_end_matches(['\n', '\r']).to_string();
                Span::styled(text, Style::new().fg(Color::Rgb(fg.r, fg.g, fg.b)))
            })
            .filter(|s| !s.content.is_empty())
            .collect();
        lines.push(spans);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_colors_unknown_stays_plain() {
        let theme = Theme::new(&crate::app::theme::ThemeChoice::default(), false);
        let lines = highlight("fn main() {\n\tlet x = 1;\n}\n", Some("rust"), &theme);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].iter().any(|s| s.style.fg.is_some()));
        let text: String = lines[1].iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "    let x = 1;");
        let plain = highlight("x", Some("no-such-language"), &theme);
        assert_eq!(plain, vec![vec![Span::raw("x")]]);
        let mono = highlight("fn x() {}", Some("rust"), &Theme::mono());
        assert_eq!(mono, vec![vec![Span::raw("fn x() {}")]]);
        assert_eq!(highlight_closed("fn x() {}", Some("rust"), &Theme::mono()), mono);
        assert_eq!(highlight_closed("fn main() {\n\tlet x = 1;\n}\n", Some("rust"), &theme), lines);
    }
}
