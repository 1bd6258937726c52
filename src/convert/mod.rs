//! `convert`: a Hugging Face BitNet checkpoint (config.json, safetensors, tokenizer.json) to a
//! GGUF that this engine and bitnet.cpp run, in pure Rust. What each checkpoint format means and
//! which graph each family gets is `../shared/docs/bitnet-family.md` §2, §3 and §6.
//!
//! The plan (every tensor's name, type and shape, and where its data come from) is made and
//! checked before a byte is written; then tensors are converted one at a time, each read from its
//! mapped shard and released after, so memory stays near the largest tensor, not the model. The
//! file appears atomically.

mod checkpoint;
mod config;
mod encode;
mod fetch;
mod sentencepiece;
mod ternary;
mod tokenizer;

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use safetensors::Dtype;

pub use checkpoint::{Checkpoint, INDEX_FILE, SINGLE_FILE};
pub use config::{HfConfig, ModelPlan, PackedScale, Target};
pub use encode::ProjectionType;
pub use fetch::{fetch_and_convert, fetch_checkpoint, CheckpointModel};
pub use sentencepiece::SentencePieceModel;
use ternary::{absmean, permute_qk, unpack, Ternary};
pub use tokenizer::{
    ConvertedTokenizer, ADDED_TOKENS_FILE, SENTENCEPIECE_FILE, TEMPLATE_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE,
};

use crate::atomic_file::write_atomically;
use crate::engine::model::names;
use crate::gguf::{GgufWriter, TensorSpec, TensorType, Value};

pub const CONFIG_FILE: &str = "config.json";

#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub projection_type: ProjectionType,
    /// `general.name`; the folder's name when None.
    pub name: Option<String>,
    /// Set to stop between tensors; the partial output is removed.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// How a checkpoint stored its ternary projections (family doc §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WeightFormat {
    /// uint8, four weights a byte, with a `weight_scale` (BitLinear or AutoBitLinear).
    Packed,
    /// Full-precision latent weights, ternarised here with absmean.
    Latent,
    /// Floats that already are code × scale.
    Dequantised,
}

impl fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Packed => "packed ternary + weight_scale",
            Self::Latent => "latent weights (absmean)",
            Self::Dequantised => "dequantised ternary",
        })
    }
}

/// What a conversion did.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    pub arch: &'static str,
    pub formats: Vec<WeightFormat>,
    pub tensors: usize,
    pub bytes: u64,
    /// Checkpoint tensors nothing reads (beside weight scales and rotary tables).
    pub ignored: Vec<String>,
}

/// Where a GGUF tensor's data come from.
#[derive(Debug, Clone)]
enum Source {
    /// A float tensor, written as the spec's F16 or F32.
    Float(String),
    /// A ternary projection; the Q/K permutation over this many heads, if any.
    Projection { hf: String, permute_heads: Option<usize> },
}

/// Converts the checkpoint folder `dir` into `out`. `progress(done, total, tensor)` is called
/// before each tensor.
pub fn convert(
    dir: &Path,
    out: &Path,
    options: &ConvertOptions,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<ConvertReport> {
    let config_path = dir.join(CONFIG_FILE);
    let config = HfConfig::read(&config_path)?;
    let plan = config.plan(&config_path.display().to_string())?;
    let checkpoint = Checkpoint::open(dir)?;
    let embed = checkpoint.tensor(HF_EMBED)?;
    let n_vocab = match embed.shape {
        [rows, width] if *width == plan.hidden => *rows,
        shape => bail!("{}: shape {shape:?}; expected (vocab, hidden_size = {})", embed.label(), plan.hidden),
    };
    if u32::try_from(n_vocab).is_err() {
        bail!("{}: {n_vocab} rows is more tokens than a GGUF vocabulary holds", embed.label());
    }
    let tokenizer = ConvertedTokenizer::read(dir, &config, n_vocab)?;
    let tensors = tensor_plan(&plan, &checkpoint, n_vocab, options.projection_type)?;
    let formats = check_projections(&plan, &config, &checkpoint, &tensors, options.projection_type)?;

    let name = options.name.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default()
    });
    let mut writer = metadata(&plan, &name, n_vocab, options.projection_type);
    tokenizer.write_gguf_metadata(&mut writer);
    writer.set("general.quantization_version", Value::U32(2));
    for (spec, _) in &tensors {
        writer.add_tensor(spec.clone());
    }
    let total = tensors.len();
    write_atomically(out, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        writer.write(&mut w, |i, spec, w| {
            if options.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "the conversion was cancelled"));
            }
            progress(i, total, &spec.name);
            write_tensor(&checkpoint, &plan, options.projection_type, spec, &tensors[i].1, w)
                .map_err(|e| io::Error::other(format!("{e:#}")))
        })?;
        progress(total, total, "");
        w.flush()
    })
    .with_context(|| format!("writing {}", out.display()))?;

    let used: Vec<&str> = tensors
        .iter()
        .map(|(_, s)| match s {
            Source::Float(hf) | Source::Projection { hf, .. } => hf.as_str(),
        })
        .collect();
    let ignored = checkpoint
        .names()
        .into_iter()
        .filter(|n| !used.contains(n) && !n.ends_with(".weight_scale") && !n.ends_with("rotary_emb.inv_freq"))
        .map(str::to_owned)
        .collect();
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(ConvertReport { arch: plan.target.arch_name(), formats, tensors: total, bytes, ignored })
}

