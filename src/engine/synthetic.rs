//! Synthetic BitNet b1.58 GGUFs in the real 2B4T layout (spec A.1 and B), for tests and benchmarks,
//! and in the layouts bitnet.cpp's converters give the rest of the family: `llama` (Falcon3,
//! Falcon-E, Llama3-8B-1.58) and `bitnet` (1bitLLM).
//!
//! The 2B4T form has the same 24 metadata keys in the same order, same tensor names, order, shapes
//! and types as Microsoft's `ggml-model-i2_s.gguf`: F16 `token_embd` (tied LM head), F32 norms,
//! I2_S projections with one scale per tensor and ternary values about 1/3 each. The llama form
//! is what bitnet.cpp's converter and `llama-quantize … I2_S` write for Falcon3 (family doc §2.4,
//! §3.4): no sub-norms, an F16 `output` head of its own, the same I2_S projections. Weights are
//! random but deterministic for a seed; the numbers are plausible (embedding std 0.05, norms ≈ 1,
//! weight scale ≈ 1/√fan-in), so activations stay in a realistic range.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::engine::model::{arch, names};
use crate::engine::vocab::Vocab;
use crate::gguf::{GgufWriter, TensorSpec, TensorType, Value};

/// The architecture string Microsoft's file uses (the first name of [`arch::BITNET_B158`]).
pub const ARCH: &str = arch::BITNET_B158.names[0];
/// The template string stored in the 2B4T file (spec A.4 item 1). Nothing runs it: its `BITNET`
/// marker is what tells runtimes to use the BitNet chat format.
pub const BITNET_TEMPLATE: &str = "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

/// Which graph a synthetic model is written for, with its family's constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntheticArch {
    /// `bitnet-b1.58`: Microsoft's 2B4T layout.
    BitnetB158,
    /// `llama` with I2_S projections, as bitnet.cpp converts Falcon3-1.58bit: its RoPE base and
    /// RMS epsilon, an untied F16 head, a Falcon3-style chat template.
    Llama,
    /// `llama` with I2_S projections as bitnet.cpp converts HF1BitLLM's Llama3-8B-1.58: LLaMA 3's
    /// RoPE base (500000) and epsilon (1e-5), an untied F16 head, LLaMA 3's chat template.
    Llama3,
    /// `bitnet`, as bitnet.cpp converts 1bitLLM's bitnet_b1_58 models: sub-norms, SiLU, a tied
    /// head, RoPE base 10000, epsilon 1e-5, no chat template (base models).
    Bitnet,
}

/// What a family's file says besides its shape.
struct FamilyConstants {
    arch: &'static str,
    name: &'static str,
    rope_base: f32,
    rms_eps: f32,
    template: Option<&'static str>,
    sub_norms: bool,
    own_head: bool,
}

impl SyntheticArch {
    fn constants(self) -> FamilyConstants {
        let llama = |name, rope_base, rms_eps, template| FamilyConstants {
            arch: arch::LLAMA.names[0],
            name,
            rope_base,
            rms_eps,
            template: Some(template),
            sub_norms: false,
            own_head: true,
        };
        match self {
            Self::BitnetB158 => FamilyConstants {
                arch: ARCH,
                name: "bitnet2b",
                rope_base: 500000.0,
                rms_eps: 1e-5,
                template: Some(BITNET_TEMPLATE),
                sub_norms: true,
                own_head: false,
            },
            Self::Llama => llama("falcon3-synthetic", 1000042.0, 1e-6, FALCON3_TEMPLATE),
            Self::Llama3 => llama("llama3-158-synthetic", 500000.0, 1e-5, LLAMA3_TEMPLATE),
            Self::Bitnet => FamilyConstants {
                arch: arch::BITNET.names[0],
                name: "bitnet-large-synthetic",
                rope_base: 10000.0,
                rms_eps: 1e-5,
                template: None,
                sub_norms: true,
                own_head: false,
            },
        }
    }
}

/// A Falcon3-Instruct-style chat template (family doc §3.4), rendered with the file's own tokens.
pub const FALCON3_TEMPLATE: &str = "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + eos_token + '\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";

