//! Hashes on a helper thread, so that hashing overlaps the network and the disk instead of
//! adding to them (sha256 runs at about 1.5 GB/s on one core here: no faster than loopback).

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::checksum::Checksum;

/// Size of the buffers passed to the hashing thread.
pub(crate) const CHUNK: usize = 1 << 20;

/// Buffers in flight: bounds the memory held and how far the download runs ahead of the hash.
const QUEUE: usize = 16;

/// A [`Checksum`] fed through a channel.
pub(crate) struct BackgroundHasher {
    to_worker: Option<SyncSender<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<Checksum>>,
}

impl BackgroundHasher {
    pub fn start(mut checksum: Checksum) -> std::io::Result<Self> {
        let (to_worker, incoming) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let (give_back, spare) = mpsc::sync_channel(QUEUE + 1);
        let worker = std::thread::Builder::new().name("download-hash".into()).spawn(move || {
            for buf in incoming {
                checksum.update(&buf);
                // Recycled if there is room; otherwise simply freed.
                let _ = give_back.try_send(buf);
            }
            checksum
        })?;
        Ok(Self { to_worker: Some(to_worker), spare, worker: Some(worker) })
    }

    /// A buffer of [`CHUNK`] bytes to receive into (recycled when possible).
    pub fn buffer(&self) -> Vec<u8> {
        let mut buf = self.spare.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        buf
    }

    /// Hashes `buf` next. Returns false if the hashing thread is gone.
    pub fn update(&self, buf: Vec<u8>) -> bool {
        self.to_worker.as_ref().is_some_and(|tx| tx.send(buf).is_ok())
    }

    /// The checksum of everything passed in; None if the hashing thread died.
    pub fn finish(mut self) -> Option<Checksum> {
        self.to_worker = None;
        self.worker.take()?.join().ok()
    }
}

impl Drop for BackgroundHasher {
    fn drop(&mut self) {
        self.to_worker = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
