//! Load settings chosen in the chat for one model file (the model settings panel): context size,
//! context policy, threads and LM head. They are remembered across restarts in the data folder
//! and laid over the config's `[load]` defaults whenever that file loads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::protocol::{ContextPolicy, LmHead, LoadOptions};

/// The settings the panel edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSettings {
    /// Context length cap; 0 means the model's own.
    pub ctx: usize,
    pub context_policy: ContextPolicy,
    /// Compute threads; 0 means the number of physical cores.
    pub threads: usize,
    pub lm_head: LmHead,
}

impl ModelSettings {
    pub fn of(options: &LoadOptions) -> Self {
        Self {
            ctx: options.ctx,
            context_policy: options.context_policy,
            threads: options.threads,
            lm_head: options.lm_head,
        }
    }

    /// `base` with these settings in place of its own.
    pub fn apply(&self, base: &LoadOptions) -> LoadOptions {
        LoadOptions {
            ctx: self.ctx,
            context_policy: self.context_policy,
            threads: self.threads,
            lm_head: self.lm_head,
            ..base.clone()
        }
    }
}

/// One file's remembered settings, as `model_settings.json` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RememberedSettings {
    pub path: PathBuf,
    #[serde(flatten)]
    pub settings: ModelSettings,
}

/// The settings to load `path` with: remembered ones over `base`.
pub fn options_for(remembered: &[RememberedSettings], path: &Path, base: &LoadOptions) -> LoadOptions {
    match remembered.iter().find(|r| r.path == path) {
        Some(r) => r.settings.apply(base),
        None => base.clone(),
    }
}

/// Remembers `settings` for `path`; settings equal to the defaults are forgotten instead, so
/// that a later change of the config's defaults reaches the file again.
pub fn remember(remembered: &mut Vec<RememberedSettings>, path: &Path, settings: ModelSettings, base: &LoadOptions) {
    remembered.retain(|r| r.path != path);
    if settings != ModelSettings::of(base) {
        remembered.push(RememberedSettings { path: path.to_path_buf(), settings });
    }
}

/// One row of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingField {
    Context,
    ContextPolicy,
    Threads,
    LmHead,
}

/// Context sizes offered; 0 is the model's own.
const CONTEXT_STEPS: [usize; 10] = [0, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];
const CONTEXT_POLICIES: [ContextPolicy; 2] = [ContextPolicy::Stop, ContextPolicy::DropOldest];
const LM_HEADS: [LmHead; 4] = [LmHead::F16, LmHead::Q8, LmHead::Q6, LmHead::Q4];
/// Threads offered beyond the logical CPUs: more only fight over the cores.
const MAX_THREADS: usize = 256;

impl SettingField {
    pub const ALL: [SettingField; 4] =
        [SettingField::Context, SettingField::ContextPolicy, SettingField::Threads, SettingField::LmHead];

    /// Moves the value `steps` choices (a coarse step moves to the end of the list); threads stop
    /// at `cpus`.
    pub fn adjust(self, s: &mut ModelSettings, steps: isize, coarse: bool, cpus: usize) {
        let steps = if coarse { steps * 4 } else { steps };
        match self {
            SettingField::Context => s.ctx = step_context(s.ctx, steps),
            SettingField::ContextPolicy => s.context_policy = step_in(&CONTEXT_POLICIES, s.context_policy, steps),
            SettingField::Threads => {
                let max = cpus.clamp(1, MAX_THREADS) as isize;
                s.threads = (s.threads as isize + steps).clamp(0, max) as usize;
            }
            SettingField::LmHead => s.lm_head = step_in(&LM_HEADS, s.lm_head, steps),
        }
    }
}

/// The choice `steps` away from `current` in `choices`, staying within the list.
fn step_in<T: Copy + PartialEq>(choices: &[T], current: T, steps: isize) -> T {
    let at = choices.iter().position(|c| *c == current).unwrap_or(0) as isize + steps;
    choices[at.clamp(0, choices.len() as isize - 1) as usize]
}

/// [`step_in`] for context sizes, where a size from the config that is not a choice moves to the
/// nearest choice in the direction of the step.
fn step_context(current: usize, steps: isize) -> usize {
    if CONTEXT_STEPS.contains(&current) || steps == 0 {
        return step_in(&CONTEXT_STEPS, current, steps);
    }
    let at = match steps > 0 {
        true => CONTEXT_STEPS.iter().position(|&c| c > current).unwrap_or(CONTEXT_STEPS.len()) as isize + steps - 1,
        false => CONTEXT_STEPS.iter().rposition(|&c| c < current).map_or(-1, |i| i as isize) + steps + 1,
    };
    CONTEXT_STEPS[at.clamp(0, CONTEXT_STEPS.len() as isize - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_stay_in_the_list_and_odd_values_move_to_a_neighbour() {
        assert_eq!(step_context(4096, 1), 8192);
        assert_eq!(step_context(0, -1), 0);
        assert_eq!(step_context(131072, 3), 131072);
        assert_eq!(step_context(3000, 1), 4096);
        assert_eq!(step_context(3000, -1), 2048);
        assert_eq!(step_context(3000, -4), 0);
        assert_eq!(step_in(&LM_HEADS, LmHead::Q4, 1), LmHead::Q4);
    }

    #[test]
    fn defaults_are_not_remembered_and_the_rest_is_laid_over_the_base() {
        let base = LoadOptions::default();
        let path = Path::new("/m/a.gguf");
        let mut remembered = Vec::new();
        remember(&mut remembered, path, ModelSettings::of(&base), &base);
        assert!(remembered.is_empty());
        let mut settings = ModelSettings::of(&base);
        SettingField::Threads.adjust(&mut settings, 1, false, 2);
        SettingField::LmHead.adjust(&mut settings, -1, false, 2);
        remember(&mut remembered, path, settings, &base);
        let options = options_for(&remembered, path, &base);
        assert_eq!((options.threads, options.lm_head, options.ctx), (1, LmHead::F16, base.ctx));
        assert_eq!(options_for(&remembered, Path::new("/m/b.gguf"), &base), base);
    }

    #[test]
    fn threads_stop_at_the_cpus() {
        let mut s = ModelSettings::of(&LoadOptions::default());
        SettingField::Threads.adjust(&mut s, 1, true, 2);
        assert_eq!(s.threads, 2);
        SettingField::Threads.adjust(&mut s, -1, true, 2);
        assert_eq!(s.threads, 0);
    }
}
