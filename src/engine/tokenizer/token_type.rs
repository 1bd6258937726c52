//! `tokenizer.ggml.token_type` values, numbered as llama.cpp numbers them.

/// What kind of token a vocabulary entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// A byte-level BPE piece.
    Normal,
    Unknown,
    /// A control token such as `<|eot_id|>`: matched in text only when special-token parsing is
    /// on, and decoded to nothing.
    Control,
    /// A token added by the model's authors; matched in text and decoded as its literal text.
    UserDefined,
    Unused,
    Byte,
}

impl TokenType {
    pub fn from_gguf(id: i32) -> Option<Self> {
        Some(match id {
            1 => Self::Normal,
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            _ => return None,
        })
    }

    pub fn gguf_id(self) -> i32 {
        match self {
            Self::Normal => 1,
            Self::Unknown => 2,
            Self::Control => 3,
            Self::UserDefined => 4,
            Self::Unused => 5,
            Self::Byte => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in 1..=6 {
            assert_eq!(TokenType::from_gguf(id).map(TokenType::gguf_id), Some(id));
        }
        assert_eq!(TokenType::from_gguf(0), None);
        assert_eq!(TokenType::from_gguf(7), None);
    }
}
