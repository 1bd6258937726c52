//! Chat formats: a conversation becomes the prompt's token ids.
//!
//! A format renders messages into [`Segment`]s rather than one string, so that explicit tokens
//! (BOS, end of turn) stay ids, text is tokenized with the right special-token setting, and the
//! engine can reuse the tokens it sampled for earlier replies ([`Segment::AssistantContent`]).
//!
//! Which format a model gets ([`ChatFormat::for_model`]): BitNet b1.58 gets Microsoft's training
//! format (data in `assets/templates/bitnet-b158.toml`); a model with a Jinja
//! `tokenizer.chat_template` gets it rendered; any other model gets plain `User: …` lines
//! (`assets/templates/plain.toml`).

mod jinja;
mod turns;

use anyhow::Result;

use crate::engine::model::Architecture;
use crate::engine::protocol::{ChatMessage, Role};
use crate::engine::tokenizer::Tokenizer;
use crate::gguf::GgufFile;
use jinja::JinjaFormat;
use turns::TurnFormat;

/// One piece of a rendered conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Explicit token ids (BOS, end-of-turn).
    Token(u32),
    /// Text to tokenize on its own (no BOS); `special` = parse special tokens in it.
    Text { text: String, special: bool },
    /// The content of messages[index] (an assistant reply). The engine substitutes the tokens it
    /// sampled for that reply when it still has them; otherwise it tokenizes `text` (special: false).
    AssistantContent { index: usize, text: String },
}

/// How a model wants its conversations written.
#[derive(Debug)]
pub struct ChatFormat(Kind);

#[derive(Debug)]
enum Kind {
    /// A fixed turn layout read from `assets/templates/` (BitNet b1.58, or the plain fallback).
    Turns(TurnFormat),
    /// The model's own `tokenizer.chat_template`.
    Jinja(JinjaFormat),
}

impl ChatFormat {
    /// The format for a model file: BitNet b1.58's (when the architecture's row says so, or the
    /// template contains `BITNET` as bitnet.cpp detects it), else the file's Jinja template, else
    /// plain text.
    pub fn for_model(file: &GgufFile, tokenizer: &Tokenizer) -> Result<ChatFormat> {
        let arch = file.opt_str("general.architecture")?.and_then(Architecture::by_name);
        let template = file.opt_str("tokenizer.chat_template")?;
        if arch.is_some_and(|a| a.bitnet_chat_format) || template.is_some_and(|t| t.contains("BITNET")) {
            return Ok(Self(Kind::Turns(TurnFormat::bitnet(tokenizer)?)));
        }
        match template.filter(|t| t.contains("{{") || t.contains("{%")) {
            Some(source) => Ok(Self(Kind::Jinja(JinjaFormat::new(file.name(), source, tokenizer)?))),
            None => Ok(Self(Kind::Turns(TurnFormat::plain(tokenizer)?))),
        }
    }

    /// The conversation as segments; with `add_generation_prompt`, ending where the assistant's
    /// reply begins. A reply asked for a conversation whose last message is the assistant's, with
    /// text, continues that message (a stopped reply resumed, or a reply's start given; as
    /// llama.cpp's server does): it is left open, without its end of turn.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<Vec<Segment>> {
        let continued = add_generation_prompt
            && messages.last().is_some_and(|m| m.role == Role::Assistant && !m.content.is_empty());
        let generation_prompt = add_generation_prompt && !continued;
        let segments = match &self.0 {
            Kind::Turns(format) => format.render(messages, generation_prompt),
            Kind::Jinja(format) => format.render(messages, generation_prompt)?,
        };
        Ok(if continued { open_last_reply(segments, messages.len() - 1) } else { segments })
    }

    /// A short name for the UI: `bitnet`, `jinja` or `plain`.
    pub fn name(&self) -> &str {
        match &self.0 {
            Kind::Turns(format) => format.name(),
            Kind::Jinja(_) => "jinja",
        }
    }
}

/// The token ids of rendered segments. `known_reply(index, text)` gives the tokens the engine
/// sampled for the assistant message `index` (without its end-of-generation token, which the
/// format adds), or None to tokenize `text`.
pub fn tokenize_segments(
    segments: &[Segment],
    tok: &Tokenizer,
    known_reply: &dyn Fn(usize, &str) -> Option<Vec<u32>>,
) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    for segment in segments {
        match segment {
            Segment::Token(id) => ids.push(*id),
            Segment::Text { text, special } => ids.extend(tok.encode(text, false, *special)?),
            Segment::AssistantContent { index, text } => match known_reply(*index, text) {
                Some(reply) => ids.extend(reply),
                None => ids.extend(tok.encode(text, false, false)?),
            },
        }
    }
    Ok(ids)
}

/// Drops what the format wrote after message `index`'s text (its end of turn, and anything a
/// template adds after it), so that the reply goes on from that text.
fn open_last_reply(mut segments: Vec<Segment>, index: usize) -> Vec<Segment> {
    let content = segments.iter().rposition(|s| matches!(s, Segment::AssistantContent { index: i, .. } if *i == index));
    if let Some(at) = content {
        segments.truncate(at + 1);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_reply_ends_with_its_text() {
        let text = |t: &str| Segment::Text { text: t.into(), special: false };
        let reply = Segment::AssistantContent { index: 1, text: "Once upon".into() };
        let segments = vec![Segment::Token(1), text("User: hi"), reply.clone(), Segment::Token(2), text("\n")];
        assert_eq!(open_last_reply(segments, 1), [Segment::Token(1), text("User: hi"), reply]);
    }
}
