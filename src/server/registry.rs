//! The models a server offers: each loads into its own engine on first use, at most
//! `max_loaded` stay loaded (the least recently used is unloaded when another is needed), and a
//! request for a model being loaded waits for it.
//!
//! A loaded model's engine events are routed by request id to the request that is waiting for
//! them. An unloaded model's engine lives on until its running requests end (they hold it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::engine::protocol::{EngineCmd, EngineEvent, LoadOptions, RequestId};
use crate::engine::{EngineHandle, EngineThread};

use super::error::ApiError;

type Routes = Arc<Mutex<HashMap<RequestId, UnboundedSender<EngineEvent>>>>;

/// A model in its engine.
pub struct LoadedModel {
    cmds: UnboundedSender<EngineCmd>,
    routes: Routes,
    /// Taken in `drop`, whose join waits up to one engine step, off the async threads.
    thread: Option<EngineThread>,
}

impl LoadedModel {
    /// Registers request `id` and returns the receiver of its events; send its command after.
    pub fn subscribe(&self, id: RequestId) -> UnboundedReceiver<EngineEvent> {
        let (tx, rx) = unbounded_channel();
        lock(&self.routes).insert(id, tx);
        rx
    }

    /// Forgets request `id` (its events are no longer wanted).
    pub fn unsubscribe(&self, id: RequestId) {
        lock(&self.routes).remove(&id);
    }

    pub fn send(&self, cmd: EngineCmd) {
        let _ = self.cmds.send(cmd);
    }
}

impl Drop for LoadedModel {
    fn drop(&mut self) {
        let thread = self.thread.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || drop(thread))),
            Err(_) => drop(thread),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One `--model`.
struct Entry {
    id: String,
    path: PathBuf,
    loaded: Mutex<Option<Arc<LoadedModel>>>,
    /// When it was last asked for, on the registry's clock.
    last_used: AtomicU64,
}

pub struct Registry {
    entries: Vec<Entry>,
    options: LoadOptions,
    max_loaded: usize,
    /// Held while a model loads or unloads, so two loads never race for memory.
    load_lock: tokio::sync::Mutex<()>,
    clock: AtomicU64,
    loading: AtomicUsize,
    next_request: AtomicU64,
}

impl Registry {
    /// Models are named by their file name without `.gguf`; two files of one name are an error.
    pub fn new(paths: &[PathBuf], options: LoadOptions, max_loaded: usize) -> anyhow::Result<Self> {
        let mut entries: Vec<Entry> = Vec::new();
        for path in paths {
            let id = path
                .file_name()
                .map(|n| n.to_string_lossy().trim_end_matches(".gguf").to_string())
                .ok_or_else(|| anyhow::anyhow!("{}: not a file path", path.display()))?;
            anyhow::ensure!(path.is_file(), "{}: no such file", path.display());
            if let Some(other) = entries.iter().find(|e| e.id == id) {
                anyhow::bail!("{} and {} would both be the model `{id}`", other.path.display(), path.display());
            }
            entries.push(Entry { id, path: path.clone(), loaded: Mutex::new(None), last_used: AtomicU64::new(0) });
        }
        anyhow::ensure!(!entries.is_empty(), "give at least one --model");
        Ok(Self {
            entries,
            options,
            max_loaded: max_loaded.max(1),
            load_lock: tokio::sync::Mutex::new(()),
            clock: AtomicU64::new(0),
            loading: AtomicUsize::new(0),
            next_request: AtomicU64::new(1),
        })
    }

