//! The small built-in byte-level vocabulary: a tokenizer built from it round-trips any text, and
//! bad tokenizer metadata gives errors that name the file and the key.

use bitnet_tui::engine::tokenizer::{StreamDecoder, Tokenizer};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{Array, GgufFile, GgufWriter, StringArray, Value};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::sync::LazyLock;

/// A GGUF holding only the small vocabulary, with LLaMA-3 pre-tokenization and special ids.
fn small_gguf() -> GgufWriter {
    let vocab = Vocab::small_byte_level();
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String("llama".into()));
    vocab.write_gguf_metadata(&mut w);
    w.set("tokenizer.ggml.pre", Value::String("llama-bpe".into()));
    for (key, name) in
        [("tokenizer.ggml.bos_token_id", "<|begin_of_text|>"), ("tokenizer.ggml.eos_token_id", "<|end_of_text|>")]
    {
        let id = vocab.id_of(name).expect("special token present");
        w.set(key, Value::U32(id));
    }
    w
}

fn load(w: &GgufWriter) -> anyhow::Result<Tokenizer> {
    let bytes = w.to_bytes(&[]).expect("GGUF image");
    let file = GgufFile::from_bytes("small.gguf", bytes)?;
    Tokenizer::from_gguf(&file)
}

/// Built once: proptest cases share it.
fn small_tokenizer() -> &'static Tokenizer {
    static TOKENIZER: LazyLock<Tokenizer> = LazyLock::new(|| load(&small_gguf()).expect("small tokenizer builds"));
    &TOKENIZER
}

fn error_of(w: &GgufWriter) -> String {
    format!("{:#}", load(w).expect_err("bad metadata is refused"))
}

#[test]
fn vocabulary_shape_is_deterministic() {
    let vocab = Vocab::small_byte_level();
    assert_eq!(vocab, Vocab::small_byte_level());
    let n = vocab.tokens.len();
    assert!((200..=400).contains(&vocab.merges.len()), "{} merges", vocab.merges.len());
    assert_eq!(n, 256 + vocab.merges.len() - duplicates(&vocab) + 256);
    assert_eq!(vocab.tokens[usize::from(b' ')], "Ġ");
    assert_eq!(vocab.tokens[n - 256], "<|begin_of_text|>");
    assert_eq!(vocab.id_of("<|eot_id|>"), Some((n - 256 + 9) as u32));
    assert_eq!(vocab.token_types[n - 1], 3);
    assert_eq!(vocab.scores[n - 1], -1000.0);
    assert_eq!(vocab.token_types[0], 1);
    assert!(vocab.tokens.contains(&"Ġthe".to_owned()));
}

/// Merges whose result was already a token (learned twice by different paths).
fn duplicates(vocab: &Vocab) -> usize {
    let distinct: std::collections::HashSet<String> = vocab.merges.iter().map(|m| m.replacen(' ', "", 1)).collect();
    vocab.merges.len() - distinct.len()
}

#[test]
fn common_words_are_single_tokens_and_specials_parse() {
    let tok = small_tokenizer();
    let the = tok.token_id("Ġthe").expect("Ġthe learned");
    assert_eq!(tok.encode(" the", false, false).expect("encodes"), [the]);
    let eot = tok.token_id("<|eot_id|>").expect("eot");
    assert_eq!(tok.eot(), Some(eot));
    assert!(tok.add_bos_default());
    let ids = tok.encode("hi<|eot_id|>", true, true).expect("encodes");
    assert_eq!(ids.first().copied(), tok.bos());
    assert_eq!(ids.last().copied(), Some(eot));
    assert!(tok.is_end_of_generation(eot));
    assert!(!tok.encode("hi<|eot_id|>", false, false).expect("encodes").contains(&eot));
}

proptest! {
    #![proptest_config(Config { failure_persistence: None, ..Config::default() })]

    #[test]
    fn any_text_round_trips(text in any::<String>()) {
        let tok = small_tokenizer();
        let ids = tok.encode(&text, false, false).expect("encodes");
        prop_assert_eq!(tok.decode(&ids), text);
    }

    #[test]
    fn stream_output_adds_up_to_decode(ids in proptest::collection::vec(0u32..600, 0..40)) {
        let tok = small_tokenizer();
        let mut stream = StreamDecoder::new();
        let mut pieces: Vec<String> = ids.iter().map(|&id| stream.push(tok, id)).collect();
        pieces.push(stream.flush());
        prop_assert_eq!(pieces.concat(), tok.decode(&ids));
    }
}

