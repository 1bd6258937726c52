//! The notices and other texts that `update` and the run loop write: what happened, and what
//! key to press next (read from the active keymap).

use std::path::Path;

use crate::app::action::Action;
use crate::app::keymap::{KeyCombo, Keymap, Scope};
use crate::app::msg::{ClipboardKind, Copied};
use crate::engine::protocol::ModelInfo;

pub const INPUT_PLACEHOLDER: &str = "Type a message…";
pub const SEARCH_PLACEHOLDER: &str = "Words in a title or a message…";
pub const SYSTEM_PROMPT_PLACEHOLDER: &str = "No system prompt: type one, or leave this empty for none.";
pub const EDIT_CANCELLED: &str = "Edit cancelled.";
pub const NOTHING_TO_REGENERATE: &str = "Nothing to regenerate: send a message first.";
pub const NOTHING_TO_EDIT: &str = "No message of yours to edit yet.";
pub const NOTHING_TO_SELECT: &str = "No messages yet.";
pub const NO_OTHER_VERSION: &str = "No other version there.";
pub const MESSAGE_DELETED: &str = "Deleted the message and what followed it.";
pub const NEW_CHAT: &str = "New chat.";
pub const NOTHING_TO_COPY: &str = "No reply to copy yet.";
pub const NOTHING_TO_EXPORT: &str = "Nothing to export yet.";
pub const CONTEXT_FULL: &str = "The context window is full: start a new chat or load with a larger --ctx.";
pub const ENGINE_GONE: &str = "The engine stopped; restart bitnet-tui (the log file says why).";
pub const SLIDERS_RESET: &str = "Sampling settings reset to their defaults.";
pub const SAVING: &str = "Saving the conversation";
pub const RESCUING: &str = "Saving the unsaved conversations elsewhere";
pub const DELETING: &str = "Deleting the conversation";
pub const RENAMING: &str = "Renaming the conversation";
pub const LISTING: &str = "Listing conversations";
pub const OPENING: &str = "Opening the conversation";
pub const EXPORTING: &str = "Exporting";
pub const COPYING: &str = "Copying to the clipboard";
pub const SAVING_RECENT: &str = "Saving the recent models list";
pub const SUSPENDING: &str = "Suspending";
pub const SAVING_INPUT_HISTORY: &str = "Saving the input history";
pub const EDITING_EXTERNALLY: &str = "Editing in $EDITOR";
pub const SAVING_MODEL_SETTINGS: &str = "Saving the model settings";
pub const NO_MODEL_FOR_SETTINGS: &str =
    "No model is loaded: load one, or select a model in the model manager, to change its settings.";
pub const LOAD_FAILED_TITLE: &str = "The model did not load";
pub const ENGINE_ERROR_TITLE: &str = "Engine error";
pub const MOUSE: &str = "Switching the mouse";

pub fn failed(what: &str, error: &dyn std::fmt::Display) -> String {
    format!("{what} failed: {error}")
}

pub fn unreadable_conversations(count: usize, first: &str) -> String {
    let more = if count > 1 { format!(" (and {} more; see the log)", count - 1) } else { String::new() };
    format!("Not listed, could not be read: {first}{more}")
}

pub fn send_refused(reason: &str) -> String {
    format!("Not sent: {reason}. Your message is back in the input box.")
}

pub fn save_failed(error: &str) -> String {
    format!("Saving the conversation failed: {error}. It is kept in memory and saved again with the next change.")
}

/// The quit dialog's question.
pub fn unsaved_question(count: usize, error: Option<&str>, rescue_dir: &std::path::Path) -> String {
    let what = if count == 1 { "1 conversation".to_string() } else { format!("{count} conversations") };
    let why = error.map(|e| format!(" ({e})")).unwrap_or_default();
    format!(
        "{what} could not be saved{why}. Try again, save to {} (open it with BITNET_TUI_DATA set to that \
         folder), or quit without them.",
        rescue_dir.display()
    )
}

pub fn rescued(dir: &std::path::Path, count: usize) -> String {
    format!(
        "Saved {count} unsaved conversation(s) to {}; run with BITNET_TUI_DATA={} to open them, or move the \
         files into your data folder's conversations/.",
        dir.join("conversations").display(),
        dir.display()
    )
}

