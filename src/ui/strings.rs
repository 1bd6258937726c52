//! Every text the user reads, in one place.

use std::path::Path;

use crate::app::action::Action;
use crate::app::keymap::{KeyCombo, Keymap, Scope};
use crate::app::models::{ModelKind, ModelSource};
use crate::app::sliders::Slider;
use crate::engine::protocol::{ModelInfo, StopReason};

pub const APP_NAME: &str = "bitnet-tui";
pub const NO_MODEL_LOADED: &str = "no model";
pub const INPUT_TITLE: &str = " Message ";
pub const INPUT_TITLE_EDITING: &str = " Editing last message ";
pub const INPUT_PLACEHOLDER: &str = "Type a message…";
pub const YOU: &str = "You";
pub const ASSISTANT: &str = "Assistant";
pub const SYSTEM: &str = "System";
pub const EMPTY_CHAT: &str = "Start typing below. F1 lists every key.";
pub const NEW_OUTPUT_BELOW: &str = " ↓ new output below ";
pub const MORE_BELOW: &str = " ↓ more below ";
pub const STATS_TITLE: &str = " Live ";
pub const SLIDERS_TITLE: &str = " Sampling ";
pub const PICKER_TITLE: &str = " Models ";
pub const HISTORY_TITLE: &str = " Conversations ";
pub const HELP_TITLE: &str = " Keys ";
pub const PICKER_EMPTY: &str = "No models found. Start with --model PATH, or set models_dir in config.toml.";
pub const HISTORY_EMPTY: &str = "No saved conversations yet.";
pub const RENAME_TITLE: &str = " New title ";
pub const READING_PROMPT: &str = "reading prompt";
pub const WAITING: &str = "waiting for the model…";
pub const GENERATING: &str = "generating";
pub const STOPPING: &str = "stopping…";
pub const LOADING: &str = "loading";
pub const IDLE: &str = "ready";
pub const MAX_TOKENS_NEXT_REPLY: &str = "applies to the next reply";
pub const STATS_NONE: &str = "No figures yet.";

pub const EDIT_CANCELLED: &str = "Edit cancelled.";
pub const NOTHING_TO_REGENERATE: &str = "Nothing to regenerate: send a message first.";
pub const NOTHING_TO_EDIT: &str = "No message of yours to edit yet.";
pub const NEW_CHAT: &str = "New chat.";
pub const COPIED_REPLY: &str = "Copied the last reply.";
pub const NOTHING_TO_COPY: &str = "No reply to copy yet.";
pub const NOTHING_TO_EXPORT: &str = "Nothing to export yet.";
pub const CONTEXT_FULL: &str = "The context window is full: start a new chat or load with a larger --ctx.";
pub const ENGINE_GONE: &str = "The engine stopped; restart bitnet-tui (the log file says why).";
pub const SLIDERS_RESET: &str = "Sampling settings reset to their defaults.";

pub const SAVING: &str = "Saving the conversation";
pub const DELETING: &str = "Deleting the conversation";
pub const RENAMING: &str = "Renaming the conversation";
pub const LISTING: &str = "Listing conversations";
pub const OPENING: &str = "Opening the conversation";
pub const EXPORTING: &str = "Exporting";
pub const COPYING: &str = "Copying to the clipboard";
pub const SAVING_RECENT: &str = "Saving the recent models list";
pub const SUSPENDING: &str = "Suspending";

pub fn failed(what: &str, error: &dyn std::fmt::Display) -> String {
    format!("{what} failed: {error}")
}

/// Keys of an action, as "Esc/Ctrl+C".
pub fn keys_text(keys: &[KeyCombo]) -> String {
    keys.iter().map(ToString::to_string).collect::<Vec<_>>().join("/")
}

/// The first key of an action, for hints in notices.
fn key_of(keymap: &Keymap, scope: Scope, action: Action) -> String {
    keymap.keys_for(scope, action).first().map_or_else(|| format!("`{action}` (unbound)"), ToString::to_string)
}

pub fn busy(keymap: &Keymap) -> String {
    format!("A reply is being written; {} stops it.", key_of(keymap, Scope::Chat, Action::Stop))
}

