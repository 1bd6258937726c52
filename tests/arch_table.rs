//! The architecture table end to end: models whose attention is narrower or wider than their
//! embedding (q_dim = heads × key_length ≠ hidden) load and run, through the library and the
//! binary; a sub-norm of the wrong width is refused naming the tensor; a row asking for QKV bias
//! and QK-norm makes the loader read those tensors.

use std::process::Command;
use std::sync::Arc;

use bitnet_tui::engine::model::arch::{Architecture, BITNET_B158};
use bitnet_tui::engine::model::{names, LogitsWanted, Model, ModelConfig, RunState, Weights};
use bitnet_tui::engine::synthetic::{self, BitnetShape};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, GgufWriter, TensorSpec, Value};

const HIDDEN: usize = 256;

/// A synthetic BitNet b1.58 model with 4 heads of `key_length` (hidden 256, 1 KV head).
fn narrow_or_wide(key_length: usize) -> GgufFile {
    let shape = BitnetShape { hidden: HIDDEN, heads: 4, key_length: Some(key_length), ..BitnetShape::TINY };
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, &shape, &Vocab::small_byte_level(), 3).unwrap();
    GgufFile::from_bytes(format!("heads-of-{key_length}.gguf"), bytes).unwrap()
}

/// `file` written again, with `edit` free to change each tensor's spec and data, and `extra`
/// tensors appended.
fn rebuilt(
    file: &GgufFile,
    meta: impl Fn(&str, &Value) -> Value,
    edit: impl Fn(&mut TensorSpec, &mut Vec<u8>),
    extra: Vec<(TensorSpec, Vec<u8>)>,
) -> GgufFile {
    let mut w = GgufWriter::new();
    for (k, v) in file.metadata() {
        w.set(k.clone(), meta(k, v));
    }
    let mut data = Vec::new();
    for t in file.tensors() {
        let mut spec = TensorSpec::new(t.name.clone(), t.ty, &t.dims);
        let mut bytes = file.tensor_data(t).to_vec();
        edit(&mut spec, &mut bytes);
        w.add_tensor(spec);
        data.push(bytes);
    }
    for (spec, bytes) in extra {
        w.add_tensor(spec);
        data.push(bytes);
    }
    GgufFile::from_bytes(file.name(), w.to_bytes(&data).unwrap()).unwrap()
}

