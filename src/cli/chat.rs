//! The chat screen, opened by `bitnet-tui` with no subcommand.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::app::config::{CliOverrides, Paths, Settings};
use crate::app::input_history::InputHistory;
use crate::app::models::ModelSources;
use crate::app::store::Store;
use crate::app::{logging, State};
use crate::cli::Cli;
use crate::engine::protocol::{EngineCmd, EngineEvent};
use crate::engine::EngineThread;
use crate::hub::cache::HfCache;
use crate::tui::terminal::{self, InputGate, TerminalHost};
use crate::tui::{run_app, AppContext};

/// The engine's channel ends, and the guard that stops its thread when dropped.
type EngineParts = (UnboundedSender<EngineCmd>, UnboundedReceiver<EngineEvent>, EngineThread);

/// Starts the inference engine on its worker thread.
fn spawn_engine() -> anyhow::Result<EngineParts> {
    Ok(crate::engine::EngineHandle::spawn().into_parts())
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Opens the chat; returns when the user quits, with the terminal restored.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let paths = Paths::resolve(&env_var)?;
    let overrides = CliOverrides {
        models: &cli.model,
        sampling: &cli.sampling,
        load: &cli.load,
        max_tokens: cli.max_tokens,
        system_prompt: cli.system.system.as_deref(),
    };
    let settings = Settings::load(&paths.config_file, &env_var, overrides)?;
    for model in &settings.cli_models {
        anyhow::ensure!(model.is_file(), "model file {} not found", model.display());
    }
    let (_log_guard, log_file) = logging::init(&paths.log_dir)?;
    tracing::info!(config = %paths.config_file.display(), data = %paths.data_dir.display(), "starting");

    let (cmds, events, _engine_thread) = spawn_engine()?;
    let store = Store::new(&paths.data_dir);
    let mut state = State::new(&settings, store.recent_models(), SystemTime::now());
    state.input_history = InputHistory::new(store.input_history());
    state.model_settings = store.model_settings();
    state.log_file = Some(log_file.clone());
    let input_gate = InputGate::default();
    let mut host = TerminalHost::new(input_gate.clone()).context("listening for termination signals")?;
    let mut ctx = AppContext {
        store,
        sources: ModelSources {
            command_line: settings.cli_models.clone(),
            config: settings.config_models.clone(),
            recent: Vec::new(),
            models_dirs: settings.models_dir.iter().cloned().collect(),
            hf_cache: HfCache::from_env().ok(),
        },
        host: &mut host,
        frame_rate: settings.frame_rate,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    let mut tui = terminal::enter(settings.mouse).context("opening the full-screen terminal")?;
    let result = match terminal::events(input_gate) {
        Ok(input) => runtime.block_on(run_app(&mut tui, state, cmds, events, input, &mut ctx)),
        Err(e) => Err(anyhow::Error::new(e).context("reading the terminal's input")),
    };
    terminal::leave();
    if let Some(farewell) = result.as_ref().ok().and_then(|state| state.farewell.as_deref()) {
        eprintln!("{farewell}");
    }
    result.map(|_| ()).with_context(|| format!("the chat stopped (log: {})", log_file.display()))
}

/// `bitnet-tui config path`: where the config file is (or would be).
pub fn config_path() -> anyhow::Result<PathBuf> {
    Ok(Paths::resolve(&env_var)?.config_file)
}
