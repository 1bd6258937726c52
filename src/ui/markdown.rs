//! Markdown → wrapped, styled lines: headings, emphasis, lists, quotes, tables, rules, and
//! numbered, highlighted code blocks. A fence left open (a reply still streaming) renders as a
//! code block without its closing line.

use pulldown_cmark::{Alignment, Event, HeadingLevel, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::code_blocks::{fence_is_closed, fence_language, markdown_options};
use crate::ui::highlight::{highlight, highlight_closed};
use crate::ui::theme::Theme;
use crate::ui::wrap::{self, wrap, Breaks};

/// A rendered message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub lines: Vec<Line<'static>>,
    /// How many code blocks it numbered.
    pub code_blocks: usize,
}

/// Renders `markdown` for `width` cells; code blocks are numbered from `first_block`.
pub fn render(markdown: &str, width: usize, theme: &Theme, first_block: usize) -> Rendered {
    let mut r = Renderer {
        theme,
        width,
        lines: Vec::new(),
        inline: Vec::new(),
        styles: Vec::new(),
        containers: Vec::new(),
        lists: Vec::new(),
        blank_pending: None,
        code: None,
        table: None,
        link: None,
        next_block: first_block,
    };
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        r.event(event, &markdown[range]);
    }
    r.flush();
    while r.lines.last().is_some_and(|l| l.width() == 0) {
        r.lines.pop();
    }
    Rendered { lines: r.lines, code_blocks: r.next_block - first_block }
}

/// A block that indents what is inside it.
enum Container {
    Quote,
    /// A list item; its marker goes on its first line only.
    Item {
        marker: String,
        used: bool,
    },
}

struct CodeBlock {
    language: Option<String>,
    text: String,
    closed: bool,
}

struct Table {
    alignments: Vec<Alignment>,
    rows: Vec<Vec<Vec<Span<'static>>>>,
    row: Vec<Vec<Span<'static>>>,
    cell: Vec<Span<'static>>,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    lines: Vec<Line<'static>>,
    /// Text of the paragraph (or heading, item) being read.
    inline: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    /// Per open list, the next number (ordered) or `None` (bullets).
    lists: Vec<Option<u64>>,
    /// A block ended at this container depth; the next block starts after a blank line.
    blank_pending: Option<usize>,
    code: Option<CodeBlock>,
    table: Option<Table>,
    link: Option<String>,
    next_block: usize,
}

