//! The chat screen in a real terminal (tmux): chat with SmolLM2, watch the live panel, change the
//! temperature with the keys, fail to switch to a model file that was moved away (an error panel
//! says so; SmolLM2 stays loaded and answers; the picker marks the file missing), switch to the
//! BitNet fixture once it is back, chat, give it one thread in its settings panel (it reloads),
//! quit, and check that the terminal is restored and the conversation file was written. Also:
//! the system prompt and personas, `$EDITOR`, and searching saved conversations.

mod common;

use common::tmux::Tmux;

use std::path::{Path, PathBuf};

use std::time::Duration;

/// The first number before "tok/s now" in the live panel.
fn tok_s_now(screen: &str) -> Option<f64> {
    let at = screen.find("tok/s now")?;
    let word = screen[..at].split_whitespace().last()?;
    word.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().ok()
}

fn conversation_files(data: &Path) -> Vec<PathBuf> {
    let dir = data.join("bitnet-tui").join("conversations");
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default()
}

#[test]
fn chat_switch_model_and_quit_in_a_real_terminal() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (config, data, state) = (root.join("config"), root.join("data"), root.join("state"));
    // A copy of the fixture that the test moves away and back.
    let fixture = root.join("bitnet-tiny.gguf");
    let moved = root.join("moved-away.gguf");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(common::bitnet_tiny(), &fixture).unwrap();
    let cmd = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} XDG_STATE_HOME={} HF_HUB_OFFLINE=1 {} --model {} --model {} --temp 0 -n 24; \
         echo EXITED:$?; sleep 60",
        config.display(),
        data.display(),
        state.display(),
        env!("CARGO_BIN_EXE_bitnet-tui"),
        common::smollm2().display(),
        fixture.display(),
    );
    let tmux = Tmux::start("chat", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));

    tmux.text("What is 2+2?");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the reply", minute, |s| s.contains("end of text") && s.contains("is 4."));
    assert!(screen.contains("The answer to this classic math problem is 4."), "{screen}");
    let now = tok_s_now(&screen).unwrap_or(0.0);
    assert!(now > 0.0, "no tok/s in the live panel:\n{screen}");

    // Temperature up one step with the slider keys, then back to the chat.
    tmux.keys(&["F3"]);
    let sliders = tmux.wait_for("the sliders", minute, |s| s.contains("temperature"));
    let before = sliders.lines().find(|l| l.contains("temperature")).unwrap().to_string();
    tmux.keys(&["Right"]);
    let after = tmux.wait_for("a new temperature", minute, |s| {
        s.lines().find(|l| l.contains("temperature")).is_some_and(|l| l != before)
    });
    assert!(after.contains("0.05") || after.contains("0.1"), "{after}");
    // Enter closes the panel too; a lone Escape would merge with the next key in tmux (escape-time).
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sliders to close", minute, |s| !s.contains("╭ Sampling"));

    // The next model's file is gone: the load fails and SmolLM2 stays loaded and usable.
    std::fs::rename(&fixture, &moved).unwrap();
    tmux.keys(&["C-n"]);
    let screen = tmux.wait_for("the failed load", minute, |s| s.contains("Could not load"));
    assert!(screen.contains("Could not load bitnet-tiny.gguf (still using Smollm2"), "{screen}");
    let header = screen.lines().next().unwrap();
    assert!(header.contains("Smollm2") && header.contains("ready"), "{header}");
    // The error stays in its panel until dismissed.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the error panel to close", minute, |s| !s.contains("Could not load"));
    tmux.text("And 3+3?");
    tmux.keys(&["Enter"]);
    // Finished replies' figures name the TTFT; the live line of a streaming one does not.
    let screen = tmux.wait_for("SmolLM2's second reply", minute, |s| s.matches(" TTFT ").count() >= 2);
    assert!(!screen.contains("no model is loaded"), "{screen}");
    // The picker marks the vanished file; F4 closes it again.
    tmux.keys(&["F4"]);
    let picker = tmux.wait_for("the picker's list", minute, |s| s.contains("╭ Models") && s.contains("bitnet-tiny"));
    let row = picker.lines().find(|l| l.contains("bitnet-tiny")).unwrap_or_default();
    assert!(row.contains("missing"), "{picker}");
    tmux.keys(&["F4"]);
    tmux.wait_for("the picker to close", minute, |s| !s.contains("╭ Models"));

    // Next model: the BitNet fixture, back in place, with the conversation kept.
    std::fs::rename(&moved, &fixture).unwrap();
    tmux.keys(&["C-n"]);
    tmux.wait_for("the BitNet model to load", minute, |s| s.contains("Loaded bitnet2b"));
    tmux.text("Hello");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the BitNet reply", minute, |s| s.matches(" TTFT ").count() >= 3);

    // F7: one thread for this model; Enter remembers it and loads the model again with it.
    tmux.keys(&["F7"]);
    tmux.wait_for("the model settings", minute, |s| s.contains("╭ Model settings"));
    tmux.keys(&["Down", "Down", "Right", "Enter"]);
    tmux.wait_for("the reload on one thread", minute, |s| s.contains("Loaded bitnet2b") && s.contains("1 threads"));
    let remembered = read_json(&data.join("bitnet-tui").join("model_settings.json"));
    assert_eq!(remembered[0]["threads"], 1, "{remembered}");
    assert_eq!(remembered[0]["path"], fixture.to_str().unwrap(), "{remembered}");

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert!(!screen.contains("╭ Message"), "the chat screen is still shown after exit:\n{screen}");

    let files = conversation_files(&data);
    assert_eq!(files.len(), 1, "{files:?}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    let messages = saved["messages"].as_array().unwrap();
    assert!(messages.len() >= 6, "{saved}");
    assert_eq!(messages[0]["content"], "What is 2+2?");
    assert_eq!(messages[1]["content"], "The answer to this classic math problem is 4.");
    let _ = std::fs::remove_dir_all(&root);
}