/// LLaMA 3 Instruct's chat template (family doc §3.3).
pub const LLAMA3_TEMPLATE: &str = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/// Model dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitnetShape {
    pub arch: SyntheticArch,
    pub n_layers: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    /// The width of a head when it is not hidden / heads; written as `{arch}.attention.key_length`
    /// and `value_length` as llama.cpp does (Microsoft's file has neither key).
    pub key_length: Option<usize>,
    pub context: usize,
}

impl BitnetShape {
    /// BitNet b1.58 2B4T (spec A.1).
    pub const B2B4T: Self = Self {
        arch: SyntheticArch::BitnetB158,
        n_layers: 30,
        hidden: 2560,
        ffn: 6912,
        heads: 20,
        kv_heads: 5,
        key_length: None,
        context: 4096,
    };
    /// The shape of `../shared/fixtures/bitnet-tiny.gguf`.
    pub const TINY: Self = Self {
        arch: SyntheticArch::BitnetB158,
        n_layers: 2,
        hidden: 256,
        ffn: 768,
        heads: 2,
        kv_heads: 1,
        key_length: None,
        context: 4096,
    };
    /// Falcon3-1B-Instruct-1.58bit (family doc §3.4): 18 layers, hidden 2048, FFN 8192, 8 heads of
    /// 256, 4 KV heads.
    pub const FALCON3_1B: Self = Self {
        arch: SyntheticArch::Llama,
        n_layers: 18,
        hidden: 2048,
        ffn: 8192,
        heads: 8,
        kv_heads: 4,
        key_length: None,
        context: 8192,
    };
    /// Falcon3-3B-1.58bit (family doc §3.4): 22 layers, hidden 3072, FFN 9216, 12 heads of 256, 4
    /// KV heads.
    pub const FALCON3_3B: Self = Self {
        arch: SyntheticArch::Llama,
        n_layers: 22,
        hidden: 3072,
        ffn: 9216,
        heads: 12,
        kv_heads: 4,
        key_length: None,
        context: 8192,
    };
    /// HF1BitLLM's Llama3-8B-1.58 (family doc §3.3): 32 layers, hidden 4096, FFN 14336, 32 heads
    /// of 128, 8 KV heads.
    pub const LLAMA3_8B_158: Self = Self {
        arch: SyntheticArch::Llama3,
        n_layers: 32,
        hidden: 4096,
        ffn: 14336,
        heads: 32,
        kv_heads: 8,
        key_length: None,
        context: 8192,
    };
    /// 1bitLLM's bitnet_b1_58-large (family doc §3.2): 24 layers, hidden 1536, FFN 4096, 16 heads
    /// of 96, no GQA, 2048 positions.
    pub const BITNET_LARGE: Self = Self {
        arch: SyntheticArch::Bitnet,
        n_layers: 24,
        hidden: 1536,
        ffn: 4096,
        heads: 16,
        kv_heads: 16,
        key_length: None,
        context: 2048,
    };

    pub fn head_dim(&self) -> usize {
        self.key_length.unwrap_or(self.hidden.checked_div(self.heads).unwrap_or(0))
    }

    /// The width of Q and of the attention output: heads × head_dim.
    pub fn q_dim(&self) -> usize {
        self.heads * self.head_dim()
    }

    /// Checks what the I2_S layout and attention need; the message names the offending flag.
    pub fn validate(&self) -> Result<(), String> {
        let divides_hidden = self.heads > 0 && self.hidden.is_multiple_of(self.heads);
        let checks = [
            (self.n_layers > 0, "--layers must be at least 1"),
            (self.heads > 0, "--heads must be at least 1"),
            (
                self.key_length.is_some() || divides_hidden,
                "--hidden must be a multiple of --heads (or give --head-dim)",
            ),
            (self.kv_heads > 0 && self.heads.is_multiple_of(self.kv_heads), "--heads must be a multiple of --kv-heads"),
            (self.hidden.is_multiple_of(128), "--hidden must be a multiple of 128 (I2_S blocks)"),
            (self.q_dim().is_multiple_of(128), "--heads × --head-dim must be a multiple of 128 (I2_S blocks)"),
            (self.ffn > 0 && self.ffn.is_multiple_of(128), "--ffn must be a multiple of 128 (I2_S blocks)"),
            (self.head_dim() > 0 && self.head_dim().is_multiple_of(2), "the head dimension must be even (RoPE pairs)"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, msg)) => Err(msg.to_string()),
            None => Ok(()),
        }
    }
}

