//! Chat formats that are a fixed turn layout: a header, the content and an end-of-turn marker per
//! message. The layouts are data (`assets/templates/*.toml`), parsed when a model loads.

use anyhow::{anyhow, Context, Result};
use serde::Deserialize;

use super::Segment;
use crate::engine::protocol::{ChatMessage, Role};
use crate::engine::tokenizer::Tokenizer;

const BITNET_B158: &str = include_str!("../../../assets/templates/bitnet-b158.toml");
const PLAIN: &str = include_str!("../../../assets/templates/plain.toml");

/// A turn layout as written in its TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnSpec {
    name: String,
    bos: BosRule,
    /// Strip whitespace around each message's content.
    trim: bool,
    /// Put before each content (inside the content's segment).
    content_prefix: String,
    end_of_turn: EndOfTurn,
    generation_prompt: String,
    headers: Headers,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BosRule {
    Always,
    Model,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum EndOfTurn {
    /// A token, by its vocabulary text.
    Token(String),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Headers {
    system: String,
    user: String,
    assistant: String,
}

/// A turn layout bound to a vocabulary.
#[derive(Debug)]
pub struct TurnFormat {
    spec: TurnSpec,
    bos: Option<u32>,
    end_of_turn: Segment,
}

impl TurnFormat {
    /// Microsoft's BitNet b1.58 format.
    pub fn bitnet(tok: &Tokenizer) -> Result<Self> {
        Self::from_toml(BITNET_B158, tok).context("assets/templates/bitnet-b158.toml")
    }

    /// The plain fallback for models without a chat template.
    pub fn plain(tok: &Tokenizer) -> Result<Self> {
        Self::from_toml(PLAIN, tok).context("assets/templates/plain.toml")
    }

    fn from_toml(source: &str, tok: &Tokenizer) -> Result<Self> {
        let spec: TurnSpec = toml::from_str(source)?;
        let bos = match spec.bos {
            BosRule::Always => Some(
                tok.bos()
                    .ok_or_else(|| anyhow!("the {} chat format starts with BOS, but the model has none", spec.name))?,
            ),
            BosRule::Model => tok.bos().filter(|_| tok.add_bos_default()),
        };
        let end_of_turn = match &spec.end_of_turn {
            EndOfTurn::Token(text) => Segment::Token(tok.token_id(text).ok_or_else(|| {
                anyhow!("the {} chat format ends turns with {text}, which the vocabulary lacks", spec.name)
            })?),
            EndOfTurn::Text(text) => Segment::Text { text: text.clone(), special: false },
        };
        Ok(Self { spec, bos, end_of_turn })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Vec<Segment> {
        let plain = |text: &str| Segment::Text { text: text.to_owned(), special: false };
        let mut segments: Vec<Segment> = self.bos.map(Segment::Token).into_iter().collect();
        for (index, message) in messages.iter().enumerate() {
            let headers = &self.spec.headers;
            let header = match message.role {
                Role::System => &headers.system,
                Role::User => &headers.user,
                Role::Assistant => &headers.assistant,
            };
            segments.push(plain(header));
            let content = if self.spec.trim { message.content.trim() } else { &message.content };
            let text = format!("{}{content}", self.spec.content_prefix);
            segments.push(match message.role {
                Role::Assistant => Segment::AssistantContent { index, text },
                Role::System | Role::User => plain(&text),
            });
            segments.push(self.end_of_turn.clone());
        }
        if add_generation_prompt {
            segments.push(plain(&self.spec.generation_prompt));
        }
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_formats_parse() {
        for (file, source) in [("bitnet-b158.toml", BITNET_B158), ("plain.toml", PLAIN)] {
            let spec: Result<TurnSpec, _> = toml::from_str(source);
            assert!(spec.is_ok(), "{file}: {spec:?}");
        }
        let bitnet: TurnSpec = toml::from_str(BITNET_B158).expect("parses");
        assert_eq!(bitnet.name, "bitnet");
        assert_eq!(bitnet.headers.user, "User: ");
        assert!(matches!(bitnet.end_of_turn, EndOfTurn::Token(ref t) if t == "<|eot_id|>"));
    }
}