pub fn no_model(keymap: &Keymap) -> String {
    format!(
        "No model loaded: press {} to pick one (or start with --model PATH).",
        key_of(keymap, Scope::Global, Action::OpenModels)
    )
}

pub const NO_DOWNLOAD: &str = "No download is running.";
pub const DOWNLOADED: &str = "downloaded";
pub const NOT_DOWNLOADED: &str = "not downloaded";

pub fn download_started(name: &str) -> String {
    format!("Downloading {name}; it goes on while you chat.")
}

pub fn download_busy(name: &str, keymap: &Keymap) -> String {
    format!(
        "{name} is downloading; one download at a time ({} cancels it).",
        key_of(keymap, Scope::Picker, Action::CancelDownload)
    )
}

pub fn already_downloaded(name: &str) -> String {
    format!("{name} is downloaded already.")
}

pub fn download_cancelling(name: &str) -> String {
    format!("Stopping the download of {name}…")
}

pub fn downloaded(name: &str, keymap: &Keymap) -> String {
    format!(
        "Downloaded {name}; {} opens the models, {} loads it.",
        key_of(keymap, Scope::Global, Action::OpenModels),
        key_of(keymap, Scope::Picker, Action::Confirm)
    )
}

pub fn download_cancelled(name: &str, keymap: &Keymap) -> String {
    format!(
        "Download of {name} stopped; the partial file is kept and {} resumes it.",
        key_of(keymap, Scope::Picker, Action::Download)
    )
}

pub fn download_failed(name: &str, error: &str) -> String {
    failed(&format!("Downloading {name}"), &error)
}

pub fn not_downloaded(name: &str, keymap: &Keymap) -> String {
    format!("{name} is not downloaded yet: {} downloads it.", key_of(keymap, Scope::Picker, Action::Download))
}

/// A row's state in the model manager.
pub fn partial(percent: f64) -> String {
    format!("partial {percent:.0}%")
}

pub fn downloading(percent: Option<f64>) -> String {
    percent.map_or_else(|| "downloading…".to_string(), |p| format!("downloading {p:.0}%"))
}

/// The gauge's label: name, percent, rate and time left.
pub fn download_gauge(name: &str, progress: Option<&crate::hub::download::Progress>) -> String {
    let Some(p) = progress else {
        return format!("⇣ {name} starting…");
    };
    let percent = p.downloaded as f64 * 100.0 / p.total.max(1) as f64;
    let mut text = format!("⇣ {name} {percent:.0}% of {}", bytes(p.total));
    if p.bytes_per_sec > 0.0 {
        text.push_str(&format!(" · {}/s", bytes(p.bytes_per_sec as u64)));
    }
    if let Some(eta) = p.eta {
        text.push_str(&format!(" · {} left", crate::hub::format::human_duration(eta)));
    }
    text
}

pub fn press_again_to_quit(keymap: &Keymap) -> String {
    format!("Press {} again to quit.", key_of(keymap, Scope::Global, Action::Interrupt))
}

pub fn editing(keymap: &Keymap) -> String {
    format!(
        "Editing your last message: {} resends it (the reply after it is replaced), {} cancels.",
        key_of(keymap, Scope::Chat, Action::Send),
        key_of(keymap, Scope::Chat, Action::Stop)
    )
}

pub fn no_other_model(keymap: &Keymap) -> String {
    format!("No other recent model: press {} to pick one.", key_of(keymap, Scope::Global, Action::OpenModels))
}

pub fn confirm_delete(title: &str, keys: &[KeyCombo]) -> String {
    format!("Delete “{title}”? Press {} again to delete it for good.", keys_text(keys))
}

pub fn deleted(title: &str) -> String {
    format!("Deleted “{title}”.")
}

pub fn opened(title: &str) -> String {
    format!("Opened “{title}”.")
}

pub fn copied_block(number: usize) -> String {
    format!("Copied code block {number}.")
}

pub fn no_code_block(number: Option<usize>) -> String {
    match number {
        Some(n) => format!("There is no code block {n}."),
        None => "There is no code block yet.".to_string(),
    }
}

pub fn exported(path: &Path) -> String {
    format!("Exported to {}", path.display())
}

pub fn generation_failed(message: &str) -> String {
    format!("The reply failed: {message}")
}

