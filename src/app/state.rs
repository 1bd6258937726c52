//! Everything the screen shows, in one plain struct. Only `update` changes it.

use std::path::PathBuf;
use std::time::SystemTime;

use ratatui::layout::Rect;
use ratatui_textarea::{TextArea, WrapMode};

use crate::app::config::Settings;
use crate::app::conversation::{Conversation, Message};
use crate::app::input_history::InputHistory;
use crate::app::keymap::Keymap;
use crate::app::live_stats::LiveStats;
use crate::app::model_settings::{ModelSettings, RememberedSettings};
use crate::app::models::{HubFile, ModelEntry, ModelStatus};
use crate::app::msg::Effect;
use crate::app::persona::Persona;
use crate::app::search::{Preview, SearchMatch};
use crate::app::sliders::Knobs;
use crate::app::store::ConversationSummary;
use crate::app::text;
use crate::app::theme::ThemeChoice;
use crate::engine::protocol::{LoadOptions, ModelInfo, RequestId};
use crate::engine::token_counter::TokenCounter;
use crate::hub::download::Progress;

/// The request whose reply is streaming in.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub id: RequestId,
    /// Index of the assistant message being written.
    pub message: usize,
    /// A `Cancel` was sent; waiting for `Done(Cancelled)`.
    pub cancelling: bool,
    /// What the send that started this reply changed, to undo it if the engine refuses the
    /// request before writing anything (a message longer than the context): then nothing is
    /// saved and the text goes back into the input box. None for a regenerate.
    pub sent: Option<Box<SentDraft>>,
}

/// A sent message and the conversation before it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentDraft {
    pub text: String,
    /// The shown messages before the send (with their versions).
    pub before: Vec<Message>,
    pub editing: Option<usize>,
}

/// A model load in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Loading {
    pub path: PathBuf,
    pub fraction: f32,
    pub stage: String,
}

/// The download running in the background.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    pub file: HubFile,
    /// The model's name, for the gauge and notices.
    pub name: String,
    /// None until the first report.
    pub progress: Option<Progress>,
    /// A downloaded checkpoint being converted: tensors done and in all.
    pub converting: Option<(usize, usize)>,
    /// A cancel was sent; waiting for the download to stop.
    pub cancelling: bool,
}

/// Chat scroll position. `top == None` follows the end of the conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scroll {
    pub top: Option<usize>,
    /// Text arrived below the visible part since the user scrolled away.
    pub unseen_output: bool,
}

/// The chat area as last drawn: the loop stores it after each frame so that scrolling knows
/// how far it can go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatViewport {
    pub total_lines: usize,
    pub height: usize,
    /// Where on the screen the chat was drawn, for clicks.
    pub area: Rect,
    /// The line each shown message starts at (its label), in order: to scroll to a message.
    pub message_tops: Vec<usize>,
}

/// The draft's token count, counted off the UI thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftTokens {
    /// The text last sent to be counted.
    pub counting: String,
    /// The latest count; while typing it may be of a slightly older text.
    pub count: Option<usize>,
}

/// The rows of the open list (models, conversations, personas) as last drawn, for clicks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ListViewport {
    /// Where the rows are, below the list's header.
    pub rows: Rect,
    /// The item in the first row.
    pub first: usize,
    /// Lines per row (a search's rows carry a preview line).
    pub row_height: u16,
}

/// The history browser's contents.
#[derive(Debug, Clone, Default)]
pub struct HistoryBrowser {
    pub items: Vec<ConversationSummary>,
    /// An index into the rows shown (all items, or the search's matches).
    pub selected: usize,
    /// Set while a title is being typed.
    pub rename: Option<TextArea<'static>>,
    /// `delete` was pressed once on the selected item; a second press deletes.
    pub confirm_delete: bool,
    /// Set while the list is filtered by a search.
    pub search: Option<HistorySearch>,
}