/// `bitnet-tui run`'s reply to `prompt` under `system`, greedy and as long as the chat's.
fn run_reply(system: &str, prompt: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["run", "--json", "--temp", "0", "-n", "24", "--system", system, "--prompt", prompt, "--model"])
        .arg(common::smollm2())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["text"].as_str().unwrap().to_string()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The system prompt from `--system`, edited with F6, and a persona from the config reach the
/// model: each reply is the one `run --system` gives for the same prompt. The conversation
/// files and the export keep them.
#[test]
fn system_prompts_and_personas_reach_the_model_in_a_real_terminal() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-system-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, state) = (root.join("data"), root.join("state"));
    let config = root.join("config.toml");
    std::fs::create_dir_all(&root).unwrap();
    let pirate = "You are a pirate. Answer every question like a pirate would.";
    std::fs::write(&config, format!("[personas.pirate]\nsystem_prompt = \"{pirate}\"\n")).unwrap();
    let (first, edited) = ("Answer in one word.", "Answer with a long poem about numbers.");
    let question = "What is 2+2?";
    let cmd = format!(
        "env BITNET_TUI_CONFIG={} XDG_DATA_HOME={} XDG_STATE_HOME={} HF_HUB_OFFLINE=1 {} --model {} --temp 0 -n 24 \
         --system '{first}'; echo EXITED:$?; sleep 60",
        config.display(),
        data.display(),
        state.display(),
        env!("CARGO_BIN_EXE_bitnet-tui"),
        common::smollm2().display(),
    );
    let tmux = Tmux::start("system", &cmd);
    let minute = Duration::from_secs(60);
    let screen = tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    assert!(screen.contains(first), "the system prompt is shown:\n{screen}");

    tmux.text(question);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the reply", minute, |s| s.contains("end of text") || s.contains("max tokens"));
    let files = conversation_files(&data);
    let saved = read_json(&files[0]);
    assert_eq!(saved["system_prompt"], first);
    assert_eq!(saved["messages"][1]["content"], run_reply(first, question));

    // F6: a new system prompt (Ctrl+U clears the line), saved with Enter; regenerate uses it.
    tmux.keys(&["F6"]);
    tmux.wait_for("the system prompt editor", minute, |s| s.contains("╭ System prompt"));
    tmux.keys(&["C-u"]);
    tmux.text(edited);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the editor to close", minute, |s| s.contains("System prompt saved"));
    tmux.keys(&["C-r"]);
    let expected = run_reply(edited, question);
    assert_ne!(expected, run_reply(first, question), "the two prompts must lead to different replies");
    let screen = tmux.wait_for("the regenerated reply", minute, |_| {
        read_json(&files[0])["messages"][1]["content"].as_str() == Some(expected.as_str())
    });
    assert!(screen.contains(edited), "{screen}");
    assert_eq!(read_json(&files[0])["system_prompt"], edited);

    // A new chat asks for the persona; the pirate's prompt goes to the model.
    tmux.keys(&["C-l"]);
    tmux.wait_for("the persona list", minute, |s| s.contains("pick a persona") && s.contains("pirate"));
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_for("the pirate's chat", minute, |s| s.contains("New chat as pirate"));
    tmux.text("Hello");
    tmux.keys(&["Enter"]);
    let expected = run_reply(pirate, "Hello");
    tmux.wait_for("the pirate's reply", minute, |_| {
        conversation_files(&data)
            .iter()
            .map(|f| read_json(f))
            .any(|c| c["persona"] == "pirate" && c["messages"][1]["content"].as_str() == Some(expected.as_str()))
    });
    tmux.keys(&["C-x"]);
    tmux.wait_for("the export", minute, |s| s.contains("Exported to"));

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    let exports = data.join("bitnet-tui").join("exports");
    let export = std::fs::read_dir(&exports).unwrap().next().unwrap().unwrap().path();
    let markdown = std::fs::read_to_string(export).unwrap();
    assert!(markdown.contains(&format!("## System (pirate)\n\n{pirate}\n")), "{markdown}");
    let _ = std::fs::remove_dir_all(&root);
}

