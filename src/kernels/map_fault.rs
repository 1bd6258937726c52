//! A model file truncated or rewritten while it is mapped: the next read of a page past its new
//! end raises SIGBUS, which by default kills the process with "Bus error" (exit 135) and, in the
//! chat, leaves the terminal raw in the alternate screen. Copying the file would cost its
//! zero-copy loading, and Linux has no mandatory lock that keeps others from writing it, so we
//! handle the signal instead: a fault inside a mapping registered here puts the terminal back
//! (when the chat had taken it), says which file changed, and exits with status 1. A SIGBUS
//! anywhere else keeps its default action. Conversations are saved after every change, so the
//! exit loses at most the reply being written.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Once;

/// Mappings watched at once; the oldest registration is reused first (the engine maps one or
/// two models at a time).
const SLOTS: usize = 16;

/// One watched mapping: its address range and the message naming its file.
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    message: AtomicPtr<u8>,
    message_len: AtomicUsize,
}

impl Slot {
    const fn empty() -> Self {
        Self {
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            message: AtomicPtr::new(std::ptr::null_mut()),
            message_len: AtomicUsize::new(0),
        }
    }
}

static WATCHED: [Slot; SLOTS] = [const { Slot::empty() }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();

/// The terminal's settings before the chat made it raw, and whether the chat holds it now.
struct SavedTerminal(UnsafeCell<Option<libc::termios>>);
// SAFETY: written only by `hold_terminal` before `TERMINAL_HELD` is set (SeqCst), read only by the
// handler after seeing it set; `hold_terminal` is called once per chat session, from one thread.
unsafe impl Sync for SavedTerminal {}
static SAVED_TERMINAL: SavedTerminal = SavedTerminal(UnsafeCell::new(None));
static TERMINAL_HELD: AtomicBool = AtomicBool::new(false);

/// Escape sequences that undo the chat's screen modes: pop the kitty keyboard flags, bracketed
/// paste off, cursor shown, alternate screen left.
const LEAVE_SCREEN: &[u8] = b"\x1b[<u\x1b[?2004l\x1b[?25h\x1b[?1049l";

/// Watches the mapping `[start, start + len)` of the file `path`.
pub fn watch(start: usize, len: usize, path: &str) {
    INSTALL.call_once(install_handler);
    // Leaked on purpose: the handler may read it at any time, and it is one short line per load.
    let message: &'static mut [u8] = format!(
        "\nerror: {path}: the model file changed on disk while it was in use (truncated or rewritten); \
         open it again\n"
    )
    .into_bytes()
    .leak();
    let slot = &WATCHED[NEXT_SLOT.fetch_add(1, Ordering::SeqCst) % SLOTS];
    // Closed first, so that the handler never pairs a new range with an old message.
    slot.end.store(0, Ordering::SeqCst);
    slot.message_len.store(message.len(), Ordering::SeqCst);
    slot.message.store(message.as_mut_ptr(), Ordering::SeqCst);
    slot.start.store(start, Ordering::SeqCst);
    slot.end.store(start + len, Ordering::SeqCst);
}

/// Called before the chat makes the terminal raw (`held`) and after it gives it back: a mapping
/// fault in between restores the terminal's settings and screen before exiting.
pub fn hold_terminal(held: bool) {
    if held {
        let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr writes a termios into the pointer on success (0), and only then is it read.
        let saved = unsafe {
            (libc::tcgetattr(libc::STDIN_FILENO, settings.as_mut_ptr()) == 0).then(|| settings.assume_init())
        };
        TERMINAL_HELD.store(false, Ordering::SeqCst);
        // SAFETY: the handler reads this only while TERMINAL_HELD is set, which it is not now.
        unsafe { *SAVED_TERMINAL.0.get() = saved };
    }
    TERMINAL_HELD.store(held, Ordering::SeqCst);
}

fn install_handler() {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler has the
    // SA_SIGINFO signature, and it calls only async-signal-safe functions (tcsetattr, write,
    // signal, _exit) and atomics.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = on_sigbus;
        action.sa_sigaction = handler as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let hit = WATCHED.iter().find(|s| s.start.load(Ordering::SeqCst) <= addr && addr < s.end.load(Ordering::SeqCst));
    let Some(slot) = hit else {
        // Not a model mapping: back to the default action, which the retried access then takes.
        // SAFETY: signal() with SIG_DFL is async-signal-safe.
        unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
        return;
    };
    // SAFETY: only async-signal-safe calls; the saved settings were written before TERMINAL_HELD
    // was set, and the message is a leaked, never-freed buffer of message_len bytes.
    unsafe {
        if TERMINAL_HELD.load(Ordering::SeqCst) {
            if let Some(settings) = (*SAVED_TERMINAL.0.get()).as_ref() {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, settings);
            }
            libc::write(libc::STDOUT_FILENO, LEAVE_SCREEN.as_ptr().cast(), LEAVE_SCREEN.len());
        }
        let message = slot.message.load(Ordering::SeqCst);
        libc::write(libc::STDERR_FILENO, message.cast(), slot.message_len.load(Ordering::SeqCst));
        libc::_exit(1);
    }
}
