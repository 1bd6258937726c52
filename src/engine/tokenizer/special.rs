//! Finding special tokens written in text, as llama.cpp does (`tokenizer_st_partition`): the
//! longest special token is cut out first, then the next longest from what is left, and so on.

use super::token_type::TokenType;

/// A piece of input text: plain text for BPE, or a special token found in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

/// The vocabulary's control and user-defined tokens, longest text first.
#[derive(Debug, Default)]
pub struct SpecialTokens {
    tokens: Vec<SpecialToken>,
}

#[derive(Debug)]
struct SpecialToken {
    text: String,
    id: u32,
    control: bool,
}

impl SpecialTokens {
    /// Collects the control and user-defined tokens of a vocabulary.
    pub fn new<'a>(tokens: impl Iterator<Item = (u32, &'a str, TokenType)>) -> Self {
        let mut tokens: Vec<SpecialToken> = tokens
            .filter(|(_, text, ty)| !text.is_empty() && matches!(ty, TokenType::Control | TokenType::UserDefined))
            .map(|(id, text, ty)| SpecialToken { text: text.to_owned(), id, control: ty == TokenType::Control })
            .collect();
        // Longest first, so `<|eot_id|>` is never cut short by a shorter token inside it.
        tokens.sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.id.cmp(&b.id)));
        Self { tokens }
    }

    /// Cuts `text` at the special tokens it contains. User-defined tokens are always found (they
    /// are ordinary words of the model, as in llama.cpp); control tokens only when
    /// `parse_control` is on, so user text cannot inject them.
    pub fn split<'a>(&self, text: &'a str, parse_control: bool) -> Vec<Fragment<'a>> {
        let mut fragments = vec![Fragment::Text(text)];
        for special in &self.tokens {
            if special.control && !parse_control {
                continue;
            }
            if !fragments.iter().any(|f| matches!(f, Fragment::Text(t) if t.contains(special.text.as_str()))) {
                continue;
            }
            fragments = fragments
                .into_iter()
                .flat_map(|fragment| match fragment {
                    Fragment::Text(t) => cut(t, special),
                    token => vec![token],
                })
                .collect();
        }
        fragments.retain(|f| !matches!(f, Fragment::Text("")));
        fragments
    }
}

fn cut<'a>(text: &'a str, special: &SpecialToken) -> Vec<Fragment<'a>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(special.text.as_str()) {
        out.push(Fragment::Text(&rest[..at]));
        out.push(Fragment::Token(special.id));
        rest = &rest[at + special.text.len()..];
    }
    out.push(Fragment::Text(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specials() -> SpecialTokens {
        SpecialTokens::new(
            [
                (0, "a", TokenType::Normal),
                (1, "<|eot|>", TokenType::Control),
                (2, "<|eot|>x", TokenType::Control),
                (3, "<tab>", TokenType::UserDefined),
                (4, "", TokenType::Control),
            ]
            .into_iter(),
        )
    }

    #[test]
    fn control_tokens_only_when_asked() {
        let s = specials();
        assert_eq!(s.split("a<|eot|>b", false), vec![Fragment::Text("a<|eot|>b")]);
        assert_eq!(s.split("a<|eot|>b", true), vec![Fragment::Text("a"), Fragment::Token(1), Fragment::Text("b")]);
    }

    #[test]
    fn longest_first_and_user_defined_always() {
        let s = specials();
        assert_eq!(
            s.split("<|eot|>x<|eot|><tab>", true),
            vec![Fragment::Token(2), Fragment::Token(1), Fragment::Token(3)]
        );
        assert_eq!(s.split("x<tab>y", false), vec![Fragment::Text("x"), Fragment::Token(3), Fragment::Text("y")]);
    }

    #[test]
    fn empty_text_gives_nothing() {
        assert!(specials().split("", true).is_empty());
    }
}
