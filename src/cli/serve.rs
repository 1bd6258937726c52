//! `bitnet-tui serve`: the OpenAI-compatible HTTP server (see `crate::server`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::engine::protocol::LoadOptions;
use crate::engine::sampler::SamplingParams;
use crate::server::{Defaults, HttpLimits, ServeConfig, StatusMode};

use super::args::{LoadArgs, SamplingArgs};

#[derive(Debug, Args)]
#[command(after_help = "Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, \
                  GET /metrics. The sampling flags are the defaults of what a request leaves out.")]
pub struct ServeArgs {
    /// A GGUF model to offer; repeat for several (each loads on first use; its id is the file
    /// name without .gguf).
    #[arg(short, long = "model", value_name = "PATH", required = true)]
    pub models: Vec<PathBuf>,
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0: any free port; the URL line says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Requests that run at once, sharing each forward pass.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub parallel: u64,
    /// Requests that may wait for a place beyond those running; more get 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    pub queue: usize,
    /// Models kept loaded at once; the least recently used is unloaded when another is needed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_loaded: u64,
    /// Require `Authorization: Bearer KEY` (also from BITNET_TUI_API_KEY).
    #[arg(long, env = "BITNET_TUI_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Allow browser calls from this origin (repeat, or `*` for any).
    #[arg(long, value_name = "ORIGIN")]
    pub cors: Vec<String>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Seconds a request may take until its response starts (a stream's first event).
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Memory in MiB for the caches of finished replies, kept so that a conversation's next turn
    /// prefills only its new tokens (least recently used freed first).
    #[arg(long, default_value_t = 512)]
    pub cache_mb: usize,
    /// Default most tokens per reply (default: until the context is full).
    #[arg(short = 'n', long = "max-tokens", value_name = "N")]
    pub max_tokens: Option<usize>,
    /// No live status line and no request log: warnings and errors only.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let status = if args.quiet {
        StatusMode::Quiet
    } else if std::io::stderr().is_terminal() {
        StatusMode::Line
    } else {
        StatusMode::Log
    };
    let level = if status == StatusMode::Log { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Another subscriber (a test harness) may already be set; then that one logs.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(status == StatusMode::Line)
        .with_env_filter(filter)
        .try_init();

    let parallel = args.parallel as usize;
    let config = ServeConfig {
        models: args.models,
        load: LoadOptions {
            sequences: parallel,
            kept_cache_bytes: Some(args.cache_mb << 20),
            ..args.load.apply(LoadOptions::default())
        },
        max_loaded: args.max_loaded as usize,
        host: args.host,
        port: args.port,
        queue: args.queue,
        api_key: args.api_key.filter(|k| !k.is_empty()),
        limits: HttpLimits { body_bytes: args.max_body, timeout: Duration::from_secs(args.timeout), cors: args.cors },
        defaults: Defaults {
            sampling: args.sampling.apply(SamplingParams::default()),
            seed: args.sampling.seed,
            max_tokens: args.max_tokens,
        },
        status,
    };
    crate::server::run(config)
}
