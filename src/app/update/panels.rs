//! The sliders panel, the model picker, the help overlay, and loading models.

use std::path::PathBuf;

use super::{chat, downloads, history, messages, model_settings, personas, system_prompt, toggle_overlay, unsaved};
use crate::app::action::Action;
use crate::app::models::{HubFile, ModelEntry, ModelStatus};
use crate::app::msg::Effect;
use crate::app::sliders::Slider;
use crate::app::state::{Loading, NoticeLevel, Overlay, State};
use crate::app::text;
use crate::engine::protocol::EngineCmd;
use crate::hub::catalog::Catalog;

/// List-style actions go to whichever overlay is open.
pub(super) fn on_overlay_action(state: &mut State, action: Action) -> Vec<Effect> {
    match &mut state.overlay {
        Some(Overlay::Sliders { selected }) => {
            let selected = *selected;
            on_sliders(state, action, selected)
        }
        Some(Overlay::Picker { selected }) => match action {
            Action::Up | Action::Down => {
                *selected = step(*selected, action, state.models.len());
                Vec::new()
            }
            Action::Confirm => {
                let selected = *selected;
                confirm_model(state, selected)
            }
            Action::Download => {
                let selected = *selected;
                downloads::start(state, selected)
            }
            Action::CancelDownload => downloads::cancel(state),
            Action::Close => close(state),
            _ => Vec::new(),
        },
        Some(Overlay::Help { scroll }) => {
            match action {
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::Down => *scroll += 1,
                Action::Close => state.overlay = None,
                _ => {}
            }
            Vec::new()
        }
        Some(Overlay::History(_)) => history::on_action(state, action),
        Some(Overlay::Messages { .. }) => messages::on_action(state, action),
        Some(Overlay::SystemPrompt(_)) => system_prompt::on_action(state, action),
        Some(Overlay::Personas { .. }) => personas::on_action(state, action),
        Some(Overlay::Unsaved) => unsaved::on_action(state, action),
        Some(Overlay::ModelSettings(_)) => model_settings::on_action(state, action),
        Some(Overlay::Error(_)) => match action {
            Action::Close => close(state),
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Loads the selected model when it is on disk.
fn confirm_model(state: &mut State, selected: usize) -> Vec<Effect> {
    let Some(entry) = state.models.get(selected) else {
        return Vec::new();
    };
    if entry.status == ModelStatus::Missing {
        let text = text::model_missing(&entry.name, &entry.path);
        state.notify(NoticeLevel::Warning, text);
        return Vec::new();
    }
    if !entry.is_downloaded() {
        let text = text::not_downloaded(&entry.name, &state.keymap);
        state.notify(NoticeLevel::Warning, text);
        return Vec::new();
    }
    let path = entry.path.clone();
    state.overlay = None;
    load_model(state, path)
}

fn close(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    Vec::new()
}

/// Moves a list selection one row, staying within `len` rows.
pub(super) fn step(selected: usize, action: Action, len: usize) -> usize {
    match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (selected + 1).min(len.saturating_sub(1)),
        _ => selected,
    }
}

fn on_sliders(state: &mut State, action: Action, selected: usize) -> Vec<Effect> {
    let slider = Slider::ALL[selected.min(Slider::ALL.len() - 1)];
    let (steps, coarse) = match action {
        Action::Up | Action::Down => {
            state.overlay = Some(Overlay::Sliders { selected: step(selected, action, Slider::ALL.len()) });
            return Vec::new();
        }
        Action::Close => return close(state),
        Action::Reset => {
            state.knobs = state.knob_defaults.clone();
            state.notify(NoticeLevel::Info, text::SLIDERS_RESET);
            return set_sampling(state);
        }
        Action::Decrease => (-1, false),
        Action::Increase => (1, false),
        Action::DecreaseCoarse => (-1, true),
        Action::IncreaseCoarse => (1, true),
        _ => return Vec::new(),
    };
    let before = state.knobs.clone();
    slider.adjust(&mut state.knobs, steps, coarse);
    if state.knobs.sampling == before.sampling {
        // Max tokens is not a sampling setting: the next request carries it.
        return Vec::new();
    }
    set_sampling(state)
}

/// Sampling changes go to the running reply at once and apply from its next token; the next
/// request carries them anyway.
fn set_sampling(state: &State) -> Vec<Effect> {
    match &state.generation {
        Some(g) => vec![Effect::Engine(EngineCmd::SetSampling { id: g.id, sampling: state.knobs.sampling.clone() })],
        None => Vec::new(),
    }
}

pub(super) fn open_picker(state: &mut State) -> Vec<Effect> {
    if toggle_overlay(state, Overlay::Picker { selected: 0 }) {
        vec![state.discover_models()]
    } else {
        Vec::new()
    }
}

pub(super) fn on_models_found(state: &mut State, mut models: Vec<ModelEntry>) {
    state.discovering = false;
    if let Some(info) = &state.model {
        for entry in models.iter_mut().filter(|e| e.path == info.path) {
            entry.apply_info(info);
        }
    }
    let current = state.current_model_path().cloned();
    let previous = match &state.overlay {
        Some(Overlay::Picker { selected }) => state.models.get(*selected).map(identity),
        _ => None,
    };
    if let Some(Overlay::Picker { selected }) = &mut state.overlay {
        *selected = select_in(&models, current.as_ref(), previous);
    }
    state.models = models;
}

/// What names a row across re-scans: its hub file, else its path.
fn identity(entry: &ModelEntry) -> (Option<HubFile>, PathBuf) {
    (entry.hub.clone(), if entry.hub.is_some() { PathBuf::new() } else { entry.path.clone() })
}

/// The row to select: the current model, else the row selected before, else (with nothing on
/// disk) the catalog's default model, else the first.
fn select_in(models: &[ModelEntry], current: Option<&PathBuf>, previous: Option<(Option<HubFile>, PathBuf)>) -> usize {
    let default = Catalog::builtin().default_entry();
    let is_default = |e: &ModelEntry| {
        e.hub.as_ref().is_some_and(|h| h.repo.eq_ignore_ascii_case(&default.repo) && h.file == default.file)
    };
    let nothing_on_disk = !models.iter().any(ModelEntry::is_downloaded);
    models
        .iter()
        .position(|e| Some(&e.path) == current && e.is_downloaded())
        .or_else(|| previous.and_then(|p| models.iter().position(|e| identity(e) == p)))
        .or_else(|| models.iter().position(is_default).filter(|_| nothing_on_disk))
        .unwrap_or(0)
}

/// Replaces the model. A running reply is stopped first; the conversation stays and the next
/// request prefills it under the new model's chat format.
pub(super) fn load_model(state: &mut State, path: PathBuf) -> Vec<Effect> {
    if state.current_model_path() == Some(&path) {
        state.notify(NoticeLevel::Info, text::already_loaded(&path));
        return Vec::new();
    }
    start_load(state, path)
}

/// Loads `path` with its settings, stopping a running reply first.
pub(super) fn start_load(state: &mut State, path: PathBuf) -> Vec<Effect> {
    let mut effects = chat::cancel(state);
    effects.push(Effect::Engine(EngineCmd::Load { path: path.clone(), options: state.load_options_for(&path) }));
    state.loading = Some(Loading { path, fraction: 0.0, stage: String::new() });
    effects
}

/// Loads the next (`+1`) or previous (`-1`) model of the recent list.
pub(super) fn cycle_model(state: &mut State, direction: isize) -> Vec<Effect> {
    let list = &state.recent_models;
    let current = state.current_model_path().and_then(|p| list.iter().position(|r| r == p));
    let others = list.len() - usize::from(current.is_some());
    if others == 0 {
        state.notify(NoticeLevel::Warning, text::no_other_model(&state.keymap));
        return Vec::new();
    }
    let len = list.len() as isize;
    let next = match current {
        Some(i) => (i as isize + direction).rem_euclid(len),
        None if direction > 0 => 0,
        None => len - 1,
    };
    let path = list[next as usize].clone();
    load_model(state, path)
}
