//! A fake Hugging Face hub on 127.0.0.1 for shell and tmux tests: serves `DIR/<owner>/<name>/<file>`
//! at `/<owner>/<name>/resolve/<revision>/<file>` with the hub's headers, resume and redirects.
//!
//! ```sh
//! mkdir -p /tmp/hub/microsoft/bitnet-b1.58-2B-4T-gguf
//! ln -s "$PWD/../shared/fixtures/bitnet-tiny.gguf" \
//!       /tmp/hub/microsoft/bitnet-b1.58-2B-4T-gguf/ggml-model-i2_s.gguf
//! cargo run --release --example fake_hub -- --dir /tmp/hub --port 8765 &
//! HF_ENDPOINT=http://127.0.0.1:8765 HF_HUB_CACHE=/tmp/hf-cache \
//!     bitnet-tui download microsoft/bitnet-b1.58-2B-4T-gguf
//! ```

#[allow(dead_code)] // its request counters are for the tests
#[path = "../tests/hub_support/hub_server.rs"]
mod hub_server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hub_server::{FakeHub, HubConfig};

#[derive(Parser)]
#[command(about = "Serve a folder like the Hugging Face hub's resolve endpoint, on 127.0.0.1")]
struct Args {
    /// Folder holding <owner>/<name>/<file>.
    #[arg(long)]
    dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Require `Authorization: Bearer TOKEN` on resolve requests.
    #[arg(long)]
    token: Option<String>,
    /// Serve LFS files directly instead of redirecting to the /cdn/ route.
    #[arg(long)]
    no_redirect: bool,
    /// Limit each response to this many bytes per second (to watch progress, or cancel).
    #[arg(long, value_name = "BYTES")]
    rate: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.dir.is_dir() {
        eprintln!("error: {} is not a folder", args.dir.display());
        return ExitCode::FAILURE;
    }
    let mut config = HubConfig::new(&args.dir);
    config.port = args.port;
    config.token = args.token;
    config.redirect_lfs = !args.no_redirect;
    config.faults.bytes_per_sec = args.rate;
    match FakeHub::start(config) {
        Ok(hub) => {
            println!("fake hub serving {} at {}", args.dir.display(), hub.url());
            println!("export HF_ENDPOINT={}", hub.url());
            hub.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            ExitCode::FAILURE
        }
    }
}
