//! [`TokenCounter`]: the loaded model's tokenizer as a front end may use it, to count typed text.
//!
//! Why a shared tokenizer and not a command to the worker: the worker may be busy for seconds
//! (a long prefill on a slow machine), and a count that lags that much is no use while typing.
//! The tokenizer is immutable and apart from the weights, so an `Arc` of it is handed out once
//! per loaded model and a front end counts on a thread of its own (a long draft takes
//! milliseconds to tokenize, too much to do per keystroke on the UI thread).

use std::fmt;
use std::sync::Arc;

use crate::engine::tokenizer::Tokenizer;

/// Counts the tokens of a text; cheap to clone and to send to another thread.
#[derive(Clone)]
pub struct TokenCounter(Arc<dyn Fn(&str) -> usize + Send + Sync>);

impl TokenCounter {
    /// Counts with `count` (tests and fakes pass a stand-in).
    pub fn new(count: impl Fn(&str) -> usize + Send + Sync + 'static) -> Self {
        Self(Arc::new(count))
    }

    /// The model's own count: the text's tokens as a chat message's text is tokenized (no BOS,
    /// special tokens in it taken as plain text).
    pub fn for_tokenizer(tokenizer: Arc<Tokenizer>) -> Self {
        Self::new(move |text| tokenizer.encode(text, false, false).map_or(0, |ids| ids.len()))
    }

    pub fn count(&self, text: &str) -> usize {
        (self.0)(text)
    }
}

impl fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCounter")
    }
}
