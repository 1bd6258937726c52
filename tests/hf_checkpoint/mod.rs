//! A test-only Hugging Face checkpoint writer: a synthetic GGUF (the generator's) written back as
//! `config.json`, `model.safetensors`, `tokenizer.json` and `tokenizer_config.json` in one of the
//! four formats found on the hub (family doc §2.1), by code written from the doc, not from the
//! converter: packed AutoBitLinear (2B4T: W = t · weight_scale), packed BitLinear (Falcon3:
//! W = t / weight_scale, rows un-permuted the way llama's converter permutes them), latent weights
//! (absmean) and dequantised bf16 (Falcon-E's `bfloat16` revision).
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bitnet_tui::engine::model::names;
use bitnet_tui::engine::synthetic::{self, BitnetShape, SyntheticArch};
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, TensorType};
use bitnet_tui::kernels::i2_s;
use half::bf16;
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// uint8 + weight_scale, W = t · ws (Microsoft's 2B4T).
    PackedMultiplies,
    /// uint8 + weight_scale, W = t / ws (Falcon3, HF1BitLLM).
    PackedDivides,
    /// fp32 latent weights, ternarised by absmean.
    Latent,
    /// fp16 latent weights (1bitLLM's): absmean, and the scale rounded to fp16 as bitnet.cpp's
    /// converter leaves it.
    LatentF16,
    /// bf16 values t · scale.
    Dequantised,
}

pub const LLAMA: BitnetShape = BitnetShape { arch: SyntheticArch::Llama, heads: 4, kv_heads: 2, ..BitnetShape::TINY };
pub const B158: BitnetShape = BitnetShape::TINY;
/// 1bitLLM's layout at the tiny widths: `bitnet`, MHA.
pub const BITNET: BitnetShape = BitnetShape { arch: SyntheticArch::Bitnet, heads: 4, kv_heads: 4, ..BitnetShape::TINY };

pub fn generated(dir: &Path, shape: &BitnetShape) -> PathBuf {
    let path = dir.join("generated.gguf");
    let mut bytes = Vec::new();
    synthetic::write_model(&mut bytes, shape, &Vocab::small_byte_level(), 5).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A HF projection name for a GGUF one, and the heads its rows are permuted over (llama Q/K).
fn hf_projection(gguf: &str, shape: &BitnetShape) -> Option<(String, Option<usize>)> {
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, part) = rest.split_once('.')?;
    let llama = matches!(shape.arch, SyntheticArch::Llama | SyntheticArch::Llama3);
    let (hf, heads) = match part.strip_suffix(".weight")? {
        "attn_q" => ("self_attn.q_proj", llama.then_some(shape.heads)),
        "attn_k" => ("self_attn.k_proj", llama.then_some(shape.kv_heads)),
        "attn_v" => ("self_attn.v_proj", None),
        "attn_output" => ("self_attn.o_proj", None),
        "ffn_gate" => ("mlp.gate_proj", None),
        "ffn_up" => ("mlp.up_proj", None),
        "ffn_down" => ("mlp.down_proj", None),
        _ => return None,
    };
    Some((format!("model.layers.{layer}.{hf}.weight"), heads))
}

/// The HF name of a float tensor; 1bitLLM (`bitnet`) names its sub-norms its own way.
fn hf_float(gguf: &str, arch: SyntheticArch) -> String {
    let one_bit_llm = arch == SyntheticArch::Bitnet;
    let layer_part = |part: &str| {
        let rest = gguf.strip_prefix("blk.").unwrap();
        let (layer, name) = rest.split_once('.').unwrap();
        let hf = match name.strip_suffix(".weight").unwrap() {
            "attn_norm" => "input_layernorm",
            "ffn_norm" => "post_attention_layernorm",
            "attn_sub_norm" if one_bit_llm => "self_attn.inner_attn_ln",
            "ffn_sub_norm" if one_bit_llm => "mlp.ffn_layernorm",
            "attn_sub_norm" => "self_attn.attn_sub_norm",
            "ffn_sub_norm" => "mlp.ffn_sub_norm",
            other => panic!("{other} in {part}"),
        };
        format!("model.layers.{layer}.{hf}.weight")
    };
    match gguf {
        names::TOKEN_EMBD => "model.embed_tokens.weight".into(),
        names::OUTPUT_NORM => "model.norm.weight".into(),
        names::OUTPUT => "lm_head.weight".into(),
        other => layer_part(other),
    }
}

/// The GGUF row that HF row `r` of a Q/K projection becomes: llama's converter maps row
/// h·d + j·d/2 + i to h·d + 2i + j.
fn permuted_row(r: usize, rows: usize, heads: usize) -> usize {
    let d = rows / heads;
    let (h, within) = (r / d, r % d);
    let (j, i) = (within / (d / 2), within % (d / 2));
    h * d + 2 * i + j
}

pub struct Written {
    /// The scale each GGUF projection must come back with.
    pub scales: HashMap<String, f32>,
}

