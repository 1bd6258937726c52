//! The main loop: waits on terminal input, downloads, token counts and the frame clock, feeds `update`, runs the
//! effects it returns, and redraws only when something changed: what the user typed at once (so
//! a key shows within milliseconds), everything else at most `frame_rate` times a second.
//!
//! Engine events are taken in a batch at each frame tick rather than one by one: the screen shows
//! them no later, and the loop wakes `frame_rate` times a second instead of once or twice per
//! token, so it takes as little CPU as possible from the compute threads.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, SystemTime};

use crossterm::event::{Event, MouseEventKind};
use futures::{FutureExt, Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::MissedTickBehavior;

use crate::app::downloads::Downloads;
use crate::app::models::{discover, ModelEntry, ModelSources};
use crate::app::msg::{ClipboardKind, Effect, Msg};
use crate::app::state::State;
use crate::app::store::Store;
use crate::app::text;
use crate::app::update::{start, update};
use crate::engine::protocol::{EngineCmd, EngineEvent};
use crate::tui::token_counting::TokenCounting;
use crate::ui::{Drawn, View};

/// What the loop needs from the real terminal besides drawing; tests give a recording fake.
pub trait Host {
    /// Puts `text` on a clipboard and says which one took it.
    fn copy_to_clipboard(&mut self, text: &str) -> io::Result<ClipboardKind>;
    /// Gives the terminal back to the shell until the process is resumed.
    fn suspend(&mut self) -> io::Result<()>;
    /// Lends the terminal to `$VISUAL` / `$EDITOR` on a file holding `text`; returns the text
    /// the editor saved.
    fn edit_text(&mut self, text: &str) -> io::Result<String>;
    /// A termination signal arrived.
    fn terminate_requested(&self) -> bool;
    /// Takes the mouse's wheel and clicks (true) or leaves the mouse to the terminal.
    fn set_mouse_capture(&mut self, on: bool) -> io::Result<()>;
}

/// The loop's surroundings.
pub struct AppContext<'a> {
    pub store: Store,
    /// Where the model picker looks (the recent list comes from the state).
    pub sources: ModelSources,
    pub host: &'a mut dyn Host,
    pub frame_rate: u32,
}

/// Runs the chat until the user quits; returns the final state.
///
/// `cmds`/`events` are the engine's channel ends and `input` the terminal's events
/// (crossterm's `EventStream` in the app, a scripted stream in tests).
pub async fn run_app<B, I>(
    terminal: &mut Terminal<B>,
    mut state: State,
    cmds: UnboundedSender<EngineCmd>,
    mut events: UnboundedReceiver<EngineEvent>,
    mut input: I,
    ctx: &mut AppContext<'_>,
) -> anyhow::Result<State>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let mut view = View::default();
    let period = Duration::from_secs_f64(1.0 / f64::from(ctx.frame_rate.max(1)));
    let mut frames = tokio::time::interval(period);
    frames.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let size = terminal.size()?;
    state.size = (size.width, size.height);

    let mut queue: VecDeque<Msg> = VecDeque::new();
    let (mut downloads, mut download_events) = Downloads::new();
    let (models_found, mut found_models) = tokio::sync::mpsc::unbounded_channel();
    let (token_counting, mut token_counts) = TokenCounting::start()?;
    let mut out = Outputs {
        cmds: &cmds,
        downloads: &mut downloads,
        models_found: &models_found,
        token_counting: &token_counting,
    };
    let first = start(&mut state);
    run_effects(first, &mut state, &mut out, ctx, terminal, &mut queue)?;
    let mut input_open = true;
    let mut engine_open = true;
    let mut typed = false;
    let mut frame_due = false;
    loop {
        while let Some(msg) = queue.pop_front() {
            state.now = SystemTime::now();
            let effects = update(&mut state, msg);
            run_effects(effects, &mut state, &mut out, ctx, terminal, &mut queue)?;
        }
        if state.quitting {
            return Ok(state);
        }
        // What the user typed is drawn at once, not at the next tick.
        if (std::mem::take(&mut typed) | std::mem::take(&mut frame_due)) && state.dirty {
            draw(terminal, &mut view, &mut state)?;
        }
        tokio::select! {
            event = input.next(), if input_open => match event {
                Some(Ok(event)) => {
                    queue.extend(terminal_msg(event));
                    // Keys that arrived together (a held key, an unbracketed paste) make one frame.
                    input_open = take_ready_input(&mut input, &mut queue)?;
                    typed = true;
                }
                Some(Err(e)) => return Err(e.into()),
                None => input_open = false,
            },
            Some(event) = download_events.recv() => queue.push_back(Msg::Download(event)),
            Some(models) = found_models.recv() => queue.push_back(Msg::ModelsFound(models)),
            Some(count) = token_counts.recv() => queue.push_back(Msg::TokensCounted(count)),
            _ = frames.tick() => {
                if ctx.host.terminate_requested() {
                    queue.push_back(Msg::Terminate);
                } else {
                    engine_open = engine_open && take_engine_events(&mut events, &mut queue);
                    frame_due = true;
                }
            }
        }
    }
}