impl Renderer<'_> {
    fn event(&mut self, event: Event<'_>, source: &str) {
        match event {
            Event::Start(tag) => self.start(tag, source),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.text.push_str(&text),
                None => self.push_text(&text),
            },
            Event::Code(text) => self.push_span(Span::styled(text.into_string(), self.theme.inline_code)),
            Event::Html(text) | Event::InlineHtml(text) => {
                let style = self.style().patch(self.theme.dim);
                self.push_span(Span::styled(text.trim_end_matches('\n').to_string(), style));
                if text.ends_with('\n') {
                    self.flush();
                }
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => self.push_text(&text),
            Event::FootnoteReference(name) => self.push_text(&format!("[^{name}]")),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.start_block();
                let (first, rest) = self.prefixes();
                let used = first.iter().map(|s| wrap::width(&s.content)).sum::<usize>();
                let rule = Span::styled("─".repeat(self.width.saturating_sub(used).max(1)), self.theme.dim);
                self.lines.extend(wrap(&[rule], self.width, &first, &rest, Breaks::Anywhere));
                self.end_block();
            }
            Event::TaskListMarker(done) => self.push_text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: Tag<'_>, source: &str) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.flush();
                let style = match level {
                    HeadingLevel::H1 => self.theme.heading.add_modifier(Modifier::UNDERLINED),
                    _ => self.theme.heading,
                };
                self.styles.push(style);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                self.code = Some(CodeBlock {
                    language: fence_language(&kind),
                    text: String::new(),
                    closed: fence_is_closed(source),
                });
            }
            Tag::List(start) => {
                self.flush();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                self.containers.push(Container::Item { marker, used: false });
            }
            Tag::Emphasis => self.styles.push(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.styles.push(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.styles.push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.styles.push(self.theme.link);
                self.link = Some(dest_url.into_string());
            }
            Tag::Image { .. } => self.push_text("[image: "),
            Tag::Table(alignments) => {
                self.flush();
                self.table = Some(Table { alignments, rows: Vec::new(), row: Vec::new(), cell: Vec::new() });
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => {}
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                self.end_block();
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.styles.pop();
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.end_block();
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.code_block(code);
                }
                self.end_block();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                self.end_block();
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(url) = self.link.take() {
                    let shown: String = self.inline.iter().map(|s| s.content.as_ref()).collect();
                    if !url.is_empty() && !shown.ends_with(&url) {
                        self.push_span(Span::styled(format!(" ({url})"), self.theme.dim));
                    }
                }
            }
            TagEnd::Image => self.push_text("]"),
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.table_lines(table);
                }
                self.end_block();
            }
            _ => {}
        }
    }

    fn style(&self) -> Style {
        self.styles.iter().fold(Style::new(), |acc, s| acc.patch(*s))
    }

    fn push_text(&mut self, text: &str) {
        self.push_span(Span::styled(text.to_string(), self.style()));
    }

    fn push_span(&mut self, span: Span<'static>) {
        match &mut self.table {
            Some(table) => table.cell.push(span),
            None => self.inline.push(span),
        }
    }

    fn end_block(&mut self) {
        self.blank_pending = Some(self.containers.len());
    }

    /// Puts a blank line between blocks, with the quote bars both blocks are inside.
    fn start_block(&mut self) {
        let Some(depth) = self.blank_pending.take() else {
            return;
        };
        if self.lines.is_empty() {
            return;
        }
        let shared = &self.containers[..depth.min(self.containers.len())];
        let bars: Vec<Span<'static>> = shared
            .iter()
            .filter(|c| matches!(c, Container::Quote))
            .map(|_| Span::styled("│", self.theme.quote))
            .collect();
        self.lines.extend(wrap(&[], self.width, &bars, &bars, Breaks::Words));
    }

    /// Prefixes for a block's first line and the lines after it; uses up unused list markers.
    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let result = self.prefixes_peek();
        for container in &mut self.containers {
            if let Container::Item { used, .. } = container {
                *used = true;
            }
        }
        result
    }

    fn prefixes_peek(&self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for container in &self.containers {
            match container {
                Container::Quote => {
                    first.push(Span::styled("│ ", self.theme.quote));
                    rest.push(Span::styled("│ ", self.theme.quote));
                }
                Container::Item { marker, used } => {
                    let pad = " ".repeat(wrap::width(marker));
                    first.push(if *used {
                        Span::raw(pad.clone())
                    } else {
                        Span::styled(marker.clone(), self.theme.dim)
                    });
                    rest.push(Span::raw(pad));
                }
            }
        }
        (first, rest)
    }

    /// Wraps and emits the pending inline text.
    fn flush(&mut self) {
        if self.inline.is_empty() {
            return;
        }
        self.start_block();
        let spans = std::mem::take(&mut self.inline);
        let (first, rest) = self.prefixes();
        let quoted = self.containers.iter().any(|c| matches!(c, Container::Quote));
        let spans: Vec<Span<'static>> =
            if quoted { spans.into_iter().map(|s| s.patch_style(self.theme.quote)).collect() } else { spans };
        self.lines.extend(wrap(&spans, self.width, &first, &rest, Breaks::Words));
    }

    fn code_block(&mut self, code: CodeBlock) {
        self.start_block();
        let number = self.next_block;
        self.next_block += 1;
        let (first, rest) = self.prefixes();
        let frame = self.theme.code_frame;
        let mut header = vec![Span::styled("╭─ ", frame), Span::styled(format!("[{number}]"), self.theme.key)];
        if let Some(language) = &code.language {
            header.push(Span::styled(format!(" {language}"), self.theme.dim));
        }
        self.lines.extend(wrap(&header, self.width, &first, &rest, Breaks::Anywhere));
        let mut bar = rest.clone();
        bar.push(Span::styled("│ ", frame));
        let language = code.language.as_deref();
        let lines = if code.closed {
            highlight_closed(&code.text, language, self.theme)
        } else {
            highlight(&code.text, language, self.theme)
        };
        for line in lines {
            self.lines.extend(wrap(&line, self.width, &bar, &bar, Breaks::Anywhere));
        }
        if code.closed {
            self.lines.extend(wrap(&[Span::styled("╰─", frame)], self.width, &rest, &rest, Breaks::Anywhere));
        }
    }

    fn table_lines(&mut self, table: Table) {
        self.start_block();
        let (first, rest) = self.prefixes();
        let columns = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        if columns == 0 {
            return;
        }
        let cell_width = |c: &[Span<'_>]| c.iter().map(|s| wrap::width(&s.content)).sum::<usize>();
        let mut widths = vec![1usize; columns];
        for row in &table.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell_width(cell));
            }
        }
        let prefix_width = rest.iter().map(|s| wrap::width(&s.content)).sum::<usize>();
        let avail = self.width.saturating_sub(prefix_width);
        let separators = 3 * (columns - 1);
        // Narrow the widest column until the table fits (or every column is at its minimum).
        while widths.iter().sum::<usize>() + separators > avail {
            let Some((i, w)) = widths.iter().copied().enumerate().max_by_key(|(_, w)| *w) else {
                break;
            };
            if w <= 3 {
                break;
            }
            widths[i] -= 1;
        }
        let border = self.theme.table_border;
        for (r, row) in table.rows.iter().enumerate() {
            let mut spans = if r == 0 { first.clone() } else { rest.clone() };
            for (i, width) in widths.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::styled(" │ ", border));
                }
                let cell = row.get(i).map_or(&[][..], Vec::as_slice);
                let align = table.alignments.get(i).copied().unwrap_or(Alignment::None);
                let bold = if r == 0 { Modifier::BOLD } else { Modifier::empty() };
                spans.extend(fit_cell(cell, *width, align).into_iter().map(|s| {
                    let style = s.style.add_modifier(bold);
                    s.style(style)
                }));
            }
            self.lines.push(Line::from(spans));
            if r == 0 {
                let mut rule = rest.clone();
                let parts: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                rule.push(Span::styled(parts.join("─┼─"), border));
                self.lines.push(Line::from(rule));
            }
        }
    }
}

