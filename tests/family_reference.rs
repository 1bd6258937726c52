//! The BitNet family against bitnet.cpp, one shallow synthetic model per family at its real
//! widths: Falcon3-1B and 3B (`llama`, heads of 256, RoPE base 1000042), Llama3-8B-1.58 (`llama`,
//! LLaMA 3's constants, hidden 4096, FFN 14336) and 1bitLLM's bitnet_b1_58-large (`bitnet`:
//! sub-norms, SiLU, tied head, 16 heads of 96). Each is written by the generator with 2 blocks and
//! the built-in vocabulary; bitnet.cpp's prompt logits and 32 greedy steps on the same file are in
//! `tests/data/family/*.ref.json` (their `about` says how they were made).

mod common;

use std::path::{Path, PathBuf};

use common::top5_error;

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::engine::protocol::LmHead;
use bitnet_tui::engine::sampler::argmax;
use bitnet_tui::engine::synthetic::{self, BitnetShape};
use bitnet_tui::engine::vocab::Vocab;
use sha2::{Digest, Sha256};

/// Logits that agree but for F32 summation order.
const EXACT: f32 = 2e-4;

fn reference(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/family/{name}.ref.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_model(dir: &Path, name: &str, shape: BitnetShape, reference: &serde_json::Value) -> PathBuf {
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, &BitnetShape { n_layers: 2, ..shape }, &Vocab::small_byte_level(), 7).unwrap();
    let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        sha,
        reference["model_sha256"].as_str().unwrap(),
        "{name}: the generator no longer writes the reference's model"
    );
    let path = dir.join(format!("{name}.gguf"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Feeds bitnet.cpp's own greedy tokens (so one flipped choice does not end the comparison) and
/// checks every step against the reference: within bitnet.cpp's spread with itself, and the
/// same greedy choice wherever the reference's top two are further apart than our difference.
fn follows_bitnet_cpp(name: &str, shape: BitnetShape) {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(name);
    let mut model = Model::load(write_model(dir.path(), name, shape, &reference)).unwrap();
    model.set_lm_head(LmHead::F16);
    let prompt = common::ids(&reference["prompt_ids"]);
    let steps = reference["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 33, "{name}: the prompt's logits and 32 steps");
    let own_spread = reference["bitnet_cpp_batch_vs_decode"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .fold(0.0, f64::max) as f32;
    assert!(own_spread > 0.0, "{name}: the reference records bitnet.cpp's own spread");

    let mut kv = model.new_kv_cache(64);
    let mut st = RunState::default();
    let mut logits = model.forward(&mut st, &mut kv, &prompt, 0, LogitsWanted::Last).to_vec();
    let (mut errors, mut flips) = (Vec::new(), Vec::new());
    for (s, step) in steps.iter().enumerate() {
        let error = top5_error(&logits, step);
        let want = step["id"].as_u64().unwrap() as u32;
        if argmax(&logits) != want {
            let top5 = step["top5"].as_array().unwrap();
            let margin = (top5[0][1].as_f64().unwrap() - top5[1][1].as_f64().unwrap()) as f32;
            assert!(
                margin <= 2.0 * error,
                "{name}: step {s} chose {} over {want}, whose lead is {margin} (our error {error})",
                argmax(&logits)
            );
            flips.push(s);
        }
        errors.push(error);
        if s + 1 < steps.len() {
            logits = model.forward(&mut st, &mut kv, &[want], prompt.len() + s, LogitsWanted::Last).to_vec();
        }
    }
    // The prompt is one batch on both sides: no decode rounding, so it agrees but for summation order.
    assert!(errors[0] <= EXACT, "{name}: prompt logits off by {}", errors[0]);
    let exact = errors.iter().filter(|&&e| e <= EXACT).count();
    let worst = errors.iter().fold(0.0, |a: f32, &e| a.max(e));
    eprintln!("{name}: {exact}/33 steps within {EXACT}, worst {worst:.3} (bitnet.cpp with itself: {own_spread:.3}), near-tie flips at {flips:?}");
    assert!(worst <= own_spread, "{name}: off by {worst}, more than bitnet.cpp's {own_spread} with itself: {errors:?}");
}

#[test]
fn falcon3_1b_follows_bitnet_cpp() {
    follows_bitnet_cpp("falcon3-1b", BitnetShape::FALCON3_1B);
}

#[test]
fn falcon3_3b_follows_bitnet_cpp() {
    follows_bitnet_cpp("falcon3-3b", BitnetShape::FALCON3_3B);
}

#[test]
fn llama3_8b_158_follows_bitnet_cpp() {
    follows_bitnet_cpp("llama3-8b-158", BitnetShape::LLAMA3_8B_158);
}

#[test]
fn bitnet_large_follows_bitnet_cpp() {
    follows_bitnet_cpp("bitnet-large", BitnetShape::BITNET_LARGE);
}
