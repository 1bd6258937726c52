//! Conversation search: which stored conversations hold a query in their title or text, with a
//! one-line preview around the first match.
//!
//! The text is case-folded once, when the folder is listed, so that a keystroke in the search
//! box costs one substring scan per message and no allocation per message.

use crate::app::conversation::Conversation;
use crate::engine::protocol::Role;

/// Characters of context kept before a match; the preview line cuts what does not fit.
const PREVIEW_BEFORE: usize = 24;
/// Characters of context kept after a match.
const PREVIEW_AFTER: usize = 120;

/// A conversation's title and messages as the search reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText {
    title: String,
    messages: Vec<FoldedMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FoldedMessage {
    role: Role,
    text: String,
    /// `text` case-folded char by char: the n-th char of one is the n-th char of the other.
    folded: String,
}

/// Where a query was found in a message, as text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub role: Role,
    /// Up to `PREVIEW_BEFORE` chars before the match, on one line; starts with `…` when cut.
    pub before: String,
    /// The matched text as written.
    pub matched: String,
    pub after: String,
}

/// A conversation that holds the query: its index in the list and the first match in its
/// messages (none when only the title matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchMatch {
    pub item: usize,
    pub preview: Option<Preview>,
}

impl SearchText {
    pub fn new(conversation: &Conversation) -> Self {
        let messages = conversation
            .messages
            .iter()
            .filter(|m| !m.content.is_empty())
            .map(|m| FoldedMessage { role: m.role, folded: fold(&m.content), text: m.content.clone() })
            .collect();
        Self { title: fold(&conversation.display_title()), messages }
    }

    /// After a rename.
    pub fn set_title(&mut self, title: &str) {
        self.title = fold(title);
    }

    /// Whether `query` (already folded, not empty) is in the title or a message, and where.
    fn find(&self, query: &str) -> Option<Option<Preview>> {
        let preview = self.messages.iter().find_map(|m| m.folded.find(query).map(|at| m.preview(at, query)));
        match preview {
            Some(preview) => Some(Some(preview)),
            None => self.title.contains(query).then_some(None),
        }
    }
}

impl FoldedMessage {
    /// The text around the match that starts at byte `at` of the folded text.
    fn preview(&self, at: usize, query: &str) -> Preview {
        let start = self.folded[..at].chars().count();
        let len = query.chars().count();
        let chars: Vec<char> = self.text.chars().collect();
        let from = start.saturating_sub(PREVIEW_BEFORE);
        let to = (start + len + PREVIEW_AFTER).min(chars.len());
        let mut before = one_line(&chars[from..start]);
        if from > 0 {
            before.insert(0, '…');
        }
        let mut after = one_line(&chars[start + len..to]);
        if to < chars.len() {
            after.push('…');
        }
        Preview { role: self.role, before, matched: one_line(&chars[start..start + len]), after }
    }
}

/// The conversations among `texts` that hold `query`, in list order; all of them for a blank
/// query.
pub fn search<'a>(texts: impl IntoIterator<Item = &'a SearchText>, query: &str) -> Vec<SearchMatch> {
    let query = fold(query.trim());
    let found = |(item, text): (usize, &SearchText)| {
        let preview = if query.is_empty() { None } else { text.find(&query)? };
        Some(SearchMatch { item, preview })
    };
    texts.into_iter().enumerate().filter_map(found).collect()
}

/// Lower case, one char for one char (the rare char whose lower case is longer keeps only the
/// first), so that a position in the folded text is the same char position in the original.
fn fold(text: &str) -> String {
    text.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
}

/// `chars` with every run of whitespace (new lines too) as one space.
fn one_line(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut space = false;
    for &c in chars {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if space {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::conversation::Message;

    fn conversation(title: &str, messages: &[&str]) -> SearchText {
        let mut c = Conversation::new("1".into(), "t".into());
        c.title = title.into();
        c.messages = messages.iter().map(|m| Message::new(Role::User, *m)).collect();
        SearchText::new(&c)
    }

    #[test]
    fn finds_text_in_any_case_with_context() {
        let items = [conversation("Rust", &["nothing here"]), conversation("Other", &["one\n\nTwo  Kernels three"])];
        let found = search(&items, "kernels");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].item, 1);
        let preview = found[0].preview.clone().unwrap();
        assert_eq!((preview.before.as_str(), preview.matched.as_str()), ("one Two ", "Kernels"));
        assert_eq!(preview.after, " three");
    }

    #[test]
    fn title_only_matches_have_no_preview_and_blank_lists_all() {
        let items = [conversation("Rust tips", &["hello"]), conversation("Other", &["bye"])];
        assert_eq!(search(&items, "RUST"), [SearchMatch { item: 0, preview: None }]);
        assert_eq!(search(&items, "  ").len(), 2);
        assert!(search(&items, "absent").is_empty());
    }

    #[test]
    fn long_text_is_cut_around_the_match_at_char_boundaries() {
        let text = format!("{}needle{}", "ä".repeat(100), "ö".repeat(200));
        let items = [conversation("", &[text.as_str()])];
        let preview = search(&items, "NEEDLE")[0].preview.clone().unwrap();
        assert_eq!(preview.before, format!("…{}", "ä".repeat(PREVIEW_BEFORE)));
        assert_eq!(preview.after, format!("{}…", "ö".repeat(PREVIEW_AFTER)));
        // A char whose lower case is two chars long does not shift the match.
        let items = [conversation("", &["İstanbul kebab"])];
        assert_eq!(search(&items, "kebab")[0].preview.clone().unwrap().before, "İstanbul ");
    }
}
