//! A tmux session for terminal end-to-end tests: type, press keys, read the screen, wait for it.

use std::process::Command;
use std::time::{Duration, Instant};

/// A detached 120×40 tmux session running one command; killed on drop.
pub struct Tmux {
    session: String,
}

impl Tmux {
    /// `name` keeps concurrent tests' sessions apart.
    pub fn start(name: &str, cmd: &str) -> Self {
        let session = format!("bitnet-tui-{name}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "120", "-y", "40", cmd])
            .status()
            .expect("tmux is not installed (.ci/run installs it with apt-get)");
        assert!(ok.success());
        Self { session }
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    pub fn text(&self, text: &str) {
        assert!(Command::new("tmux").args(["send-keys", "-t", &self.session, "-l", text]).status().unwrap().success());
    }

    /// A tmux format expanded for the pane, e.g. `#{mouse_sgr_flag}` (whether the program in it
    /// asked for SGR mouse reports).
    pub fn pane_format(&self, format: &str) -> String {
        let out = Command::new("tmux").args(["display-message", "-p", "-t", &self.session, format]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes an SGR mouse report to the program, as tmux does for a client's mouse when the
    /// program asked for the mouse: `button` 0 is the left button (`press` then release), 64 and
    /// 65 the wheel up and down; `column` and `row` count from 0.
    pub fn mouse(&self, button: u8, column: u16, row: u16, press: bool) {
        let end = if press { 'M' } else { 'm' };
        self.text(&format!("\x1b[<{button};{};{}{end}", column + 1, row + 1));
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `ok`, or fails showing the last screen.
    pub fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(start.elapsed() < timeout, "timed out waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).status();
    }
}
