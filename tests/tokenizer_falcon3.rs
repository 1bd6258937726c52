//! The `falcon3` / `falcon_e` pre-tokenizer (bitnet.cpp's regex set for Falcon3 and Falcon-E)
//! against Hugging Face's `tokenizers` package running a tokenizer.json with Falcon's
//! pre-tokenizer settings: Punctuation(Contiguous), ByteLevel with its regex, Digits(individual).
//! Both sides use SmolLM2's byte-level vocabulary and merges; the reference ids for 324 strings
//! (prose in many scripts, code, numbers, punctuation runs, whitespace) are in
//! `tests/data/falcon3_pretokenizer/expected.json`, made by `make_reference.py` there.
//! Needs `SMOLLM2_GGUF`.

mod common;

use bitnet_tui::engine::tokenizer::{PreTokenizer, Tokenizer};
use bitnet_tui::gguf::{GgufFile, GgufWriter, Value};

/// SmolLM2's tokenizer keys, with `tokenizer.ggml.pre` set to `pre`.
fn vocabulary_with_pre(pre: &str) -> Tokenizer {
    let source = GgufFile::open(common::smollm2()).unwrap();
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String("llama".into()));
    for (key, value) in source.metadata().iter().filter(|(k, _)| k.starts_with("tokenizer.ggml.")) {
        w.set(key.clone(), value.clone());
    }
    w.set("tokenizer.ggml.pre", Value::String(pre.into()));
    let file = GgufFile::from_bytes("falcon3-vocab.gguf", w.to_bytes(&[]).unwrap()).unwrap();
    Tokenizer::from_gguf(&file).unwrap()
}

#[test]
fn falcon3_pre_tokenizer_matches_hugging_face_tokenizers() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/falcon3_pretokenizer/expected.json");
    let reference: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 200, "{} strings", cases.len());
    for pre in ["falcon3", "falcon_e"] {
        let tokenizer = vocabulary_with_pre(pre);
        assert_eq!(tokenizer.pre_tokenizer(), Some(PreTokenizer::Falcon3));
        let mut wrong = Vec::new();
        for case in cases {
            let text = case["text"].as_str().unwrap();
            let want = common::ids(&case["ids"]);
            let got = tokenizer.encode(text, false, false).unwrap();
            if got != want {
                wrong.push(format!("{text:?}: ours {got:?}, tokenizers {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{pre}: {} of {} differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    }
}

/// The same strings differ under SmolLM2's own pre-tokenizer, so the test above can fail.
#[test]
fn the_reference_tells_falcon3_from_smollm() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/falcon3_pretokenizer/expected.json");
    let reference: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let smollm = vocabulary_with_pre("smollm");
    let differing = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| {
            let want = common::ids(&case["ids"]);
            smollm.encode(case["text"].as_str().unwrap(), false, false).unwrap() != want
        })
        .count();
    assert!(differing >= 50, "only {differing} strings tell the two apart");
}
