//! The chat application's core: state, messages and effects, and the pure `update`. It draws
//! nothing and imports nothing from `ui`; `tui` runs it against the terminal.

pub mod action;
pub mod code_blocks;
pub mod config;
pub mod conversation;
pub mod downloads;
pub mod hub_rows;
pub mod input_history;
pub mod keymap;
pub mod live_stats;
pub mod logging;
pub mod model_settings;
pub mod models;
pub mod msg;
pub mod persona;
pub mod search;
pub mod sliders;
pub mod state;
pub mod store;
pub mod text;
pub mod theme;
pub mod update;
pub mod versions;

pub use msg::{Effect, Msg};
pub use state::State;
pub use update::update;
