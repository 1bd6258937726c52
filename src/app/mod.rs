//! The chat application's core: state, messages and effects, the pure `update`, and the loop
//! that runs effects against the terminal, the engine and the data folder.

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
pub mod models;
pub mod msg;
pub mod run;
pub mod sliders;
pub mod state;
pub mod store;
pub mod terminal;
pub mod update;

pub use msg::{Effect, Msg};
pub use run::{run_app, AppContext, Host};
pub use state::State;
pub use update::update;