/// A search of the history browser: the query and the conversations that hold it.
#[derive(Debug, Clone)]
pub struct HistorySearch {
    pub query: TextArea<'static>,
    /// The query box has the keys; otherwise the filtered list has them.
    pub typing: bool,
    pub matches: Vec<SearchMatch>,
}

impl HistoryBrowser {
    /// How many rows the list shows.
    pub fn row_count(&self) -> usize {
        self.search.as_ref().map_or(self.items.len(), |s| s.matches.len())
    }

    /// The conversation of row `row`, with the search's preview if any.
    pub fn row(&self, row: usize) -> Option<(&ConversationSummary, Option<&Preview>)> {
        match &self.search {
            Some(search) => {
                let found = search.matches.get(row)?;
                Some((self.items.get(found.item)?, found.preview.as_ref()))
            }
            None => self.items.get(row).map(|item| (item, None)),
        }
    }

    pub fn selected_item(&self) -> Option<&ConversationSummary> {
        self.row(self.selected).map(|(item, _)| item)
    }

    /// The search box has the keys.
    pub fn is_typing_query(&self) -> bool {
        self.search.as_ref().is_some_and(|s| s.typing)
    }
}

/// A view drawn over the chat that takes the keys while it is open.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Sliders {
        selected: usize,
    },
    Picker {
        selected: usize,
    },
    History(Box<HistoryBrowser>),
    /// The open conversation's system prompt, being edited.
    SystemPrompt(Box<TextArea<'static>>),
    /// A message of the conversation picked (an index into its shown messages). Drawn in the
    /// chat itself, marked.
    Messages {
        selected: usize,
        /// `delete` was pressed once; a second press deletes.
        confirm_delete: bool,
    },
    /// Which persona the new chat starts with (an index into `State::personas`).
    Personas {
        selected: usize,
    },
    /// Quitting with conversations the data folder would not take: retry, save elsewhere, or
    /// quit anyway.
    Unsaved,
    /// A model file's load settings, being edited.
    ModelSettings(Box<SettingsForm>),
    /// An error to read (a model that would not load): it stays until dismissed.
    Error(Box<ErrorPanel>),
}

/// The model settings panel's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsForm {
    pub path: PathBuf,
    pub name: String,
    pub settings: ModelSettings,
    /// What the panel opened with: confirming unchanged settings reloads nothing.
    pub opened_with: ModelSettings,
    pub selected: usize,
}

/// An error shown in a panel of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorPanel {
    pub title: String,
    pub message: String,
}

/// A text box that `$EDITOR` can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextBox {
    /// The message being written.
    Draft,
    /// The system prompt editor.
    SystemPrompt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

/// A one-line message in the footer, cleared by the next key.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
}