/// The cell's spans cut to `width` cells (with "…") and padded as aligned.
fn fit_cell(cell: &[Span<'static>], width: usize, align: Alignment) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let total = cell.iter().map(|s| wrap::width(&s.content)).sum::<usize>();
    let mut used = 0;
    if total <= width {
        out.extend(cell.iter().cloned());
        used = total;
    } else {
        'outer: for span in cell {
            let mut text = String::new();
            for g in unicode_segmentation::UnicodeSegmentation::graphemes(span.content.as_ref(), true) {
                let w = wrap::width(g);
                if used + w > width.saturating_sub(1) {
                    out.push(Span::styled(text, span.style));
                    out.push(Span::styled("…", span.style));
                    used += 1;
                    break 'outer;
                }
                text.push_str(g);
                used += w;
            }
            out.push(Span::styled(text, span.style));
        }
    }
    let gap = width.saturating_sub(used);
    let (left, right) = match align {
        Alignment::Right => (gap, 0),
        Alignment::Center => (gap / 2, gap - gap / 2),
        Alignment::Left | Alignment::None => (0, gap),
    };
    if left > 0 {
        out.insert(0, Span::raw(" ".repeat(left)));
    }
    if right > 0 {
        out.push(Span::raw(" ".repeat(right)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(md: &str, width: usize) -> Vec<String> {
        render(md, width, &Theme::mono(), 1).lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn paragraphs_lists_and_quotes() {
        let lines = text("Hello *world*.\n\n- one\n- two\n  - nested\n\n> quoted text\n", 40);
        assert_eq!(lines, ["Hello world.", "", "• one", "• two", "  • nested", "", "│ quoted text"]);
        let lines = text("1. first item that wraps\n2. second", 12);
        assert_eq!(lines, ["1. first", "   item that", "   wraps", "2. second"]);
    }

    #[test]
    fn code_blocks_are_numbered_and_open_fences_stay_open() {
        let r = render("a\n\n```rust\nlet x = 1;\n```\n\n```\nopen", 30, &Theme::mono(), 3);
        let lines: Vec<String> = r.lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(lines, ["a", "", "╭─ [3] rust", "│ let x = 1;", "╰─", "", "╭─ [4]", "│ open"]);
        assert_eq!(r.code_blocks, 2);
    }

    #[test]
    fn tables_fit_the_width() {
        let md = "| name | value |\n|---|--:|\n| alpha | 1 |\n| a much longer name here | 22 |\n";
        let lines = text(md, 20);
        for line in &lines {
            assert!(wrap::width(line) <= 20, "{line:?}");
        }
        assert!(lines[0].starts_with("name"));
        assert!(lines[1].contains("┼"));
        assert!(lines[3].contains('…'));
        assert!(lines[3].ends_with("22"));
    }

    #[test]
    fn headings_rules_and_links() {
        let lines = text("# Title\n\nSee [docs](https://x.y) or <https://a.b>.\n\n---\n", 30);
        assert_eq!(lines[0], "Title");
        assert_eq!(lines[2], "See docs (https://x.y) or");
        assert_eq!(lines[3], "https://a.b.");
        assert_eq!(lines[5], "─".repeat(30));
    }
}
