//! Branches of a conversation. `Conversation::messages` is the path shown (and sent to the
//! engine); a message with other versions keeps them in `alternatives`, each with the messages
//! that followed it, so regenerating a reply or editing a message forks instead of replacing,
//! and flipping between versions swaps the tails. Old files have no alternatives and load as a
//! single path.

use crate::app::conversation::{Conversation, Message};

/// Which version of a message is shown: `shown` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionPosition {
    pub shown: usize,
    pub count: usize,
}

impl Message {
    pub fn version_position(&self) -> VersionPosition {
        let count = self.alternatives.len() + 1;
        VersionPosition { shown: self.version.min(count - 1), count }
    }
}

impl Conversation {
    /// Makes `message` the newest version at `index`; what was shown from `index` on becomes
    /// one of its alternatives. At the end of the conversation it is simply added.
    pub fn add_version(&mut self, index: usize, mut message: Message) {
        if index < self.messages.len() {
            let versions = self.take_versions(index);
            message.version = versions.len();
            message.alternatives = versions;
        }
        self.messages.push(message);
    }

    /// Shows the version before (`forward == false`) or after the shown one at `index`; false
    /// when there is none.
    pub fn flip(&mut self, index: usize, forward: bool) -> bool {
        let Some(position) = self.messages.get(index).map(Message::version_position) else {
            return false;
        };
        let target = if forward { position.shown + 1 } else { position.shown.wrapping_sub(1) };
        if target >= position.count {
            return false;
        }
        let versions = self.take_versions(index);
        self.show(versions, target);
        true
    }

    /// Removes the shown version at `index` and the messages after it; the version before it
    /// (else the one after) takes its place. Without other versions the conversation ends
    /// before `index`.
    pub fn delete_version(&mut self, index: usize) {
        if index >= self.messages.len() {
            return;
        }
        let shown = self.messages[index].version_position().shown;
        let mut versions = self.take_versions(index);
        versions.remove(shown);
        if !versions.is_empty() {
            self.show(versions, shown.saturating_sub(1));
        }
    }

    /// The last message of the shown path that has other versions.
    pub fn latest_fork(&self) -> Option<usize> {
        self.messages.iter().rposition(|m| !m.alternatives.is_empty())
    }

    /// Why the versions of this conversation cannot be shown, if they cannot (a hand-edited
    /// file): names the message by its path, e.g. `messages[3].alternatives[0]`.
    pub fn check_versions(&self) -> Result<(), String> {
        check_path(&self.messages, "messages")
    }

    /// Removes the messages from `index` on and returns every version there, in order, each
    /// with its tail; the versions' first messages no longer hold the others.
    fn take_versions(&mut self, index: usize) -> Vec<Vec<Message>> {
        let mut shown = self.messages.split_off(index);
        let mut versions = std::mem::take(&mut shown[0].alternatives);
        let at = std::mem::take(&mut shown[0].version).min(versions.len());
        versions.insert(at, shown);
        versions
    }

    /// Appends version `at` of `versions`, which keeps the others.
    fn show(&mut self, mut versions: Vec<Vec<Message>>, at: usize) {
        let mut tail = versions.remove(at);
        tail[0].alternatives = versions;
        tail[0].version = at;
        self.messages.extend(tail);
    }
}

