//! In-memory GGUF files holding the small built-in byte-level vocabulary (and LLaMA-3's special
//! tokens), so targets get real tokenizers and chat formats without a model on disk.

use std::sync::LazyLock;

use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, GgufWriter, Value};

/// Learned once: building it trains a BPE on a corpus.
static VOCAB: LazyLock<Vocab> = LazyLock::new(Vocab::small_byte_level);

/// A tokenizer-only file: architecture `arch`, pre-tokenizer `pre`, optional chat template.
pub fn vocab_file(arch: &str, pre: &str, template: Option<&str>) -> GgufFile {
    let vocab = &*VOCAB;
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String(arch.into()));
    vocab.write_gguf_metadata(&mut w);
    w.set("tokenizer.ggml.pre", Value::String(pre.into()));
    for (key, name) in [
        ("tokenizer.ggml.bos_token_id", "<|begin_of_text|>"),
        ("tokenizer.ggml.eos_token_id", "<|end_of_text|>"),
        ("tokenizer.ggml.eot_token_id", "<|eot_id|>"),
    ] {
        let id = vocab.id_of(name).expect("LLaMA-3 special token in the small vocabulary");
        w.set(key, Value::U32(id));
    }
    if let Some(template) = template {
        w.set("tokenizer.chat_template", Value::String(template.into()));
    }
    let bytes = w.to_bytes(&[]).expect("in-memory GGUF image");
    GgufFile::from_bytes(format!("small-{arch}-{pre}.gguf"), bytes).expect("the small vocabulary file parses")
}