pub fn load_failed(path: &Path, message: &str) -> String {
    format!("Could not load {}: {message}", path.display())
}

pub fn engine_error(message: &str) -> String {
    format!("Engine error: {message}")
}

pub fn already_loaded(path: &Path) -> String {
    format!("{} is already loaded.", path.display())
}

pub fn loaded(info: &ModelInfo, reprefill: bool) -> String {
    let mut text = format!("Loaded {} ({}, {}) in {:.1} s.", info.name, info.arch, info.quant, info.load_ms / 1000.0);
    if reprefill {
        text.push_str(" Your next message re-reads the conversation in its chat format.");
    }
    text
}

pub fn stop_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::EndOfText => "end of text",
        StopReason::MaxTokens => "max tokens",
        StopReason::Cancelled => "stopped",
        StopReason::ContextFull => "context full",
    }
}

pub fn too_small(width: u16, height: u16, min_width: u16, min_height: u16) -> String {
    format!("Terminal too small: {width}×{height}. Make it at least {min_width}×{min_height}.")
}

pub fn slider_name(slider: Slider) -> &'static str {
    match slider {
        Slider::Temperature => "temperature",
        Slider::TopP => "top-p",
        Slider::TopK => "top-k",
        Slider::MinP => "min-p",
        Slider::RepeatPenalty => "repeat penalty",
        Slider::MaxTokens => "max tokens",
        Slider::Seed => "seed",
    }
}

pub fn model_kind(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Base => "base",
        ModelKind::Instruct => "instruct",
        ModelKind::Unknown => "?",
    }
}

pub fn model_source(source: ModelSource) -> &'static str {
    match source {
        ModelSource::CommandLine => "command line",
        ModelSource::Config => "config",
        ModelSource::Recent => "recent",
        ModelSource::ModelsDir => "models dir",
        ModelSource::HfCache => "hf cache",
        ModelSource::Catalog => "catalog",
    }
}

/// Sizes as "1.2 GB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn scope_title(scope: Scope) -> &'static str {
    match scope {
        Scope::Global => "Anywhere",
        Scope::Chat => "Chat",
        Scope::Sliders => "Sampling panel",
        Scope::Picker => "Model picker",
        Scope::History => "Conversations",
        Scope::Help => "This help",
    }
}

/// What an action does, for the help overlay and the footer.
pub fn action_label(action: Action) -> String {
    let text = match action {
        Action::Interrupt => "stop the reply; again to quit",
        Action::Quit => "quit",
        Action::Suspend => "suspend to the shell",
        Action::Help => "keys",
        Action::ToggleStats => "stats panel",
        Action::OpenSliders => "sampling",
        Action::OpenModels => "models",
        Action::OpenHistory => "conversations",
        Action::NextModel => "next recent model",
        Action::PrevModel => "previous recent model",
        Action::Send => "send",
        Action::Newline => "new line",
        Action::Stop => "stop the reply / cancel edit",
        Action::Regenerate => "regenerate",
        Action::EditLast => "edit last message",
        Action::NewChat => "new chat",
        Action::HistoryPrev => "earlier input (empty box)",
        Action::HistoryNext => "later input (empty box)",
        Action::ScrollUp => "scroll up",
        Action::ScrollDown => "scroll down",
        Action::PageUp => "page up",
        Action::PageDown => "page down",
        Action::ScrollTop => "go to the top",
        Action::ScrollBottom => "go to the bottom (follow)",
        Action::CopyReply => "copy the last reply",
        Action::CopyLastCode => "copy the last code block",
        Action::CopyCode(n) => return format!("copy code block {n}"),
        Action::ExportMarkdown => "export to markdown",
        Action::Up => "up",
        Action::Down => "down",
        Action::Decrease => "decrease",
        Action::Increase => "increase",
        Action::DecreaseCoarse => "decrease a lot",
        Action::IncreaseCoarse => "increase a lot",
        Action::Reset => "reset to defaults",
        Action::Confirm => "open / load",
        Action::Rename => "rename",
        Action::Delete => "delete",
        Action::Close => "close",
        Action::Download => "download",
        Action::CancelDownload => "cancel the download",
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_190_000_000), "1.2 GB");
    }
}
