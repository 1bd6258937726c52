//! The real terminal: raw mode and alternate screen, bracketed paste, the kitty keyboard
//! protocol where the terminal has it, mouse capture while the user wants it, restoring all of
//! it on exit, panic, Ctrl+Z and `$EDITOR`,
//! the clipboard (the system's, else OSC 52), and termination signals.

use std::io::{self, stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{supports_keyboard_enhancement, EnterAlternateScreen};
use crossterm::{clipboard::CopyToClipboard, execute};
use futures::Stream;
use ratatui::DefaultTerminal;

use crate::app::msg::ClipboardKind;
use crate::kernels::map_fault;
use crate::tui::editor;
use crate::tui::run::Host;

/// Whether we pushed keyboard flags (and so must pop them).
static ENHANCED_KEYS: AtomicBool = AtomicBool::new(false);

/// Whether the app wants the mouse: taken again after Ctrl+Z and `$EDITOR` only if so.
static MOUSE_WANTED: AtomicBool = AtomicBool::new(true);

/// Whether the terminal has the kitty keyboard protocol, asked once: after [`events`] starts,
/// its thread owns the terminal's input and the question could not be answered again.
static KEYBOARD_ENHANCEMENT: OnceLock<bool> = OnceLock::new();

/// Takes over the terminal, and the mouse if `mouse`. Pair with [`leave`]; a panic restores it
/// too.
pub fn enter(mouse: bool) -> io::Result<DefaultTerminal> {
    MOUSE_WANTED.store(mouse, Ordering::SeqCst);
    // A model file changing under its mapping must not leave the terminal raw either.
    map_fault::hold_terminal(true);
    let terminal = ratatui::try_init()?;
    enable_extras()?;
    // ratatui's hook restores raw mode and the screen; ours first undoes our extras. Only a
    // panic of this (the UI) thread ends the app: another thread's is contained where it
    // happened (the engine reports it as an error), so the screen stays as it is.
    let ratatui_hook = std::panic::take_hook();
    let ui_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread.id() != ui_thread {
            tracing::error!("panic on {}: {info}", thread.name().unwrap_or("a thread"));
            return;
        }
        disable_extras();
        tracing::error!("panic: {info}");
        ratatui_hook(info);
    }));
    Ok(terminal)
}

/// Gives the terminal back as it was.
pub fn leave() {
    disable_extras();
    ratatui::restore();
    map_fault::hold_terminal(false);
}

fn enable_extras() -> io::Result<()> {
    execute!(stdout(), EnableBracketedPaste)?;
    // Lets Alt+Enter, Ctrl+J and Esc arrive unambiguously where the terminal supports it.
    if *KEYBOARD_ENHANCEMENT.get_or_init(|| supports_keyboard_enhancement().unwrap_or(false)) {
        execute!(stdout(), PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES))?;
        ENHANCED_KEYS.store(true, Ordering::SeqCst);
    }
    if MOUSE_WANTED.load(Ordering::SeqCst) {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

fn disable_extras() {
    if ENHANCED_KEYS.swap(false, Ordering::SeqCst) {
        let _ = execute!(stdout(), PopKeyboardEnhancementFlags);
    }
    let _ = execute!(stdout(), DisableBracketedPaste);
    // Harmless when the mouse was not taken; a shell left with it would print escape codes.
    let _ = execute!(stdout(), DisableMouseCapture);
}

/// The terminal's events, read by a thread of their own that waits in `poll`.
///
/// crossterm's `EventStream` shares one lock between its waker thread and the loop's polls; when
/// a poll loses that race the key waits for the next frame or token, up to ~40 ms. A reader of
/// its own hands each event over at once. It stops reading while `gate` is paused, so that an
/// editor run meanwhile gets every key.
pub fn events(gate: InputGate) -> io::Result<impl Stream<Item = io::Result<Event>> + Unpin> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::Builder::new().name("bitnet-terminal-input".into()).spawn(move || loop {
        gate.wait_open();
        let event = match crossterm::event::poll(READ_SLICE) {
            Ok(false) => continue,
            Ok(true) => crossterm::event::read(),
            Err(e) => Err(e),
        };
        let failed = event.is_err();
        // The loop has ended (the app is quitting) or the terminal is gone.
        if tx.send(event).is_err() || failed {
            break;
        }
    })?;
    Ok(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// How long the reader waits for input before it looks at its gate again.
const READ_SLICE: Duration = Duration::from_millis(50);

/// Lets the terminal's reader stop while another program has the terminal.
#[derive(Debug, Clone, Default)]
pub struct InputGate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Debug, Default)]
struct GateState {
    paused: bool,
    /// The reader is waiting at the gate (it reads nothing until the gate opens).
    reader_waiting: bool,
}