#[test]
fn stream_holds_a_split_character_until_complete() {
    let tok = small_tokenizer();
    // "€" is E2 82 AC; the byte tokens have ids equal to the byte values.
    let mut stream = StreamDecoder::new();
    assert_eq!(stream.push(tok, u32::from(b'a')), "a");
    assert_eq!(stream.push(tok, 0xE2), "");
    assert_eq!(stream.push(tok, 0x82), "");
    assert_eq!(stream.push(tok, 0xAC), "€");
    // A broken sequence shows U+FFFD once it cannot complete, then the byte after it.
    assert_eq!(stream.push(tok, 0xE2), "");
    assert_eq!(stream.push(tok, u32::from(b'b')), "\u{FFFD}b");
    assert_eq!(stream.push(tok, 0xF0), "");
    assert_eq!(stream.flush(), "\u{FFFD}");
    assert_eq!(stream.flush(), "");
}

#[test]
fn unknown_tokenizer_model_is_refused() {
    let mut w = small_gguf();
    w.set("tokenizer.ggml.model", Value::String("bert".into()));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.model"), "{err}");
    // SentencePiece merges by score: its scores must be there, one per token.
    let mut w = small_gguf();
    w.set("tokenizer.ggml.model", Value::String("llama".into()));
    w.set("tokenizer.ggml.scores", Value::Array(Array::F32(vec![0.0; 3])));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.scores has 3 entries"), "{err}");
}

#[test]
fn unknown_pre_tokenizer_is_refused() {
    let mut w = small_gguf();
    w.set("tokenizer.ggml.pre", Value::String("qwen2".into()));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.pre"), "{err}");
}

#[test]
fn malformed_merge_is_refused() {
    let mut w = small_gguf();
    let merges: StringArray = ["Ġ t", "nospace"].into_iter().collect();
    w.set("tokenizer.ggml.merges", Value::Array(Array::String(merges)));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.merges[1]"), "{err}");
}

#[test]
fn merge_of_unknown_tokens_is_refused() {
    let mut w = small_gguf();
    let merges: StringArray = ["Ġ t", "Ж Ж"].into_iter().collect();
    w.set("tokenizer.ggml.merges", Value::Array(Array::String(merges)));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.merges"), "{err}");
}

#[test]
fn token_type_length_and_values_are_checked() {
    let mut w = small_gguf();
    w.set("tokenizer.ggml.token_type", Value::Array(Array::I32(vec![1; 3])));
    let err = error_of(&w);
    assert!(err.contains("tokenizer.ggml.token_type"), "{err}");

    let mut w = small_gguf();
    let n = Vocab::small_byte_level().tokens.len();
    let mut types = vec![1; n];
    types[7] = 9;
    w.set("tokenizer.ggml.token_type", Value::Array(Array::I32(types)));
    let err = error_of(&w);
    assert!(err.contains("tokenizer.ggml.token_type[7]"), "{err}");
}

#[test]
fn special_ids_must_be_in_the_vocabulary() {
    let mut w = small_gguf();
    w.set("tokenizer.ggml.eos_token_id", Value::U32(1_000_000));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.eos_token_id"), "{err}");
}

#[test]
fn missing_tokens_are_refused() {
    let mut w = GgufWriter::new();
    w.set("tokenizer.ggml.model", Value::String("gpt2".into()));
    let err = error_of(&w);
    assert!(err.contains("small.gguf") && err.contains("tokenizer.ggml.tokens"), "{err}");
}

#[test]
fn bos_is_an_error_when_the_model_has_none() {
    let mut w = GgufWriter::new();
    Vocab::small_byte_level().write_gguf_metadata(&mut w);
    let tok = load(&w).expect("builds without special ids");
    assert!(!tok.add_bos_default());
    assert!(tok.encode("x", true, false).is_err());
    assert_eq!(tok.encode("x", false, false).expect("encodes"), [u32::from(b'x')]);
}

#[test]
fn tokenizer_and_chat_format_can_move_to_the_worker_thread() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Tokenizer>();
    send_sync::<bitnet_tui::engine::chat::ChatFormat>();
}
