//! Arbitrary text as config.toml: settings, sampling ranges and key bindings are accepted or
//! refused with an error naming the file, never a panic.
#![no_main]

#[path = "support/alloc_bound.rs"]
mod alloc_bound;

use bitnet_tui::app::config::{CliOverrides, Settings};
use bitnet_tui::cli::args::{LoadArgs, SamplingArgs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    alloc_bound::within_input_size(data.len(), || {
        let (sampling, load) = (SamplingArgs::default(), LoadArgs::default());
        let cli = CliOverrides { models: &[], sampling: &sampling, load: &load, max_tokens: None, system_prompt: None };
        if let Err(e) = Settings::from_parts(text, "fuzz.toml", &|_| None, cli) {
            let message = format!("{e:#}");
            assert!(message.contains("fuzz.toml"), "the error does not name the file: {message}");
        }
    });
});
