//! Starting the engine for a headless command and reading its events.

use std::path::Path;

use crate::engine::protocol::{EngineCmd, EngineEvent, LoadOptions, ModelInfo};
use crate::engine::EngineHandle;

/// Spawns the worker and loads `path`, failing with the engine's message.
pub fn load(path: &Path, options: LoadOptions) -> anyhow::Result<(EngineHandle, ModelInfo)> {
    let mut engine = EngineHandle::spawn();
    engine.send(EngineCmd::Load { path: path.to_path_buf(), options });
    loop {
        match engine.recv_blocking() {
            Some(EngineEvent::Ready(info)) => return Ok((engine, info)),
            Some(EngineEvent::Error { message, .. }) => anyhow::bail!("{message}"),
            Some(_) => {}
            None => anyhow::bail!("the engine thread stopped while loading {}", path.display()),
        }
    }
}

/// The next event, or an error if the engine reported one or stopped.
pub fn next_event(engine: &mut EngineHandle) -> anyhow::Result<EngineEvent> {
    match engine.recv_blocking() {
        Some(EngineEvent::Error { message, .. }) => anyhow::bail!("{message}"),
        Some(event) => Ok(event),
        None => anyhow::bail!("the engine thread stopped unexpectedly"),
    }
}