/// Draws one frame and keeps where the chat and the open list went, for scrolling and clicks.
pub fn draw<B>(terminal: &mut Terminal<B>, view: &mut View, state: &mut State) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let mut drawn = Drawn::default();
    terminal.draw(|frame| drawn = view.draw(frame, state))?;
    state.viewport = drawn.chat;
    state.list_viewport = drawn.list;
    state.dirty = false;
    Ok(())
}

/// Queues the engine's waiting events; false (after queuing `EngineGone`) once it has stopped.
fn take_engine_events(events: &mut UnboundedReceiver<EngineEvent>, queue: &mut VecDeque<Msg>) -> bool {
    loop {
        match events.try_recv() {
            Ok(event) => queue.push_back(Msg::Engine(event)),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => {
                queue.push_back(Msg::EngineGone);
                return false;
            }
        }
    }
}

/// Queues the terminal events that are already waiting; false once the input has ended.
fn take_ready_input<I>(input: &mut I, queue: &mut VecDeque<Msg>) -> io::Result<bool>
where
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    loop {
        match input.next().now_or_never() {
            Some(Some(event)) => queue.extend(terminal_msg(event?)),
            Some(None) => return Ok(false),
            None => return Ok(true),
        }
    }
}

fn terminal_msg(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        // Moves and drags would only cost redraws: `update` acts on the wheel and on clicks.
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown | MouseEventKind::Down(_) => Some(Msg::Mouse(mouse)),
            _ => None,
        },
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// Where effects send work besides the context: the engine, the downloads, model discovery
/// (which reads file headers on a thread of its own, so a slow disk never stalls the screen) and
/// token counting (on a thread of its own too).
struct Outputs<'a> {
    cmds: &'a UnboundedSender<EngineCmd>,
    downloads: &'a mut Downloads,
    models_found: &'a UnboundedSender<Vec<ModelEntry>>,
    token_counting: &'a TokenCounting,
}

fn run_effects<B>(
    effects: Vec<Effect>,
    state: &mut State,
    out: &mut Outputs<'_>,
    ctx: &mut AppContext<'_>,
    terminal: &mut Terminal<B>,
    queue: &mut VecDeque<Msg>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let mut answers = Vec::new();
    for effect in effects {
        answers.extend(run_effect(effect, state, out, ctx, terminal)?);
    }
    // Effects answer before the input queued behind the key that asked for them: keys typed
    // ahead of Ctrl+G act on the edited text, not on the text the editor replaced.
    for msg in answers.into_iter().rev() {
        queue.push_front(msg);
    }
    Ok(())
}

