//! What `update` consumes (`Msg`) and what it asks the loop to do (`Effect`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::app::conversation::Conversation;
use crate::app::model_settings::RememberedSettings;
use crate::app::models::{HubFile, ModelEntry};
use crate::app::state::TextBox;
use crate::app::store::Listing;
use crate::engine::protocol::{EngineCmd, EngineEvent};
use crate::engine::token_counter::TokenCounter;
use crate::hub::download::Progress;

/// Everything that can change the state.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A wheel turn or a click (the loop passes no others).
    Mouse(MouseEvent),
    /// Bracketed paste: the whole text at once.
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    Engine(EngineEvent),
    /// The engine's event channel closed.
    EngineGone,
    ModelsFound(Vec<ModelEntry>),
    Download(DownloadEvent),
    ConversationsListed(Listing),
    ConversationOpened(Conversation),
    Exported(PathBuf),
    /// The clipboard took `what`, by way of `via`.
    Copied {
        what: Copied,
        via: ClipboardKind,
    },
    /// `$EDITOR` closed, leaving `text` for the box it was opened on.
    Edited {
        target: TextBox,
        text: String,
    },
    /// An effect failed; the text says which and why.
    EffectFailed(String),
    /// The conversation with this id reached the disk.
    Saved(String),
    /// A conversation could not be written; it stays in memory and is tried again.
    SaveFailed {
        conversation: Box<Conversation>,
        error: String,
    },
    /// The unsaved conversations were written to this folder instead.
    Rescued {
        dir: PathBuf,
        count: usize,
    },
    /// Queued by [`Effect::Queue`] after a quit's saves: quit if nothing is left unsaved,
    /// otherwise ask (`ask`) or rescue the rest and quit anyway (a signal: nobody to ask).
    QuitWhenSaved {
        ask: bool,
    },
    /// SIGTERM / SIGHUP: save and leave.
    Terminate,
    /// A [`Effect::CountTokens`] was done.
    TokensCounted(TokenCount),
}

/// Work with side effects, run by the loop in the order given.
#[derive(Debug, Clone)]
pub enum Effect {
    Engine(EngineCmd),
    SaveConversation(Conversation),
    /// Write these conversations to `dir` (a store of their own there), when the data folder
    /// cannot take them.
    Rescue {
        dir: PathBuf,
        conversations: Vec<Conversation>,
    },
    DeleteConversation(String),
    /// Rename a stored conversation that is not the open one.
    RenameConversation {
        id: String,
        title: String,
    },
    ListConversations,
    OpenConversation(String),
    Export(Conversation),
    /// Export a stored conversation that is not the open one.
    ExportStored(String),
    CopyToClipboard {
        text: String,
        what: Copied,
    },
    DiscoverModels,
    /// Download a hub file into the cache on a background thread.
    StartDownload(HubFile),
    /// Stop the running download, keeping its partial file.
    CancelDownload,
    SaveRecentModels(Vec<PathBuf>),
    SaveInputHistory(Vec<String>),
    SaveModelSettings(Vec<RememberedSettings>),
    /// Suspend the screen and edit `text` in `$VISUAL` / `$EDITOR`; the result comes back as
    /// `Msg::Edited`.
    OpenEditor {
        target: TextBox,
        text: String,
    },
    Suspend,
    /// Take the mouse (true) or leave it to the terminal.
    SetMouseCapture(bool),
    /// Clear the terminal so that the next frame draws every cell.
    Redraw,
    /// Queue this message behind the results of the effects before it, so that `update` sees
    /// those results first.
    Queue(Box<Msg>),
    /// Count tokens off the UI thread (a long text takes milliseconds); answered by
    /// `Msg::TokensCounted`.
    CountTokens {
        counter: TokenCounter,
        job: TokenJob,
    },
}

/// Text whose tokens to count.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenJob {
    /// The draft; only the latest one waiting is worth counting.
    Draft(String),
    /// Messages of the conversation `id`, by index.
    Messages { id: String, texts: Vec<(usize, String)> },
}

/// The answer to a [`TokenJob`].
#[derive(Debug, Clone, PartialEq)]
pub enum TokenCount {
    Draft(usize),
    /// Messages of the conversation `id`: (index, text's hash, tokens); the hash tells a count
    /// of a message that was replaced meanwhile.
    Messages {
        id: String,
        counts: Vec<(usize, u64, usize)>,
    },
}

/// Tells a counted text from another.
pub fn text_hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What the background download reports.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadEvent {
    Progress(Progress),
    /// A downloaded checkpoint is being converted: tensors done and in all.
    Converting {
        done: usize,
        total: usize,
    },
    /// Verified and linked in the cache, at this path.
    Finished(PathBuf),
    /// Stopped by a cancel; the partial file stays for a resume.
    Cancelled,
    /// The error's text, naming the file or URL.
    Failed(String),
}

/// What was put on the clipboard, for the notice that confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    Reply,
    /// Code block `number` (1-based); `closed` is false for a fence that was still open.
    CodeBlock {
        number: usize,
        closed: bool,
    },
}

/// Which clipboard took the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardKind {
    /// The desktop's clipboard (X11 or Wayland).
    System,
    /// The terminal's, by the OSC 52 escape: works over SSH and in tmux, but the terminal may
    /// ignore it and cannot say whether it did.
    Osc52,
}