#[derive(Debug, Clone)]
pub struct State {
    /// Wall-clock time of the current message, set by the loop (tests set it by hand).
    pub now: SystemTime,
    pub conversation: Conversation,
    /// The default first, then the configured ones.
    pub personas: Vec<Persona>,
    pub input: TextArea<'static>,
    pub input_history: InputHistory,
    /// Index of the user message being edited; sending replaces it and everything after it.
    pub editing: Option<usize>,
    pub generation: Option<Generation>,
    pub next_request: RequestId,
    pub knobs: Knobs,
    /// What the sliders' reset key goes back to.
    pub knob_defaults: Knobs,
    /// The config's load settings (with the command line's), for any model file.
    pub load_options: LoadOptions,
    /// Settings chosen in the model settings panel, per model file, over `load_options`.
    pub model_settings: Vec<RememberedSettings>,
    /// Logical CPUs: the most threads the settings panel offers.
    pub cpus: usize,
    pub model: Option<ModelInfo>,
    /// The loaded model's tokenizer, for the token counts.
    pub token_counter: Option<TokenCounter>,
    pub tokens: DraftTokens,
    pub loading: Option<Loading>,
    /// The model manager's list.
    pub models: Vec<ModelEntry>,
    /// A search for models is running (off the UI thread); its list replaces `models`.
    pub discovering: bool,
    /// One download at a time; it keeps running while the user chats.
    pub download: Option<Download>,
    /// Loaded model files, most recent first; cycled by next/prev model.
    pub recent_models: Vec<PathBuf>,
    pub live: LiveStats,
    pub scroll: Scroll,
    pub viewport: ChatViewport,
    pub list_viewport: Option<ListViewport>,
    pub overlay: Option<Overlay>,
    /// `None` shows the stats panel when the terminal is wide enough.
    pub show_stats: Option<bool>,
    pub keymap: Keymap,
    pub no_color: bool,
    /// The app has the mouse (the wheel, clicks); off, the terminal selects text.
    pub mouse_capture: bool,
    pub theme: ThemeChoice,
    /// Widest the conversation's text gets, in columns; 0: the whole width.
    pub max_width: u16,
    pub notice: Option<Notice>,
    /// The interrupt key was pressed with nothing to stop; pressing it again quits.
    pub quit_armed: bool,
    pub quitting: bool,
    /// Conversations whose last save failed, newest copy of each; saved again with the next
    /// save, and never dropped on quit without asking.
    pub unsaved: Vec<Conversation>,
    /// The latest save error, for the quit dialog.
    pub save_error: Option<String>,
    /// Where unsaved conversations go when the data folder cannot take them.
    pub rescue_dir: PathBuf,
    /// Printed once the terminal is restored (where rescued conversations went).
    pub farewell: Option<String>,
    /// The log file, named by error panels.
    pub log_file: Option<PathBuf>,
    pub engine_alive: bool,
    /// Terminal size in cells.
    pub size: (u16, u16),
    /// Something changed since the last frame.
    pub dirty: bool,
}

/// Terminal width from which the stats panel shows unless the user toggled it.
pub const STATS_AUTO_MIN_WIDTH: u16 = 100;

/// How many model files the recent list keeps.
pub const RECENT_MODELS: usize = 10;

impl State {
    pub fn new(settings: &Settings, recent_models: Vec<PathBuf>, now: SystemTime) -> Self {
        let knobs = Knobs { sampling: settings.sampling.clone(), max_tokens: settings.max_tokens };
        let default_persona =
            Persona { name: None, system_prompt: settings.system_prompt.clone(), knobs: knobs.clone() };
        let mut personas = vec![default_persona];
        personas.extend(settings.personas.iter().cloned());
        let mut recent = settings.cli_models.clone();
        for path in recent_models {
            if !recent.contains(&path) {
                recent.push(path);
            }
        }
        recent.truncate(RECENT_MODELS);
        Self {
            now,
            conversation: new_conversation(now, &personas[0]),
            personas,
            input: new_input(),
            input_history: InputHistory::default(),
            editing: None,
            generation: None,
            next_request: 1,
            knob_defaults: knobs.clone(),
            knobs,
            load_options: settings.load.clone(),
            model_settings: Vec::new(),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            model: None,
            token_counter: None,
            tokens: DraftTokens::default(),
            loading: None,
            models: Vec::new(),
            discovering: false,
            download: None,
            recent_models: recent,
            live: LiveStats::default(),
            scroll: Scroll::default(),
            viewport: ChatViewport::default(),
            list_viewport: None,
            overlay: None,
            show_stats: settings.show_stats,
            keymap: settings.keymap.clone(),
            no_color: settings.no_color,
            mouse_capture: settings.mouse,
            theme: settings.theme.clone(),
            max_width: settings.max_width,
            notice: None,
            quit_armed: false,
            quitting: false,
            unsaved: Vec::new(),
            save_error: None,
            rescue_dir: std::env::temp_dir().join("bitnet-tui-rescue"),
            farewell: None,
            log_file: None,
            engine_alive: true,
            size: (80, 24),
            dirty: true,
        }
    }

