//! The chat screen's root: the real terminal and the loop that feeds `app::update`, runs its
//! effects and draws with `ui`. Dependencies point one way: app ← ui ← tui.

pub mod editor;
pub mod run;
pub mod terminal;
mod token_counting;

pub use run::{run_app, AppContext, Host};
