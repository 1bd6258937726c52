//! Our BPE tables against the `tokenizers` crate's BPE model built from the same GGUF metadata
//! (the model we replaced to save 28 MB): the same ids for any text, on the LLaMA-3 vocabulary
//! of the fixture (whole-word lookup) and on SmolLM2's GPT-2 vocabulary. Needs `SMOLLM2_GGUF`.

mod common;

use std::path::Path;
use std::sync::LazyLock;

use bitnet_tui::engine::tokenizer::{PreTokenizer, Tokenizer};
use bitnet_tui::gguf::GgufFile;
use proptest::prelude::*;
use tokenizers::models::bpe::BPE;

/// Ours and the crate's, from one file.
struct Pair {
    ours: Tokenizer,
    crate_bpe: tokenizers::Tokenizer,
}

fn pair(path: &Path) -> Pair {
    let file = GgufFile::open(path).expect("model opens");
    let ours = Tokenizer::from_gguf(&file).expect("our tokenizer builds");
    let tokens = file.str_array("tokenizer.ggml.tokens").expect("tokens");
    let vocab: tokenizers::models::bpe::Vocab =
        tokens.iter().enumerate().map(|(id, text)| (text.to_owned(), id as u32)).collect();
    let merges = file.str_array("tokenizer.ggml.merges").expect("merges");
    let merges = merges
        .iter()
        .map(|merge| {
            // Split at the first space after the first character ("Ġ Ġ" is two spaces' tokens).
            let first = merge.chars().next().expect("non-empty merge").len_utf8();
            let at = first + merge[first..].find(' ').expect("a space");
            (merge[..at].to_owned(), merge[at + 1..].to_owned())
        })
        .collect();
    let pre = ours.pre_tokenizer().expect("a byte-level vocabulary");
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .ignore_merges(pre.whole_word_lookup())
        .build()
        .expect("the crate's BPE builds");
    let mut crate_bpe = tokenizers::Tokenizer::new(bpe);
    crate_bpe.with_pre_tokenizer(Some(pre.pipeline().expect("regexes compile")));
    Pair { ours, crate_bpe }
}

static LLAMA3: LazyLock<Pair> = LazyLock::new(|| pair(&common::bitnet_tiny()));
static SMOLLM2: LazyLock<Pair> = LazyLock::new(|| pair(&common::smollm2()));

fn same_ids(pair: &Pair, text: &str) -> Result<(), TestCaseError> {
    let ours = pair.ours.encode(text, false, false).expect("we encode");
    let theirs = pair.crate_bpe.encode_fast(text, false).expect("the crate encodes");
    prop_assert_eq!(&ours[..], theirs.get_ids(), "{:?}", text);
    Ok(())
}

/// Prose-like text (words, digits, punctuation, runs of spaces and newlines, accents, CJK,
/// emoji) and arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "([A-Za-z]{1,12}|[0-9]{1,7}|[ ]{1,4}|\n{1,3}|[.,;:!?'\"()-]{1,3}|[éüñßøЖя]{1,4}|[中文字]{1,3}|😀|\t| 's| 're){0,40}",
        any::<String>(),
    ]
}

#[test]
fn the_vocabularies_have_their_expected_pre_tokenizers() {
    assert_eq!(LLAMA3.ours.pre_tokenizer(), Some(PreTokenizer::Llama3));
    assert_eq!(SMOLLM2.ours.pre_tokenizer(), Some(PreTokenizer::DigitsThenGpt2));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn llama3_vocabulary_matches_the_crate(text in text()) {
        same_ids(&LLAMA3, &text)?;
    }

    #[test]
    fn smollm2_vocabulary_matches_the_crate(text in text()) {
        same_ids(&SMOLLM2, &text)?;
    }
}

#[test]
fn the_perplexity_text_matches_the_crate() {
    let path = common::shared_dir().join("reference/ppl.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        panic!("cannot read {}", path.display());
    };
    for pair in [&*LLAMA3, &*SMOLLM2] {
        let ours = pair.ours.encode(&text, false, false).expect("we encode");
        let theirs = pair.crate_bpe.encode_fast(text.as_str(), false).expect("the crate encodes");
        assert!(ours == theirs.get_ids(), "the ids differ ({} against {})", ours.len(), theirs.get_ids().len());
    }
}