/// Ctrl+G lends the terminal to `$EDITOR` (here a script that reads one line from the terminal,
/// so it gets the keys only if the app's reader stepped aside), the text comes back as the
/// draft, and the sent input is recalled with Up after a restart.
#[test]
fn ctrl_g_lends_the_terminal_to_the_editor_and_history_survives_a_restart() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-editor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let editor = root.join("editor.sh");
    std::fs::write(&editor, "printf 'editor> '; read -r line; printf '%s from the editor' \"$line\" > \"$1\"\n")
        .unwrap();
    let cmd = format!(
        "for run in 1 2; do env BITNET_TUI_CONFIG={root}/none.toml XDG_DATA_HOME={root}/data XDG_STATE_HOME={root}/state \
         EDITOR='sh {editor}' HF_HUB_OFFLINE=1 {bin} --model {model} --temp 0 -n 8; echo EXITED:$run:$?; done; sleep 60",
        root = root.display(),
        editor = editor.display(),
        bin = env!("CARGO_BIN_EXE_bitnet-tui"),
        model = common::smollm2().display(),
    );
    let tmux = Tmux::start("editor", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    tmux.text("Hi");
    tmux.keys(&["C-g"]);
    tmux.wait_for("the editor", minute, |s| s.contains("editor>"));
    tmux.text("typed");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the edited draft", minute, |s| s.contains("typed from the editor") && s.contains("╭ Message"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the reply", minute, |s| s.contains("end of text") || s.contains("max tokens"));
    tmux.keys(&["C-q"]);

    // The second run starts with an empty conversation.
    tmux.wait_for("the second run", minute, |s| s.contains("Loaded Smollm2") && s.contains("Start typing below"));
    tmux.keys(&["Up"]);
    tmux.wait_for("the recalled input", minute, |s| {
        s.lines().any(|l| l.starts_with('│') && l.contains("typed from the editor"))
    });
    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the second run to end", minute, |s| s.contains("EXITED:2:"));
    assert!(screen.contains("EXITED:1:0") && screen.contains("EXITED:2:0"), "{screen}");
    let _ = std::fs::remove_dir_all(&root);
}

/// A conversation file as the app writes it, last updated on 1 January 2026.
fn conversation_json(id: &str, title: &str, messages: &[(&str, &str)]) -> String {
    let messages: Vec<_> =
        messages.iter().map(|(role, content)| serde_json::json!({"role": role, "content": content})).collect();
    let time = "2026-01-01T00:00:00Z";
    serde_json::json!({"id": id, "title": title, "created": time, "updated": time, "model": null, "messages": messages})
        .to_string()
}

