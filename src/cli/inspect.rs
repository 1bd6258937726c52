//! `bitnet-tui inspect FILE [--tensors] [--json]`: what a GGUF file holds, without reading weights.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::gguf::{GgufFile, ModelSummary, TensorInfo};
use crate::hub::format::human_bytes;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The GGUF file.
    pub file: PathBuf,
    /// Also list every tensor (name, type, shape, offset, bytes).
    #[arg(long)]
    pub tensors: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct TensorRow<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: String,
    dims: &'a [u64],
    offset: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct InspectJson<'a> {
    #[serde(flatten)]
    summary: &'a ModelSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    tensors: Option<Vec<TensorRow<'a>>>,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let file = GgufFile::open(&args.file)?;
    let summary = ModelSummary::of(&file)?;
    let rows = args.tensors.then(|| file.tensors().iter().map(tensor_row).collect::<Vec<_>>());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&InspectJson { summary: &summary, tensors: rows })?);
    } else {
        print!("{}", render_text(&summary));
        if let Some(rows) = rows {
            print!("{}", render_tensors(&rows));
        }
    }
    Ok(())
}

fn tensor_row(t: &TensorInfo) -> TensorRow<'_> {
    TensorRow { name: &t.name, ty: t.ty.to_string(), dims: &t.dims, offset: t.offset, bytes: t.n_bytes }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

fn render_text(s: &ModelSummary) -> String {
    let hp = &s.hparams;
    let tk = &s.tokenizer;
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<14}{value}\n"));
    line(
        "file",
        format!("{} ({}, GGUF v{}, alignment {})", s.file, human_bytes(s.file_bytes), s.gguf_version, s.alignment),
    );
    line("architecture", format!("{} (name: {})", s.architecture, opt(&s.name)));
    line(
        "hparams",
        format!(
            "layers {} · hidden {} · ffn {} · heads {} · kv heads {} · context {} · rope base {} · rms eps {}",
            opt(&hp.n_layers),
            opt(&hp.hidden),
            opt(&hp.ffn),
            opt(&hp.heads),
            opt(&hp.kv_heads),
            opt(&hp.context_length),
            opt(&hp.rope_base),
            opt(&hp.rms_eps),
        ),
    );
    line("vocab", s.vocab_size.to_string());
    line(
        "tokenizer",
        format!(
            "model {} · pre {} · {} tokens · {} merges · bos {} · eos {} · eot {} · add_bos {}",
            opt(&tk.model),
            opt(&tk.pre),
            tk.vocab_size,
            tk.merges,
            opt(&tk.bos),
            opt(&tk.eos),
            opt(&tk.eot),
            opt(&tk.add_bos),
        ),
    );
    line(
        "chat template",
        match &tk.chat_template {
            Some(t) => format!("yes ({} characters)", t.chars().count()),
            None => "no".into(),
        },
    );
    line("weights", format!("{} · {:.3} B parameters", s.quant, s.n_params as f64 / 1e9));
    line("tensors", s.n_tensors.to_string());
    for (ty, st) in &s.by_type {
        out.push_str(&format!("  {ty:<8}{:>6} tensors {:>12}\n", st.count, human_bytes(st.bytes)));
    }
    out.push_str(&format!("metadata      {} keys\n", s.metadata.len()));
    for (k, v) in &s.metadata {
        out.push_str(&format!("  {k} = {v}\n"));
    }
    if let Some(t) = &tk.chat_template {
        out.push_str("chat template text:\n");
        out.push_str(t);
        out.push('\n');
    }
    out
}

fn render_tensors(rows: &[TensorRow]) -> String {
    let mut out = format!("{:<40} {:<6} {:<24} {:>14} {:>14}\n", "tensor", "type", "shape", "offset", "bytes");
    for r in rows {
        let dims = r.dims.iter().map(u64::to_string).collect::<Vec<_>>().join(" × ");
        out.push_str(&format!("{:<40} {:<6} {:<24} {:>14} {:>14}\n", r.name, r.ty, dims, r.offset, r.bytes));
    }
    out
}
