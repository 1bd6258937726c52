//! Shared test helpers: a state built from default settings, key presses, and a fake engine
//! that speaks the real channel protocol.
#![allow(dead_code)] // Each test crate uses a different part of this module.

pub mod fake_engine;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bitnet_tui::app::config::{CliOverrides, Settings};
use bitnet_tui::app::msg::{Effect, Msg};
use bitnet_tui::app::{update, State};
use bitnet_tui::cli::args::{LoadArgs, SamplingArgs};
use bitnet_tui::engine::protocol::{EngineCmd, GenStats, ModelInfo};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// 2026-11-29T12:00:00Z.
pub fn fixed_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_953_600)
}

/// Settings from an empty config, no environment, no flags.
pub fn settings() -> Settings {
    let sampling = SamplingArgs::default();
    let load = LoadArgs::default();
    let cli = CliOverrides { models: &[], sampling: &sampling, load: &load, max_tokens: None, system_prompt: None };
    Settings::load(Path::new("/nonexistent/config.toml"), &|_| None, cli).expect("default settings")
}

/// A fresh state at a fixed time, sized 80×24.
pub fn state() -> State {
    let mut state = State::new(&settings(), Vec::new(), fixed_time());
    state.size = (80, 24);
    state
}

pub fn model_info(path: &str) -> ModelInfo {
    let path = PathBuf::from(path);
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    ModelInfo {
        path,
        name,
        arch: "bitnet-b1.58".into(),
        quant: "I2_S".into(),
        n_params: 2_400_000_000,
        file_bytes: 1_190_000_000,
        n_layers: 30,
        vocab_size: 128_256,
        ctx_max: 4096,
        threads: 8,
        kernel: "avx2".into(),
        chat_format: "bitnet".into(),
        load_ms: 850.0,
    }
}

/// A state with a model loaded.
pub fn ready_state() -> State {
    let mut state = state();
    state.model = Some(model_info("/models/bitnet-2b.gguf"));
    state.recent_models = vec![PathBuf::from("/models/bitnet-2b.gguf")];
    state
}

pub fn stats(generated: usize) -> GenStats {
    GenStats {
        prompt_tokens: 40,
        prefill_tokens: 40,
        prefill_ms: 80.0,
        prefill_tok_s: 500.0,
        ttft_ms: 95.0,
        generated_tokens: generated,
        decode_ms: 32.0 * generated as f64,
        decode_tok_s: 31.25,
        last_token_ms: 32.0,
        ctx_used: 40 + generated,
        ctx_max: 4096,
        rss_bytes: 1_400_000_000,
        kv_bytes: 3_100_000,
        draft_tokens: 0,
        draft_accepted: 0,
    }
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn alt(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::ALT))
}

pub fn shift(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::SHIFT))
}

/// Types `text` key by key into the focused box.
pub fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(KeyCode::Char(c)));
    }
}

/// The engine commands among `effects`.
pub fn engine_cmds(effects: &[Effect]) -> Vec<EngineCmd> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Engine(cmd) => Some(cmd.clone()),
            _ => None,
        })
        .collect()
}

/// `update` as the loop runs it when every effect succeeds: messages an effect queues
/// ([`Effect::Queue`]) are handled right after, and their effects join the list.
pub fn update_settled(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    for effect in update(state, msg) {
        match effect {
            Effect::Queue(queued) => effects.extend(update_settled(state, *queued)),
            other => effects.push(other),
        }
    }
    effects
}