/// F5, `/` and a word from inside one reply: the list narrows to that conversation with the
/// word previewed; Enter opens it; Ctrl+X exports it under its title; looking at conversations
/// changes none of their files. The token counts of a message and of the draft show on the way.
#[test]
fn search_saved_conversations_open_and_export_in_a_real_terminal() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let conversations = root.join("data").join("bitnet-tui").join("conversations");
    std::fs::create_dir_all(&conversations).unwrap();
    let files = [
        (
            "20260101000000001",
            "Pasta night",
            vec![("user", "How long do I boil spaghetti?"), ("assistant", "About ten minutes.")],
        ),
        (
            "20260101000000002",
            "",
            vec![("user", "Tell me about the farm"), ("assistant", "The barn held dried corn kernels and hay.")],
        ),
        ("20260101000000003", "Rust tips", vec![("user", "Borrow checker help"), ("assistant", "Use references.")]),
    ];
    for (id, title, messages) in &files {
        std::fs::write(conversations.join(format!("{id}.json")), conversation_json(id, title, messages)).unwrap();
    }
    let before: Vec<Vec<u8>> =
        conversation_files(&root.join("data")).iter().map(|f| std::fs::read(f).unwrap()).collect();
    let cmd = format!(
        "env BITNET_TUI_CONFIG={root}/none.toml XDG_DATA_HOME={root}/data XDG_STATE_HOME={root}/state HF_HUB_OFFLINE=1 \
         {bin} --model {model} --temp 0 -n 8; echo EXITED:$?; sleep 60",
        root = root.display(),
        bin = env!("CARGO_BIN_EXE_bitnet-tui"),
        model = common::smollm2().display(),
    );
    let tmux = Tmux::start("search", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    tmux.keys(&["F5"]);
    tmux.wait_for("the conversations", minute, |s| s.contains("Pasta night") && s.contains("Rust tips"));
    tmux.text("/");
    tmux.wait_for("the search box", minute, |s| s.contains("Search titles and text · 3 of 3"));
    // Typed keys that the list binds (`d` deletes there) are text in the box.
    tmux.text("dried");
    let screen = tmux.wait_for("one match", minute, |s| s.contains("1 of 3"));
    assert!(!screen.contains("Pasta night") && !screen.contains("Rust tips"), "{screen}");
    assert!(screen.contains("Tell me about the farm"), "the title comes from the first message:\n{screen}");
    assert!(screen.contains("reply: The barn held dried corn kernels and hay."), "the preview:\n{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the opened conversation", minute, |s| s.contains("Opened “Tell me about the farm”"));
    assert!(screen.contains("The barn held dried corn kernels and hay.") && !screen.contains("╭ Conversations"));

    // Export from the browser: the file is named after the title.
    tmux.keys(&["F5"]);
    tmux.wait_for("the conversations again", minute, |s| s.contains("Rust tips"));
    tmux.keys(&["C-f"]);
    tmux.text("borrow");
    tmux.wait_for("the Rust match", minute, |s| s.contains("1 of 3") && s.contains("you: Borrow"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the Rust conversation", minute, |s| s.contains("Opened “Rust tips”"));
    // Token counts from SmolLM2's tokenizer (as `tokenize --no-bos` gives them): the opened
    // message's, and the draft's as it is typed.
    tmux.wait_for("the message's token count", minute, |s| s.contains("You · 4 tokens"));
    tmux.text("Hello there");
    tmux.wait_for("the draft's token count", minute, |s| s.contains("╭ Message") && s.contains(" 2 tokens · 0.0% of"));
    tmux.keys(&["C-x"]);
    tmux.wait_for("the export", minute, |s| s.contains("Exported to"));
    let export = root.join("data").join("bitnet-tui").join("exports").join("Rust-tips-20260101000000003.md");
    assert!(std::fs::read_to_string(&export).unwrap().starts_with("# Rust tips\n"), "{}", export.display());

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    let after: Vec<Vec<u8>> =
        conversation_files(&root.join("data")).iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(before, after, "opening conversations must not rewrite them (nor move their update time)");
    let _ = std::fs::remove_dir_all(&root);
}

/// Branches in a real terminal: a reply cut at max tokens goes on with Alt+R, Ctrl+R writes a
/// new version and keeps the old one, ← flips back to it, and an earlier message picked with
/// Alt+↑ and edited forks the conversation there. The file keeps every version, the one shown,
/// and the model of each reply.
#[test]
fn branches_continue_regenerate_flip_and_edit_in_a_real_terminal() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-branches-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let data = root.join("data");
    let cmd = format!(
        "env BITNET_TUI_CONFIG={root}/none.toml XDG_DATA_HOME={data} XDG_STATE_HOME={root}/state HF_HUB_OFFLINE=1 \
         {bin} --model {model} --temp 0 -n 8; echo EXITED:$?; sleep 60",
        root = root.display(),
        data = data.display(),
        bin = env!("CARGO_BIN_EXE_bitnet-tui"),
        model = common::smollm2().display(),
    );
    let tmux = Tmux::start("branches", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    tmux.text("Tell me a story about a cat.");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the cut reply", minute, |s| s.contains("max tokens"));
    let file = conversation_files(&data).pop().unwrap();
    let cut = read_json(&file)["messages"][1]["content"].as_str().unwrap().to_string();

    // Alt+R: the same reply goes on.
    tmux.keys(&["M-r"]);
    let continued = |c: &serde_json::Value| {
        let text = c["messages"][1]["content"].as_str().unwrap_or_default();
        (text.len() > cut.len() && text.starts_with(&cut)).then(|| text.to_string())
    };
    tmux.wait_for("the continued reply", minute, |_| continued(&read_json(&file)).is_some());
    let long = continued(&read_json(&file)).unwrap();
    assert_eq!(read_json(&file)["messages"].as_array().unwrap().len(), 2);

    // Ctrl+R: a second version; ← shows the first again, and the file says which is shown.
    tmux.keys(&["C-r"]);
    tmux.wait_for("the second version", minute, |s| s.contains("‹ 2/2 ›") && s.contains("max tokens"));
    let saved = read_json(&file);
    assert_eq!(saved["messages"][1]["version"], 1);
    assert_eq!(saved["messages"][1]["alternatives"][0][0]["content"], long.as_str());
    assert_eq!(saved["messages"][1]["content"], cut.as_str(), "greedy: the same 8 tokens again");
    assert!(saved["messages"][1]["model"].as_str().is_some_and(|m| m.starts_with("Smollm2")), "{saved}");
    tmux.keys(&["Left"]);
    tmux.wait_for("the first version", minute, |s| s.contains("‹ 1/2 ›"));
    tmux.wait_for("the choice to be saved", minute, |_| read_json(&file)["messages"][1]["content"] == long.as_str());

    // Alt+↑ picks the last message, ↑ the question; e edits it, and sending forks there.
    tmux.keys(&["M-Up"]);
    tmux.wait_for("the picked reply", minute, |s| s.contains("▶ Assistant"));
    tmux.keys(&["Up"]);
    tmux.wait_for("the picked question", minute, |s| s.contains("▶ You"));
    tmux.keys(&["e"]);
    tmux.wait_for("the question in the box", minute, |s| s.contains("╭ Editing your message"));
    tmux.keys(&["C-u"]);
    tmux.text("Tell me a story about a dog.");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the dog story", minute, |_| {
        let c = read_json(&file);
        c["messages"][0]["content"] == "Tell me a story about a dog." && c["messages"][1]["stop_reason"] == "max-tokens"
    });
    let screen = tmux.wait_for("the versions of the question", minute, |s| s.contains("‹ 2/2 ›"));
    assert!(!screen.contains("about a cat"), "{screen}");
    let saved = read_json(&file);
    let old_branch = &saved["messages"][0]["alternatives"][0];
    assert_eq!(old_branch[0]["content"], "Tell me a story about a cat.");
    assert_eq!(old_branch[1]["content"], long.as_str());
    assert_eq!(old_branch[1]["alternatives"][0][0]["content"], cut.as_str());

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    let _ = std::fs::remove_dir_all(&root);
}

