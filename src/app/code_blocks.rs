//! The code blocks of a conversation, numbered as the chat view shows them, for copying.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::app::conversation::Conversation;
use crate::engine::protocol::Role;

/// The markdown extensions the chat view renders; copy and view must agree on them.
pub fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// One code block of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The code, without its fences.
    pub text: String,
    /// False for a fence still open at the end of the reply (streaming, or stopped).
    pub closed: bool,
}

impl CodeBlock {
    fn new(text: &str, closed: bool) -> Self {
        Self { text: text.trim_end_matches('\n').to_string(), closed }
    }
}

/// Each code block in one markdown message.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    // The text so far of the block being read, and whether its fence is closed.
    let mut current: Option<(String, bool)> = None;
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => current = Some((String::new(), fence_is_closed(&markdown[range]))),
            Event::Text(text) => {
                if let Some((block, _)) = current.as_mut() {
                    block.push_str(&text);
                }
            }
            // The parser ends a fence left open at the end of the text (a reply being streamed).
            Event::End(TagEnd::CodeBlock) => {
                if let Some((block, closed)) = current.take() {
                    blocks.push(CodeBlock::new(&block, closed));
                }
            }
            _ => {}
        }
    }
    blocks
}

/// Code blocks of all assistant replies, in order; block N of the view is `[N - 1]`.
pub fn conversation_code_blocks(conversation: &Conversation) -> Vec<CodeBlock> {
    conversation.messages.iter().filter(|m| m.role == Role::Assistant).flat_map(|m| code_blocks(&m.content)).collect()
}

/// Whether the code block in `source` (its whole text, fences included) has a closing fence.
pub fn fence_is_closed(source: &str) -> bool {
    let trimmed = source.trim_end();
    let first = trimmed.lines().next().unwrap_or("").trim_start();
    let fence: String = first.chars().take_while(|c| *c == '`' || *c == '~').collect();
    if fence.len() < 3 {
        // An indented block has no fence to close.
        return true;
    }
    let last = trimmed.lines().last().unwrap_or("").trim();
    trimmed.lines().count() > 1 && last.starts_with(&fence) && last.chars().all(|c| c == fence.as_bytes()[0] as char)
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
        let blocks = code_blocks(md);
        let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["fn main() {}", "indented", "print(1)"]);
        assert_eq!(blocks.iter().map(|b| b.closed).collect::<Vec<_>>(), [true, true, false]);
        assert_eq!(code_blocks("```\n"), [CodeBlock { text: String::new(), closed: false }]);
        assert!(code_blocks("no code").is_empty());
    }
}
