//! Whole-screen snapshots (TestBackend + insta) at fixed sizes.

mod support;

use std::path::PathBuf;

use bitnet_tui::app::conversation::Message;
use bitnet_tui::app::models::{ModelEntry, ModelKind, ModelSource};
use bitnet_tui::app::state::{Generation, Loading, Overlay, Scroll};
use bitnet_tui::app::State;
use bitnet_tui::engine::protocol::{Role, StopReason};
use bitnet_tui::ui::View;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use support::*;

fn draw(state: &mut State, width: u16, height: u16) -> Terminal<TestBackend> {
    state.size = (width, height);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut view = View::default();
    terminal
        .draw(|frame| {
            view.draw(frame, state);
        })
        .unwrap();
    terminal
}

fn reply(text: &str, generated: usize) -> Message {
    let mut message = Message::new(Role::Assistant, text);
    message.stats = Some(stats(generated));
    message.stop_reason = Some(StopReason::EndOfText);
    message
}

/// A short finished exchange with live figures from its reply.
fn chatting() -> State {
    let mut state = ready_state();
    state.conversation.messages = vec![
        Message::new(Role::User, "What is BitNet b1.58?"),
        reply(
            "**BitNet b1.58** is a language model whose weights are *ternary*: each one is \
             -1, 0 or +1, so a weight needs about 1.58 bits.",
            32,
        ),
        Message::new(Role::User, "Is it fast on a CPU?"),
        reply("Yes: matrix products become additions.", 9),
    ];
    for n in 1..=40 {
        let mut s = stats(n);
        s.last_token_ms = 28.0 + (n % 7) as f64;
        state.live.record(s);
    }
    state
}

