//! A conversation as it is kept on disk: messages with the figures of each reply.

use serde::{Deserialize, Serialize};

use crate::engine::protocol::{ChatMessage, GenStats, Role, StopReason};

/// One message, with the stats of the request that produced it (assistant messages only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<GenStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// Set when the engine failed while producing this reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tokens of `content` under the tokenizer of the model loaded when it was counted (user
    /// messages; a reply's count is in its `stats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<usize>,
    /// Name of the model that wrote this reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The other versions of this message (replies regenerated, messages edited), each with the
    /// messages that followed it; see `crate::app::versions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Vec<Message>>,
    /// Where this version sits among all of them (0-based): `alternatives[..version]` come
    /// before it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            stats: None,
            stop_reason: None,
            error: None,
            model: None,
            alternatives: Vec::new(),
            version: 0,
            tokens: None,
        }
    }
}

/// One conversation; saved as `<id>.json` in the conversations folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub title: String,
    /// RFC 3339 UTC timestamps.
    pub created: String,
    pub updated: String,
    /// Name of the model that wrote the latest reply (each reply names its own).
    #[serde(default)]
    pub model: Option<String>,
    /// Sent before the messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The persona the conversation started with (`None`: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    pub messages: Vec<Message>,
}

/// Longest title taken from the first user message.
const TITLE_CHARS: usize = 48;

impl Conversation {
    /// An empty conversation; `id` must be unique in the conversations folder.
    pub fn new(id: String, created: String) -> Self {
        Self {
            id,
            title: String::new(),
            updated: created.clone(),
            created,
            model: None,
            system_prompt: None,
            persona: None,
            messages: Vec::new(),
        }
    }

    /// The title to show: the given one, or the start of the first user message.
    pub fn display_title(&self) -> String {
        if !self.title.is_empty() {
            return self.title.clone();
        }
        let first = self.messages.iter().find(|m| m.role == Role::User).map_or("", |m| m.content.as_str());
        let line = first.lines().next().unwrap_or("").trim();
        let mut title: String = line.chars().take(TITLE_CHARS).collect();
        if line.chars().count() > TITLE_CHARS {
            title.push('…');
        }
        title
    }

    /// The engine's view: system prompt (if any) and every turn with text in it, of the versions
    /// shown. A last assistant turn with text is continued by the engine.
    pub fn prompt(&self) -> Vec<ChatMessage> {
        let turns =
            self.messages.iter().filter(|m| !m.content.is_empty()).map(|m| ChatMessage::new(m.role, m.content.clone()));
        ChatMessage::with_system(self.system_prompt.as_deref(), turns)
    }

    /// The system prompt when it has text in it.
    pub fn system_text(&self) -> Option<&str> {
        self.system_prompt.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// The conversation as a markdown document, for export.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.display_title());
        if let Some(model) = &self.model {
            out.push_str(&format!("*Model: {model} · created {}*\n\n", self.created));
        }
        if let Some(system) = self.system_text() {
            let persona = self.persona.as_ref().map(|name| format!(" ({name})")).unwrap_or_default();
            out.push_str(&format!("## System{persona}\n\n{}\n\n", system.trim_end()));
        }
        for message in &self.messages {
            let who = match message.role {
                Role::System => "System",
                Role::User => "You",
                Role::Assistant => "Assistant",
            };
            out.push_str(&format!("## {who}\n\n{}\n\n", message.content.trim_end()));
            if let Some(stats) = &message.stats {
                out.push_str(&format!(
                    "*{} tokens · {:.1} tok/s · TTFT {:.0} ms*\n\n",
                    stats.generated_tokens, stats.decode_tok_s, stats.ttft_ms
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Conversation {
        let mut c = Conversation::new("1".into(), "2026-01-01T00:00:00Z".into());
        c.system_prompt = Some("Be brief.".into());
        c.messages.push(Message::new(Role::User, "Hello there\nsecond line"));
        let mut reply = Message::new(Role::Assistant, "Hi!");
        reply.stop_reason = Some(StopReason::EndOfText);
        reply.stats = Some(GenStats { generated_tokens: 3, ..GenStats::default() });
        c.messages.push(reply);
        c.messages.push(Message::new(Role::Assistant, ""));
        c
    }

    #[test]
    fn title_comes_from_first_user_line() {
        let mut c = sample();
        assert_eq!(c.display_title(), "Hello there");
        c.messages[0].content = "x".repeat(60);
        assert_eq!(c.display_title().chars().count(), TITLE_CHARS + 1);
        c.title = "Named".into();
        assert_eq!(c.display_title(), "Named");
    }

    #[test]
    fn prompt_has_system_first_and_skips_empty_turns() {
        let mut c = sample();
        let prompt = c.prompt();
        assert_eq!(prompt.len(), 3);
        assert_eq!(prompt[0], ChatMessage::new(Role::System, "Be brief."));
        assert_eq!(prompt[2], ChatMessage::new(Role::Assistant, "Hi!"));
        c.system_prompt = Some("  ".into());
        assert_eq!(c.prompt().len(), 2);
    }

    #[test]
    fn json_round_trip_keeps_stats() {
        let mut c = sample();
        c.persona = Some("terse".into());
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"stop_reason\":\"end-of-text\""));
        assert!(json.contains("\"system_prompt\":\"Be brief.\",\"persona\":\"terse\""), "{json}");
        let back: Conversation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn files_from_before_system_prompts_still_open() {
        let json = r#"{"id":"1","title":"","created":"t","updated":"t","model":null,"messages":[]}"#;
        let c: Conversation = serde_json::from_str(json).unwrap();
        assert_eq!((c.system_prompt, c.persona), (None, None));
    }

    #[test]
    fn files_from_before_versions_still_open() {
        let json = r#"{"id":"1","title":"","created":"t","updated":"t","model":"m",
            "messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo","stop_reason":"cancelled"}]}"#;
        let c: Conversation = serde_json::from_str(json).unwrap();
        assert_eq!(
            c.messages[1],
            Message { stop_reason: Some(StopReason::Cancelled), ..Message::new(Role::Assistant, "yo") }
        );
        assert_eq!(c.check_versions(), Ok(()));
        // And a file without versions is written as before.
        assert!(!serde_json::to_string(&c).unwrap().contains("version"));
    }

    #[test]
    fn markdown_export_lists_turns() {
        let mut c = sample();
        let md = c.to_markdown();
        assert!(md.starts_with("# Hello there\n"));
        assert!(md.contains("## System\n\nBe brief.\n\n## You\n"), "{md}");
        c.persona = Some("terse".into());
        assert!(c.to_markdown().contains("## System (terse)\n\nBe brief.\n"));
        c.system_prompt = None;
        assert!(!c.to_markdown().contains("## System"));
        assert!(md.contains("## You\n\nHello there\nsecond line\n"));
        assert!(md.contains("*3 tokens"));
    }
}
