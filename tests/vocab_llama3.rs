//! The LLaMA-3 vocabulary rebuilt from the tiktoken file equals the arrays of the fixture GGUF
//! (made like Microsoft's BitNet b1.58 file) exactly. Needs `LLAMA3_TIKTOKEN`.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::GgufFile;

fn tiktoken_file() -> PathBuf {
    let path = std::env::var_os("LLAMA3_TIKTOKEN").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "LLAMA3_TIKTOKEN is not set. It names the LLaMA-3 tiktoken file from the PyPI package \
             llama-models: pip download --no-deps llama-models && unzip the wheel && \
             export LLAMA3_TIKTOKEN=$PWD/llama_models/llama3/tokenizer.model"
        )
    });
    assert!(path.exists(), "LLAMA3_TIKTOKEN points to a missing file: {}", path.display());
    path
}

#[test]
fn tiktoken_vocabulary_equals_the_fixture_arrays() {
    let start = Instant::now();
    let vocab = Vocab::llama3_from_tiktoken(&tiktoken_file()).expect("tiktoken file parses");
    eprintln!("LLaMA-3 vocabulary built in {:?}", start.elapsed());

    let file = GgufFile::open(common::bitnet_tiny()).expect("fixture opens");
    let tokens = file.str_array("tokenizer.ggml.tokens").expect("tokens");
    let merges = file.str_array("tokenizer.ggml.merges").expect("merges");
    let types = file.opt_i32_array("tokenizer.ggml.token_type").expect("token_type").expect("token_type present");
    let scores = file.opt_f32_array("tokenizer.ggml.scores").expect("scores").expect("scores present");

    assert_eq!(vocab.tokens.len(), 128256);
    assert_eq!(vocab.merges.len(), 280147);
    assert_eq!(&vocab.merges[..5], ["Ġ Ġ", "Ġ ĠĠĠ", "ĠĠ ĠĠ", "ĠĠĠ Ġ", "i n"]);
    assert!(vocab.tokens.iter().map(String::as_str).eq(tokens.iter()), "token texts differ");
    assert!(vocab.merges.iter().map(String::as_str).eq(merges.iter()), "merges differ");
    assert_eq!(vocab.token_types, types);
    assert_eq!(vocab.scores, scores);
    assert_eq!(vocab.id_of("<|eot_id|>"), Some(128009));
}
