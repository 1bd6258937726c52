//! Fault injection for the tests that prove a failure inside the engine is contained:
//! `BITNET_TUI_FAULT=<point>` makes the engine panic at that point, as a bug would. Read once;
//! unset (always, in normal use) it costs one load of a cached value.

use std::sync::OnceLock;

/// Where a fault can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// While loading a model (`BITNET_TUI_FAULT=load`).
    Load,
    /// In a scheduler step, once a request runs (`BITNET_TUI_FAULT=step`).
    Step,
}

impl FaultPoint {
    fn name(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Step => "step",
        }
    }
}

/// Panics if the environment asks for a fault at `point`.
pub fn inject(point: FaultPoint) {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    let wanted = WANTED.get_or_init(|| std::env::var("BITNET_TUI_FAULT").ok());
    if wanted.as_deref() == Some(point.name()) {
        panic!("fault injected at {} (BITNET_TUI_FAULT)", point.name());
    }
}
