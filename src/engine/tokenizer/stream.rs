//! Streaming detokenization: a character whose bytes are spread over several tokens (emoji, CJK
//! in byte tokens) is shown only once it is whole.

use super::Tokenizer;

/// Turns sampled tokens into text as they arrive. Bytes that may still become a character are
/// held back; bytes that can no longer become one are shown as U+FFFD, exactly as
/// [`Tokenizer::decode`] shows them, so the pieces always add up to `decode` of all tokens.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one token; returns the text that is now complete (often empty).
    pub fn push(&mut self, tok: &Tokenizer, id: u32) -> String {
        self.pending.extend_from_slice(tok.token_bytes(id));
        let mut out = String::new();
        let mut consumed = 0;
        for chunk in self.pending.utf8_chunks() {
            out.push_str(chunk.valid());
            let invalid = chunk.invalid();
            let end = consumed + chunk.valid().len() + invalid.len();
            if invalid.is_empty() {
                consumed = end;
            } else if end == self.pending.len() && could_complete(invalid) {
                consumed = end - invalid.len();
            } else {
                out.push(char::REPLACEMENT_CHARACTER);
                consumed = end;
            }
        }
        self.pending.drain(..consumed);
        out
    }

    /// Ends the stream: whatever is still held back, with U+FFFD for an unfinished character.
    pub fn flush(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

/// Whether `bytes` is the start of a UTF-8 sequence that more bytes could finish.
fn could_complete(bytes: &[u8]) -> bool {
    matches!(std::str::from_utf8(bytes), Err(e) if e.error_len().is_none())
}

#[cfg(test)]
mod tests {
    use super::could_complete;

    #[test]
    fn unfinished_and_broken_sequences() {
        assert!(could_complete(&[0xF0, 0x9F, 0x9A]));
        assert!(could_complete(&[0xE6]));
        assert!(!could_complete(&[0xFF]));
        assert!(!could_complete(&[0x80]));
        assert!(!could_complete(&[0xE6, 0x41]));
    }
}
