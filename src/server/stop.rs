//! Stop strings matched across token boundaries: text that could be the start of a stop string is
//! held back until the next pieces tell, and a stop string is never emitted.
//!
//! Matched here rather than in the engine: the engine streams text pieces and knows nothing of
//! the API's stop strings; on a match the server cancels the request, which ends within a step.

pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What a piece of text gives the client.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    /// Text that is certainly not part of a stop string.
    pub text: String,
    /// A stop string was found; nothing after it may be emitted.
    pub stopped: bool,
}

impl StopMatcher {
    /// Empty stop strings are ignored.
    pub fn new(stops: Vec<String>) -> Self {
        Self { stops: stops.into_iter().filter(|s| !s.is_empty()).collect(), held: String::new() }
    }

    pub fn push(&mut self, piece: &str) -> Matched {
        self.held.push_str(piece);
        if let Some(at) = self.stops.iter().filter_map(|s| self.held.find(s.as_str())).min() {
            self.held.truncate(at);
            return Matched { text: std::mem::take(&mut self.held), stopped: true };
        }
        let keep = self.partial_stop_len();
        let text = self.held[..self.held.len() - keep].to_string();
        self.held.drain(..self.held.len() - keep);
        Matched { text, stopped: false }
    }

    /// The text held back, at the end of the reply.
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// The length of the longest end of the held text that begins some stop string.
    fn partial_stop_len(&self) -> usize {
        let held = &self.held;
        (1..=held.len())
            .rev()
            .filter(|&n| held.is_char_boundary(held.len() - n))
            .find(|&n| self.stops.iter().any(|s| s.starts_with(&held[held.len() - n..])))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, bool, String) {
        let mut m = StopMatcher::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out = Vec::new();
        for piece in pieces {
            let matched = m.push(piece);
            out.push(matched.text);
            if matched.stopped {
                return (out, true, String::new());
            }
        }
        (out, false, m.flush())
    }

    #[test]
    fn a_stop_split_over_pieces_is_held_back_then_cut() {
        let (out, stopped, _) = run(&["\n\nUser:"], &["Hi", " there\n", "\nUs", "er: more"]);
        assert!(stopped);
        assert_eq!(out, ["Hi", " there", "", ""]);
        assert_eq!(out.concat(), "Hi there");
    }

    #[test]
    fn a_false_start_is_released() {
        let (out, stopped, tail) = run(&["END"], &["the E", "ND", "x"]);
        assert!(stopped);
        assert_eq!(out.concat(), "the ");
        assert_eq!(tail, "");
        let (out, stopped, tail) = run(&["END"], &["the E", "nd E"]);
        assert!(!stopped);
        assert_eq!(out.concat() + &tail, "the End E");
        assert_eq!(tail, "E");
    }

    #[test]
    fn the_earliest_of_several_stops_wins_and_multibyte_text_is_never_split() {
        let (out, stopped, _) = run(&["b", "a"], &["xxab"]);
        assert!(stopped);
        assert_eq!(out.concat(), "xx");
        let (out, stopped, tail) = run(&["é!"], &["caf", "é", "?"]);
        assert!(!stopped);
        assert_eq!(out, ["caf", "", "é?"]);
        assert_eq!(tail, "");
    }

    #[test]
    fn no_stops_pass_everything_through() {
        let (out, stopped, tail) = run(&["", ""], &["a", "b"]);
        assert_eq!((out.concat(), stopped, tail.as_str()), ("ab".to_string(), false, ""));
    }
}