const HF_EMBED: &str = "model.embed_tokens.weight";
const HF_NORM: &str = "model.norm.weight";
const HF_HEAD: &str = "lm_head.weight";

/// `model.layers.{layer}.{part}.weight`.
fn hf_layer(layer: usize, part: &str) -> String {
    format!("model.layers.{layer}.{part}.weight")
}

/// The first of `candidates` the checkpoint has (sub-norm names differ between 2B4T and 1bitLLM).
fn first_present(checkpoint: &Checkpoint, candidates: &[String]) -> Result<String> {
    match candidates.iter().find(|c| checkpoint.contains(c)) {
        Some(found) => Ok(found.clone()),
        // The error names the folder and the first name.
        None => checkpoint.tensor(&candidates[0]).map(|t| t.name.to_owned()),
    }
}

/// Every GGUF tensor, in the order bitnet.cpp's files have them, with its source. Float tensors'
/// shapes are checked here; projections are checked by [`check_projections`].
fn tensor_plan(
    plan: &ModelPlan,
    checkpoint: &Checkpoint,
    n_vocab: usize,
    projection: ProjectionType,
) -> Result<Vec<(TensorSpec, Source)>> {
    let (h, f) = (plan.hidden as u64, plan.ffn as u64);
    let q = (plan.heads * plan.head_dim) as u64;
    let kv = (plan.kv_heads * plan.head_dim) as u64;
    let sub_norms = plan.target != Target::Llama;
    let pty = projection.tensor_type();
    let permute = |heads| (plan.target == Target::Llama).then_some(heads);

    let mut out = vec![(
        TensorSpec::new(names::TOKEN_EMBD, TensorType::F16, &[h, n_vocab as u64]),
        Source::Float(HF_EMBED.into()),
    )];
    out.push((TensorSpec::new(names::OUTPUT_NORM, TensorType::F32, &[h]), Source::Float(HF_NORM.into())));
    if plan.own_head {
        out.push((
            TensorSpec::new(names::OUTPUT, TensorType::F16, &[h, n_vocab as u64]),
            Source::Float(HF_HEAD.into()),
        ));
    }
    for i in 0..plan.layers {
        let float = |part: &str, dims: &[u64], hf: String| {
            (TensorSpec::new(names::weight(i, part), TensorType::F32, dims), Source::Float(hf))
        };
        let proj = |part: &str, dims: &[u64], hf: &str, permute_heads| {
            (
                TensorSpec::new(names::weight(i, part), pty, dims),
                Source::Projection { hf: hf_layer(i, hf), permute_heads },
            )
        };
        out.push(float(names::ATTN_NORM, &[h], hf_layer(i, "input_layernorm")));
        out.push(proj(names::ATTN_Q, &[h, q], "self_attn.q_proj", permute(plan.heads)));
        out.push(proj(names::ATTN_K, &[h, kv], "self_attn.k_proj", permute(plan.kv_heads)));
        out.push(proj(names::ATTN_V, &[h, kv], "self_attn.v_proj", None));
        out.push(proj(names::ATTN_OUTPUT, &[q, h], "self_attn.o_proj", None));
        if sub_norms {
            let hf = first_present(
                checkpoint,
                &[hf_layer(i, "self_attn.attn_sub_norm"), hf_layer(i, "self_attn.inner_attn_ln")],
            )?;
            out.push(float(names::ATTN_SUB_NORM, &[q], hf));
        }
        out.push(float(names::FFN_NORM, &[h], hf_layer(i, "post_attention_layernorm")));
        out.push(proj(names::FFN_GATE, &[h, f], "mlp.gate_proj", None));
        out.push(proj(names::FFN_UP, &[h, f], "mlp.up_proj", None));
        out.push(proj(names::FFN_DOWN, &[f, h], "mlp.down_proj", None));
        if sub_norms {
            let hf = first_present(checkpoint, &[hf_layer(i, "mlp.ffn_sub_norm"), hf_layer(i, "mlp.ffn_layernorm")])?;
            out.push(float(names::FFN_SUB_NORM, &[f], hf));
        }
    }
    for (spec, source) in &out {
        if let Source::Float(hf) = source {
            let t = checkpoint.tensor(hf)?;
            let want: Vec<usize> = spec.dims.iter().rev().map(|&d| d as usize).collect();
            if t.shape != want.as_slice() || !t.is_float() {
                bail!("{}: {:?} of shape {:?}; expected a float tensor of shape {want:?}", t.label(), t.dtype, t.shape);
            }
        }
    }
    Ok(out)
}

