//! SmolLM2's tokenizer (GPT-2 byte-level BPE, `pre = smollm`) against llama.cpp's ids
//! (`shared/reference/smollm2-tokens.json`). Needs `SMOLLM2_GGUF`.

mod common;

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
    ids: Vec<u32>,
    parse_special: bool,
    add_bos: bool,
}

fn tokenizer() -> Tokenizer {
    let file = GgufFile::open(common::smollm2()).expect("SmolLM2 opens");
    Tokenizer::from_gguf(&file).expect("tokenizer builds")
}

#[test]
fn every_reference_case_matches_llama_cpp() {
    let path = common::shared_dir().join("reference/smollm2-tokens.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let reference: Reference = serde_json::from_str(&text).expect("smollm2-tokens.json parses");
    let tok = tokenizer();
    for case in reference.cases {
        let ids = tok.encode(&case.text, case.add_bos, case.parse_special).expect("encodes");
        assert_eq!(ids, case.ids, "{:?} (parse_special {})", case.text, case.parse_special);
        let mut stream = StreamDecoder::new();
        let mut streamed: String = ids.iter().map(|&id| stream.push(&tok, id)).collect();
        streamed.push_str(&stream.flush());
        assert_eq!(streamed, tok.decode(&ids));
    }
}

#[test]
fn special_ids() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 49152);
    assert_eq!(tok.bos(), Some(1));
    assert_eq!(tok.eos(), Some(2));
    assert_eq!(tok.eot(), Some(2));
    assert_eq!(tok.token_id("<|im_end|>"), Some(2));
    assert!(!tok.add_bos_default());
    assert!(tok.is_end_of_generation(2));
    assert!(!tok.is_end_of_generation(1));
    assert_eq!(tok.decode(&[1, 504, 2]), "The");
}

#[test]
fn the_perplexity_text_has_llama_cpps_token_count() {
    let path = common::shared_dir().join("reference/ppl.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let ids = tokenizer().encode(&text, false, false).expect("encodes");
    assert_eq!(ids.len(), 7639);
}