/// The id of a special token `vocab` must have.
fn special_id(vocab: &Vocab, text: &str) -> io::Result<u32> {
    vocab
        .id_of(text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("the vocabulary has no {text} token")))
}

/// The metadata and tensor list of a synthetic model, in the real file's order.
pub fn writer_for(shape: &BitnetShape, vocab: &Vocab) -> io::Result<GgufWriter> {
    let family = shape.arch.constants();
    let (a, name, rope_base, rms_eps) = (family.arch, family.name, family.rope_base, family.rms_eps);
    let bos = special_id(vocab, "<|begin_of_text|>")?;
    let eos = special_id(vocab, "<|end_of_text|>")?;
    let n_vocab = vocab.tokens.len() as u32;
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String(a.into()))
        .set("general.name", Value::String(name.into()))
        .set(format!("{a}.vocab_size"), Value::U32(n_vocab))
        .set(format!("{a}.context_length"), Value::U32(shape.context as u32))
        .set(format!("{a}.embedding_length"), Value::U32(shape.hidden as u32))
        .set(format!("{a}.block_count"), Value::U32(shape.n_layers as u32))
        .set(format!("{a}.feed_forward_length"), Value::U32(shape.ffn as u32))
        .set(format!("{a}.rope.dimension_count"), Value::U32(shape.head_dim() as u32))
        .set(format!("{a}.attention.head_count"), Value::U32(shape.heads as u32))
        .set(format!("{a}.attention.head_count_kv"), Value::U32(shape.kv_heads as u32));
    if let Some(width) = shape.key_length {
        w.set(format!("{a}.attention.key_length"), Value::U32(width as u32))
            .set(format!("{a}.attention.value_length"), Value::U32(width as u32));
    }
    w.set("tokenizer.ggml.add_bos_token", Value::Bool(true))
        .set(format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(rms_eps))
        .set(format!("{a}.rope.freq_base"), Value::F32(rope_base))
        .set("general.file_type", Value::U32(40));
    vocab.write_gguf_metadata(&mut w);
    w.set("tokenizer.ggml.bos_token_id", Value::U32(bos))
        .set("tokenizer.ggml.eos_token_id", Value::U32(eos))
        .set("tokenizer.ggml.padding_token_id", Value::U32(eos));
    if let Some(template) = family.template {
        w.set("tokenizer.chat_template", Value::String(template.into()));
    }
    w.set("general.quantization_version", Value::U32(2));

    let (h, f, q) = (shape.hidden as u64, shape.ffn as u64, shape.q_dim() as u64);
    let kv = (shape.kv_heads * shape.head_dim()) as u64;
    w.add_tensor(TensorSpec::new(names::TOKEN_EMBD, TensorType::F16, &[h, n_vocab as u64]));
    w.add_tensor(TensorSpec::new(names::OUTPUT_NORM, TensorType::F32, &[h]));
    if family.own_head {
        w.add_tensor(TensorSpec::new(names::OUTPUT, TensorType::F16, &[h, n_vocab as u64]));
    }
    for i in 0..shape.n_layers {
        let t = |part: &str, ty, dims: &[u64]| TensorSpec::new(names::weight(i, part), ty, dims);
        w.add_tensor(t(names::ATTN_NORM, TensorType::F32, &[h]));
        w.add_tensor(t(names::ATTN_Q, TensorType::I2S, &[h, q]));
        w.add_tensor(t(names::ATTN_K, TensorType::I2S, &[h, kv]));
        w.add_tensor(t(names::ATTN_V, TensorType::I2S, &[h, kv]));
        w.add_tensor(t(names::ATTN_OUTPUT, TensorType::I2S, &[q, h]));
        if family.sub_norms {
            w.add_tensor(t(names::ATTN_SUB_NORM, TensorType::F32, &[q]));
        }
        w.add_tensor(t(names::FFN_NORM, TensorType::F32, &[h]));
        w.add_tensor(t(names::FFN_GATE, TensorType::I2S, &[h, f]));
        w.add_tensor(t(names::FFN_UP, TensorType::I2S, &[h, f]));
        w.add_tensor(t(names::FFN_DOWN, TensorType::I2S, &[f, h]));
        if family.sub_norms {
            w.add_tensor(t(names::FFN_SUB_NORM, TensorType::F32, &[f]));
        }
    }
    Ok(w)
}

