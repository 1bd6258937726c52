//! `bitnet-tui tokenize -m FILE [--no-bos] [--special] [TEXT | -f FILE]`: the model's token ids
//! for a text (an argument, a file, or standard input), from the file's metadata alone (no
//! weights are read).

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::input::read_text;
use crate::engine::tokenizer::Tokenizer;
use crate::gguf::GgufFile;

#[derive(Debug, Args)]
#[command(after_help = "Output: one line of JSON, {\"ids\":[...],\"tokens\":[...]}; \"tokens\" are the \
                  vocabulary entries as the file stores them (\"Ġ\" is a space).")]
pub struct TokenizeArgs {
    /// The GGUF model file (only its metadata is read).
    #[arg(short, long)]
    pub model: PathBuf,
    /// Do not prepend BOS (by default BOS is added when the model's add_bos_token says so).
    #[arg(long)]
    pub no_bos: bool,
    /// Turn special tokens written in TEXT (e.g. <|eot_id|>) into their ids.
    #[arg(long)]
    pub special: bool,
    /// The text to tokenize (without it and without --file, standard input is read).
    #[arg(conflicts_with = "file")]
    pub text: Option<String>,
    /// Read the text from this file (`-` for standard input).
    #[arg(short, long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Serialize)]
struct TokenizeJson {
    ids: Vec<u32>,
    tokens: Vec<String>,
}

pub fn run(args: TokenizeArgs) -> anyhow::Result<()> {
    let file = GgufFile::open(&args.model)?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let add_bos = tokenizer.add_bos_default() && !args.no_bos;
    let text = read_text(args.text, args.file.as_deref(), "the text")?;
    let ids = tokenizer.encode(&text, add_bos, args.special)?;
    let tokens = ids.iter().map(|&id| tokenizer.token_text(id).unwrap_or_default()).collect();
    println!("{}", serde_json::to_string(&TokenizeJson { ids, tokens })?);
    Ok(())
}
