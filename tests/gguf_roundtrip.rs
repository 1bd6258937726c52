//! Writer ↔ reader round trips: a synthetic model, and the bitnet.cpp fixture rewritten byte for byte.

mod common;

use bitnet_tui::engine::synthetic::{self, BitnetShape};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, GgufWriter, TensorSpec};

/// A minimal vocabulary with the special tokens a synthetic model needs.
fn toy_vocab() -> Vocab {
    let mut tokens: Vec<String> = ["a", "b", "ab", "Ġ"].iter().map(|s| s.to_string()).collect();
    tokens.extend(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"].iter().map(|s| s.to_string()));
    let n = tokens.len();
    Vocab {
        token_types: (0..n).map(|i| if i < 4 { 1 } else { 3 }).collect(),
        scores: (0..n).map(|i| if i < 4 { 0.0 } else { -1000.0 }).collect(),
        merges: vec!["a b".into()],
        tokens,
    }
}

#[test]
fn synthetic_model_round_trips() {
    let shape = BitnetShape {
        n_layers: 2,
        hidden: 256,
        ffn: 384,
        heads: 2,
        kv_heads: 1,
        key_length: None,
        context: 512,
        ..BitnetShape::TINY
    };
    let vocab = toy_vocab();
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, &shape, &vocab, 7).unwrap();
    let file = GgufFile::from_bytes("synthetic", bytes.clone()).unwrap();

    let writer = synthetic::writer_for(&shape, &vocab).unwrap();
    let keys: Vec<&str> = file.metadata().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 24);
    assert_eq!(keys[0], "general.architecture");
    assert_eq!(keys[23], "general.quantization_version");
    assert_eq!(file.tensors().len(), 2 + 11 * 2);
    for (t, spec) in file.tensors().iter().zip(writer.tensors()) {
        assert_eq!((&t.name, t.ty, &t.dims), (&spec.name, spec.ty, &spec.dims));
    }
    // Rewriting what we read gives the same bytes: metadata, tensor infos and data all survive.
    let rewritten = rewrite(&file);
    assert_eq!(rewritten, bytes);
    // Deterministic for a seed, different for another.
    let mut again = Vec::new();
    synthetic::write_model(&mut again, &shape, &vocab, 7).unwrap();
    assert_eq!(again, bytes);
    let mut other = Vec::new();
    synthetic::write_model(&mut other, &shape, &vocab, 8).unwrap();
    assert_ne!(other, bytes);
}

#[test]
fn ternary_codes_are_balanced() {
    let shape = BitnetShape {
        n_layers: 1,
        hidden: 512,
        ffn: 512,
        heads: 4,
        kv_heads: 2,
        key_length: None,
        context: 64,
        ..BitnetShape::TINY
    };
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, &shape, &toy_vocab(), 1).unwrap();
    let file = GgufFile::from_bytes("synthetic", bytes).unwrap();
    let t = file.tensor("blk.0.ffn_up.weight").unwrap();
    let data = file.tensor_data(t);
    let mut counts = [0usize; 4];
    for &b in &data[..data.len() - 32] {
        for plane in 0..4 {
            counts[((b >> (6 - 2 * plane)) & 3) as usize] += 1;
        }
    }
    let n = (512 * 512) as f64;
    for c in &counts[..3] {
        assert!((*c as f64 / n - 1.0 / 3.0).abs() < 0.01, "{counts:?}");
    }
    assert_eq!(counts[3], 0);
}

fn rewrite(file: &GgufFile) -> Vec<u8> {
    let mut w = GgufWriter::new();
    for (k, v) in file.metadata() {
        w.set(k.clone(), v.clone());
    }
    for t in file.tensors() {
        w.add_tensor(TensorSpec::new(t.name.clone(), t.ty, &t.dims));
    }
    let mut out = Vec::new();
    w.write(&mut out, |i, _, sink| sink.write_all(file.tensor_data(&file.tensors()[i]))).unwrap();
    out
}

#[test]
fn fixture_rewrites_byte_for_byte() {
    let path = common::bitnet_tiny();
    let file = GgufFile::open(&path).unwrap();
    let original = std::fs::read(&path).unwrap();
    assert!(rewrite(&file) == original, "rewriting the fixture changed its bytes");
}

#[test]
fn forgotten_metadata_reads_as_absent_and_the_rest_stays() {
    let mut file = GgufFile::open(common::bitnet_tiny()).unwrap();
    let before: Vec<String> = file.metadata().iter().map(|(k, _)| k.clone()).collect();
    assert!(file.get("tokenizer.ggml.tokens").is_some());
    file.forget_metadata(&["tokenizer.ggml.tokens", "tokenizer.ggml.merges", "no.such.key"]);
    assert!(file.get("tokenizer.ggml.tokens").is_none() && file.get("tokenizer.ggml.merges").is_none());
    let kept: Vec<&str> = before
        .iter()
        .map(String::as_str)
        .filter(|k| !["tokenizer.ggml.tokens", "tokenizer.ggml.merges"].contains(k))
        .collect();
    assert_eq!(file.metadata().iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), kept);
    // Every remaining key still finds its own value.
    for (key, value) in file.metadata() {
        assert!(std::ptr::eq(file.get(key).unwrap(), value), "{key}");
    }
}
