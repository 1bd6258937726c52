//! A failure inside the engine, seen from a real terminal (tmux): the engine panics on its
//! first step (fault injection), and the chat must report it and stay usable (not crash, not
//! print a backtrace over the screen, not leave the terminal raw), then quit cleanly.

mod common;

use std::time::Duration;

use common::tmux::Tmux;

#[test]
fn an_engine_panic_is_reported_and_the_chat_stays_usable() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-fault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cmd = format!(
        "env BITNET_TUI_FAULT=step XDG_CONFIG_HOME={0}/config XDG_DATA_HOME={0}/data XDG_STATE_HOME={0}/state \
         HF_HUB_OFFLINE=1 {1} --model {2} -n 8; echo EXITED:$?; stty -a | grep -o -- '-*icanon'; sleep 60",
        root.display(),
        env!("CARGO_BIN_EXE_bitnet-tui"),
        common::bitnet_tiny().display(),
    );
    let tmux = Tmux::start("fault", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("the model to load", minute, |s| s.contains("Loaded bitnet2b"));

    tmux.text("Hello");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the error", minute, |s| s.contains("internal error"));
    assert!(screen.contains("╭ Message"), "the chat screen is gone:\n{screen}");
    assert!(!screen.contains("panicked"), "a panic message was printed over the screen:\n{screen}");

    // The engine's error (after the reply's) stays in its panel until dismissed; then keys reach
    // the input box again.
    tmux.wait_for("the error panel", minute, |s| s.contains("╭ Engine error"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the panel to close", minute, |s| !s.contains("╭ Engine error"));
    tmux.text("still here");
    tmux.wait_for("the draft", minute, |s| s.contains("still here"));

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:") && s.contains("icanon"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert!(!screen.contains("-icanon"), "the terminal was left in raw mode:\n{screen}");
    assert!(!screen.contains("╭ Message"), "the chat screen is still shown after exit:\n{screen}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_model_file_truncated_during_a_reply_gives_the_terminal_back() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-sigbus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let model = root.join("model.gguf");
    std::fs::copy(common::bitnet_tiny(), &model).unwrap();
    let cmd = format!(
        "env XDG_CONFIG_HOME={0}/config XDG_DATA_HOME={0}/data XDG_STATE_HOME={0}/state HF_HUB_OFFLINE=1 \
         {1} --model {2} -n 100000; echo EXITED:$?; stty -a | grep -o -- '-*icanon'; sleep 60",
        root.display(),
        env!("CARGO_BIN_EXE_bitnet-tui"),
        model.display(),
    );
    let tmux = Tmux::start("sigbus", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("the model to load", minute, |s| s.contains("Loaded bitnet2b"));
    tmux.text("Hello");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the reply to stream", minute, |s| s.contains("tok/s now"));

    let len = std::fs::metadata(&model).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&model).unwrap().set_len(len / 2).unwrap();
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:") && s.contains("icanon"));
    assert!(screen.contains("EXITED:1") && screen.contains("changed on disk"), "{screen}");
    assert!(!screen.contains("-icanon"), "the terminal was left in raw mode:\n{screen}");
    assert!(!screen.contains("╭ Message"), "the chat screen is still shown after exit:\n{screen}");
    let _ = std::fs::remove_dir_all(&root);
}