pub fn not_saved(count: usize) -> String {
    format!("Quit without saving {count} conversation(s).")
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

pub fn press_again_to_quit(keymap: &Keymap) -> String {
    format!("Press {} again to quit.", key_of(keymap, Scope::Global, Action::Interrupt))
}

pub fn editing(keymap: &Keymap) -> String {
    format!(
        "Editing your message: {} sends it as a new version (the old one stays, {}/{} flip), {} cancels.",
        key_of(keymap, Scope::Chat, Action::Send),
        key_of(keymap, Scope::Chat, Action::PrevVersion),
        key_of(keymap, Scope::Chat, Action::NextVersion),
        key_of(keymap, Scope::Chat, Action::Stop)
    )
}

pub fn only_your_messages(keymap: &Keymap) -> String {
    format!(
        "Only your messages can be edited; {} writes a new version of a reply.",
        key_of(keymap, Scope::Messages, Action::Regenerate)
    )
}

pub fn empties_conversation(keymap: &Keymap) -> String {
    format!(
        "That would leave the conversation empty: delete the whole conversation in the list ({}).",
        key_of(keymap, Scope::Global, Action::OpenHistory)
    )
}

pub fn mouse_toggled(on: bool, keymap: &Keymap) -> String {
    let key = key_of(keymap, Scope::Global, Action::ToggleMouse);
    if on {
        format!("Mouse on: the wheel scrolls, a click picks a message; {key} lets the terminal select text.")
    } else {
        format!("Mouse off: the terminal selects text; {key} turns the mouse back on.")
    }
}

pub fn nothing_to_continue(keymap: &Keymap) -> String {
    format!(
        "Nothing to continue: the last reply is not a stopped one ({} writes a new version).",
        key_of(keymap, Scope::Chat, Action::Regenerate)
    )
}

/// Shown after flipping: which version, of how many.
pub fn showing_version(shown: usize, count: usize) -> String {
    format!("Version {} of {count}.", shown + 1)
}

pub fn confirm_delete_message(has_followers: bool, keys: &[KeyCombo]) -> String {
    let what = if has_followers { "this message and everything after it" } else { "this message" };
    format!("Delete {what}? Press {} again to delete.", keys_text(keys))
}

pub fn draft_cleared(keymap: &Keymap) -> String {
    format!("Draft cleared; {} brings it back.", key_of(keymap, Scope::Chat, Action::HistoryPrev))
}

pub fn new_chat_with(persona: Option<&str>) -> String {
    match persona {
        Some(name) => format!("New chat as {name}."),
        None => NEW_CHAT.to_string(),
    }
}

pub fn system_prompt_saved(cleared: bool, generating: bool) -> String {
    let what = if cleared { "System prompt removed" } else { "System prompt saved" };
    let when = if generating { "from the next reply on" } else { "from the next message on" };
    format!("{what}; it applies {when}.")
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

pub fn copied(what: Copied, via: ClipboardKind) -> String {
    let what = match what {
        Copied::Reply => "the last reply".to_string(),
        Copied::CodeBlock { number, closed: true } => format!("code block {number}"),
        Copied::CodeBlock { number, closed: false } => format!("code block {number} (its fence is not closed)"),
    };
    match via {
        ClipboardKind::System => format!("Copied {what} to the system clipboard."),
        ClipboardKind::Osc52 => {
            format!("Sent {what} to the terminal's clipboard (OSC 52; no system clipboard reachable).")
        }
    }
}

pub fn empty_code_block(number: usize, closed: bool) -> String {
    let open = if closed { "" } else { " and its fence is not closed" };
    format!("Code block {number} is empty{open}: nothing copied.")
}

pub fn no_code_block(number: Option<usize>) -> String {
    match number {
        Some(n) => format!("There is no code block {n}."),
        None => "There is no code block yet.".to_string(),
    }
}

pub fn theme(name: &str) -> String {
    format!("Theme: {name}.")
}

pub fn exported(path: &Path) -> String {
    format!("Exported to {}", path.display())
}

pub fn generation_failed(message: &str) -> String {
    format!("The reply failed: {message}")
}

/// A load failed; the engine keeps the model it had (`kept`), which the user may go on with.
/// The engine's message names the whole path, so this names the file only.
pub fn load_failed(path: &Path, message: &str, kept: Option<&str>) -> String {
    let file = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    match kept {
        Some(name) => format!("Could not load {file} (still using {name}): {message}"),
        None => format!("Could not load {file}: {message}"),
    }
}

pub fn model_missing(name: &str, path: &Path) -> String {
    format!("{name} is no longer at {}; it was moved or deleted.", path.display())
}

pub fn engine_error(message: &str) -> String {
    format!("Engine error: {message}")
}

/// The model settings panel was confirmed for `name`; `reloading` when they changed for the
/// loaded model, which loads again with them.
pub fn model_settings_saved(name: &str, reloading: bool) -> String {
    match reloading {
        true => format!("Settings for {name} saved; reloading it with them."),
        false => format!("Settings for {name} saved; they apply whenever it loads."),
    }
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
