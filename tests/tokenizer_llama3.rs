//! The LLaMA-3 tokenizer of BitNet b1.58, built from the fixture's GGUF metadata, against
//! tiktoken's ids (`shared/reference/llama3-tokens.json`).

mod common;

use std::sync::LazyLock;
use std::time::Instant;

use bitnet_tui::engine::tokenizer::{StreamDecoder, Tokenizer};
use bitnet_tui::gguf::GgufFile;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids_without_bos: Vec<u32>,
    special_tokens_parsed: bool,
}

fn reference() -> Reference {
    let path = common::shared_dir().join("reference/llama3-tokens.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("llama3-tokens.json parses")
}

/// Built once for all tests of this file.
fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: LazyLock<Tokenizer> = LazyLock::new(|| {
        let file = GgufFile::open(common::bitnet_tiny()).expect("fixture opens");
        let start = Instant::now();
        let tok = Tokenizer::from_gguf(&file).expect("tokenizer builds");
        eprintln!("LLaMA-3 tokenizer built in {:?}", start.elapsed());
        tok
    });
    &TOKENIZER
}

#[test]
fn every_reference_case_matches_tiktoken() {
    let tok = tokenizer();
    for case in reference().cases {
        let ids = tok.encode(&case.text, false, case.special_tokens_parsed).expect("encodes");
        assert_eq!(ids, case.ids_without_bos, "{:?}", case.text);
        assert_eq!(tok.decode(&ids), case.text.replace("<|eot_id|>", ""));
    }
}

#[test]
fn special_ids_and_bos() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 128256);
    assert_eq!(tok.bos(), Some(128000));
    assert_eq!(tok.eos(), Some(128001));
    assert_eq!(tok.eot(), Some(128009));
    assert!(tok.add_bos_default());
    let eog: Vec<u32> = (127990..128256).filter(|&id| tok.is_end_of_generation(id)).collect();
    assert_eq!(eog, [128001, 128009]);
    assert_eq!(tok.token_id("<|eot_id|>"), Some(128009));
    assert_eq!(tok.token_text(128009).as_deref(), Some("<|eot_id|>"));
    assert_eq!(tok.token_bytes(128009), b"");
    assert_eq!(tok.token_bytes(220), b" ");
    assert_eq!(tok.token_bytes(u32::MAX), b"");
    assert_eq!(tok.encode("The", true, false).expect("encodes"), [128000, 791]);
}

#[test]
fn control_tokens_are_text_unless_parsed() {
    let tok = tokenizer();
    let plain = tok.encode("<|eot_id|>", false, false).expect("encodes");
    assert!(!plain.contains(&128009));
    assert_eq!(tok.decode(&plain), "<|eot_id|>");
    assert_eq!(tok.encode("<|eot_id|>", false, true).expect("encodes"), [128009]);
}

#[test]
fn stream_decoding_never_splits_a_character() {
    let tok = tokenizer();
    let text = "naïve café 🚀 日本語のテキスト";
    let ids = tok.encode(text, true, false).expect("encodes");
    let mut stream = StreamDecoder::new();
    let mut pieces = Vec::new();
    for &id in &ids {
        pieces.push(stream.push(tok, id));
    }
    pieces.push(stream.flush());
    assert!(pieces.iter().all(|p| !p.contains(char::REPLACEMENT_CHARACTER)), "{pieces:?}");
    // 🚀 is three tokens (11410 248 222): nothing shows until the last one.
    let rocket = ids.iter().position(|&id| id == 11410).expect("the rocket's first byte token");
    assert_eq!(pieces[rocket], " ");
    assert_eq!(pieces[rocket + 1], "");
    assert_eq!(pieces[rocket + 2], "🚀");
    assert_eq!(pieces.concat(), tok.decode(&ids));
    assert_eq!(pieces.concat(), text);
}

#[test]
fn cli_prints_the_reference_ids() {
    let case = reference().cases.into_iter().find(|c| c.special_tokens_parsed).expect("a case with special tokens");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["tokenize", "--no-bos", "--special", "--model"])
        .arg(common::bitnet_tiny())
        .arg(&case.text)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let ids: Vec<u32> = serde_json::from_value(json["ids"].clone()).expect("ids");
    assert_eq!(ids, case.ids_without_bos);
    assert_eq!(json["tokens"][0], "User");

    let with_bos = std::process::Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["tokenize", "--model"])
        .arg(common::bitnet_tiny())
        .arg("The")
        .output()
        .expect("the binary runs");
    let json: serde_json::Value = serde_json::from_slice(&with_bos.stdout).expect("JSON output");
    assert_eq!(json["ids"], serde_json::json!([128000, 791]));
}