fn check_path(messages: &[Message], path: &str) -> Result<(), String> {
    for (i, message) in messages.iter().enumerate() {
        let here = format!("{path}[{i}]");
        if message.version > message.alternatives.len() {
            return Err(format!(
                "{here}.version is {} but there are only {} alternatives",
                message.version,
                message.alternatives.len()
            ));
        }
        for (a, tail) in message.alternatives.iter().enumerate() {
            let there = format!("{here}.alternatives[{a}]");
            if tail.is_empty() {
                return Err(format!("{there} is empty (a version has at least its own message)"));
            }
            check_path(tail, &there)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::{ChatMessage, Role};

    fn conversation(texts: &[&str]) -> Conversation {
        let mut c = Conversation::new("1".into(), "t".into());
        for (i, text) in texts.iter().enumerate() {
            let role = if i % 2 == 0 { Role::User } else { Role::Assistant };
            c.messages.push(Message::new(role, *text));
        }
        c
    }

    fn shown(c: &Conversation) -> Vec<&str> {
        c.messages.iter().map(|m| m.content.as_str()).collect()
    }

    #[test]
    fn a_new_version_forks_and_flipping_swaps_the_tails() {
        let mut c = conversation(&["q1", "a1", "q2", "a2"]);
        c.add_version(1, Message::new(Role::Assistant, "a1'"));
        assert_eq!(shown(&c), ["q1", "a1'"]);
        assert_eq!(c.messages[1].version_position(), VersionPosition { shown: 1, count: 2 });
        assert_eq!(c.latest_fork(), Some(1));
        // The engine gets only the shown path.
        assert_eq!(c.prompt(), [ChatMessage::new(Role::User, "q1"), ChatMessage::new(Role::Assistant, "a1'")]);
        assert!(!c.flip(1, true));
        assert!(c.flip(1, false));
        assert_eq!(shown(&c), ["q1", "a1", "q2", "a2"]);
        assert!(!c.flip(1, false));
        // A third version goes last, whichever was shown.
        c.add_version(1, Message::new(Role::Assistant, "a1''"));
        assert_eq!(c.messages[1].version_position(), VersionPosition { shown: 2, count: 3 });
        assert!(c.flip(1, false));
        assert_eq!(shown(&c), ["q1", "a1'"]);
        assert!(c.flip(1, false));
        assert_eq!(shown(&c), ["q1", "a1", "q2", "a2"]);
    }

    #[test]
    fn forks_nest_and_survive_a_json_round_trip() {
        let mut c = conversation(&["q1", "a1", "q2", "a2"]);
        c.add_version(2, Message::new(Role::User, "q2 edited"));
        c.add_version(0, Message::new(Role::User, "q1 edited"));
        assert_eq!(shown(&c), ["q1 edited"]);
        let back: Conversation = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert!(c.flip(0, false));
        assert_eq!(shown(&c), ["q1", "a1", "q2 edited"]);
        assert!(c.flip(2, false));
        assert_eq!(shown(&c), ["q1", "a1", "q2", "a2"]);
        assert_eq!(c.check_versions(), Ok(()));
    }

    #[test]
    fn deleting_shows_the_neighbouring_version_or_cuts_the_path() {
        let mut c = conversation(&["q1", "a1", "q2", "a2"]);
        c.add_version(1, Message::new(Role::Assistant, "a1'"));
        c.delete_version(1);
        assert_eq!(shown(&c), ["q1", "a1", "q2", "a2"]);
        assert!(c.messages[1].alternatives.is_empty());
        c.delete_version(2);
        assert_eq!(shown(&c), ["q1", "a1"]);
        c.add_version(0, Message::new(Role::User, "q1'"));
        assert!(c.flip(0, false));
        c.delete_version(0);
        assert_eq!(shown(&c), ["q1'"]);
        assert_eq!(c.messages[0].version_position(), VersionPosition { shown: 0, count: 1 });
    }

    #[test]
    fn broken_versions_are_named() {
        let mut c = conversation(&["q1", "a1"]);
        c.messages[1].version = 2;
        assert_eq!(c.check_versions(), Err("messages[1].version is 2 but there are only 0 alternatives".into()));
        c.messages[1].version = 1;
        c.messages[1].alternatives = vec![vec![Message::new(Role::Assistant, "x")], vec![]];
        c.messages[1].version = 0;
        assert_eq!(
            c.check_versions(),
            Err("messages[1].alternatives[1] is empty (a version has at least its own message)".into())
        );
    }
}
