//! The model settings panel (F7, or `s` in the model manager) and the error panel a failed load
//! opens: `update()` without a terminal, and their snapshots.

mod support;

use std::path::{Path, PathBuf};

use bitnet_tui::app::model_settings::{ModelSettings, RememberedSettings};
use bitnet_tui::app::models::{ModelEntry, ModelSource};
use bitnet_tui::app::msg::{Effect, Msg};
use bitnet_tui::app::state::{NoticeLevel, Overlay};
use bitnet_tui::app::update;
use bitnet_tui::app::State;
use bitnet_tui::engine::protocol::{ContextPolicy, EngineCmd, EngineEvent, LmHead, LoadOptions};
use bitnet_tui::ui::View;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use support::*;

fn saved_settings(effects: &[Effect]) -> Option<Vec<RememberedSettings>> {
    effects.iter().find_map(|e| match e {
        Effect::SaveModelSettings(list) => Some(list.clone()),
        _ => None,
    })
}

fn load_of(effects: &[Effect]) -> Option<(PathBuf, LoadOptions)> {
    engine_cmds(effects).into_iter().find_map(|c| match c {
        EngineCmd::Load { path, options } => Some((path, options)),
        _ => None,
    })
}

fn draw(state: &mut State, width: u16, height: u16) -> Terminal<TestBackend> {
    state.size = (width, height);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| {
            View::default().draw(frame, state);
        })
        .unwrap();
    terminal
}

#[test]
fn f7_changes_the_loaded_models_settings_and_enter_reloads_it_with_them() {
    let mut state = ready_state();
    state.cpus = 4;
    update(&mut state, key(KeyCode::F(7)));
    let Some(Overlay::ModelSettings(form)) = &state.overlay else { panic!("no settings panel: {:?}", state.overlay) };
    assert_eq!(form.path, PathBuf::from("/models/bitnet-2b.gguf"));
    // Context 4096 → 8192; policy → drop the oldest turns; threads auto → 2.
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Right));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(state.overlay.is_none());

    let remembered = saved_settings(&effects).expect("the settings are saved");
    let want = ModelSettings { ctx: 8192, context_policy: ContextPolicy::DropOldest, threads: 2, lm_head: LmHead::Q8 };
    assert_eq!(remembered, vec![RememberedSettings { path: "/models/bitnet-2b.gguf".into(), settings: want }]);
    let (path, options) = load_of(&effects).expect("the loaded model loads again");
    assert_eq!(path, PathBuf::from("/models/bitnet-2b.gguf"));
    assert_eq!(ModelSettings::of(&options), want);
    assert_eq!(options.prefill_chunk, state.load_options.prefill_chunk, "the rest comes from the config");
    assert!(state.loading.is_some());
    assert!(state.notice.as_ref().unwrap().text.contains("reloading"), "{:?}", state.notice);
}

#[test]
fn unchanged_settings_reload_nothing_and_esc_discards_changes() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(7)));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(load_of(&effects).is_none());
    assert_eq!(saved_settings(&effects), Some(Vec::new()), "defaults are not remembered");

    update(&mut state, key(KeyCode::F(7)));
    update(&mut state, key(KeyCode::Right));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert!(state.overlay.is_none() && state.model_settings.is_empty());
    // F7 again closes the panel, as it opened it.
    update(&mut state, key(KeyCode::F(7)));
    update(&mut state, key(KeyCode::F(7)));
    assert!(state.overlay.is_none());
}

#[test]
fn settings_chosen_in_the_model_manager_apply_when_that_model_loads() {
    let dir = tempfile::tempdir().unwrap();
    let smol = dir.path().join("smol.gguf");
    std::fs::write(&smol, b"GGUF").unwrap();
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(4)));
    let entries = [Path::new("/models/bitnet-2b.gguf"), &smol].map(|p| ModelEntry::from_path(p, ModelSource::Recent));
    update(&mut state, Msg::ModelsFound(entries.to_vec()));
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Char('s')));
    let Some(Overlay::ModelSettings(form)) = &state.overlay else { panic!("no settings panel: {:?}", state.overlay) };
    assert_eq!(form.path, smol);
    // LM head q8 → f16 (the fourth row).
    for _ in 0..3 {
        update(&mut state, key(KeyCode::Down));
    }
    update(&mut state, key(KeyCode::Left));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(load_of(&effects).is_none(), "a model that is not loaded is not loaded by saving its settings");
    assert!(state.notice.as_ref().unwrap().text.contains("whenever it loads"), "{:?}", state.notice);

    // Loading it later (from the recent list) uses them; the other model keeps the defaults.
    state.recent_models.push(smol.clone());
    let (path, options) = load_of(&update(&mut state, ctrl('n'))).expect("a load");
    assert_eq!((&path, options.lm_head), (&smol, LmHead::F16));
    update(&mut state, Msg::Engine(EngineEvent::Ready(model_info(smol.to_str().unwrap()))));
    let (_, options) = load_of(&update(&mut state, ctrl('n'))).expect("a load");
    assert_eq!(options, state.load_options);
}

#[test]
fn without_a_model_the_panel_says_what_to_do() {
    let mut state = support::state();
    update(&mut state, key(KeyCode::F(7)));
    assert!(state.overlay.is_none());
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Warning);
}

#[test]
fn a_failed_load_opens_an_error_panel_that_stays_until_dismissed() {
    let mut state = ready_state();
    state.recent_models.push(PathBuf::from("/m/moved.gguf"));
    update(&mut state, ctrl('n'));
    let message = "/m/moved.gguf: No such file or directory";
    update(&mut state, Msg::Engine(EngineEvent::Error { id: None, message: message.into() }));
    let Some(Overlay::Error(panel)) = &state.overlay else { panic!("no error panel: {:?}", state.overlay) };
    assert_eq!(panel.message, format!("Could not load moved.gguf (still using bitnet-2b): {message}"));
    // Other keys do not dismiss it; Esc does, and the loaded model is still there.
    update(&mut state, key(KeyCode::Char('x')));
    update(&mut state, key(KeyCode::Down));
    assert!(matches!(state.overlay, Some(Overlay::Error(_))));
    assert!(state.input.is_empty(), "keys did not leak into the draft");
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
    assert_eq!(state.model.as_ref().map(|m| m.name.as_str()), Some("bitnet-2b"));
}

#[test]
fn model_settings_panel_80x24() {
    let mut state = ready_state();
    state.cpus = 2;
    update(&mut state, key(KeyCode::F(7)));
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Right));
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

#[test]
fn error_panel_60x18() {
    let mut state = ready_state();
    state.log_file = Some(PathBuf::from("/home/me/.local/state/bitnet-tui/bitnet-tui.log"));
    state.loading =
        Some(bitnet_tui::app::state::Loading { path: "/m/falcon.gguf".into(), fraction: 0.3, stage: String::new() });
    let message = "/m/falcon.gguf: tensor blk.0.attn_q.weight has type 39, which this build cannot read";
    update(&mut state, Msg::Engine(EngineEvent::Error { id: None, message: message.into() }));
    insta::assert_snapshot!(draw(&mut state, 60, 18).backend());
}
