//! Earlier inputs, recalled with Up/Down while the input box is empty; kept across restarts in
//! the data folder.

/// How many inputs are kept, the oldest going first.
pub const MAX_ENTRIES: usize = 500;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputHistory {
    entries: Vec<String>,
    /// Index into `entries` while browsing.
    cursor: Option<usize>,
}

impl InputHistory {
    /// A history of `entries`, oldest first (as saved).
    pub fn new(mut entries: Vec<String>) -> Self {
        entries.drain(..entries.len().saturating_sub(MAX_ENTRIES));
        Self { entries, cursor: None }
    }

    /// Oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    pub fn push(&mut self, text: String) {
        if self.entries.last() != Some(&text) {
            self.entries.push(text);
        }
        if self.entries.len() > MAX_ENTRIES {
            self.entries.remove(0);
        }
        self.cursor = None;
    }

    pub fn is_browsing(&self) -> bool {
        self.cursor.is_some()
    }

    pub fn stop_browsing(&mut self) {
        self.cursor = None;
    }

    /// One step back in time; `None` when there is nothing older.
    pub fn older(&mut self) -> Option<&str> {
        let next = match self.cursor {
            None => self.entries.len().checked_sub(1)?,
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.cursor = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    /// One step forward; `Some("")` when leaving the newest entry (back to an empty box).
    pub fn newer(&mut self) -> Option<&str> {
        let i = self.cursor?;
        if i + 1 < self.entries.len() {
            self.cursor = Some(i + 1);
            self.entries.get(i + 1).map(String::as_str)
        } else {
            self.cursor = None;
            Some("")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_back_and_forth() {
        let mut h = InputHistory::default();
        assert_eq!(h.older(), None);
        h.push("a".into());
        h.push("b".into());
        h.push("b".into());
        assert_eq!(h.older(), Some("b"));
        assert_eq!(h.older(), Some("a"));
        assert_eq!(h.older(), None);
        assert_eq!(h.newer(), Some("b"));
        assert_eq!(h.newer(), Some(""));
        assert!(!h.is_browsing());
        assert_eq!(h.newer(), None);
    }

    #[test]
    fn keeps_the_newest_entries() {
        let all: Vec<String> = (0..MAX_ENTRIES + 3).map(|i| i.to_string()).collect();
        let mut h = InputHistory::new(all.clone());
        assert_eq!(h.entries(), &all[3..]);
        h.push("new".into());
        assert_eq!(h.entries().len(), MAX_ENTRIES);
        assert_eq!(h.entries()[0], "4");
        assert_eq!(h.older(), Some("new"));
    }
}
