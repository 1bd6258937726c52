//! Files in the data folder: one JSON file per conversation, markdown exports, recent models,
//! input history.
//! Every write goes to a temporary file in the same folder, is synced, then renamed over the
//! target, so a crash leaves either the old file or the new one, never half of one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::de::DeserializeOwned;

use crate::app::conversation::Conversation;
use crate::app::model_settings::RememberedSettings;
use crate::app::search::SearchText;
use crate::atomic_file::write_atomically;

/// What the history browser shows of a stored conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub messages: usize,
    pub model: Option<String>,
    /// The title and messages, ready for the history browser's search.
    pub text: SearchText,
}

impl ConversationSummary {
    pub fn new(conversation: &Conversation) -> Self {
        Self {
            id: conversation.id.clone(),
            title: conversation.display_title(),
            updated: conversation.updated.clone(),
            messages: conversation.messages.len(),
            model: conversation.model.clone(),
            text: SearchText::new(conversation),
        }
    }
}

/// What the conversations folder holds: the readable conversations, newest first, and a line
/// (file: reason) for each file that could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub items: Vec<ConversationSummary>,
    pub unreadable: Vec<String>,
}

impl From<Vec<ConversationSummary>> for Listing {
    fn from(items: Vec<ConversationSummary>) -> Self {
        Self { items, unreadable: Vec::new() }
    }
}

/// The data folder.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

const RECENT_MODELS_FILE: &str = "recent_models.json";
const INPUT_HISTORY_FILE: &str = "input_history.json";
const MODEL_SETTINGS_FILE: &str = "model_settings.json";

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn conversations_dir(&self) -> PathBuf {
        self.root.join("conversations")
    }

    fn conversation_path(&self, id: &str) -> anyhow::Result<PathBuf> {
        // Ids come from our own files, but a hand-edited file could hold anything.
        anyhow::ensure!(
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "invalid conversation id `{id}`"
        );
        Ok(self.conversations_dir().join(format!("{id}.json")))
    }

    pub fn save(&self, conversation: &Conversation) -> anyhow::Result<()> {
        let path = self.conversation_path(&conversation.id)?;
        let json = serde_json::to_vec_pretty(conversation)?;
        write_atomically(&path, |f| f.write_all(&json))
    }

    pub fn load(&self, id: &str) -> anyhow::Result<Conversation> {
        let path = self.conversation_path(id)?;
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        parse(&bytes).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn delete(&self, id: &str) -> anyhow::Result<()> {
        let path = self.conversation_path(id)?;
        fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))
    }

    /// Every readable conversation, newest first. Unreadable files are logged, reported and left
    /// alone (a hand-edited or half-restored file is the user's to fix, never ours to delete).
    pub fn list(&self) -> anyhow::Result<Listing> {
        let dir = self.conversations_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Listing::default()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
        };
        let mut list = Vec::new();
        let mut unreadable = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let parsed = fs::read(&path).map_err(anyhow::Error::from).and_then(|b| parse(&b));
            match parsed {
                Ok(c) => list.push(ConversationSummary::new(&c)),
                Err(e) => {
                    tracing::warn!("skipping {}: {e:#}", path.display());
                    unreadable.push(format!("{}: {e:#}", path.display()));
                }
            }
        }
        list.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| b.id.cmp(&a.id)));
        Ok(Listing { items: list, unreadable })
    }

    /// Writes `exports/<title>-<id>.md` and returns its path: the title makes the file easy to
    /// find, the id keeps two conversations of the same title apart (and a second export of
    /// one conversation replaces its first).
    pub fn export_markdown(&self, conversation: &Conversation) -> anyhow::Result<PathBuf> {
        let id = &conversation.id;
        self.conversation_path(id)?;
        let path = self.root.join("exports").join(format!("{}-{id}.md", file_name_part(&conversation.display_title())));
        write_atomically(&path, |f| f.write_all(conversation.to_markdown().as_bytes()))?;
        Ok(path)
    }

    /// Model files loaded before, most recent first; an unreadable list counts as empty.
    pub fn recent_models(&self) -> Vec<PathBuf> {
        self.read_list(RECENT_MODELS_FILE)
    }

    pub fn save_recent_models(&self, paths: &[PathBuf]) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(paths)?;
        write_atomically(&self.root.join(RECENT_MODELS_FILE), |f| f.write_all(&json))
    }

    /// What the user sent before, oldest first; an unreadable list counts as empty.
    pub fn input_history(&self) -> Vec<String> {
        self.read_list(INPUT_HISTORY_FILE)
    }

    pub fn save_input_history(&self, entries: &[String]) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(entries)?;
        write_atomically(&self.root.join(INPUT_HISTORY_FILE), |f| f.write_all(&json))
    }

    /// Settings chosen in the chat per model file; an unreadable list counts as empty.
    pub fn model_settings(&self) -> Vec<RememberedSettings> {
        self.read_list(MODEL_SETTINGS_FILE)
    }

    pub fn save_model_settings(&self, settings: &[RememberedSettings]) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(settings)?;
        write_atomically(&self.root.join(MODEL_SETTINGS_FILE), |f| f.write_all(&json))
    }

    /// A JSON list of the data folder; a missing or unreadable file is an empty list (the
    /// latter logged): these lists are conveniences, not data to stop for.
    fn read_list<T: DeserializeOwned>(&self, file: &str) -> Vec<T> {
        let path = self.root.join(file);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("ignoring {}: {e}", path.display());
                Vec::new()
            }),
            Err(_) => Vec::new(),
        }
    }
}

