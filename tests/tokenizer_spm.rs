//! SentencePiece vocabularies (`tokenizer.ggml.model = "llama"`, 1bitLLM's bitnet_b1_58 models)
//! against the `sentencepiece` package: a small BPE model trained with LLaMA's settings (byte
//! fallback, no normalization, a dummy prefix; `tests/data/spm/make_reference.py`) is converted
//! to GGUF tokenizer keys as `bitnet-tui convert` converts a checkpoint's `tokenizer.model`, and
//! our ids for 324 strings (prose in many scripts, code, digits, whitespace) must be the package's.

mod common;

use std::path::Path;

use bitnet_tui::convert::{ConvertedTokenizer, HfConfig};
use bitnet_tui::engine::tokenizer::Tokenizer;
use bitnet_tui::gguf::{GgufFile, GgufWriter, Value};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spm").join(name)
}

fn tokenizer() -> Tokenizer {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("tiny.model"), dir.path().join("tokenizer.model")).unwrap();
    let config = r#"{"architectures": ["BitnetForCausalLM"], "hidden_act": "silu", "hidden_size": 128,
        "intermediate_size": 256, "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 600,
        "bos_token_id": 1, "eos_token_id": 2}"#;
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let config = HfConfig::read(&dir.path().join("config.json")).unwrap();
    let converted = ConvertedTokenizer::read(dir.path(), &config, 600).unwrap();
    assert_eq!((converted.model, converted.add_space_prefix), ("llama", Some(true)));
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String("bitnet".into()));
    converted.write_gguf_metadata(&mut w);
    let file = GgufFile::from_bytes("spm.gguf", w.to_bytes(&[]).unwrap()).unwrap();
    Tokenizer::from_gguf(&file).unwrap()
}

#[test]
fn sentencepiece_vocabularies_encode_as_the_sentencepiece_package_does() {
    let reference: serde_json::Value = serde_json::from_slice(&std::fs::read(data("expected.json")).unwrap()).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 200);
    let tokenizer = tokenizer();
    assert_eq!((tokenizer.bos(), tokenizer.eos(), tokenizer.pre_tokenizer()), (Some(1), Some(2), None));
    assert!(tokenizer.add_bos_default(), "SentencePiece vocabularies start with BOS, as in llama.cpp");
    let mut wrong = Vec::new();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want = common::ids(&case["ids"]);
        let got = tokenizer.encode(text, false, false).unwrap();
        if got != want {
            wrong.push(format!("{text:?}: ours {got:?}, sentencepiece {want:?}"));
        }
        // Byte fallback and no normalization: decoding gives the text back.
        assert_eq!(tokenizer.decode(&got), text);
    }
    assert!(wrong.is_empty(), "{} of {} differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

#[test]
fn special_tokens_in_text_and_the_space_after_them() {
    let tokenizer = tokenizer();
    // A special token written in the text is one token when asked for, and the text after it gets
    // its own leading space, as llama.cpp does.
    let with = tokenizer.encode("</s>Hello", false, true).unwrap();
    let alone = tokenizer.encode("Hello", false, false).unwrap();
    assert_eq!(with[0], 2);
    assert_eq!(&with[1..], &alone[..]);
    assert_eq!(tokenizer.encode("Hi", true, false).unwrap()[0], 1);
}