/// Runs one effect; failures come back as a message for the footer.
fn run_effect<B>(
    effect: Effect,
    state: &State,
    out: &mut Outputs<'_>,
    ctx: &mut AppContext<'_>,
    terminal: &mut Terminal<B>,
) -> anyhow::Result<Option<Msg>>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let store = &ctx.store;
    let failed = |what: &str, e: anyhow::Error| {
        tracing::warn!("{what}: {e:#}");
        Some(Msg::EffectFailed(text::failed(what, &format!("{e:#}"))))
    };
    let msg = match effect {
        Effect::Engine(cmd) => {
            tracing::debug!(?cmd, "engine command");
            let sent = out.cmds.send(cmd);
            (sent.is_err() && state.engine_alive).then_some(Msg::EngineGone)
        }
        Effect::SaveConversation(c) => match store.save(&c) {
            // Only a conversation that failed before needs to hear that it made it.
            Ok(()) => (!state.unsaved.is_empty()).then_some(Msg::Saved(c.id)),
            Err(e) => {
                tracing::warn!("{}: {e:#}", text::SAVING);
                Some(Msg::SaveFailed { conversation: Box::new(c), error: format!("{e:#}") })
            }
        },
        Effect::Rescue { dir, conversations } => {
            let rescue = Store::new(&dir);
            match conversations.iter().try_for_each(|c| rescue.save(c)) {
                Ok(()) => Some(Msg::Rescued { dir, count: conversations.len() }),
                Err(e) => failed(text::RESCUING, e),
            }
        }
        Effect::Queue(msg) => Some(*msg),
        Effect::DeleteConversation(id) => store.delete(&id).err().and_then(|e| failed(text::DELETING, e)),
        Effect::RenameConversation { id, title } => {
            let renamed = store.load(&id).and_then(|mut c| {
                c.title = title;
                store.save(&c)
            });
            renamed.err().and_then(|e| failed(text::RENAMING, e))
        }
        Effect::ListConversations => match store.list() {
            Ok(listing) => Some(Msg::ConversationsListed(listing)),
            Err(e) => failed(text::LISTING, e),
        },
        Effect::OpenConversation(id) => match store.load(&id) {
            Ok(c) => Some(Msg::ConversationOpened(c)),
            Err(e) => failed(text::OPENING, e),
        },
        Effect::Export(c) => match store.export_markdown(&c) {
            Ok(path) => Some(Msg::Exported(path)),
            Err(e) => failed(text::EXPORTING, e),
        },
        Effect::ExportStored(id) => match store.load(&id).and_then(|c| store.export_markdown(&c)) {
            Ok(path) => Some(Msg::Exported(path)),
            Err(e) => failed(text::EXPORTING, e),
        },
        Effect::CopyToClipboard { text: copy, what } => match ctx.host.copy_to_clipboard(&copy) {
            Ok(via) => Some(Msg::Copied { what, via }),
            Err(e) => failed(text::COPYING, e.into()),
        },
        Effect::DiscoverModels => {
            let sources = ModelSources { recent: state.recent_models.clone(), ..ctx.sources.clone() };
            let found = out.models_found.clone();
            std::thread::Builder::new().name("bitnet-model-discovery".into()).spawn(move || {
                // The loop may have ended meanwhile; then nobody wants the list.
                let _ = found.send(discover(&sources));
            })?;
            None
        }
        Effect::CountTokens { counter, job } => {
            out.token_counting.count(counter, job);
            None
        }
        Effect::StartDownload(file) => {
            out.downloads.start(file);
            None
        }
        Effect::CancelDownload => {
            out.downloads.cancel();
            None
        }
        Effect::SaveRecentModels(paths) => {
            store.save_recent_models(&paths).err().and_then(|e| failed(text::SAVING_RECENT, e))
        }
        Effect::SaveInputHistory(entries) => {
            store.save_input_history(&entries).err().and_then(|e| failed(text::SAVING_INPUT_HISTORY, e))
        }
        Effect::SaveModelSettings(settings) => {
            store.save_model_settings(&settings).err().and_then(|e| failed(text::SAVING_MODEL_SETTINGS, e))
        }
        Effect::OpenEditor { target, text: draft } => {
            let edited = ctx.host.edit_text(&draft);
            // The editor drew over the whole screen.
            terminal.clear()?;
            match edited {
                Ok(text) => Some(Msg::Edited { target, text }),
                Err(e) => failed(text::EDITING_EXTERNALLY, e.into()),
            }
        }
        Effect::SetMouseCapture(on) => ctx.host.set_mouse_capture(on).err().and_then(|e| failed(text::MOUSE, e.into())),
        Effect::Redraw => {
            terminal.clear()?;
            None
        }
        Effect::Suspend => {
            let suspended = ctx.host.suspend();
            // Whatever the shell did to the screen, draw all of it again.
            terminal.clear()?;
            let size = terminal.size()?;
            match suspended {
                Ok(()) => Some(Msg::Resize { width: size.width, height: size.height }),
                Err(e) => failed(text::SUSPENDING, e.into()),
            }
        }
    };
    Ok(msg)
}
