//! Logs go to a file in the state folder, never to the screen. `BITNET_TUI_LOG` (or `RUST_LOG`)
//! sets the filter; the default is `info`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "bitnet-tui.log";
pub const LOG_ENV: &str = "BITNET_TUI_LOG";

/// Starts logging to `dir/bitnet-tui.log`; keep the guard alive until exit so lines are flushed.
pub fn init(dir: &Path) -> anyhow::Result<(WorkerGuard, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let appender = tracing_appender::rolling::never(dir, LOG_FILE);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| anyhow::anyhow!("starting the log: {e}"))?;
    Ok((guard, dir.join(LOG_FILE)))
}