#[test]
fn main_screen_80x24() {
    let mut state = chatting();
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

#[test]
fn main_screen_120x40_with_live_panel() {
    let mut state = chatting();
    insta::assert_snapshot!(draw(&mut state, 120, 40).backend());
}

#[test]
fn streaming_with_an_open_fence_scrolled_up() {
    let mut state = ready_state();
    state.conversation.messages = vec![
        Message::new(Role::User, "Write a long function"),
        Message::new(
            Role::Assistant,
            "Here it is:\n\n```rust\nfn main() {\n    for i in 0..10 {\n        println!(\"{i}\");\n    }\n",
        ),
    ];
    state.generation = Some(Generation { id: 1, message: 1, cancelling: false, sent: None });
    state.live.record(stats(12));
    state.scroll = Scroll { top: Some(0), unseen_output: true };
    insta::assert_snapshot!(draw(&mut state, 80, 16).backend());
}

#[test]
fn sliders_panel() {
    let mut state = chatting();
    state.overlay = Some(Overlay::Sliders { selected: 1 });
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

/// A row for `path` as if the file were on disk (the snapshots read no files).
fn on_disk(path: &str, source: ModelSource) -> ModelEntry {
    let mut entry = ModelEntry::from_path(&PathBuf::from(path), source);
    entry.status = bitnet_tui::app::models::ModelStatus::Downloaded;
    entry
}

#[test]
fn model_picker_while_loading() {
    let mut state = chatting();
    let mut loaded = on_disk("/models/bitnet-2b.gguf", ModelSource::CommandLine);
    loaded.apply_info(state.model.as_ref().unwrap());
    loaded.kind = ModelKind::Instruct;
    state.models = vec![
        loaded,
        on_disk("/models/SmolLM2-135M-Instruct-Q8_0.gguf", ModelSource::ModelsDir),
        on_disk("/models/bitnet-b1.58-large-base-tq2_0.gguf", ModelSource::Recent),
    ];
    state.loading = Some(Loading {
        path: PathBuf::from("/models/SmolLM2-135M-Instruct-Q8_0.gguf"),
        fraction: 0.42,
        stage: "weights".into(),
    });
    state.overlay = Some(Overlay::Picker { selected: 1 });
    insta::assert_snapshot!(draw(&mut state, 100, 24).backend());
}

#[test]
fn model_manager_with_catalog_local_and_downloading_rows() {
    use bitnet_tui::app::models::{HubFile, ModelStatus};
    use bitnet_tui::app::state::Download;
    use bitnet_tui::hub::download::Progress;
    let mut state = chatting();
    let mut local = on_disk("/models/bitnet-2b.gguf", ModelSource::CommandLine);
    local.apply_info(state.model.as_ref().unwrap());
    let catalog = |name: &str, repo: &str, size: u64, status| ModelEntry {
        path: PathBuf::new(),
        name: name.into(),
        arch: Some("llama".into()),
        quant: Some("Q8_0".into()),
        size_bytes: Some(size),
        kind: ModelKind::Instruct,
        source: ModelSource::Catalog,
        status,
        hub: Some(HubFile { repo: repo.into(), file: "m.gguf".into() }),
        n_params: None,
        commit: None,
        refs: Vec::new(),
    };
    state.models = vec![
        local,
        catalog("SmolLM2 360M Instruct", "org/smol", 386_000_000, ModelStatus::NotDownloaded),
        catalog("Partial Model", "org/partial", 1_000_000_000, ModelStatus::Partial { bytes: 250_000_000 }),
        catalog("Busy Model", "org/busy", 500_000_000, ModelStatus::Partial { bytes: 100_000_000 }),
    ];
    state.download = Some(Download {
        file: HubFile { repo: "org/busy".into(), file: "m.gguf".into() },
        name: "Busy Model".into(),
        progress: Some(Progress {
            downloaded: 210_000_000,
            total: 500_000_000,
            bytes_per_sec: 12_500_000.0,
            eta: Some(std::time::Duration::from_secs(23)),
        }),
        converting: None,
        cancelling: false,
    });
    state.overlay = Some(Overlay::Picker { selected: 1 });
    insta::assert_snapshot!(draw(&mut state, 110, 24).backend());
}

#[test]
fn help_overlay() {
    let mut state = chatting();
    state.overlay = Some(Overlay::Help { scroll: 0 });
    insta::assert_snapshot!(draw(&mut state, 80, 40).backend());
}

#[test]
fn code_table_cjk_and_emoji() {
    let mut state = ready_state();
    state.conversation.messages = vec![
        Message::new(Role::User, "日本語で説明して 🙏 and show code"),
        reply(
            "## 結果 🎉\n\n\
             三値の重み（-1, 0, +1）を使います。👍🏽 Family: 👨‍👩‍👧\n\n\
             ```python\ndef ternary(w):\n    return max(-1, min(1, round(w)))\n```\n\n\
             | 量子化 | bits | speed |\n|---|---:|:--:|\n| I2_S | 2 | 速い 🚀 |\n| Q4_0 | 4.5 | ok |\n\n\
             > Note: `round` ties go to even.\n\n\
             1. first\n2. second with a longer line that has to wrap somewhere\n",
            77,
        ),
    ];
    insta::assert_snapshot!(draw(&mut state, 80, 30).backend());
}

#[test]
fn too_small_terminal_shows_a_notice() {
    let mut state = chatting();
    insta::assert_snapshot!(draw(&mut state, 30, 8).backend());
}

#[test]
fn no_color_uses_no_colors() {
    let mut state = chatting();
    state.no_color = true;
    state.overlay = Some(Overlay::Sliders { selected: 0 });
    let terminal = draw(&mut state, 120, 40);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    let colored = draw(&mut chatting(), 120, 40);
    assert!(colored.backend().buffer().content().iter().any(|c| c.fg != Color::Reset));
}

/// The colours in the context gauge's row when `used` of 4096 tokens are in use.
fn gauge_colors(used: usize) -> Vec<Color> {
    let mut state = chatting();
    let mut s = stats(10);
    s.ctx_used = used;
    state.live.stats = Some(s);
    let terminal = draw(&mut state, 120, 40);
    let buffer = terminal.backend().buffer();
    let label = format!("ctx {used}/4096");
    let row = (0..40u16)
        .find(|y| {
            let line: String = (0..120u16).map(|x| buffer[(x, *y)].symbol().to_string()).collect();
            line.contains(&label)
        })
        .expect("the gauge is drawn");
    (0..120u16).map(|x| buffer[(x, row)].fg).collect()
}

#[test]
fn context_gauge_warns_from_80_percent() {
    let calm = gauge_colors(2000);
    assert!(calm.contains(&Color::Cyan) && !calm.contains(&Color::Red));
    let warning = gauge_colors(3300);
    assert!(warning.contains(&Color::Red) && !warning.contains(&Color::Cyan));
}

/// The screen's rows as text.
fn screen_rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (0..area.height).map(|y| (0..area.width).map(|x| buffer[(x, y)].symbol()).collect()).collect()
}

/// A picker as a newcomer sees it: the loaded model, one that vanished from disk, a catalog row.
fn picker_state() -> State {
    use bitnet_tui::app::models::{HubFile, ModelStatus};
    let mut state = chatting();
    let mut loaded = on_disk("/models/bitnet-2b.gguf", ModelSource::CommandLine);
    loaded.apply_info(state.model.as_ref().unwrap());
    loaded.kind = ModelKind::Instruct;
    let gone = ModelEntry::from_path(&PathBuf::from("/gone/SmolLM2-135M-Instruct-Q8_0.gguf"), ModelSource::Recent);
    assert_eq!(gone.status, ModelStatus::Missing);
    let catalog = ModelEntry {
        path: PathBuf::new(),
        name: "Falcon3 1B Instruct 1.58bit".into(),
        arch: Some("llama".into()),
        quant: Some("I2_S".into()),
        size_bytes: Some(1_300_000_000),
        kind: ModelKind::Instruct,
        source: ModelSource::Catalog,
        status: ModelStatus::NotDownloaded,
        hub: Some(HubFile { repo: "tiiuae/Falcon3-1B".into(), file: "m.gguf".into() }),
        n_params: None,
        commit: None,
        refs: Vec::new(),
    };
    state.models = vec![loaded, gone, catalog];
    state.overlay = Some(Overlay::Picker { selected: 1 });
    state
}

#[test]
fn model_picker_80x24_keeps_the_names() {
    let mut state = picker_state();
    let terminal = draw(&mut state, 80, 24);
    let rows = screen_rows(&terminal).join("\n");
    for name in ["bitnet-2b", "SmolLM2-135M-Instruct-Q8_0", "Falcon3 1B Instruct 1.58bit"] {
        assert!(rows.contains(name), "{name} is not shown:\n{rows}");
    }
    assert!(rows.contains("missing"), "{rows}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn model_picker_60x18_keeps_the_names_and_the_input_box() {
    let mut state = picker_state();
    let terminal = draw(&mut state, 60, 18);
    let rows = screen_rows(&terminal);
    let text = rows.join("\n");
    assert!(text.contains("SmolLM2-135M-Instruct-Q8_0"), "{text}");
    // The input box's top border (above its one line of text and its bottom border, and the
    // footer) is drawn whole.
    assert!(rows[rows.len() - 4].starts_with("╭ Message "), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn model_picker_120x40_shows_every_column() {
    let mut state = picker_state();
    let terminal = draw(&mut state, 120, 40);
    let text = screen_rows(&terminal).join("\n");
    assert!(text.contains("found in") && text.contains("kind"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn sliders_panel_60x18_scrolls_to_the_selected_setting() {
    let mut state = chatting();
    state.overlay = Some(Overlay::Sliders { selected: 6 });
    let terminal = draw(&mut state, 60, 18);
    let text = screen_rows(&terminal).join("\n");
    assert!(text.contains("▶ seed"), "the selected setting is off-screen:\n{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn flags_are_drawn_as_their_letters() {
    let mut state = ready_state();
    state.conversation.messages =
        vec![Message::new(Role::User, "Capital of 🇫🇷?"), reply("Paris 🇫🇷. | 🇯🇵 | Tokyo |\n|---|---|\n| a | b |", 5)];
    let terminal = draw(&mut state, 60, 18);
    for cell in terminal.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(|c| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)),
            "a regional indicator reached the terminal: {:?}",
            cell.symbol()
        );
    }
    let text = screen_rows(&terminal).join("\n");
    assert!(text.contains("Capital of FR?") && text.contains("Paris FR."), "{text}");
}

#[test]
fn renaming_shows_its_keys_in_the_footer_80x24() {
    use bitnet_tui::app::update;
    let mut state = chatting();
    update(&mut state, key(crossterm::event::KeyCode::F(5)));
    let mut listed = bitnet_tui::app::store::ConversationSummary::new(&state.conversation);
    listed.title = "What is BitNet b1.58 and how does it…".into();
    listed.updated = "2026-11-29T12:00:00Z".into();
    (listed.id, listed.model) = ("a".into(), Some("bitnet-2b".into()));
    update(&mut state, bitnet_tui::app::msg::Msg::ConversationsListed(vec![listed].into()));
    update(&mut state, key(crossterm::event::KeyCode::Char('r')));
    let terminal = draw(&mut state, 80, 24);
    let rows = screen_rows(&terminal);
    let footer = rows.last().unwrap();
    assert!(footer.contains("Enter save the title") && footer.contains("Esc keep the old title"), "{footer}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_picker_says_it_is_looking_until_the_list_arrives() {
    let mut state = chatting();
    state.overlay = Some(Overlay::Picker { selected: 0 });
    state.discovering = true;
    assert!(screen_rows(&draw(&mut state, 80, 24)).join("\n").contains("Looking for models…"));
    state.discovering = false;
    assert!(screen_rows(&draw(&mut state, 80, 24)).join("\n").contains("No models found."));
}

#[test]
fn unsaved_conversations_on_quit_80x24() {
    let mut state = chatting();
    state.unsaved = vec![state.conversation.clone()];
    state.save_error = Some("No space left on device (os error 28)".into());
    state.rescue_dir = std::path::PathBuf::from("/tmp/bitnet-tui-rescue");
    state.overlay = Some(Overlay::Unsaved);
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

/// The rows of the input box: from its top border to the footer.
fn input_box_rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let rows = screen_rows(terminal);
    let top = rows.iter().rposition(|r| r.contains("╭ Message")).expect("the input box");
    rows[top..rows.len() - 1].to_vec()
}

#[test]
fn long_input_wraps_and_the_box_grows_then_scrolls_80x24() {
    let mut state = chatting();
    // A short text that wraps once: two rows of text.
    bitnet_tui::app::update(&mut state, bitnet_tui::app::Msg::Paste("word ".repeat(20)));
    assert_eq!(input_box_rows(&draw(&mut state, 80, 24)).len(), 4);
    // The 3,326-character paste of the report: at most a third of the screen, showing its end.
    let words: String = (0..1000).map(|i| format!("w{i} ")).collect();
    let paste: String = words.chars().take(3326).collect();
    bitnet_tui::app::update(&mut state, bitnet_tui::app::Msg::Paste(paste));
    let terminal = draw(&mut state, 80, 24);
    let rows = input_box_rows(&terminal);
    assert_eq!(rows.len(), 9, "{rows:#?}");
    assert!(rows.iter().all(|r| r.chars().count() == 80), "nothing runs off sideways");
    assert!(rows[rows.len() - 2].contains("w"), "{rows:#?}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_lists_the_editing_keys() {
    let state = chatting();
    let theme = bitnet_tui::ui::theme::Theme::mono();
    let lines: Vec<String> = bitnet_tui::ui::help::lines(&state.keymap, &theme).iter().map(|l| l.to_string()).collect();
    let has = |keys: &str, label: &str| {
        lines.iter().any(|l| l.trim_start().starts_with(keys) && l.trim_end().ends_with(label))
    };
    assert!(lines.iter().any(|l| l.starts_with("Text boxes")), "{lines:#?}");
    for (keys, label) in [
        ("Ctrl+A/Home", "start of line"),
        ("Ctrl+E/End", "end of line"),
        ("Ctrl+U", "delete to start of line"),
        ("Ctrl+W/Alt+Backspace", "delete the word before"),
        ("Ctrl+G", "edit in $EDITOR"),
        ("Ctrl+J/Alt+Enter", "new line"),
        ("Alt+E", "edit last message"),
        ("F6", "system prompt"),
        ("Ctrl+C", "stop the reply / clear draft / quit"),
    ] {
        assert!(has(keys, label), "no `{keys}  {label}` in {lines:#?}");
    }
}

/// The chat of `chatting()` under a persona's system prompt.
fn with_system_prompt() -> State {
    let mut state = chatting();
    state.conversation.system_prompt =
        Some("You are a patient teacher. Explain each idea with one short example, then stop.".into());
    state.conversation.persona = Some("teacher".into());
    state
}

#[test]
fn system_prompt_is_shown_above_the_chat_80x24() {
    let mut state = with_system_prompt();
    state.scroll = Scroll { top: Some(0), unseen_output: false };
    state.viewport = bitnet_tui::app::state::ChatViewport { total_lines: 40, height: 20, ..Default::default() };
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

#[test]
fn system_prompt_editor_80x24() {
    let mut state = with_system_prompt();
    bitnet_tui::app::update(
        &mut state,
        bitnet_tui::app::Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::F(6))),
    );
    assert!(matches!(state.overlay, Some(Overlay::SystemPrompt(_))));
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

#[test]
fn persona_picker_80x24() {
    use bitnet_tui::app::persona::Persona;
    let mut state = chatting();
    let base = state.personas[0].knobs.clone();
    let persona = |name: &str, prompt: &str, temperature: f32| {
        let mut knobs = base.clone();
        knobs.sampling.temperature = temperature;
        Persona { name: Some(name.into()), system_prompt: Some(prompt.into()), knobs }
    };
    state.personas.push(persona("coder", "You are a senior Rust engineer. Answer with code first.", 0.2));
    state.personas.push(persona("poet", "You answer in verse.\nAlways rhyme.", 1.1));
    state.overlay = Some(Overlay::Personas { selected: 1 });
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

#[test]
fn history_search_previews_the_matches_80x24() {
    use bitnet_tui::app::conversation::Conversation;
    use bitnet_tui::app::msg::Msg;
    use bitnet_tui::app::store::ConversationSummary;
    use bitnet_tui::app::update;
    use crossterm::event::KeyCode;
    let mut state = chatting();
    update(&mut state, key(KeyCode::F(5)));
    let stored = |id: &str, title: &str, messages: &[(Role, &str)]| {
        let mut c = Conversation::new(id.into(), "2026-11-29T12:00:00Z".into());
        c.title = title.into();
        c.model = Some("bitnet-2b".into());
        c.messages = messages.iter().map(|(role, text)| Message::new(*role, *text)).collect();
        ConversationSummary::new(&c)
    };
    let items = vec![
        stored("1", "Kernel speed", &[(Role::User, "How fast are the kernels?")]),
        stored("2", "Pasta", &[(Role::User, "Recipe please"), (Role::Assistant, "Boil water.")]),
        stored(
            "3",
            "Farm trip",
            &[
                (Role::User, "What did we see at the farm last summer, in the big red barn?"),
                (Role::Assistant, "We saw the corn harvest: the KERNELS were dried\nand stored for winter."),
            ],
        ),
    ];
    update(&mut state, Msg::ConversationsListed(items.into()));
    update(&mut state, key(KeyCode::Char('/')));
    type_text(&mut state, "kernels");
    let terminal = draw(&mut state, 80, 24);
    let text = screen_rows(&terminal).join("\n");
    assert!(text.contains("2 of 3") && !text.contains("Pasta"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn token_counts_of_the_draft_and_the_messages_80x24() {
    let mut state = chatting();
    state.conversation.messages[0].tokens = Some(9);
    state.conversation.messages[2].tokens = Some(1);
    type_text(&mut state, "How many tokens is this draft?");
    state.tokens.count = Some(7);
    let terminal = draw(&mut state, 80, 24);
    let text = screen_rows(&terminal).join("\n");
    assert!(text.contains("You · 9 tokens") && text.contains("You · 1 token "), "{text}");
    assert!(text.contains("7 tokens · 0.2% of 4096"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

/// The second reply regenerated (version 2 of 2, by another model) and the first question
/// picked with Alt+Up: the mark, the versions, the models and the picked message's keys.
#[test]
fn versions_and_a_picked_message_80x24() {
    let mut state = chatting();
    for (index, model) in [(1, "bitnet-2b"), (3, "smollm2")] {
        state.conversation.messages[index].model = Some(model.into());
    }
    let mut old = reply("Not really.", 3);
    old.model = Some("bitnet-2b".into());
    state.conversation.messages[3].alternatives = vec![vec![old]];
    state.conversation.messages[3].version = 1;
    state.overlay = Some(Overlay::Messages { selected: 2, confirm_delete: false });
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

/// The mouse left to the terminal (Alt+M): the footer offers to take it back.
#[test]
fn mouse_left_to_the_terminal_80x24() {
    let mut state = chatting();
    state.mouse_capture = false;
    insta::assert_snapshot!(draw(&mut state, 80, 24).backend());
}

/// The style of the first cell of the first `text` on the screen.
fn style_of(terminal: &Terminal<TestBackend>, text: &str) -> ratatui::style::Style {
    let rows = screen_rows(terminal);
    let (y, row) = rows.iter().enumerate().find(|(_, r)| r.contains(text)).unwrap_or_else(|| panic!("no {text}"));
    let x = row[..row.find(text).unwrap()].chars().count();
    terminal.backend().buffer()[(x as u16, y as u16)].style()
}

#[test]
fn themes_colour_the_screen_and_the_config_colours_win() {
    use bitnet_tui::app::theme::{ThemeChoice, ThemeName};
    let mut state = chatting();
    let user_label = |state: &mut State| style_of(&draw(state, 80, 24), "You").fg;
    assert_eq!(user_label(&mut state), Some(Color::Green));
    state.theme.name = ThemeName::Light;
    assert_eq!(user_label(&mut state), Some(Color::Indexed(28)));
    state.theme.name = ThemeName::HighContrast;
    assert_eq!(user_label(&mut state), Some(Color::LightGreen));
    let overrides = toml::from_str("user = \"#102030\"").unwrap();
    state.theme = ThemeChoice { name: ThemeName::Light, overrides };
    assert_eq!(user_label(&mut state), Some(Color::Rgb(16, 32, 48)));
    state.no_color = true;
    assert_eq!(user_label(&mut state), Some(Color::Reset));
}

#[test]
fn a_very_wide_terminal_centres_the_conversation_160x24() {
    let mut state = chatting();
    state.show_stats = Some(false);
    state.max_width = 100;
    let terminal = draw(&mut state, 160, 24);
    let rows = screen_rows(&terminal);
    let reply = rows.iter().find(|r| r.contains("BitNet b1.58 is a language")).unwrap();
    assert_eq!(reply.find("BitNet"), Some((160 - 101) / 2), "{reply}");
    insta::assert_snapshot!(terminal.backend());
}

/// A list tells where its rows went, so that a click lands on the row drawn under it.
#[test]
fn the_model_list_reports_where_its_rows_are() {
    let mut state = chatting();
    state.models = (0..30).map(|i| on_disk(&format!("/models/model-{i:02}.gguf"), ModelSource::ModelsDir)).collect();
    state.overlay = Some(Overlay::Picker { selected: 25 });
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut drawn = None;
    terminal.draw(|frame| drawn = Some(View::default().draw(frame, &state))).unwrap();
    let list = drawn.unwrap().list.expect("the picker reports its rows");
    assert!(list.first > 0, "scrolled to show the selected model");
    let buffer = terminal.backend().buffer();
    let row: String = (list.rows.x..list.rows.right()).map(|x| buffer[(x, list.rows.y)].symbol().to_string()).collect();
    assert!(row.contains(&format!("model-{:02}", list.first)), "{row}");
}

#[test]
fn the_stats_panel_shows_kept_drafts_only_when_drafting() {
    let row_with = |state: &mut State| {
        screen_rows(&draw(state, 120, 40))
            .into_iter()
            .find(|row| row.contains("drafts"))
            .map(|row| row.trim().to_string())
    };
    let mut state = chatting();
    state.live.stats = Some(stats(10));
    assert_eq!(row_with(&mut state), None);
    let mut s = stats(10);
    (s.draft_tokens, s.draft_accepted) = (40, 30);
    state.live.stats = Some(s);
    let row = row_with(&mut state).expect("a drafts row");
    assert!(row.contains("drafts    75% kept · 30/40 tok"), "{row}");
}
