//! `bitnet-tui gen-model`: write a synthetic BitNet b1.58 GGUF in the real 2B4T layout, or in the
//! layouts bitnet.cpp's converters give Falcon3, Llama3-8B-1.58 and 1bitLLM's models.

use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use crate::engine::synthetic::{write_model, BitnetShape, SyntheticArch};
use crate::engine::vocab::Vocab;

use crate::atomic_file::write_atomically;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Preset {
    /// 2 layers, hidden 256, FFN 768, 2 heads, 1 KV head (the fixture's shape).
    Tiny,
    /// BitNet b1.58 2B4T: 30 layers, hidden 2560, FFN 6912, 20 heads, 5 KV heads (~1.19 GB).
    #[value(name = "2b4t")]
    B2B4T,
    /// Falcon3-1B-Instruct-1.58bit's shape as bitnet.cpp converts it (architecture `llama`): 18
    /// layers, hidden 2048, FFN 8192, 8 heads of 256, 4 KV heads, an F16 head of its own.
    #[value(name = "falcon3-1b")]
    Falcon3_1B,
    /// Falcon3-3B-1.58bit's shape (architecture `llama`): 22 layers, hidden 3072, FFN 9216, 12
    /// heads of 256, 4 KV heads.
    #[value(name = "falcon3-3b")]
    Falcon3_3B,
    /// HF1BitLLM's Llama3-8B-1.58 (architecture `llama`, LLaMA 3's RoPE base and template): 32
    /// layers, hidden 4096, FFN 14336, 32 heads, 8 KV heads.
    #[value(name = "llama3-8b-158")]
    Llama3_8B158,
    /// 1bitLLM's bitnet_b1_58-large (architecture `bitnet`: sub-norms, SiLU, tied head): 24 layers,
    /// hidden 1536, FFN 4096, 16 heads of 96. Its real vocabulary is SentencePiece; this writes the
    /// chosen byte-level one.
    #[value(name = "bitnet-large")]
    BitnetLarge,
}

/// The graph the file is written for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArchArg {
    /// Microsoft's BitNet b1.58 layout (sub-norms, squared ReLU, tied F16 embedding).
    #[value(name = "bitnet-b1.58")]
    BitnetB158,
    /// bitnet.cpp's `llama` conversions of 1.58-bit checkpoints (Falcon3, Falcon-E): no
    /// sub-norms, SiLU, NORM RoPE, an F16 output head of its own.
    Llama,
    /// bitnet.cpp's `bitnet` conversions of 1bitLLM's checkpoints: sub-norms, SiLU, NEOX RoPE,
    /// a tied head.
    Bitnet,
}

#[derive(Debug, Args)]
pub struct GenModelArgs {
    /// The starting shape.
    #[arg(long, value_enum, default_value = "tiny")]
    pub preset: Preset,
    /// Override the preset's architecture.
    #[arg(long, value_enum)]
    pub arch: Option<ArchArg>,
    /// Override the preset's number of transformer blocks.
    #[arg(long)]
    pub layers: Option<usize>,
    /// Override the embedding width (a multiple of 128).
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Override the FFN width (a multiple of 128).
    #[arg(long)]
    pub ffn: Option<usize>,
    /// Override the number of attention heads.
    #[arg(long)]
    pub heads: Option<usize>,
    /// Override the number of key/value heads (a divisor of --heads).
    #[arg(long)]
    pub kv_heads: Option<usize>,
    /// The width of one attention head, when it is not hidden / heads (heads × head-dim must be a
    /// multiple of 128); written as `attention.key_length` and `value_length`.
    #[arg(long)]
    pub head_dim: Option<usize>,
    /// A LLaMA-3 tiktoken `tokenizer.model` (PyPI llama-models, llama_models/llama3/tokenizer.model)
    /// for the real 128256-token vocabulary; without it a small built-in byte-level vocabulary.
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    /// Seed of the random weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the GGUF.
    #[arg(short, long)]
    pub out: PathBuf,
}

pub fn run(args: GenModelArgs) -> anyhow::Result<()> {
    let base = match args.preset {
        Preset::Tiny => BitnetShape::TINY,
        Preset::B2B4T => BitnetShape::B2B4T,
        Preset::Falcon3_1B => BitnetShape::FALCON3_1B,
        Preset::Falcon3_3B => BitnetShape::FALCON3_3B,
        Preset::Llama3_8B158 => BitnetShape::LLAMA3_8B_158,
        Preset::BitnetLarge => BitnetShape::BITNET_LARGE,
    };
    let shape = BitnetShape {
        arch: match args.arch {
            Some(ArchArg::BitnetB158) => SyntheticArch::BitnetB158,
            Some(ArchArg::Llama) => SyntheticArch::Llama,
            Some(ArchArg::Bitnet) => SyntheticArch::Bitnet,
            None => base.arch,
        },
        n_layers: args.layers.unwrap_or(base.n_layers),
        hidden: args.hidden.unwrap_or(base.hidden),
        ffn: args.ffn.unwrap_or(base.ffn),
        heads: args.heads.unwrap_or(base.heads),
        kv_heads: args.kv_heads.unwrap_or(base.kv_heads),
        key_length: args.head_dim.or(base.key_length),
        context: base.context,
    };
    shape.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let vocab = match &args.tokenizer {
        Some(path) => Vocab::llama3_from_tiktoken(path)?,
        None => Vocab::small_byte_level(),
    };
    write_atomically(&args.out, |file| {
        let mut out = BufWriter::with_capacity(8 << 20, file);
        write_model(&mut out, &shape, &vocab, args.seed)?;
        out.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    })?;
    let bytes = std::fs::metadata(&args.out)?.len();
    eprintln!(
        "wrote {} ({:.3} GB, {} tokens) in {:.1} s",
        args.out.display(),
        bytes as f64 / 1e9,
        vocab.tokens.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
