//! `--kv q8`: the cache in Q8_0 blocks against the exact F16 one, teacher-forced over the same
//! greedy steps (how often the top token agrees, how far the logits move), through the library
//! and the binary; and a head size Q8_0 cannot hold is refused, naming the file.

mod common;

use std::process::Command;
use std::sync::Arc;

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::engine::protocol::KvType;
use bitnet_tui::engine::sampler::argmax;
use bitnet_tui::engine::synthetic::{self, BitnetShape};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::GgufFile;

/// 48 greedy steps of the F16-cache model after `prompt`, with the q8 model fed the same tokens:
/// (top-1 agreements, max |Δlogit|, the F16 run's largest |logit|).
fn agreement(exact: &Model, q8: &Model, prompt: &[u32]) -> (usize, f32, f32) {
    let (mut kv_exact, mut kv_q8) = (exact.new_kv_cache(128), q8.new_kv_cache(128));
    let (mut st_exact, mut st_q8) = (RunState::new(2), RunState::new(2));
    let mut want = exact.forward(&mut st_exact, &mut kv_exact, prompt, 0, LogitsWanted::Last).to_vec();
    let mut got = q8.forward(&mut st_q8, &mut kv_q8, prompt, 0, LogitsWanted::Last).to_vec();
    let (mut agree, mut max_diff, mut scale) = (0, 0f32, 0f32);
    for s in 0..48 {
        let id = argmax(&want);
        agree += usize::from(argmax(&got) == id);
        max_diff = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(max_diff, f32::max);
        scale = want.iter().map(|v| v.abs()).fold(scale, f32::max);
        let pos = prompt.len() + s;
        want = exact.forward(&mut st_exact, &mut kv_exact, &[id], pos, LogitsWanted::Last).to_vec();
        got = q8.forward(&mut st_q8, &mut kv_q8, &[id], pos, LogitsWanted::Last).to_vec();
    }
    (agree, max_diff, scale)
}

fn with_kv(path: &std::path::Path, kind: KvType) -> Model {
    let mut model = Model::load(path).unwrap();
    model.set_kv_type(kind).unwrap();
    model
}

#[test]
fn a_q8_cache_agrees_with_f16_on_the_fixture_and_smollm2() {
    for (path, prompt, min_agree) in [
        (common::bitnet_tiny(), vec![128000, 791, 6864, 315, 9822, 374], 44),
        (common::smollm2(), vec![1, 504, 3458, 282, 4649, 314, 253, 6443, 30], 44),
    ] {
        let (exact, q8) = (with_kv(&path, KvType::F16), with_kv(&path, KvType::Q8));
        let (agree, max_diff, scale) = agreement(&exact, &q8, &prompt);
        eprintln!("{}: top-1 {agree}/48, max |Δlogit| {max_diff:.4} (logits up to {scale:.1})", path.display());
        assert!(agree >= min_agree, "{}: top-1 agreement {agree}/48", path.display());
        assert!(max_diff < 0.05 * scale, "{}: max |Δlogit| {max_diff} of {scale}", path.display());
        assert!(max_diff > 0.0, "the q8 cache changed nothing: is it used?");
    }
}

#[test]
fn the_cache_is_half_the_bytes_and_the_binary_takes_the_flag() {
    let exact = with_kv(&common::bitnet_tiny(), KvType::F16);
    let q8 = with_kv(&common::bitnet_tiny(), KvType::Q8);
    // head_dim 128: 4 blocks of 34 bytes against 128 f16 values.
    assert_eq!(q8.new_kv_pool().position_bytes() * 256, exact.new_kv_pool().position_bytes() * 136);
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args([
            "run",
            "--raw",
            "-p",
            "The capital of France is",
            "-n",
            "8",
            "--temp",
            "0",
            "--kv",
            "q8",
            "--json",
            "-m",
        ])
        .arg(common::bitnet_tiny())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tokens"].as_array().map(Vec::len), Some(8), "{json}");
}

#[test]
fn a_head_size_q8_0_cannot_hold_is_refused_naming_the_file() {
    let shape = BitnetShape { hidden: 256, heads: 8, key_length: Some(48), ..BitnetShape::TINY };
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, &shape, &Vocab::small_byte_level(), 3).unwrap();
    let file = GgufFile::from_bytes("heads-of-48.gguf", bytes).unwrap();
    let mut model = Model::from_file(Arc::new(file)).unwrap();
    let err = model.set_kv_type(KvType::Q8).unwrap_err().to_string();
    assert!(err.contains("heads-of-48.gguf") && err.contains("multiple of 32") && err.contains("48"), "{err}");
    model.set_kv_type(KvType::F16).unwrap();
}
