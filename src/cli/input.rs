//! Where a command's text and model come from when the flags leave it open.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::app::config::Paths;
use crate::app::store::Store;

/// `text` if given, else the file (`-` is standard input), else standard input. Reading a
/// terminal says so first, since the command would otherwise seem to hang.
pub fn read_text(text: Option<String>, file: Option<&Path>, what: &str) -> anyhow::Result<String> {
    match (text, file) {
        (Some(text), _) => Ok(text),
        (None, Some(path)) if path.as_os_str() != "-" => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("reading {what} from standard input; end it with Ctrl+D");
            }
            std::io::read_to_string(stdin).context("reading standard input")
        }
    }
}

/// `model` if given, else the model the chat loaded most recently.
pub fn model_or_recent(model: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(model) = model {
        return Ok(model);
    }
    let paths = Paths::resolve(&|name| std::env::var(name).ok())?;
    let recent = Store::new(&paths.data_dir).recent_models();
    let model = recent.into_iter().find(|p| p.is_file()).with_context(|| {
        format!(
            "no --model given and no recent model in {} (pass -m PATH, or load one in the chat first)",
            paths.data_dir.display()
        )
    })?;
    eprintln!("model: {} (the most recent one)", model.display());
    Ok(model)
}
