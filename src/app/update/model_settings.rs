//! The model settings panel: context size, context policy, threads and LM head of one model
//! file, remembered for it and applied by loading it again when it is the loaded one.

use std::path::PathBuf;

use super::panels;
use crate::app::action::Action;
use crate::app::model_settings::{self, ModelSettings, SettingField};
use crate::app::msg::Effect;
use crate::app::state::{NoticeLevel, Overlay, SettingsForm, State};
use crate::app::text;

/// Opens the panel for the model selected in the model manager, else for the loaded one; the
/// same key closes it again.
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let target = match &state.overlay {
        Some(Overlay::ModelSettings(_)) => {
            state.overlay = None;
            return Vec::new();
        }
        Some(Overlay::Picker { selected }) => {
            state.models.get(*selected).filter(|e| e.is_downloaded()).map(|e| (e.path.clone(), e.name.clone()))
        }
        _ => state.model.as_ref().map(|m| (m.path.clone(), m.name.clone())),
    };
    let Some((path, name)) = target else {
        state.notify(NoticeLevel::Warning, text::NO_MODEL_FOR_SETTINGS);
        return Vec::new();
    };
    let settings = ModelSettings::of(&state.load_options_for(&path));
    let form = SettingsForm { path, name, settings, opened_with: settings, selected: 0 };
    state.overlay = Some(Overlay::ModelSettings(Box::new(form)));
    Vec::new()
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let cpus = state.cpus;
    let defaults = ModelSettings::of(&state.load_options);
    let Some(Overlay::ModelSettings(form)) = &mut state.overlay else {
        return Vec::new();
    };
    let field = SettingField::ALL[form.selected.min(SettingField::ALL.len() - 1)];
    let steps = match action {
        Action::Up | Action::Down => {
            form.selected = panels::step(form.selected, action, SettingField::ALL.len());
            return Vec::new();
        }
        Action::Reset => {
            form.settings = defaults;
            return Vec::new();
        }
        Action::Confirm => return confirm(state),
        Action::Close => {
            state.overlay = None;
            return Vec::new();
        }
        Action::Decrease => (-1, false),
        Action::Increase => (1, false),
        Action::DecreaseCoarse => (-1, true),
        Action::IncreaseCoarse => (1, true),
        _ => return Vec::new(),
    };
    field.adjust(&mut form.settings, steps.0, steps.1, cpus);
    Vec::new()
}

/// Remembers the settings and, when they changed for the loaded model, loads it again with them
/// (a running reply is stopped first; the conversation stays).
fn confirm(state: &mut State) -> Vec<Effect> {
    let Some(Overlay::ModelSettings(form)) = state.overlay.take() else {
        return Vec::new();
    };
    model_settings::remember(&mut state.model_settings, &form.path, form.settings, &state.load_options);
    let loaded = state.loading.is_none() && state.model.as_ref().is_some_and(|m| m.path == form.path);
    let reload = loaded && form.settings != form.opened_with;
    state.notify(NoticeLevel::Info, text::model_settings_saved(&form.name, reload));
    let mut effects = vec![Effect::SaveModelSettings(state.model_settings.clone())];
    if reload {
        effects.extend(panels::start_load(state, PathBuf::clone(&form.path)));
    }
    effects
}