/// The mouse in a real terminal: the app asks tmux for mouse reports (the pane's flags say so),
/// a wheel report scrolls the chat, a click picks the message under it or selects a row of the
/// model list, Alt+M gives the mouse back to the terminal and takes it again, and quitting gives
/// it back for good.
#[test]
fn mouse_wheel_click_and_toggle_in_a_real_terminal() {
    let root = std::env::temp_dir().join(format!("bitnet-tui-tmux-mouse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let cmd = format!(
        "env BITNET_TUI_CONFIG={root}/none.toml XDG_DATA_HOME={root}/data XDG_STATE_HOME={root}/state HF_HUB_OFFLINE=1 \
         {bin} --model {model} --temp 0 -n 24; echo EXITED:$?; sleep 60",
        root = root.display(),
        bin = env!("CARGO_BIN_EXE_bitnet-tui"),
        model = common::smollm2().display(),
    );
    let tmux = Tmux::start("mouse", &cmd);
    let minute = Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    assert_eq!(tmux.pane_format("#{mouse_sgr_flag}"), "1", "the app asked for SGR mouse reports");
    // Enough turns to scroll: each reply ends with its figures.
    for n in 1..=6 {
        tmux.text(&format!("Tell me fact number {n} about the sea."));
        tmux.keys(&["Enter"]);
        // The question's own reply must be finished (its figures follow it), or the wheel below
        // would meet "new output below" instead of "more below".
        let question = format!("fact number {n} about");
        tmux.wait_for("the reply to end", minute, |s| {
            s.find(&question).is_some_and(|at| s[at..].contains(" TTFT ")) && !s.contains("generating")
        });
    }
    let at_bottom = tmux.screen();
    assert!(!at_bottom.contains("more below"), "{at_bottom}");

    // Wheel up over the chat: the view leaves the bottom.
    tmux.mouse(64, 10, 10, true);
    tmux.wait_for("the chat to scroll up", minute, |s| s.contains("more below"));
    tmux.mouse(65, 10, 10, true);
    tmux.mouse(65, 10, 10, true);
    tmux.wait_for("the chat to scroll back down", minute, |s| !s.contains("more below"));

    // A click on a message's text picks that message.
    let screen = tmux.screen();
    let row = screen.lines().position(|l| l.starts_with("You")).expect("a question in view") + 1;
    tmux.mouse(0, 2, row as u16, true);
    tmux.mouse(0, 2, row as u16, false);
    tmux.wait_for("the picked question", minute, |s| s.contains("▶ You"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the input box to have the keys", minute, |s| !s.contains("▶ You"));

    // In the model list a click selects the row under it: Enter then acts on that model.
    tmux.keys(&["F4"]);
    let picker = tmux.wait_for("the model list", minute, |s| s.contains("╭ Models") && s.contains(" model "));
    let lines: Vec<&str> = picker.lines().collect();
    let header = lines.iter().position(|l| l.contains(" model ")).unwrap_or_else(|| panic!("{picker}"));
    let (row, line) = (header + 2, lines[header + 2]);
    let name_at = line.char_indices().skip_while(|(_, c)| *c != '│').find(|(_, c)| c.is_alphanumeric());
    let (byte, _) = name_at.unwrap_or_else(|| panic!("no second model:\n{picker}"));
    let name: String = line[byte..].chars().take(12).collect();
    let column = line[..byte].chars().count();
    tmux.mouse(0, column as u16, row as u16, true);
    tmux.mouse(0, column as u16, row as u16, false);
    tmux.keys(&["Enter"]);
    tmux.wait_for("a notice about the clicked model", minute, |s| {
        s.lines().last().is_some_and(|footer| footer.contains(name.trim()))
    });
    if tmux.screen().contains("╭ Models") {
        tmux.keys(&["F4"]);
    }
    tmux.wait_for("the list to close", minute, |s| !s.contains("╭ Models"));

    // Alt+M: the terminal has the mouse (tmux stops reporting it), and again the app.
    tmux.keys(&["M-m"]);
    tmux.wait_for("the mouse left to the terminal", minute, |s| s.contains("Mouse off"));
    assert_eq!(tmux.pane_format("#{mouse_any_flag}#{mouse_sgr_flag}"), "00");
    tmux.keys(&["M-m"]);
    tmux.wait_for("the mouse taken back", minute, |s| s.contains("Mouse on"));
    assert_eq!(tmux.pane_format("#{mouse_sgr_flag}"), "1");

    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert_eq!(tmux.pane_format("#{mouse_any_flag}#{mouse_sgr_flag}"), "00", "the shell gets a mouse-free terminal");
    let _ = std::fs::remove_dir_all(&root);
}