/// Checks every projection's dtype, shape and width for the output type, and returns the
/// formats found.
fn check_projections(
    plan: &ModelPlan,
    config: &HfConfig,
    checkpoint: &Checkpoint,
    tensors: &[(TensorSpec, Source)],
    projection: ProjectionType,
) -> Result<Vec<WeightFormat>> {
    let mut formats = Vec::new();
    let declared_bitnet = config.quantization_config.is_some() || plan.target != Target::Llama;
    for (spec, source) in tensors {
        let Source::Projection { hf, .. } = source else { continue };
        let (cols, rows) = (spec.dims[0] as usize, spec.dims[1] as usize);
        let t = checkpoint.tensor(hf)?;
        let format = match t.dtype {
            Dtype::U8 => {
                if t.shape != [rows / 4, cols] || !rows.is_multiple_of(4) {
                    bail!(
                        "{}: packed shape {:?}; expected ({}, {cols}) for {rows} rows, as config.json's sizes say",
                        t.label(),
                        t.shape,
                        rows / 4
                    );
                }
                packed_scale(&checkpoint.tensor(&scale_name(hf))?, plan.packed_scale)?;
                WeightFormat::Packed
            }
            _ if t.is_float() => {
                if t.shape != [rows, cols] {
                    bail!("{}: shape {:?}; expected ({rows}, {cols}), as config.json's sizes say", t.label(), t.shape);
                }
                let weights = t.floats()?;
                checkpoint.release(hf);
                if let Some(at) = weights.iter().position(|w| !w.is_finite()) {
                    bail!("{}: weight {at} is {}; weights must be finite", t.label(), weights[at]);
                }
                if ternary::dequantised(&weights).is_some() {
                    WeightFormat::Dequantised
                } else if declared_bitnet {
                    WeightFormat::Latent
                } else {
                    bail!(
                        "{}: full-precision weights, and config.json has no quantization_config: this is \
                         not a BitNet checkpoint (ternarising an ordinary model would ruin it)",
                        t.label()
                    );
                }
            }
            other => bail!("{}: dtype {other:?}; expected uint8 (packed) or a float type", t.label()),
        };
        projection.check_width(cols, &spec.name)?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    formats.sort();
    Ok(formats)
}

/// `…q_proj.weight` → `…q_proj.weight_scale`.
fn scale_name(hf: &str) -> String {
    format!("{hf}_scale")
}

/// The scale of a packed projection from its one-element `weight_scale` tensor.
fn packed_scale(t: &checkpoint::TensorRef, how: PackedScale) -> Result<f32> {
    if !t.is_float() || t.len() != 1 {
        bail!("{}: {:?} of shape {:?}; a weight scale is one float", t.label(), t.dtype, t.shape);
    }
    let ws = t.floats()?[0];
    let scale = match how {
        PackedScale::Multiplies => ws,
        PackedScale::Divides => 1.0 / ws,
    };
    if !(ws > 0.0 && ws.is_finite() && scale.is_finite()) {
        bail!("{}: {ws} is not a usable weight scale (positive, finite, with a finite inverse)", t.label());
    }
    Ok(scale)
}

/// A projection as ternary codes in GGUF row order, with its scale.
fn read_projection(
    checkpoint: &Checkpoint,
    plan: &ModelPlan,
    spec: &TensorSpec,
    hf: &str,
    permute_heads: Option<usize>,
) -> Result<Ternary> {
    let (cols, rows) = (spec.dims[0] as usize, spec.dims[1] as usize);
    let t = checkpoint.tensor(hf)?;
    let (codes, scale) = if t.dtype == Dtype::U8 {
        let scale = packed_scale(&checkpoint.tensor(&scale_name(hf))?, plan.packed_scale)?;
        (unpack(t.bytes, rows / 4, cols, &t.label())?, scale)
    } else {
        let weights = t.floats()?;
        ternary::dequantised(&weights).unwrap_or_else(|| absmean(&weights, t.dtype == Dtype::F16))
    };
    let codes = match permute_heads {
        Some(heads) => permute_qk(&codes, rows, cols, heads),
        None => codes,
    };
    Ok(Ternary { codes, scale })
}

fn write_tensor(
    checkpoint: &Checkpoint,
    plan: &ModelPlan,
    projection: ProjectionType,
    spec: &TensorSpec,
    source: &Source,
    w: &mut dyn Write,
) -> Result<()> {
    match source {
        Source::Float(hf) => {
            let t = checkpoint.tensor(hf)?;
            let n = t.len();
            let mut buf = vec![0f32; n.min(1 << 20)];
            let mut start = 0;
            while start < n {
                let chunk = &mut buf[..(n - start).min(1 << 20)];
                t.floats_at(start, chunk)?;
                let bytes: Vec<u8> = match spec.ty {
                    TensorType::F16 => chunk.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect(),
                    _ => chunk.iter().flat_map(|&x| x.to_le_bytes()).collect(),
                };
                w.write_all(&bytes)?;
                start += chunk.len();
            }
            checkpoint.release(hf);
        }
        Source::Projection { hf, permute_heads } => {
            let ternary = read_projection(checkpoint, plan, spec, hf, *permute_heads)?;
            w.write_all(&projection.encode(&ternary))?;
            checkpoint.release(hf);
        }
    }
    Ok(())
}

/// The hyperparameter keys, as bitnet.cpp's converters write them for the target.
fn metadata(plan: &ModelPlan, name: &str, n_vocab: usize, projection: ProjectionType) -> GgufWriter {
    let a = plan.target.arch_name();
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String(a.into()))
        .set("general.name", Value::String(name.into()))
        .set(format!("{a}.vocab_size"), Value::U32(n_vocab as u32))
        .set(format!("{a}.context_length"), Value::U32(plan.context as u32))
        .set(format!("{a}.embedding_length"), Value::U32(plan.hidden as u32))
        .set(format!("{a}.block_count"), Value::U32(plan.layers as u32))
        .set(format!("{a}.feed_forward_length"), Value::U32(plan.ffn as u32))
        .set(format!("{a}.rope.dimension_count"), Value::U32(plan.head_dim as u32))
        .set(format!("{a}.attention.head_count"), Value::U32(plan.heads as u32))
        .set(format!("{a}.attention.head_count_kv"), Value::U32(plan.kv_heads as u32));
    if plan.heads * plan.head_dim != plan.hidden {
        w.set(format!("{a}.attention.key_length"), Value::U32(plan.head_dim as u32))
            .set(format!("{a}.attention.value_length"), Value::U32(plan.head_dim as u32));
    }
    w.set(format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(plan.rms_eps))
        .set(format!("{a}.rope.freq_base"), Value::F32(plan.rope_base))
        .set("general.file_type", Value::U32(projection.file_type()));
    match plan.target {
        Target::BitnetB158 => w.set(format!("{a}.hidden_activation"), Value::String("relu2".into())),
        Target::Bitnet => w.set(format!("{a}.hidden_activation"), Value::String("silu".into())),
        Target::Llama => &mut w,
    };
    w
}
