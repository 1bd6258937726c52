//! Pushes written data to disk in the background while a download goes on. The blob must be on
//! disk before it is trusted, and one fsync at the end would wait for the whole file (about 2 s
//! per GB here); flushing as we go leaves it only the last few megabytes.

use std::fs::File;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Bytes written between flush requests.
pub(crate) const FLUSH_EVERY: u64 = 64 << 20;

pub(crate) struct Flusher {
    requests: Option<SyncSender<()>>,
    worker: Option<JoinHandle<()>>,
}

impl Flusher {
    pub fn start(file: &File) -> std::io::Result<Self> {
        let file = file.try_clone()?;
        let (requests, incoming) = mpsc::sync_channel::<()>(1);
        let worker = std::thread::Builder::new()
            .name("download-flush".into())
            .spawn(move || {
                for () in incoming {
                    // An error here shows again in the final sync, which is checked.
                    let _ = file.sync_data();
                }
            })?;
        Ok(Self {
            requests: Some(requests),
            worker: Some(worker),
        })
    }

    /// Asks for a flush; never blocks (a flush under way will pick up the new data too).
    pub fn request(&self) {
        if let Some(requests) = &self.requests {
            match requests.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
