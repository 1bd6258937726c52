//! Wrapping styled text to a width in terminal cells, measured per grapheme with
//! `unicode-width` (CJK and emoji take two cells), so lines never overflow.

use std::borrow::Cow;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Where a line may break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// Between words, and between wide characters (CJK has no spaces); long words are split.
    Words,
    /// Anywhere, keeping every space (code).
    Anywhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Space,
    Word,
    Wide,
}

struct Atom {
    text: String,
    style: Style,
    width: usize,
    kind: Kind,
}

/// `text` with each regional indicator letter (two of them make a flag, 🇫🇷) written as its plain
/// letter (`FR`). Terminals disagree on how many cells a flag takes (tmux and many others draw
/// each indicator apart); where one disagrees with us, a stray glyph stays behind when the view
/// scrolls, since the frame diff never rewrites that cell.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_regional_indicator) {
        return Cow::Borrowed(text);
    }
    let letters = text.chars().map(|c| match c {
        c if is_regional_indicator(c) => char::from(b'A' + (u32::from(c) - REGIONAL_INDICATOR_A) as u8),
        c => c,
    });
    Cow::Owned(letters.collect())
}

const REGIONAL_INDICATOR_A: u32 = 0x1F1E6;

fn is_regional_indicator(c: char) -> bool {
    (REGIONAL_INDICATOR_A..REGIONAL_INDICATOR_A + 26).contains(&u32::from(c))
}

/// Display width of `text` in cells.
pub fn width(text: &str) -> usize {
    text.graphemes(true).map(grapheme_width).sum()
}

fn grapheme_width(g: &str) -> usize {
    if g.chars().any(char::is_control) {
        0
    } else {
        UnicodeWidthStr::width(g)
    }
}

/// Splits spans into break units; control characters (model output may hold escape codes) are
/// dropped so they cannot reach the terminal.
fn atoms(spans: &[Span<'_>]) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = Vec::new();
    for span in spans {
        for g in span.content.graphemes(true) {
            if g.chars().any(char::is_control) {
                continue;
            }
            let w = UnicodeWidthStr::width(g);
            let kind = if g.chars().all(char::is_whitespace) {
                Kind::Space
            } else if w >= 2 {
                Kind::Wide
            } else {
                Kind::Word
            };
            match atoms.last_mut() {
                Some(last) if last.kind == kind && kind != Kind::Wide && last.style == span.style => {
                    last.text.push_str(g);
                    last.width += w;
                }
                _ => atoms.push(Atom { text: g.to_string(), style: span.style, width: w, kind }),
            }
        }
    }
    atoms
}

struct Lines<'p> {
    done: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    used: usize,
    avail: usize,
    rest_prefix: &'p [Span<'static>],
}

impl Lines<'_> {
    fn push(&mut self, text: &str, style: Style, width: usize) {
        match self.spans.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(text),
            _ => self.spans.push(Span::styled(text.to_string(), style)),
        }
        self.used += width;
    }

    /// Drops the spaces at the end of the line (a line break replaces them).
    fn trim_end(&mut self) {
        while let Some(last) = self.spans.last_mut() {
            let kept = last.content.trim_end().len();
            if kept > 0 {
                last.content.to_mut().truncate(kept);
                break;
            }
            self.spans.pop();
        }
    }

    fn newline(&mut self) {
        let spans = std::mem::replace(&mut self.spans, self.rest_prefix.to_vec());
        self.done.push(Line::from(spans));
        self.used = 0;
    }

    /// Places `atom` one grapheme at a time, breaking wherever the line is full.
    fn push_split(&mut self, atom: &Atom) {
        for g in atom.text.graphemes(true) {
            let w = UnicodeWidthStr::width(g);
            if self.used + w > self.avail && self.used > 0 {
                self.newline();
            }
            self.push(g, atom.style, w);
        }
    }
}

/// Wraps `spans` into lines of at most `width` cells. `first_prefix` starts the first line,
/// `rest_prefix` the others (list indents, quote bars); prefixes count towards the width.
pub fn wrap(
    spans: &[Span<'_>],
    width: usize,
    first_prefix: &[Span<'static>],
    rest_prefix: &[Span<'static>],
    breaks: Breaks,
) -> Vec<Line<'static>> {
    let prefix_width = |p: &[Span<'static>]| p.iter().map(|s| self::width(&s.content)).sum::<usize>();
    let widest = prefix_width(first_prefix).max(prefix_width(rest_prefix));
    // Deeply nested text in a narrow view drops its indents rather than overflow; the text keeps
    // room for one wide character.
    let (first_prefix, rest_prefix, avail) = if widest + 2 <= width {
        (first_prefix, rest_prefix, width - widest)
    } else {
        (&[][..], &[][..], width.max(1))
    };
    let mut lines = Lines { done: Vec::new(), spans: first_prefix.to_vec(), used: 0, avail, rest_prefix };
    for atom in atoms(spans) {
        let fits = lines.used + atom.width <= avail;
        match (breaks, atom.kind) {
            (_, _) if fits => lines.push(&atom.text, atom.style, atom.width),
            (Breaks::Words, Kind::Space) => {
                lines.trim_end();
                lines.newline();
            }
            (Breaks::Words, _) if atom.width <= avail && lines.used > 0 => {
                lines.trim_end();
                lines.newline();
                lines.push(&atom.text, atom.style, atom.width);
            }
            _ => lines.push_split(&atom),
        }
    }
    lines.newline();
    lines.done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    fn plain(text: &str, width: usize, breaks: Breaks) -> Vec<String> {
        texts(&wrap(&[Span::raw(text)], width, &[], &[], breaks))
    }

    #[test]
    fn breaks_between_words() {
        assert_eq!(plain("the quick brown fox", 10, Breaks::Words), ["the quick", "brown fox"]);
        assert_eq!(plain("abcdefghijkl", 5, Breaks::Words), ["abcde", "fghij", "kl"]);
        assert_eq!(plain("", 5, Breaks::Words), [""]);
    }

    #[test]
    fn wide_characters_take_two_cells() {
        let lines = plain("日本語のテキスト", 6, Breaks::Words);
        assert_eq!(lines, ["日本語", "のテキ", "スト"]);
        let lines = plain("hi 👍🏽 ok 👨‍👩‍👧", 6, Breaks::Words);
        for line in &lines {
            assert!(width(line) <= 6, "{line:?} in {lines:?}");
        }
        assert_eq!(lines.concat().replace(' ', ""), "hi👍🏽ok👨‍👩‍👧");
    }

    #[test]
    fn code_keeps_spaces_and_prefixes_repeat() {
        let prefix = [Span::raw("│ ")];
        let lines = wrap(&[Span::raw("    let x = 1;")], 8, &prefix, &prefix, Breaks::Anywhere);
        assert_eq!(texts(&lines), ["│     le", "│ t x = ", "│ 1;"]);
    }

    #[test]
    fn prefixes_wider_than_the_view_are_dropped() {
        let prefix = [Span::raw("│ │ │ ")];
        let lines = wrap(&[Span::raw("abc")], 4, &prefix, &prefix, Breaks::Words);
        assert_eq!(texts(&lines), ["abc"]);
    }

    #[test]
    fn flags_become_their_letters() {
        assert_eq!(terminal_safe("Paris 🇫🇷, Tokyo 🇯🇵"), "Paris FR, Tokyo JP");
        assert!(matches!(terminal_safe("no flags 👍🏽"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(plain("a\u{1b}[31mb", 10, Breaks::Words), ["a[31mb"]);
    }
}
