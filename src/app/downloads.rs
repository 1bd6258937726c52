//! The loop's side of downloads: runs one at a time on a background thread and sends its
//! progress and outcome back as [`DownloadEvent`]s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::app::models::HubFile;
use crate::app::msg::DownloadEvent;
use crate::hub::download::{DownloadError, Downloader};
use crate::hub::repo::DEFAULT_REVISION;

/// Starts and cancels downloads; the events arrive on the receiver [`Downloads::new`] returns.
pub struct Downloads {
    events: UnboundedSender<DownloadEvent>,
    cancel: Arc<AtomicBool>,
}

impl Downloads {
    pub fn new() -> (Self, UnboundedReceiver<DownloadEvent>) {
        let (events, receiver) = unbounded_channel();
        (Self { events, cancel: Arc::new(AtomicBool::new(false)) }, receiver)
    }

    /// Downloads `file` with the `HF_*` environment's hub, token and cache.
    pub fn start(&mut self, file: HubFile) {
        self.cancel = Arc::new(AtomicBool::new(false));
        let cancel = Arc::clone(&self.cancel);
        let events = self.events.clone();
        std::thread::spawn(move || {
            let progress_events = events.clone();
            let report = move |p| {
                // The loop may have ended; nothing is left to tell then.
                let _ = progress_events.send(DownloadEvent::Progress(p));
            };
            let result = Downloader::from_env()
                .and_then(|d| d.download(&file.repo, &file.file, DEFAULT_REVISION, report, &cancel));
            let outcome = match result {
                Ok(path) => DownloadEvent::Finished(path),
                Err(DownloadError::Cancelled { .. }) => DownloadEvent::Cancelled,
                Err(e) => {
                    tracing::warn!("downloading {}/{}: {e}", file.repo, file.file);
                    DownloadEvent::Failed(e.to_string())
                }
            };
            let _ = events.send(outcome);
        });
    }

    /// Asks the running download to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}
