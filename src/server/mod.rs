//! `bitnet-tui serve`: an OpenAI-compatible HTTP server (axum on tokio) over the engine's step
//! scheduler, so concurrent clients share each forward pass.
//!
//! - `routes`: the endpoints and the HTTP layers (auth, limits, timeout, CORS, logs);
//! - `request`: checking a request body; `openai`: the API's JSON shapes; `error`: its errors;
//! - `generation`: one request in the engine (admission, events, stop strings, cancel on drop);
//! - `reply`: a generation as a JSON object or as server-sent events;
//! - `registry`: the models, loaded on first use, least recently used unloaded;
//! - `metrics`: Prometheus counters and histograms; `status`: the live status line.

mod error;
mod generation;
mod metrics;
mod openai;
mod registry;
mod reply;
mod request;
mod routes;
mod status;
mod stop;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::engine::protocol::LoadOptions;

pub use request::Defaults;
pub use routes::HttpLimits;
pub use status::StatusMode;

use generation::Admission;
use metrics::Metrics;
use registry::Registry;
use routes::{router, ServerState};

/// Everything `serve` is told.
pub struct ServeConfig {
    pub models: Vec<PathBuf>,
    /// `sequences` is the number of requests that run at once (`--parallel`).
    pub load: LoadOptions,
    pub max_loaded: usize,
    pub host: String,
    pub port: u16,
    /// Requests that may wait for a place beyond those running.
    pub queue: usize,
    pub api_key: Option<String>,
    pub limits: HttpLimits,
    pub defaults: Defaults,
    pub status: StatusMode,
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(config: ServeConfig) -> anyhow::Result<()> {
    // The engine computes on its own threads; the HTTP side needs little.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(serve(config))
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let registry = Registry::new(&config.models, config.load.clone(), config.max_loaded)?;
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", config.host, config.port))?;
    let addr: SocketAddr = listener.local_addr()?;
    let first_model = registry.ids()[0].clone();
    // The line a script waits for (a --port 0 server's real port), on stdout whatever the mode.
    println!("bitnet-tui serve: http://{addr}/v1 (models: {})", registry.ids().join(", "));

    let (stop_tx, shutdown) = watch::channel(false);
    let state = Arc::new(ServerState {
        registry,
        admission: Admission::new(config.load.sequences + config.queue),
        metrics: Arc::new(Metrics::default()),
        defaults: config.defaults,
        api_key: config.api_key,
        shutdown: shutdown.clone(),
    });
    let app = router(Arc::clone(&state), &config.limits)?;

    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: no new connections; running replies end now");
        let _ = stop_tx.send(true);
    });
    // Load the first model now, so the first request does not wait for it (`/health` says
    // `loading` meanwhile).
    let preload = Arc::clone(&state);
    tokio::spawn(async move {
        if let Err(e) = preload.registry.get(&first_model).await {
            tracing::error!("{}", e.message);
        }
    });
    let status = tokio::spawn(status::run(config.status, Arc::clone(&state.metrics), shutdown.clone()));

    let mut stopping = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stopping.wait_for(|&s| s).await;
        })
        .await?;
    let _ = status.await;
    // The engines' threads are joined off the async threads; dropping the runtime waits for them.
    state.registry.unload_all();
    Ok(())
}

/// SIGINT (Ctrl+C) or SIGTERM.
async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
