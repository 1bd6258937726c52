//! Personas: named system prompts, each with its own sampling settings, from `[personas.NAME]`
//! in config.toml. A new chat starts with one of them, or with the default (the `system_prompt`
//! key, `--system`, and the starting sampling settings).

use crate::app::sliders::Knobs;

#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// `None` for the default.
    pub name: Option<String>,
    pub system_prompt: Option<String>,
    /// The sampling settings and reply length a chat with this persona starts with.
    pub knobs: Knobs,
}
