//! The loop's side of downloads: runs one at a time on a background thread and sends its
//! progress and outcome back as [`DownloadEvent`]s. A catalog model that is a checkpoint is
//! downloaded, then converted beside its snapshot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::app::models::HubFile;
use crate::app::msg::DownloadEvent;
use crate::convert::{fetch_and_convert, CheckpointModel};
use crate::hub::catalog::Catalog;
use crate::hub::download::Downloader;
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
            let checkpoint = Catalog::builtin().find_file(&file.repo, &file.file).filter(|e| e.convert);
            let result = match checkpoint {
                Some(entry) => {
                    let converting_events = events.clone();
                    let converting = move |done, total| {
                        let _ = converting_events.send(DownloadEvent::Converting { done, total });
                    };
                    Downloader::from_env().map_err(anyhow::Error::from).and_then(|d| {
                        let model = CheckpointModel {
                            repo: &file.repo,
                            revision: DEFAULT_REVISION,
                            file: &file.file,
                            name: &entry.name,
                        };
                        fetch_and_convert(&d, &model, |_, p| report(p), converting, &cancel)
                    })
                }
                None => Downloader::from_env()
                    .and_then(|d| d.download(&file.repo, &file.file, DEFAULT_REVISION, report, &cancel))
                    .map_err(anyhow::Error::from),
            };
            let outcome = match result {
                Ok(path) => DownloadEvent::Finished(path),
                // A cancelled conversion fails too; the flag tells it from a real failure.
                Err(_) if cancel.load(Ordering::Relaxed) => DownloadEvent::Cancelled,
                Err(e) => {
                    tracing::warn!("downloading {}/{}: {e:#}", file.repo, file.file);
                    DownloadEvent::Failed(format!("{e:#}"))
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