fn f32_bytes(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// Logits after a 5-token prefill (the batch kernels) and one decode step (the single-row path).
fn logits(file: GgufFile) -> Vec<f32> {
    let model = Model::from_file(Arc::new(file)).unwrap();
    let mut kv = model.new_kv_cache(16);
    let mut st = RunState::default();
    let mut out = model.forward(&mut st, &mut kv, &[1, 17, 42, 99, 3], 0, LogitsWanted::Last).to_vec();
    out.extend_from_slice(model.forward(&mut st, &mut kv, &[7], 5, LogitsWanted::Last));
    out
}

#[test]
fn models_whose_q_dim_is_not_hidden_load_with_q_dim_wide_sub_norms_and_give_finite_logits() {
    // q_dim 128 < hidden and 384 > hidden.
    for key_length in [32, 96] {
        let file = narrow_or_wide(key_length);
        let model = Model::from_file(Arc::new(file)).unwrap();
        let c = &model.config;
        assert_eq!((c.head_dim, c.q_dim(), c.kv_dim()), (key_length, 4 * key_length, key_length));
        assert_ne!(c.q_dim(), c.hidden);
        for layer in &model.weights.layers {
            assert_eq!(layer.attn_sub_norm.as_ref().unwrap().len(), c.q_dim());
            assert_eq!((layer.wq.rows, layer.wo.cols), (c.q_dim(), c.q_dim()));
        }
        let logits = logits(narrow_or_wide(key_length));
        assert!(logits.iter().all(|v| v.is_finite()), "heads of {key_length}");
        let spread = logits.iter().fold(f32::MIN, |a, &b| a.max(b)) - logits.iter().fold(f32::MAX, |a, &b| a.min(b));
        assert!(spread > 0.1, "heads of {key_length}: logits spread only {spread}");
    }
}

#[test]
fn the_attention_sub_norm_spans_the_whole_attention_output() {
    // Zeroing the sub-norm's last weight (the last dimension of the last head) must change the
    // logits: the norm covers all q_dim values, not the first `hidden`, nor chunks of them.
    let file = narrow_or_wide(96);
    let base = logits(narrow_or_wide(96));
    let q_dim = 4 * 96;
    let edited = rebuilt(
        &file,
        |_, v| v.clone(),
        |spec, bytes| {
            if spec.name == names::weight(0, names::ATTN_SUB_NORM) {
                bytes[(q_dim - 1) * 4..].copy_from_slice(&0f32.to_le_bytes());
            }
        },
        vec![],
    );
    let changed = logits(edited);
    let max_diff = base.iter().zip(&changed).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(max_diff > 1e-4, "max |Δlogit| {max_diff}");
}

#[test]
fn a_sub_norm_of_the_embedding_width_is_refused_naming_the_tensor() {
    let file = narrow_or_wide(32);
    let sub_norm = names::weight(1, names::ATTN_SUB_NORM);
    let wrong = rebuilt(
        &file,
        |_, v| v.clone(),
        |spec, bytes| {
            if spec.name == sub_norm {
                *spec = TensorSpec::new(sub_norm.clone(), spec.ty, &[HIDDEN as u64]);
                *bytes = f32_bytes(vec![1.0; HIDDEN]);
            }
        },
        vec![],
    );
    let err = Model::from_file(Arc::new(wrong)).err().unwrap().to_string();
    assert!(err.contains("heads-of-32.gguf") && err.contains(&sub_norm) && err.contains("[128]"), "{err}");
}

#[test]
fn a_value_length_other_than_the_key_length_is_refused_naming_the_key() {
    let file = narrow_or_wide(32);
    let bad = rebuilt(
        &file,
        |k, v| if k.ends_with(".attention.value_length") { Value::U32(64) } else { v.clone() },
        |_, _| {},
        vec![],
    );
    let err = Model::from_file(Arc::new(bad)).err().unwrap().to_string();
    assert!(err.contains("bitnet-b1.58.attention.value_length"), "{err}");
}

/// BitNet b1.58 with QKV bias and QK-norm: no file has this, it exercises the loader's support.
static B158_WITH_BIAS_AND_QK_NORM: Architecture = Architecture { qkv_bias: true, qk_norm: true, ..BITNET_B158 };

#[test]
fn a_row_with_qkv_bias_and_qk_norm_loads_those_tensors_at_their_widths() {
    let file = narrow_or_wide(32);
    let mut config = ModelConfig::from_gguf(&file).unwrap();
    config.arch = &B158_WITH_BIAS_AND_QK_NORM;
    let err = Weights::load(&file, &config).err().unwrap().to_string();
    assert!(err.contains("blk.0.attn_q.bias"), "{err}");

    let mut extra = Vec::new();
    for layer in 0..config.n_layers {
        let (q, kv, hd) = (config.q_dim(), config.kv_dim(), config.head_dim);
        for (name, len) in [
            (names::bias(layer, names::ATTN_Q), q),
            (names::bias(layer, names::ATTN_K), kv),
            (names::bias(layer, names::ATTN_V), kv),
            (names::weight(layer, names::ATTN_Q_NORM), hd),
            (names::weight(layer, names::ATTN_K_NORM), hd),
        ] {
            let spec = TensorSpec::new(name, bitnet_tui::gguf::TensorType::F32, &[len as u64]);
            extra.push((spec, f32_bytes((0..len).map(|i| i as f32))));
        }
    }
    let with_extras = rebuilt(&file, |_, v| v.clone(), |_, _| {}, extra);
    let weights = Weights::load(&with_extras, &config).unwrap();
    for layer in &weights.layers {
        let bias = layer.qkv_bias.as_ref().unwrap();
        assert_eq!((bias.q.len(), bias.k.len(), bias.v.len()), (128, 32, 32));
        assert_eq!(bias.q[127], 127.0);
        let norm = layer.qk_norm.as_ref().unwrap();
        assert_eq!((norm.q.len(), norm.k.len()), (32, 32));
    }
    // The real row reads none of them.
    let plain = Weights::load(&with_extras, &ModelConfig::from_gguf(&with_extras).unwrap()).unwrap();
    assert!(plain.layers.iter().all(|l| l.qkv_bias.is_none() && l.qk_norm.is_none()));
}

#[test]
fn gen_model_head_dim_then_logits_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("narrow-heads.gguf");
    let bin = env!("CARGO_BIN_EXE_bitnet-tui");
    let path_arg = path.to_str().unwrap();
    let gen = Command::new(bin)
        .args(["gen-model", "--hidden", "256", "--heads", "4", "--head-dim", "32", "-o", path_arg])
        .output()
        .unwrap();
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));
    let file = GgufFile::open(&path).unwrap();
    assert_eq!(file.hparams().unwrap().u32("attention.key_length").unwrap(), 32);

    let out = Command::new(bin)
        .args(["logits", "-m", path_arg, "--tokens", "1,17,42,99,3", "--top", "5", "--steps", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = j["top"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    assert!(top.iter().all(|t| t[1].as_f64().is_some_and(f64::is_finite)), "{top:?}");
    assert_eq!(j["steps"].as_array().unwrap().len(), 3);

    // A width that breaks I2_S blocks is a usage error naming the flags.
    let bad = Command::new(bin)
        .args(["gen-model", "--hidden", "256", "--heads", "4", "--head-dim", "48", "-o", path_arg])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--head-dim"));
}
