//! Arbitrary text through each pre-tokenizer, and arbitrary token ids through the decoders:
//! encoding never fails on valid text and round-trips it exactly, decoding never panics on ids
//! past the vocabulary, and the streaming decoder emits exactly what a whole decode does.
#![no_main]

#[path = "support/alloc_bound.rs"]
mod alloc_bound;
#[path = "support/small_model.rs"]
mod small_model;

use std::sync::LazyLock;

use bitnet_tui::engine::tokenizer::{StreamDecoder, Tokenizer};
use libfuzzer_sys::fuzz_target;

/// One tokenizer per pre-tokenizer family we implement.
static TOKENIZERS: LazyLock<Vec<Tokenizer>> = LazyLock::new(|| {
    ["llama-bpe", "smollm", "gpt2", "falcon3"]
        .into_iter()
        .map(|pre| Tokenizer::from_gguf(&small_model::vocab_file("llama", pre, None)).expect("small tokenizer"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let tokenizers = &*TOKENIZERS;
    let Some((&mode, rest)) = data.split_first() else { return };
    alloc_bound::within_input_size(data.len(), || {
        let tok = &tokenizers[usize::from(mode) % tokenizers.len()];
        if mode & 0x80 == 0 {
            round_trip(tok, &String::from_utf8_lossy(rest), mode & 0x40 != 0);
        } else {
            decode_ids(tok, rest);
        }
    });
});

fn round_trip(tok: &Tokenizer, text: &str, parse_special: bool) {
    let ids = tok.encode(text, false, parse_special).expect("valid text always encodes");
    if !parse_special {
        assert_eq!(tok.decode(&ids), text, "decode(encode(text)) differs");
    }
    let with_bos = tok.encode(text, true, parse_special).expect("the model has a BOS token");
    assert_eq!(with_bos[0], tok.bos().expect("BOS"));
    assert_eq!(&with_bos[1..], &ids[..]);
}

fn decode_ids(tok: &Tokenizer, bytes: &[u8]) {
    let ids: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let whole = tok.decode(&ids);
    let mut stream = StreamDecoder::new();
    let mut streamed: String = ids.iter().map(|&id| stream.push(tok, id)).collect();
    streamed.push_str(&stream.flush());
    assert_eq!(streamed, whole, "streamed and whole decodes differ for {ids:?}");
    for &id in &ids {
        let _ = tok.token_text(id);
        let _ = tok.token_bytes(id);
        let _ = tok.is_end_of_generation(id);
    }
}