impl InputGate {
    /// The reader's side: returns once the gate is open.
    fn wait_open(&self) {
        let (lock, changed) = &*self.0;
        let mut gate = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while gate.paused {
            gate.reader_waiting = true;
            changed.notify_all();
            gate = changed.wait(gate).unwrap_or_else(PoisonError::into_inner);
        }
        gate.reader_waiting = false;
    }

    /// Stops the reader until the guard is dropped; returns once it has stopped (or after a
    /// second, should there be no reader).
    fn pause(&self) -> PausedInput<'_> {
        let (lock, changed) = &*self.0;
        let mut gate = lock.lock().unwrap_or_else(PoisonError::into_inner);
        gate.paused = true;
        let wait = changed.wait_timeout_while(gate, Duration::from_secs(1), |g| !g.reader_waiting);
        drop(wait.unwrap_or_else(PoisonError::into_inner));
        PausedInput(self)
    }
}

struct PausedInput<'a>(&'a InputGate);

impl Drop for PausedInput<'_> {
    fn drop(&mut self) {
        let (lock, changed) = &*self.0 .0;
        lock.lock().unwrap_or_else(PoisonError::into_inner).paused = false;
        changed.notify_all();
    }
}

/// The host side of the real terminal.
pub struct TerminalHost {
    terminate: Arc<AtomicBool>,
    /// The gate of the reader started by [`events`].
    input: InputGate,
    /// Opened at the first copy and kept: on X11 the text stays pasteable only while its owner
    /// lives.
    clipboard: Option<arboard::Clipboard>,
}

impl TerminalHost {
    /// Starts listening for SIGTERM and SIGHUP; `input` is the gate given to [`events`].
    pub fn new(input: InputGate) -> io::Result<Self> {
        let terminate = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(signal, Arc::clone(&terminate))?;
        }
        Ok(Self { terminate, input, clipboard: None })
    }
}

impl Host for TerminalHost {
    fn copy_to_clipboard(&mut self, text: &str) -> io::Result<ClipboardKind> {
        if !over_ssh(&|name| std::env::var_os(name)) {
            match self.copy_to_system(text) {
                Ok(()) => return Ok(ClipboardKind::System),
                Err(e) => tracing::info!("no system clipboard ({e}); copying with OSC 52"),
            }
        }
        // OSC 52 works over SSH and in tmux (with `set-clipboard on`), with no native library.
        execute!(stdout(), CopyToClipboard::to_clipboard_from(text))?;
        Ok(ClipboardKind::Osc52)
    }

    #[cfg(unix)]
    fn suspend(&mut self) -> io::Result<()> {
        leave();
        // Stops the process here until the shell's `fg` sends SIGCONT.
        signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
        take_back()
    }

    #[cfg(not(unix))]
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn edit_text(&mut self, text: &str) -> io::Result<String> {
        let command = editor::command(&|name| std::env::var(name).ok());
        let _paused = self.input.pause();
        leave();
        let edited = editor::edit(&command, text);
        take_back()?;
        edited
    }

    fn terminate_requested(&self) -> bool {
        self.terminate.load(Ordering::SeqCst)
    }

    fn set_mouse_capture(&mut self, on: bool) -> io::Result<()> {
        MOUSE_WANTED.store(on, Ordering::SeqCst);
        if on {
            execute!(stdout(), EnableMouseCapture)
        } else {
            execute!(stdout(), DisableMouseCapture)
        }
    }
}

/// Takes the terminal over again after the shell or an editor had it.
fn take_back() -> io::Result<()> {
    map_fault::hold_terminal(true);
    crossterm::terminal::enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen)?;
    enable_extras()
}

impl TerminalHost {
    fn copy_to_system(&mut self, text: &str) -> Result<(), arboard::Error> {
        let clipboard = match &mut self.clipboard {
            Some(clipboard) => clipboard,
            None => self.clipboard.insert(arboard::Clipboard::new()?),
        };
        clipboard.set_text(text)
    }
}

/// Over SSH the system clipboard within reach is the server's, not the user's: only the
/// terminal (OSC 52) can reach theirs.
fn over_ssh(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    ["SSH_CONNECTION", "SSH_TTY"].iter().any(|name| env(name).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_sessions_copy_with_osc_52() {
        assert!(over_ssh(&|name| (name == "SSH_TTY").then(|| "/dev/pts/3".into())));
        assert!(!over_ssh(&|_| None));
    }
}
