//! Mainline llama.cpp's `bitnet` architecture: TQ2_0 and TQ1_0 weights, optional per-tensor
//! `*.scale` tensors. The same ternary weights stored as TQ2_0 and TQ1_0 must give identical
//! logits (same codes, same int8 activations, same order of float sums); stored as plain F32
//! (f32 activations) they differ only by the activations' int8 rounding.

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::gguf::{GgufFile, GgufWriter, TensorSpec, TensorType, Value};
use half::f16;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const HIDDEN: usize = 256;
const FFN: usize = 512;
const VOCAB: usize = 300;

/// Deterministic ternary values and a per-block scale.
struct Ternary {
    values: Vec<i8>,
    /// One scale per 256-element block.
    scales: Vec<f32>,
}

fn ternary(n: usize, seed: u64) -> Ternary {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values = (0..n).map(|_| rng.random_range(-1..=1i8)).collect();
    let scales =
        (0..n / 256).map(|_| f16::from_f32(0.05 + rng.random_range(0..100) as f32 / 2000.0).to_f32()).collect();
    Ternary { values, scales }
}

fn encode_tq2_0(t: &Ternary) -> Vec<u8> {
    let mut out = Vec::new();
    for (block, &d) in t.values.chunks_exact(256).zip(&t.scales) {
        let mut qs = [0u8; 64];
        for half in 0..2 {
            for l in 0..4 {
                for m in 0..32 {
                    qs[half * 32 + m] |= ((block[half * 128 + l * 32 + m] + 1) as u8) << (2 * l);
                }
            }
        }
        out.extend_from_slice(&qs);
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
    }
    out
}

/// ggml's base-3 fixed-point byte for up to 5 trits, most significant first.
fn encode_trits(digits: &[u8]) -> u8 {
    let v = digits.iter().fold(0u16, |acc, &d| acc * 3 + d as u16);
    (v * 256).div_ceil(243) as u8
}

fn encode_tq1_0(t: &Ternary) -> Vec<u8> {
    let mut out = Vec::new();
    for (block, &d) in t.values.chunks_exact(256).zip(&t.scales) {
        let c: Vec<u8> = block.iter().map(|&v| (v + 1) as u8).collect();
        for m in 0..32 {
            out.push(encode_trits(&[c[m], c[32 + m], c[64 + m], c[96 + m], c[128 + m]]));
        }
        for m in 0..16 {
            out.push(encode_trits(&[c[160 + m], c[176 + m], c[192 + m], c[208 + m], c[224 + m]]));
        }
        for j in 0..4 {
            // Four trits shifted up one place: a fifth, zero digit.
            out.push(encode_trits(&[c[240 + j], c[244 + j], c[248 + j], c[252 + j], 0]));
        }
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
    }
    out
}

fn as_f32(t: &Ternary) -> Vec<u8> {
    t.values.iter().enumerate().flat_map(|(i, &v)| (v as f32 * t.scales[i / 256]).to_le_bytes()).collect()
}

