//! Streaming text arrives in arbitrary pieces: whatever prefix of a reply the view gets (open
//! fences, half tables, wide characters, escape codes), rendering must not panic, and wrapped
//! text must stay within the width.

use bitnet_tui::ui::markdown::render;
use bitnet_tui::ui::theme::Theme;
use bitnet_tui::ui::wrap;
use proptest::prelude::*;

/// Pieces replies are made of, markdown syntax included.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "word ",
        "```",
        "```rust\n",
        "\n",
        "\n\n",
        "| a | b |\n",
        "|---|---|\n",
        "- ",
        "1. ",
        "> ",
        "# ",
        "**",
        "*",
        "`",
        "日本語",
        "👨‍👩‍👧",
        "👍🏽",
        "\t",
        "\u{1b}[31m",
        "averyveryverylongwordwithoutspaces",
        "[x](u) ",
        "    indented\n",
        "~~~\n",
        "---\n",
        "<b>",
        "é",
        "\r\n",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_prefix_renders_within_the_width(pieces in prop::collection::vec(piece(), 0..40), width in 2usize..60, mono: bool) {
        let text: String = pieces.concat();
        let theme = Theme::new(&bitnet_tui::app::theme::ThemeChoice::default(), mono);
        // Every prefix at a char boundary, as a stream would show it.
        for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)).step_by(7) {
            let rendered = render(&text[..end], width, &theme, 1);
            // Tables keep a minimum column width, so only table-free text is held to the width.
            if !text.contains('|') {
                for line in &rendered.lines {
                    let shown: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                    prop_assert!(wrap::width(&shown) <= width, "{:?} wider than {}", shown, width);
                }
            }
        }
    }
}
