//! The labels, titles and cell texts the screen draws; notices come from [`crate::app::text`].

use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::model_settings::{ModelSettings, SettingField};
use crate::app::models::ModelSource;
use crate::app::sliders::Slider;
use crate::engine::protocol::{ContextPolicy, LmHead, Role, StopReason};
use crate::hub::format::{human_bytes, human_duration};

pub const APP_NAME: &str = "bitnet-tui";
pub const NO_MODEL_LOADED: &str = "no model";
pub const INPUT_TITLE: &str = " Message ";
pub const INPUT_TITLE_EDITING: &str = " Editing your message (sends a new version) ";
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
pub const PERSONAS_TITLE: &str = " New chat: pick a persona ";
pub const DEFAULT_PERSONA: &str = "default";
pub const NO_SYSTEM_PROMPT: &str = "(no system prompt)";
pub const SAVE_SYSTEM_PROMPT: &str = "save";
pub const DISCARD_CHANGES: &str = "discard changes";
pub const START_CHAT: &str = "start the chat";
pub const APPLY_SETTINGS: &str = "save and apply";
pub const MODEL_SETTINGS_TITLE: &str = " Model settings ";
pub const MODEL_SETTINGS_NOTE: &str = "Saved for this file; the loaded model reloads with them.";
/// The footer's mouse key, by what pressing it does.
pub const SELECT_TEXT: &str = "select text";
pub const TAKE_MOUSE: &str = "mouse";
pub const OTHER_MESSAGE: &str = "other message";
pub const PREVIOUS: &str = "previous";
pub const NEXT: &str = "next";
pub const EDIT: &str = "edit";
/// Marks the picked message's label.
pub const PICKED: &str = "▶ ";

/// Which version of a message is shown, e.g. "‹ 2/3 ›".
pub fn version(shown: usize, count: usize) -> String {
    format!("‹ {}/{count} ›", shown + 1)
}
pub const PICKER_SEARCHING: &str = "Looking for models…";
pub const PICKER_EMPTY: &str = "No models found. Start with --model PATH, or set models_dir in config.toml.";
pub const HISTORY_EMPTY: &str = "No saved conversations yet.";
pub const RENAME_TITLE: &str = " New title (typing replaces it, ←/→ edit it) ";
pub const SAVE_TITLE: &str = "save the title";
pub const TO_THE_LIST: &str = "to the list";
pub const CLEAR_SEARCH: &str = "clear the search";
pub const NO_MATCHES: &str = "No conversation holds these words.";
pub const KEEP_TITLE: &str = "keep the old title";
pub const READING_PROMPT: &str = "reading prompt";
pub const WAITING: &str = "waiting for the model…";
pub const GENERATING: &str = "generating";
pub const STOPPING: &str = "stopping…";
pub const LOADING: &str = "loading";
pub const IDLE: &str = "ready";
pub const MAX_TOKENS_NEXT_REPLY: &str = "applies to the next reply";
pub const STATS_NONE: &str = "No figures yet.";
pub const DOWNLOADED: &str = "downloaded";
pub const NOT_DOWNLOADED: &str = "not downloaded";
pub const MISSING: &str = "missing";

/// The input box's count of the draft: " 12 tokens · 0.3% of 4096 " (the share of the loaded
/// model's context it would take).
pub fn draft_tokens(tokens: usize, ctx: Option<usize>) -> String {
    match ctx.filter(|&ctx| ctx > 0) {
        Some(ctx) => format!(" {} · {:.1}% of {ctx} ", tokens_text(tokens), tokens as f64 * 100.0 / ctx as f64),
        None => format!(" {} ", tokens_text(tokens)),
    }
}

/// "1 token", "12 tokens".
pub fn tokens_text(tokens: usize) -> String {
    if tokens == 1 {
        "1 token".to_string()
    } else {
        format!("{tokens} tokens")
    }
}

/// The search box's title: what it searches and how many conversations match.
pub fn search_title(matches: usize, total: usize) -> String {
    format!(" Search titles and text · {matches} of {total} ")
}

/// Who wrote a search preview's message.
pub fn preview_role(role: Role) -> &'static str {
    match role {
        Role::User => "you: ",
        Role::Assistant => "reply: ",
        Role::System => "system: ",
    }
}

/// The system prompt editor's title, naming the conversation's persona.
pub fn system_prompt_title(persona: Option<&str>) -> String {
    match persona {
        Some(name) => format!(" System prompt ({name}) "),
        None => " System prompt ".to_string(),
    }
}

/// The label over a conversation's system prompt in the chat.
pub fn system_label(persona: Option<&str>) -> String {
    match persona {
        Some(name) => format!("{SYSTEM} · {name}"),
        None => SYSTEM.to_string(),
    }
}

/// Which item of a scrolled list is selected, as " 3/7 ".
pub fn position(selected: usize, len: usize) -> String {
    format!(" {}/{len} ", selected + 1)
}

/// A row's state in the model manager.
pub fn partial(percent: f64) -> String {
    format!("partial {percent:.0}%")
}

pub fn downloading(percent: Option<f64>) -> String {
    percent.map_or_else(|| "downloading…".to_string(), |p| format!("downloading {p:.0}%"))
}

/// The gauge's label while a downloaded checkpoint is converted.
pub fn converting_gauge(name: &str, done: usize, total: usize) -> String {
    format!("⚙ {name} converting, tensor {done} of {total}")
}

