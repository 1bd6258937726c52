//! `bitnet-tui config path|init`.

use std::fs;
use std::io::Write;

use anyhow::Context;
use clap::Subcommand;

use crate::app::config::EXAMPLE_CONFIG;
use crate::cli::chat::config_path;

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the config file's path (BITNET_TUI_CONFIG overrides it).
    Path,
    /// Write a commented config file with every default, unless one exists.
    Init,
}

pub fn run(action: &ConfigAction) -> anyhow::Result<()> {
    let path = config_path()?;
    match action {
        ConfigAction::Path => println!("{}", path.display()),
        ConfigAction::Init => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("{} (an existing file is never overwritten)", path.display()))?;
            file.write_all(EXAMPLE_CONFIG.as_bytes())?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
