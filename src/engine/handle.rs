//! [`EngineHandle`]: spawn the worker thread and talk to it through the protocol's channels.

use std::thread::JoinHandle;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::protocol::{EngineCmd, EngineEvent};
use super::worker::Worker;

/// The front end's end of a running engine.
///
/// ```no_run
/// use bitnet_tui::engine::{EngineHandle, protocol::*};
/// let mut engine = EngineHandle::spawn();
/// engine.send(EngineCmd::Load { path: "model.gguf".into(), options: LoadOptions::default() });
/// while let Some(event) = engine.recv_blocking() {
///     if let EngineEvent::Ready(info) = event { println!("{} ready", info.name); break; }
/// }
/// ```
pub struct EngineHandle {
    pub cmds: UnboundedSender<EngineCmd>,
    pub events: UnboundedReceiver<EngineEvent>,
    thread: EngineThread,
}

/// Owns the worker thread: dropping it asks the worker to stop and waits for it.
pub struct EngineThread {
    cmds: UnboundedSender<EngineCmd>,
    join: Option<JoinHandle<()>>,
}

impl Drop for EngineThread {
    fn drop(&mut self) {
        let _ = self.cmds.send(EngineCmd::Shutdown);
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

impl EngineHandle {
    /// Starts the worker thread (named `bitnet-engine`) with no model loaded.
    pub fn spawn() -> Self {
        let (cmd_tx, cmd_rx) = unbounded_channel();
        let (event_tx, event_rx) = unbounded_channel();
        let join = std::thread::Builder::new()
            .name("bitnet-engine".into())
            .spawn(move || Worker::new(cmd_rx, event_tx).run())
            .expect("the OS refused to start the engine thread");
        Self { cmds: cmd_tx.clone(), events: event_rx, thread: EngineThread { cmds: cmd_tx, join: Some(join) } }
    }

    /// Sends a command (a stopped worker ignores it).
    pub fn send(&self, cmd: EngineCmd) {
        let _ = self.cmds.send(cmd);
    }

    /// Waits for the next event (for headless use, outside an async runtime).
    pub fn recv_blocking(&mut self) -> Option<EngineEvent> {
        self.events.blocking_recv()
    }

    /// Splits the handle for an async front end that keeps each end in its own place; the
    /// thread guard must outlive the use of the channels.
    pub fn into_parts(self) -> (UnboundedSender<EngineCmd>, UnboundedReceiver<EngineEvent>, EngineThread) {
        (self.cmds, self.events, self.thread)
    }
}