/// Writes a whole synthetic model. Tensor `i` draws from its own seeded stream, so the output
/// depends only on `seed` and the shape, and large tensors are generated in parallel.
pub fn write_model(out: &mut impl Write, shape: &BitnetShape, vocab: &Vocab, seed: u64) -> io::Result<()> {
    shape.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let writer = writer_for(shape, vocab)?;
    writer.write(out, |i, spec, w| {
        let stream = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(i as u64);
        match spec.ty {
            TensorType::F16 => write_embedding(w, spec, stream),
            TensorType::F32 => write_norm(w, spec, stream),
            TensorType::I2S => write_ternary(w, spec, stream),
            other => unreachable!("synthetic models hold no {other} tensors"),
        }
    })
}

/// Rows are generated in chunks, each from its own stream, so chunks run in parallel.
const CHUNK: usize = 1 << 20;

fn chunk_rng(stream: u64, chunk: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    rng.set_stream(chunk as u64);
    rng
}

/// An approximately normal sample (Irwin–Hall of 4 uniforms): cheap, bounded, std 1.
fn normalish(rng: &mut ChaCha8Rng) -> f32 {
    let s: f32 = (0..4).map(|_| rng.random::<f32>()).sum();
    (s - 2.0) * 3f32.sqrt()
}

fn write_embedding(w: &mut dyn Write, spec: &TensorSpec, stream: u64) -> io::Result<()> {
    let n = spec.dims.iter().product::<u64>() as usize;
    let chunks: Vec<usize> = (0..n.div_ceil(CHUNK)).collect();
    for group in chunks.chunks(16) {
        let bytes: Vec<Vec<u8>> = group
            .par_iter()
            .map(|&c| {
                let mut rng = chunk_rng(stream, c);
                let len = CHUNK.min(n - c * CHUNK);
                (0..len).flat_map(|_| half::f16::from_f32(0.05 * normalish(&mut rng)).to_le_bytes()).collect()
            })
            .collect();
        for b in bytes {
            w.write_all(&b)?;
        }
    }
    Ok(())
}

fn write_norm(w: &mut dyn Write, spec: &TensorSpec, stream: u64) -> io::Result<()> {
    let mut rng = chunk_rng(stream, 0);
    let n = spec.dims[0] as usize;
    let bytes: Vec<u8> = (0..n).flat_map(|_| (1.0 + 0.1 * normalish(&mut rng)).to_le_bytes()).collect();
    w.write_all(&bytes)
}

/// Ternary weights, each of −1, 0, +1 with probability 1/3, packed as I2_S, then the scale.
fn write_ternary(w: &mut dyn Write, spec: &TensorSpec, stream: u64) -> io::Result<()> {
    let (fan_in, n) = (spec.dims[0] as usize, spec.dims.iter().product::<u64>() as usize);
    let packed_len = n / 4;
    let chunks: Vec<usize> = (0..packed_len.div_ceil(CHUNK)).collect();
    let packed: Vec<Vec<u8>> = chunks
        .par_iter()
        .map(|&c| {
            let mut rng = chunk_rng(stream, c);
            let len = CHUNK.min(packed_len - c * CHUNK);
            // Each byte holds 4 independent codes in {0,1,2}: draw a base-3 number below 81.
            (0..len)
                .map(|_| {
                    let mut v = rng.random_range(0..81u8);
                    (0..4).fold(0u8, |byte, _| {
                        let code = v % 3;
                        v /= 3;
                        (byte << 2) | code
                    })
                })
                .collect()
        })
        .collect();
    for p in &packed {
        w.write_all(p)?;
    }
    let mut rng = chunk_rng(stream, usize::MAX);
    let scale = (1.0 / (fan_in as f32).sqrt()) * (0.9 + 0.2 * rng.random::<f32>());
    let mut trailer = [0u8; 32];
    trailer[..4].copy_from_slice(&scale.to_le_bytes());
    w.write_all(&trailer)?;
    Ok(())
}
