//! Chat formats given as the model's Jinja `tokenizer.chat_template`, rendered with minijinja the
//! way Hugging Face renders them (trim_blocks, lstrip_blocks, Python string methods).
//!
//! To hand the engine each assistant reply as its own segment, the template is rendered with each
//! reply replaced by a marker (a private-use character, the message index, the character again);
//! the output is then cut at the markers.

use anyhow::{anyhow, bail, Result};
use minijinja::syntax::SyntaxConfig;
use minijinja::{context, Environment, Error, ErrorKind, Value};

use super::Segment;
use crate::engine::protocol::{ChatMessage, Role};
use crate::engine::tokenizer::Tokenizer;

const KEY: &str = "tokenizer.chat_template";

/// A compiled chat template with the token texts it refers to.
pub struct JinjaFormat {
    env: Environment<'static>,
    file: String,
    source: String,
    bos_token: String,
    eos_token: String,
    /// BOS to put first when the template does not write it itself.
    bos: Option<u32>,
}

impl std::fmt::Debug for JinjaFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaFormat").field("file", &self.file).field("source", &self.source).finish()
    }
}

/// The most template instructions one render may run.
const RENDER_FUEL: u64 = 20_000_000;

impl JinjaFormat {
    /// Compiles `source`; a syntax error names the file and the key.
    pub fn new(file: &str, source: &str, tok: &Tokenizer) -> Result<Self> {
        let mut env = Environment::new();
        env.set_syntax(
            SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build().map_err(|e| anyhow!("{e}"))?,
        );
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // A template is code from the file: bound its work, so a runaway loop fails instead of
        // hanging the load (a long real conversation renders in well under 1% of this).
        env.set_fuel(Some(RENDER_FUEL));
        env.add_function("raise_exception", |message: String| -> Result<Value, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned(KEY, source.to_owned())
            .map_err(|e| anyhow!("{file}: {KEY} is not a valid Jinja template: {e}"))?;
        let text_of = |id: Option<u32>| id.and_then(|id| tok.token_text(id)).unwrap_or_default();
        Ok(Self {
            env,
            file: file.to_owned(),
            source: source.to_owned(),
            bos_token: text_of(tok.bos()),
            eos_token: text_of(tok.eos()),
            bos: tok.bos().filter(|_| tok.add_bos_default()),
        })
    }

    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<Vec<Segment>> {
        let marker = self.marker_char(messages)?;
        let values: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let content = match m.role {
                    Role::Assistant => format!("{marker}{i}{marker}"),
                    Role::System | Role::User => m.content.clone(),
                };
                context! { role => role_name(m.role), content => content }
            })
            .collect();
        let rendered = self
            .env
            .get_template(KEY)
            .and_then(|t| {
                t.render(context! {
                    messages => Value::from_iter(values),
                    add_generation_prompt => add_generation_prompt,
                    bos_token => self.bos_token.as_str(),
                    eos_token => self.eos_token.as_str(),
                })
            })
            .map_err(|e| match e.kind() {
                ErrorKind::OutOfFuel => anyhow!(
                    "{}: {KEY} runs too long: rendering took more than {RENDER_FUEL} template steps (a runaway loop?)",
                    self.file
                ),
                _ => anyhow!("{}: {KEY} failed to render: {e}", self.file),
            })?;

        let mut segments = Vec::new();
        if let Some(bos) = self.bos {
            if self.bos_token.is_empty() || !rendered.starts_with(&self.bos_token) {
                segments.push(Segment::Token(bos));
            }
        }
        // Between markers: template text; inside a pair of markers: a message index.
        for (i, part) in rendered.split(marker).enumerate() {
            if i % 2 == 0 {
                if !part.is_empty() {
                    segments.push(Segment::Text { text: part.to_owned(), special: true });
                }
                continue;
            }
            let index =
                part.parse::<usize>().ok().filter(|&i| messages.get(i).is_some_and(|m| m.role == Role::Assistant));
            let Some(index) = index else {
                bail!("{}: {KEY} altered an assistant message beyond recognition", self.file);
            };
            segments.push(Segment::AssistantContent { index, text: messages[index].content.clone() });
        }
        Ok(segments)
    }

    /// A private-use character that occurs neither in the template nor in any message, so the
    /// markers built from it cannot be confused with text.
    fn marker_char(&self, messages: &[ChatMessage]) -> Result<char> {
        ('\u{E000}'..='\u{F8FF}')
            .chain('\u{F0000}'..='\u{FFFFD}')
            .find(|&c| !self.source.contains(c) && !messages.iter().any(|m| m.content.contains(c)))
            .ok_or_else(|| anyhow!("cannot mark the replies: the conversation uses every private-use character"))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}