/// The gauge's label: name, percent, rate and time left.
pub fn download_gauge(name: &str, progress: Option<&crate::hub::download::Progress>) -> String {
    let Some(p) = progress else {
        return format!("⇣ {name} starting…");
    };
    let percent = p.downloaded as f64 * 100.0 / p.total.max(1) as f64;
    let mut text = format!("⇣ {name} {percent:.0}% of {}", human_bytes(p.total));
    if p.bytes_per_sec > 0.0 {
        text.push_str(&format!(" · {}/s", human_bytes(p.bytes_per_sec as u64)));
    }
    if let Some(eta) = p.eta {
        text.push_str(&format!(" · {} left", human_duration(eta)));
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

/// Where an error panel's error was also written.
pub fn logged_in(log: &std::path::Path) -> String {
    format!("Also written to the log: {}", log.display())
}

pub fn setting_name(field: SettingField) -> &'static str {
    match field {
        SettingField::Context => "context size",
        SettingField::ContextPolicy => "when the context is full",
        SettingField::Threads => "threads",
        SettingField::LmHead => "LM head",
    }
}

pub fn setting_value(field: SettingField, s: &ModelSettings) -> String {
    match field {
        SettingField::Context if s.ctx == 0 => "the model's own".to_string(),
        SettingField::Context => format!("{} tokens", s.ctx),
        SettingField::ContextPolicy => match s.context_policy {
            ContextPolicy::Stop => "stop the reply",
            ContextPolicy::DropOldest => "drop the oldest turns",
        }
        .to_string(),
        SettingField::Threads if s.threads == 0 => "one per core".to_string(),
        SettingField::Threads => s.threads.to_string(),
        SettingField::LmHead => match s.lm_head {
            LmHead::F16 => "f16 (exact)",
            LmHead::Q8 => "q8",
            LmHead::Q6 => "q6",
            LmHead::Q4 => "q4 (smallest)",
        }
        .to_string(),
    }
}

/// What a setting trades, shown under the panel for the selected one.
pub fn setting_help(field: SettingField) -> &'static str {
    match field {
        SettingField::Context => "Tokens a conversation can hold. Memory grows with it as the chat gets longer.",
        SettingField::ContextPolicy => {
            "Stop the reply, or forget the oldest turns (never the system prompt) and go on."
        }
        SettingField::Threads => "Compute threads. One per physical core is fastest; more only fight over the cores.",
        SettingField::LmHead => {
            "How an F16 output layer is held: f16 is exact, q8 reads half the bytes (faster), q6 and q4 fewer still."
        }
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
        ModelSource::CatalogCheckpoint => "catalog · converts",
    }
}

pub fn scope_title(scope: Scope) -> &'static str {
    match scope {
        Scope::Global => "Anywhere",
        Scope::Chat => "Chat",
        Scope::Messages => "A picked message",
        Scope::Input => "Text boxes (message, system prompt)",
        Scope::SystemPrompt => "System prompt editor",
        Scope::Personas => "New chat: personas",
        Scope::Sliders => "Sampling panel",
        Scope::Picker => "Model picker",
        Scope::History => "Conversations",
        Scope::HistorySearch => "Conversations: the search box",
        Scope::Help => "This help",
        Scope::Unsaved => "Quitting with unsaved conversations",
        Scope::ModelSettings => "Model settings",
        Scope::Error => "Error panel",
    }
}

/// What an action does, for the help overlay and the footer.
pub fn action_label(action: Action) -> String {
    let text = match action {
        Action::Interrupt => "stop the reply / clear draft / quit",
        Action::Quit => "quit",
        Action::Suspend => "suspend to the shell",
        Action::Help => "keys",
        Action::ToggleStats => "stats panel",
        Action::OpenSliders => "sampling",
        Action::OpenModels => "models",
        Action::OpenHistory => "conversations",
        Action::NextModel => "next recent model",
        Action::PrevModel => "previous recent model",
        Action::Redraw => "redraw the screen",
        Action::OpenSystemPrompt => "system prompt",
        Action::OpenModelSettings => "model settings (context, threads)",
        Action::ToggleMouse => "mouse on / off (off: select text)",
        Action::CycleTheme => "next colour theme",
        Action::Send => "send",
        Action::Newline => "new line",
        Action::Stop => "stop the reply / cancel edit",
        Action::Regenerate => "regenerate",
        Action::ContinueReply => "continue the stopped reply",
        Action::EditLast => "edit last message",
        Action::SelectMessages => "pick a message",
        Action::PrevVersion => "previous version (chat: empty box)",
        Action::NextVersion => "next version (chat: empty box)",
        Action::EditMessage => "edit (sends a new version)",
        Action::LineStart => "start of line",
        Action::LineEnd => "end of line",
        Action::WordLeft => "word left",
        Action::WordRight => "word right",
        Action::DeleteToLineStart => "delete to start of line",
        Action::DeleteToLineEnd => "delete to end of line",
        Action::DeleteWordBack => "delete the word before",
        Action::DeleteWordForward => "delete the word after",
        Action::Undo => "undo",
        Action::OpenEditor => "edit in $EDITOR",
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
        Action::Search => "search titles and text",
        Action::Download => "download",
        Action::CancelDownload => "cancel the download",
        Action::Retry => "try saving again",
        Action::SaveElsewhere => "save them elsewhere",
        Action::QuitAnyway => "quit without them",
    };
    text.to_string()
}