/// Writes `gguf`'s model as a HF checkpoint in `format` into `dir`.
pub fn write_checkpoint(gguf: &Path, dir: &Path, shape: &BitnetShape, format: Format, vocab: &Vocab) -> Written {
    std::fs::create_dir_all(dir).unwrap();
    let file = GgufFile::open(gguf).unwrap();
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut scales = HashMap::new();
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        (noise >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    for info in file.tensors() {
        let data = file.tensor_data(info);
        let dims: Vec<usize> = info.dims.iter().rev().map(|&d| d as usize).collect();
        let Some((hf, heads)) = hf_projection(&info.name, shape) else {
            // Floats as F32 (norms) or F16 (embedding, head): both read back exactly.
            let dtype = if info.ty == TensorType::F16 { Dtype::F16 } else { Dtype::F32 };
            tensors.push((hf_float(&info.name, shape.arch), dtype, dims, data.to_vec()));
            continue;
        };
        let (rows, cols) = (dims[0], dims[1]);
        let scale = i2_s::tensor_scale(data, rows * cols);
        // codes[hf_row][c], HF order.
        let mut codes = vec![0i8; rows * cols];
        for r in 0..rows {
            let g = heads.map_or(r, |h| permuted_row(r, rows, h));
            for c in 0..cols {
                codes[r * cols + c] = i2_s::code_at(data, g * cols + c) as i8 - 1;
            }
        }
        let scale_name = format!("{hf}_scale");
        match format {
            Format::PackedMultiplies | Format::PackedDivides => {
                let p = rows / 4;
                let mut packed = vec![0u8; p * cols];
                for (at, byte) in packed.iter_mut().enumerate() {
                    let (row, c) = (at / cols, at % cols);
                    *byte = (0..4).map(|i| ((codes[(i * p + row) * cols + c] + 1) as u8) << (2 * i)).sum();
                }
                tensors.push((hf, Dtype::U8, vec![p, cols], packed));
                let (ws, effective) = if format == Format::PackedMultiplies {
                    let ws = bf16::from_f32(scale);
                    (ws, ws.to_f32())
                } else {
                    let ws = bf16::from_f32(1.0 / scale);
                    (ws, 1.0 / ws.to_f32())
                };
                tensors.push((scale_name, Dtype::BF16, vec![1], ws.to_le_bytes().to_vec()));
                scales.insert(info.name.clone(), effective);
            }
            Format::Dequantised => {
                let s = bf16::from_f32(scale);
                let bytes = codes.iter().flat_map(|&t| bf16::from_f32(t as f32 * s.to_f32()).to_le_bytes()).collect();
                tensors.push((hf, Dtype::BF16, dims, bytes));
                scales.insert(info.name.clone(), s.to_f32());
            }
            Format::Latent | Format::LatentF16 => {
                // Latent weights near t · scale: absmean gives back t, and a scale of its own.
                let half = format == Format::LatentF16;
                let w: Vec<f32> = codes
                    .iter()
                    .map(
                        |&t| if t == 0 { 0.2 * scale * uniform() } else { t as f32 * scale * (1.0 + 0.25 * uniform()) },
                    )
                    .map(|x| if half { half::f16::from_f32(x).to_f32() } else { x })
                    .collect();
                let mean = (w.iter().map(|x| x.abs() as f64).sum::<f64>() / w.len() as f64) as f32;
                let expected = 1.0 / (1.0 / mean);
                if half {
                    scales.insert(info.name.clone(), half::f16::from_f32(expected).to_f32());
                    let bytes = w.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect();
                    tensors.push((hf, Dtype::F16, dims, bytes));
                } else {
                    scales.insert(info.name.clone(), expected);
                    tensors.push((hf, Dtype::F32, dims, w.iter().flat_map(|x| x.to_le_bytes()).collect()));
                }
            }
        }
    }
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, dims, bytes)| (name.clone(), TensorView::new(*dtype, dims.clone(), bytes).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();

    let llama = matches!(shape.arch, SyntheticArch::Llama | SyntheticArch::Llama3);
    // 1bitLLM's class is spelled BitnetForCausalLM, Microsoft's BitNetForCausalLM.
    let (class, act) = match shape.arch {
        SyntheticArch::Llama | SyntheticArch::Llama3 => ("LlamaForCausalLM", "silu"),
        SyntheticArch::Bitnet => ("BitnetForCausalLM", "silu"),
        SyntheticArch::BitnetB158 => ("BitNetForCausalLM", "relu2"),
    };
    let mut config = json!({
        "architectures": [class],
        "hidden_act": act,
        "hidden_size": shape.hidden,
        "intermediate_size": shape.ffn,
        "num_hidden_layers": shape.n_layers,
        "num_attention_heads": shape.heads,
        "num_key_value_heads": shape.kv_heads,
        "head_dim": shape.head_dim(),
        "vocab_size": vocab.tokens.len(),
        "max_position_embeddings": shape.context,
        "rope_theta": file.f32(&format!("{}.rope.freq_base", file.arch().unwrap())).unwrap(),
        "rms_norm_eps": file.f32(&format!("{}.attention.layer_norm_rms_epsilon", file.arch().unwrap())).unwrap(),
        "tie_word_embeddings": !llama,
    });
    match format {
        Format::PackedMultiplies => {
            config["quantization_config"] =
                json!({"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"})
        }
        Format::PackedDivides | Format::Latent | Format::LatentF16 => {
            config["quantization_config"] = json!({"quant_method": "bitnet"})
        }
        Format::Dequantised => {}
    }
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    write_tokenizer(dir, vocab, file.opt_str("tokenizer.chat_template").unwrap());
    Written { scales }
}

/// A byte-level BPE tokenizer.json with `vocab`'s pieces, merges and special tokens.
fn write_tokenizer(dir: &Path, vocab: &Vocab, template: Option<&str>) {
    let mut pieces = serde_json::Map::new();
    let mut added = Vec::new();
    for (id, (text, &ty)) in vocab.tokens.iter().zip(&vocab.token_types).enumerate() {
        if ty == 3 {
            added.push(json!({"id": id, "content": text, "special": true}));
        } else {
            pieces.insert(text.clone(), json!(id));
        }
    }
    let tokenizer = json!({
        "version": "1.0",
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": pieces, "merges": vocab.merges},
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config = json!({
        "bos_token": "<|begin_of_text|>",
        "eos_token": {"content": "<|end_of_text|>", "lstrip": false},
        "add_bos_token": true,
        "chat_template": template,
    });
    std::fs::write(dir.join("tokenizer_config.json"), config.to_string()).unwrap();
}