    /// The model file loaded or being loaded.
    pub fn current_model_path(&self) -> Option<&PathBuf> {
        self.loading.as_ref().map(|l| &l.path).or(self.model.as_ref().map(|m| &m.path))
    }

    /// The options to load `path` with: its remembered settings over the config's.
    pub fn load_options_for(&self, path: &std::path::Path) -> LoadOptions {
        crate::app::model_settings::options_for(&self.model_settings, path, &self.load_options)
    }

    /// Shows an error in a panel until it is dismissed (over any view but the quit dialog, whose
    /// question must stay answerable).
    pub fn show_error(&mut self, title: impl Into<String>, message: impl Into<String>) {
        if !matches!(self.overlay, Some(Overlay::Unsaved)) {
            self.overlay = Some(Overlay::Error(Box::new(ErrorPanel { title: title.into(), message: message.into() })));
        }
    }

    /// The input box's text.
    pub fn input_text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn stats_visible(&self) -> bool {
        self.show_stats.unwrap_or(self.size.0 >= STATS_AUTO_MIN_WIDTH)
    }

    pub fn is_generating(&self) -> bool {
        self.generation.is_some()
    }

    /// Asks the loop to look for models again.
    pub fn discover_models(&mut self) -> Effect {
        self.discovering = true;
        Effect::DiscoverModels
    }

    /// A conversation's new title is being typed in the history browser.
    pub fn is_renaming(&self) -> bool {
        matches!(&self.overlay, Some(Overlay::History(b)) if b.rename.is_some())
    }

    /// A search is being typed in the history browser.
    pub fn is_searching(&self) -> bool {
        matches!(&self.overlay, Some(Overlay::History(b)) if b.is_typing_query())
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), level });
    }

    /// How far along a model row's download is: from the running download, else from the
    /// partial file it left.
    pub fn download_fraction(&self, entry: &ModelEntry) -> Option<f64> {
        let running = self.download.as_ref().filter(|d| entry.hub.as_ref() == Some(&d.file));
        if let Some(download) = running {
            let progress = download.progress?;
            return Some(progress.downloaded as f64 / progress.total.max(1) as f64);
        }
        match entry.status {
            ModelStatus::Partial { bytes } => entry.size_bytes.map(|size| bytes as f64 / size.max(1) as f64),
            _ => None,
        }
    }
}

/// An empty input box.
pub fn new_input() -> TextArea<'static> {
    text_box(text::INPUT_PLACEHOLDER)
}

/// An empty system prompt editor.
pub fn new_system_prompt_box() -> TextArea<'static> {
    text_box(text::SYSTEM_PROMPT_PLACEHOLDER)
}

/// An empty search box for the history browser.
pub fn new_search_box() -> TextArea<'static> {
    text_box(text::SEARCH_PLACEHOLDER)
}

/// An empty text box that wraps long lines at words.
fn text_box(placeholder: &str) -> TextArea<'static> {
    let mut text = TextArea::default();
    text.set_wrap_mode(WrapMode::WordOrGlyph);
    text.set_placeholder_text(placeholder);
    text.set_cursor_line_style(ratatui::style::Style::new());
    text
}

/// RFC 3339 UTC time, to the second.
pub fn timestamp(now: SystemTime) -> String {
    humantime::format_rfc3339_seconds(now).to_string()
}

/// A new, empty conversation with `persona`'s system prompt, whose id is its creation time to
/// the millisecond.
pub fn new_conversation(now: SystemTime, persona: &Persona) -> Conversation {
    let id: String = humantime::format_rfc3339_millis(now).to_string().chars().filter(char::is_ascii_digit).collect();
    let mut conversation = Conversation::new(id, timestamp(now));
    conversation.system_prompt = persona.system_prompt.clone();
    conversation.persona = persona.name.clone();
    conversation
}