    pub fn ids(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.id.clone()).collect()
    }

    /// The id of the model a request names (`None`: the first).
    pub fn resolve(&self, model: Option<&str>) -> Result<&str, ApiError> {
        match model {
            None => Ok(&self.entries[0].id),
            Some(name) => self
                .entries
                .iter()
                .find(|e| e.id == name || e.path.file_name().is_some_and(|f| f == name))
                .map(|e| e.id.as_str())
                .ok_or_else(|| ApiError::model_not_found(name, &self.ids())),
        }
    }

    /// Whether a model is being loaded (for `/health`).
    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Relaxed) > 0
    }

    pub fn any_loaded(&self) -> bool {
        self.entries.iter().any(|e| lock(&e.loaded).is_some())
    }

    pub fn request_id(&self) -> RequestId {
        self.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// The loaded model `id` (a name [`Registry::resolve`] returned), loading it first if needed.
    pub async fn get(&self, id: &str) -> Result<Arc<LoadedModel>, ApiError> {
        let entry =
            self.entries.iter().find(|e| e.id == id).ok_or_else(|| ApiError::model_not_found(id, &self.ids()))?;
        entry.last_used.store(self.clock.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
        if let Some(model) = lock(&entry.loaded).clone() {
            return Ok(model);
        }
        let _loading = self.load_lock.lock().await;
        if let Some(model) = lock(&entry.loaded).clone() {
            return Ok(model);
        }
        self.unload_least_recent(self.max_loaded - 1);
        self.loading.fetch_add(1, Ordering::Relaxed);
        let loaded = load(id, entry.path.clone(), self.options.clone()).await;
        self.loading.fetch_sub(1, Ordering::Relaxed);
        let model = Arc::new(loaded.map_err(|e| ApiError::unavailable(format!("loading `{id}` failed: {e}")))?);
        *lock(&entry.loaded) = Some(Arc::clone(&model));
        Ok(model)
    }

    /// Unloads the least recently used models until at most `keep` are loaded.
    fn unload_least_recent(&self, keep: usize) {
        loop {
            let loaded: Vec<&Entry> = self.entries.iter().filter(|e| lock(&e.loaded).is_some()).collect();
            if loaded.len() <= keep {
                return;
            }
            if let Some(oldest) = loaded.iter().min_by_key(|e| e.last_used.load(Ordering::Relaxed)) {
                tracing::info!(model = %oldest.id, "unloading the least recently used model");
                lock(&oldest.loaded).take();
            }
        }
    }

    /// Unloads every model (at shutdown).
    pub fn unload_all(&self) {
        self.unload_least_recent(0);
    }
}

/// Loads model `id` from `path` into a new engine and starts routing its events.
async fn load(id: &str, path: PathBuf, options: LoadOptions) -> Result<LoadedModel, String> {
    let (cmds, mut events, thread) = EngineHandle::spawn().into_parts();
    let _ = cmds.send(EngineCmd::Load { path, options });
    let info = loop {
        match events.recv().await {
            Some(EngineEvent::Ready(info)) => break info,
            Some(EngineEvent::Error { message, .. }) => return Err(message),
            Some(_) => {}
            None => return Err("the engine thread stopped".into()),
        }
    };
    tracing::info!(model = id, ms = info.load_ms.round(), "model loaded");
    let routes: Routes = Arc::default();
    tokio::spawn(route_events(events, Arc::clone(&routes)));
    Ok(LoadedModel { cmds, routes, thread: Some(thread) })
}

/// Hands each request's events to it; a request's route ends with its `Done` or `Error`. When the
/// engine stops, every waiting request sees its channel close.
async fn route_events(mut events: UnboundedReceiver<EngineEvent>, routes: Routes) {
    while let Some(event) = events.recv().await {
        let (id, last) = match &event {
            EngineEvent::Token { id, .. } | EngineEvent::Stats { id, .. } | EngineEvent::PrefillProgress { id, .. } => {
                (*id, false)
            }
            EngineEvent::Done { id, .. } | EngineEvent::Error { id: Some(id), .. } => (*id, true),
            _ => continue,
        };
        let mut routes = lock(&routes);
        if let Some(tx) = routes.get(&id) {
            let _ = tx.send(event);
        }
        if last {
            routes.remove(&id);
        }
    }
    lock(&routes).clear();
}