/// Longest title part of an export's file name, in chars.
const EXPORT_TITLE_CHARS: usize = 60;

/// `title` as part of a file name on any system: letters and digits kept, every other run of
/// chars one `-`; `conversation` when nothing is left.
fn file_name_part(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let part: String = out.trim_end_matches('-').chars().take(EXPORT_TITLE_CHARS).collect();
    match part.trim_end_matches('-') {
        "" => "conversation".to_string(),
        part => part.to_string(),
    }
}

/// A conversation file's contents, checked beyond what serde checks.
fn parse(bytes: &[u8]) -> anyhow::Result<Conversation> {
    let conversation: Conversation = serde_json::from_slice(bytes)?;
    conversation.check_versions().map_err(anyhow::Error::msg)?;
    Ok(conversation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::conversation::Message;
    use crate::engine::protocol::Role;

    fn conversation(id: &str, updated: &str) -> Conversation {
        let mut c = Conversation::new(id.into(), "2026-01-01T00:00:00Z".into());
        c.updated = updated.into();
        c.messages.push(Message::new(Role::User, format!("question {id}")));
        c
    }

    #[test]
    fn save_load_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.list().unwrap(), Listing::default());
        store.save(&conversation("a1", "2026-01-01T00:00:01Z")).unwrap();
        store.save(&conversation("b2", "2026-01-01T00:00:02Z")).unwrap();
        fs::write(store.conversations_dir().join("junk.json"), "{").unwrap();
        let listing = store.list().unwrap();
        assert_eq!(listing.unreadable.len(), 1);
        assert!(listing.unreadable[0].contains("junk.json") && listing.unreadable[0].contains("EOF"), "{listing:?}");
        let list = listing.items;
        assert_eq!(list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["b2", "a1"]);
        assert_eq!(list[0].title, "question b2");
        assert_eq!(store.load("a1").unwrap(), conversation("a1", "2026-01-01T00:00:01Z"));
        store.delete("a1").unwrap();
        assert!(store.load("a1").is_err());
        let leftovers: Vec<_> = fs::read_dir(store.conversations_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_file_with_a_broken_version_names_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut broken = conversation("v1", "t");
        broken.messages[0].version = 3;
        store.save(&broken).unwrap();
        let err = format!("{:#}", store.load("v1").unwrap_err());
        assert!(err.contains("v1.json") && err.contains("messages[0].version is 3"), "{err}");
        assert_eq!(store.list().unwrap().unreadable.len(), 1);
    }

    #[test]
    fn rejects_ids_that_would_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.load("../x").is_err());
        assert!(store.save(&conversation("a/b", "t")).is_err());
    }

    #[test]
    fn recent_models_round_trip_and_export() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.recent_models().is_empty());
        let paths = vec![PathBuf::from("/m/a.gguf"), PathBuf::from("/m/b.gguf")];
        store.save_recent_models(&paths).unwrap();
        assert_eq!(store.recent_models(), paths);
        let path = store.export_markdown(&conversation("c3", "t")).unwrap();
        assert_eq!(path, dir.path().join("exports").join("question-c3-c3.md"));
        assert!(fs::read_to_string(path).unwrap().contains("question c3"));
    }

    #[test]
    fn model_settings_round_trip() {
        use crate::app::model_settings::ModelSettings;
        use crate::engine::protocol::{ContextPolicy, LmHead};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.model_settings().is_empty());
        let settings =
            ModelSettings { ctx: 8192, context_policy: ContextPolicy::DropOldest, threads: 1, lm_head: LmHead::Q6 };
        let list = vec![RememberedSettings { path: "/m/a.gguf".into(), settings }];
        store.save_model_settings(&list).unwrap();
        assert_eq!(store.model_settings(), list);
        let text = fs::read_to_string(dir.path().join(MODEL_SETTINGS_FILE)).unwrap();
        assert!(text.contains("\"context_policy\": \"drop-oldest\"") && text.contains("\"lm_head\": \"q6\""), "{text}");
    }

    #[test]
    fn input_history_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.input_history().is_empty());
        let entries = vec!["first".to_string(), "two\nlines".to_string()];
        store.save_input_history(&entries).unwrap();
        assert_eq!(store.input_history(), entries);
        fs::write(dir.path().join(INPUT_HISTORY_FILE), "[1, 2").unwrap();
        assert!(store.input_history().is_empty());
    }

    #[test]
    fn export_names_come_from_titles() {
        assert_eq!(file_name_part("What is 2+2? / Ünïcode: ok"), "What-is-2-2-Ünïcode-ok");
        assert_eq!(file_name_part("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_name_part("?!"), "conversation");
        assert_eq!(file_name_part(&"x".repeat(100)).len(), EXPORT_TITLE_CHARS);
    }
}
