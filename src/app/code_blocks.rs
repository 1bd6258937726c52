//! The code blocks of a conversation, numbered as the chat view shows them, for copying.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::app::conversation::Conversation;
use crate::engine::protocol::Role;

/// The markdown extensions the chat view renders; copy and view must agree on them.
pub fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The text of each code block in one markdown message, without its fences.
pub fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(text) => {
                if let Some(block) = current.as_mut() {
                    block.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(block) = current.take() {
                    blocks.push(block.trim_end_matches('\n').to_string());
                }
            }
            _ => {}
        }
    }
    // A fence still open at the end (a reply being streamed) is a block too.
    blocks.extend(current.map(|b| b.trim_end_matches('\n').to_string()));
    blocks
}

/// Code blocks of all assistant replies, in order; block N of the view is `[N - 1]`.
pub fn conversation_code_blocks(conversation: &Conversation) -> Vec<String> {
    conversation.messages.iter().filter(|m| m.role == Role::Assistant).flat_map(|m| code_blocks(&m.content)).collect()
}

/// The language named on a fence, if any.
pub fn fence_language(kind: &CodeBlockKind<'_>) -> Option<String> {
    match kind {
        CodeBlockKind::Fenced(info) => info.split_whitespace().next().map(str::to_string),
        CodeBlockKind::Indented => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fenced_indented_and_open_blocks() {
        let md = "Text\n\n```rust\nfn main() {}\n```\n\n    indented\n\nmore\n\n```py\nprint(1)\n";
        assert_eq!(code_blocks(md), ["fn main() {}", "indented", "print(1)"]);
        assert!(code_blocks("no code").is_empty());
    }
}