/// A one-layer `bitnet` model with every projection in `ty`; `q_scale` adds `blk.0.attn_q.scale`.
fn model(ty: TensorType, q_scale: Option<f32>) -> Vec<u8> {
    let a = "bitnet";
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String(a.into()))
        .set(format!("{a}.context_length"), Value::U32(64))
        .set(format!("{a}.embedding_length"), Value::U32(HIDDEN as u32))
        .set(format!("{a}.block_count"), Value::U32(1))
        .set(format!("{a}.feed_forward_length"), Value::U32(FFN as u32))
        .set(format!("{a}.attention.head_count"), Value::U32(2))
        .set(format!("{a}.attention.head_count_kv"), Value::U32(1))
        .set(format!("{a}.vocab_size"), Value::U32(VOCAB as u32))
        .set(format!("{a}.rope.freq_base"), Value::F32(10000.0));
    let (h, f, kv) = (HIDDEN as u64, FFN as u64, 128u64);
    let mut tensors: Vec<(TensorSpec, Vec<u8>)> = Vec::new();
    let embd: Vec<u8> = (0..VOCAB * HIDDEN)
        .flat_map(|i| f16::from_f32(((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.1).to_le_bytes())
        .collect();
    tensors.push((TensorSpec::new("token_embd.weight", TensorType::F16, &[h, VOCAB as u64]), embd));
    let ones = |n: u64| (0..n).flat_map(|_| 1f32.to_le_bytes()).collect::<Vec<u8>>();
    tensors.push((TensorSpec::new("output_norm.weight", TensorType::F32, &[h]), ones(h)));
    tensors.push((TensorSpec::new("blk.0.attn_norm.weight", TensorType::F32, &[h]), ones(h)));
    let matrices = [("attn_q", h, h), ("attn_k", h, kv), ("attn_v", h, kv), ("attn_output", h, h)];
    for (i, (name, cols, rows)) in matrices.into_iter().enumerate() {
        push_matrix(&mut tensors, name, ty, cols, rows, i as u64);
    }
    if let Some(s) = q_scale {
        tensors.push((TensorSpec::new("blk.0.attn_q.scale", TensorType::F32, &[1]), s.to_le_bytes().to_vec()));
    }
    tensors.push((TensorSpec::new("blk.0.attn_sub_norm.weight", TensorType::F32, &[h]), ones(h)));
    tensors.push((TensorSpec::new("blk.0.ffn_norm.weight", TensorType::F32, &[h]), ones(h)));
    for (i, (name, cols, rows)) in [("ffn_gate", h, f), ("ffn_up", h, f), ("ffn_down", f, h)].into_iter().enumerate() {
        push_matrix(&mut tensors, name, ty, cols, rows, 10 + i as u64);
    }
    tensors.push((TensorSpec::new("blk.0.ffn_sub_norm.weight", TensorType::F32, &[f]), ones(f)));
    let mut data = Vec::new();
    for (spec, bytes) in tensors {
        w.add_tensor(spec);
        data.push(bytes);
    }
    w.to_bytes(&data).unwrap()
}

fn push_matrix(tensors: &mut Vec<(TensorSpec, Vec<u8>)>, name: &str, ty: TensorType, cols: u64, rows: u64, seed: u64) {
    let t = ternary((cols * rows) as usize, seed);
    let bytes = match ty {
        TensorType::TQ2_0 => encode_tq2_0(&t),
        TensorType::TQ1_0 => encode_tq1_0(&t),
        TensorType::F32 => as_f32(&t),
        other => panic!("no encoder for {other}"),
    };
    tensors.push((TensorSpec::new(format!("blk.0.{name}.weight"), ty, &[cols, rows]), bytes));
}

fn logits(bytes: Vec<u8>) -> Vec<f32> {
    let file = GgufFile::from_bytes("bitnet-test.gguf", bytes).unwrap();
    let model = Model::from_file(std::sync::Arc::new(file)).unwrap();
    let mut kv = model.new_kv_cache(16);
    let mut st = RunState::default();
    // Five prompt tokens: one four-token pass of the batch kernels and one single token.
    let mut out = model.forward(&mut st, &mut kv, &[1, 17, 42, 99, 3], 0, LogitsWanted::Last).to_vec();
    out.extend_from_slice(model.forward(&mut st, &mut kv, &[7], 5, LogitsWanted::Last));
    out
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, x| m.max(x.abs()))
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).max_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap()
}

/// Ternary logits (int8 activations) against F32 logits (f32 activations) of the same weights.
///
/// Rounding to int8 in blocks moves each activation by up to half a step, uniformly: an RMS error
/// of max/(127·√12) per block, so a projection's output is off by about (max/RMS)·0.23% of its
/// size: 0.7% for Gaussian-like inputs (max ≈ 3·RMS), a few percent for the heavy-tailed
/// act(gate)·up that feeds the down projection. Seven projections in a chain leave the logits
/// here off by 1.8% (relative L2), 0.021 at most against logits up to 1.3. The bounds, 5% of the
/// largest logit and 5% in L2, leave a margin over two, and the top token must agree; a wrong
/// kernel (a lost block, a sign, a shifted code) moves the logits by far more.
fn assert_within_activation_rounding(ternary: &[f32], reference: &[f32], what: &str) {
    let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
    let max_diff = ternary.iter().zip(reference).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let rel_l2 = norm(&mut ternary.iter().zip(reference).map(|(x, y)| x - y)) / norm(&mut reference.iter().copied());
    let scale = max_abs(reference);
    eprintln!("{what}: max |Δ| {max_diff} against max |logit| {scale}, relative L2 {rel_l2}");
    assert!(max_diff <= 0.05 * scale, "{what}: max |Δ| {max_diff} against max |logit| {scale}");
    assert!(rel_l2 <= 0.05, "{what}: relative L2 error {rel_l2}");
    // Two forward passes' logits: the prefill's last token and the decoded one.
    for (t, (a, b)) in ternary.chunks_exact(VOCAB).zip(reference.chunks_exact(VOCAB)).enumerate() {
        assert_eq!(argmax(a), argmax(b), "{what}: top-1 of pass {t}");
    }
}

#[test]
fn ternary_types_match_each_other_exactly_and_f32_within_rounding() {
    let reference = logits(model(TensorType::F32, None));
    assert!(reference.iter().any(|&v| v.abs() > 1e-3), "the test model produces signal");
    let tq2 = logits(model(TensorType::TQ2_0, None));
    let tq1 = logits(model(TensorType::TQ1_0, None));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&tq2), bits(&tq1), "TQ2_0 and TQ1_0 logits");
    assert_within_activation_rounding(&tq2, &reference, "TQ2_0 vs F32");
}

#[test]
fn per_tensor_scales_multiply_the_projection() {
    let plain = logits(model(TensorType::TQ2_0, None));
    let scaled = logits(model(TensorType::TQ2_0, Some(2.0)));
    assert!(plain.iter().zip(&scaled).any(|(a, b)| (a - b).abs() > 1e-3), "the scale changes the output");
    let f32_scaled = logits(model(TensorType::F32, Some(2.0)));
    assert_within_activation_rounding(&scaled, &f32_scaled, "scaled TQ2_0 vs scaled F32");
}
