//! Downloads from the model manager: start, cancel, and the reports of the background thread.

use crate::app::models::ModelStatus;
use crate::app::msg::{DownloadEvent, Effect};
use crate::app::state::{Download, NoticeLevel, State};
use crate::app::text;

/// Downloads the selected entry (a partial one resumes).
pub(super) fn start(state: &mut State, selected: usize) -> Vec<Effect> {
    if let Some(running) = &state.download {
        let text = text::download_busy(&running.name, &state.keymap);
        state.notify(NoticeLevel::Warning, text);
        return Vec::new();
    }
    let Some(entry) = state.models.get(selected) else {
        return Vec::new();
    };
    let file = match (&entry.hub, entry.status) {
        (_, ModelStatus::Downloaded) => {
            let text = text::already_downloaded(&entry.name);
            state.notify(NoticeLevel::Info, text);
            return Vec::new();
        }
        (None, _) => return Vec::new(),
        (Some(file), _) => file.clone(),
    };
    let name = entry.name.clone();
    state.notify(NoticeLevel::Info, text::download_started(&name));
    state.download = Some(Download { file: file.clone(), name, progress: None, converting: None, cancelling: false });
    vec![Effect::StartDownload(file)]
}

pub(super) fn cancel(state: &mut State) -> Vec<Effect> {
    match &mut state.download {
        Some(download) if !download.cancelling => {
            download.cancelling = true;
            let text = text::download_cancelling(&download.name);
            state.notify(NoticeLevel::Info, text);
            vec![Effect::CancelDownload]
        }
        Some(_) => Vec::new(),
        None => {
            state.notify(NoticeLevel::Warning, text::NO_DOWNLOAD);
            Vec::new()
        }
    }
}

pub(super) fn on_event(state: &mut State, event: DownloadEvent) -> Vec<Effect> {
    let Some(download) = &mut state.download else {
        return Vec::new();
    };
    let name = download.name.clone();
    let (level, text) = match event {
        DownloadEvent::Progress(progress) => {
            download.progress = Some(progress);
            return Vec::new();
        }
        DownloadEvent::Converting { done, total } => {
            download.converting = Some((done, total));
            return Vec::new();
        }
        DownloadEvent::Finished(_) => (NoticeLevel::Info, text::downloaded(&name, &state.keymap)),
        DownloadEvent::Cancelled => (NoticeLevel::Info, text::download_cancelled(&name, &state.keymap)),
        DownloadEvent::Failed(error) => (NoticeLevel::Error, text::download_failed(&name, &error)),
    };
    state.download = None;
    state.notify(level, text);
    // The list shows what is on disk now.
    vec![state.discover_models()]
}
