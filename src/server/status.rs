//! The token rates behind `/metrics`, sampled once a second, and on a terminal a one-line live
//! status (requests, running and waiting, tok/s) redrawn in place.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::metrics::Metrics;

/// What `serve` shows while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMode {
    /// A live status line on the terminal (stderr), warnings only in the log.
    Line,
    /// One log line per request on stderr (stderr is a file or a pipe).
    Log,
    /// Warnings and errors only (`--quiet`).
    Quiet,
}

pub async fn run(mode: StatusMode, metrics: Arc<Metrics>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|&s| s) => break,
        }
        metrics.sample_rates();
        if mode == StatusMode::Line {
            let s = metrics.snapshot();
            eprint!(
                "\r\x1b[2K{} requests | {} running, {} waiting | prefill {:.1} tok/s | generation {:.1} tok/s",
                s.requests, s.active, s.queued, s.prefill_tok_s, s.decode_tok_s
            );
            let _ = std::io::stderr().flush();
        }
    }
    if mode == StatusMode::Line {
        eprintln!();
    }
}
