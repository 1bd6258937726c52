//! Fake-engine flows: the scripted engine answers the app's commands with protocol events.
//! First driven through `update()` step by step, then through the real loop (`run_app`) with
//! real channels, a scripted keyboard and a TestBackend.

mod support;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitnet_tui::app::models::ModelSources;
use bitnet_tui::app::msg::{ClipboardKind, Msg};
use bitnet_tui::app::state::ChatViewport;
use bitnet_tui::app::store::Store;
use bitnet_tui::app::{update, State};
use bitnet_tui::engine::protocol::{ChatMessage, EngineCmd, Prompt, Role, StopReason};
use bitnet_tui::tui::{run_app, AppContext, Host};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use support::fake_engine::{self, done, start_events, stats_event, token, Journal, REPLY};
use support::*;

/// Runs `msg` through `update` and hands the engine commands to the journal.
fn step(state: &mut State, journal: &mut Journal, msg: Msg) {
    journal.commands.extend(engine_cmds(&update(state, msg)));
}

fn last_generate(journal: &Journal) -> (u64, Vec<ChatMessage>, f32) {
    match journal.generates().last() {
        Some(EngineCmd::Generate { id, prompt: Prompt::Chat(messages), sampling, .. }) => {
            (*id, messages.clone(), sampling.temperature)
        }
        other => panic!("no Generate: {other:?}"),
    }
}

#[test]
fn stream_scroll_cancel_regenerate_and_change_sampling_mid_reply() {
    let mut state = ready_state();
    let mut journal = Journal::default();
    type_text(&mut state, "Tell me a story");
    step(&mut state, &mut journal, key(KeyCode::Enter));
    let (id, prompt, _) = last_generate(&journal);
    assert_eq!(prompt, [ChatMessage::new(Role::User, "Tell me a story")]);

    // Stream: follow mode keeps the view at the bottom.
    for event in start_events(id) {
        step(&mut state, &mut journal, Msg::Engine(event));
    }
    assert_eq!(state.scroll.top, None);

    // The user scrolls up: follow stops and new tokens raise the hint instead of moving the view.
    state.viewport = ChatViewport { total_lines: 40, height: 10, ..Default::default() };
    step(&mut state, &mut journal, key(KeyCode::PageUp));
    let parked = state.scroll.top;
    assert!(parked.is_some());
    step(&mut state, &mut journal, Msg::Engine(token(id, 1)));
    step(&mut state, &mut journal, Msg::Engine(stats_event(id, 2)));
    assert_eq!(state.scroll.top, parked);
    assert!(state.scroll.unseen_output);

    // Cancel: the engine is told, the partial reply stays, marked stopped.
    step(&mut state, &mut journal, key(KeyCode::Esc));
    assert!(matches!(journal.commands.last(), Some(EngineCmd::Cancel { .. })));
    step(&mut state, &mut journal, Msg::Engine(done(id, StopReason::Cancelled, 2)));
    assert_eq!(state.conversation.messages[1].content, "Hello!");
    assert_eq!(state.conversation.messages[1].stop_reason, Some(StopReason::Cancelled));

    // Regenerate: the conversation is sent again without the stopped reply.
    step(&mut state, &mut journal, ctrl('r'));
    let (id2, prompt, temperature) = last_generate(&journal);
    assert!(id2 > id);
    assert_eq!(prompt, [ChatMessage::new(Role::User, "Tell me a story")]);
    assert_eq!(temperature, 0.8);
    assert_eq!(state.scroll.top, None, "a new request follows again");
    for event in start_events(id2) {
        step(&mut state, &mut journal, Msg::Engine(event));
    }

    // Slider change mid-reply: sent as SetSampling at once...
    step(&mut state, &mut journal, key(KeyCode::F(3)));
    step(&mut state, &mut journal, key(KeyCode::Left));
    step(&mut state, &mut journal, key(KeyCode::Left));
    step(&mut state, &mut journal, key(KeyCode::Esc));
    assert!(
        matches!(journal.commands.last(), Some(EngineCmd::SetSampling { sampling: s, .. }) if s.temperature == 0.7)
    );
    assert_eq!(journal.current_sampling().unwrap().temperature, 0.7);
    assert!(state.is_generating(), "closing the panel does not stop the reply");
    step(&mut state, &mut journal, Msg::Engine(token(id2, 1)));
    step(&mut state, &mut journal, Msg::Engine(done(id2, StopReason::EndOfText, 2)));

    // ...and the next Generate carries it too.
    type_text(&mut state, "Go on");
    step(&mut state, &mut journal, key(KeyCode::Enter));
    let (_, prompt, temperature) = last_generate(&journal);
    assert_eq!(temperature, 0.7);
    assert_eq!(prompt.len(), 3);
    assert_eq!(prompt[1], ChatMessage::new(Role::Assistant, "Hello!"));
}

/// A host that records what the loop asked of the terminal.
#[derive(Default)]
struct RecordingHost {
    copied: Vec<String>,
    suspends: usize,
    /// What `$EDITOR` was opened on.
    edited: Vec<String>,
    /// Each switch of the mouse, in order.
    mouse: Vec<bool>,
}

impl Host for RecordingHost {
    fn copy_to_clipboard(&mut self, text: &str) -> io::Result<ClipboardKind> {
        self.copied.push(text.to_string());
        Ok(ClipboardKind::Osc52)
    }
    fn suspend(&mut self) -> io::Result<()> {
        self.suspends += 1;
        Ok(())
    }
    fn edit_text(&mut self, text: &str) -> io::Result<String> {
        self.edited.push(text.to_string());
        Ok(format!("{text} (edited)\n"))
    }
    fn terminate_requested(&self) -> bool {
        false
    }
    fn set_mouse_capture(&mut self, on: bool) -> io::Result<()> {
        self.mouse.push(on);
        Ok(())
    }
}

fn press(keys: &UnboundedSender<io::Result<Event>>, code: KeyCode, mods: KeyModifiers) {
    keys.unbounded_send(Ok(Event::Key(KeyEvent::new(code, mods)))).expect("the app reads keys");
}

fn type_keys(keys: &UnboundedSender<io::Result<Event>>, text: &str) {
    for c in text.chars() {
        press(keys, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// The loop's surroundings: conversations in `data`, no model folders, `host`, `frame_rate` fps.
fn context<'a>(data: &Path, host: &'a mut RecordingHost, frame_rate: u32) -> AppContext<'a> {
    AppContext { store: Store::new(data), sources: ModelSources::default(), host, frame_rate }
}

/// Waits (up to 5 s) until the journal satisfies `done`.
async fn wait_for(journal: &Arc<Mutex<Journal>>, what: &str, done: impl Fn(&Journal) -> bool) {
    for _ in 0..1000 {
        if done(&journal.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}: {:?}", journal.lock().unwrap().commands);
}

fn count(journal: &Journal, what: fn(&EngineCmd) -> bool) -> usize {
    journal.commands.iter().filter(|c| what(c)).count()
}

#[tokio::test(flavor = "current_thread")]
async fn the_loop_runs_a_chat_against_the_fake_engine() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("bitnet-b1.58-2B-4T-i2_s.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let (cmds, events, journal) = fake_engine::spawn(Duration::from_millis(30));
    let (keys, input) = unbounded::<io::Result<Event>>();
    let mut state = State::new(&settings(), vec![model.clone()], fixed_time());
    state.size = (100, 30);
    let mut host = RecordingHost::default();
    let mut ctx = context(data.path(), &mut host, 60);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();

    let script = async {
        wait_for(&journal, "the start-up load", |j| !j.commands.is_empty()).await;
        type_keys(&keys, "Hi");
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&journal, "the first reply", |j| j.generates().len() == 1).await;
        // Mid-reply: raise the temperature from the sliders panel.
        press(&keys, KeyCode::F(3), KeyModifiers::NONE);
        press(&keys, KeyCode::Right, KeyModifiers::NONE);
        press(&keys, KeyCode::Esc, KeyModifiers::NONE);
        wait_for(&journal, "SetSampling", |j| count(j, |c| matches!(c, EngineCmd::SetSampling { .. })) == 1).await;
        // Stop it, then regenerate.
        press(&keys, KeyCode::Esc, KeyModifiers::NONE);
        wait_for(&journal, "Cancel", |j| count(j, |c| matches!(c, EngineCmd::Cancel { .. })) == 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        press(&keys, KeyCode::Char('r'), KeyModifiers::CONTROL);
        wait_for(&journal, "the second reply", |j| j.generates().len() == 2).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        press(&keys, KeyCode::Char('y'), KeyModifiers::CONTROL);
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let (state, ()) = tokio::join!(run_app(&mut terminal, state, cmds, events, input, &mut ctx), script);
    let state = state.expect("the loop ends cleanly");
    wait_for(&journal, "Shutdown", |j| matches!(j.commands.last(), Some(EngineCmd::Shutdown))).await;

    let journal = journal.lock().unwrap();
    assert!(matches!(&journal.commands[0], EngineCmd::Load { path, .. } if *path == model));
    let EngineCmd::Generate { sampling, prompt: Prompt::Chat(prompt), .. } = journal.generates()[1].clone() else {
        unreachable!()
    };
    assert_eq!(sampling.temperature, 0.85, "the regenerated reply uses the new temperature");
    assert_eq!(prompt, [ChatMessage::new(Role::User, "Hi")]);

    let reply = &state.conversation.messages[1];
    assert_eq!(reply.content, REPLY.concat());
    assert_eq!(reply.stop_reason, Some(StopReason::EndOfText));
    assert_eq!(host.copied, [REPLY.concat()]);

    // Saved after the finished reply, with its figures.
    let stored = Store::new(data.path()).load(&state.conversation.id).unwrap();
    assert_eq!(stored.messages[1].stats.as_ref().map(|s| s.generated_tokens), Some(REPLY.len()));
    assert_eq!(Store::new(data.path()).recent_models(), [model]);

    // The last frame shows the finished reply.
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Hello! How can I help?"), "{screen}");
    assert!(screen.contains("6 tokens · 31.2 tok/s · TTFT 95 ms · end of text"), "{screen}");
}

#[tokio::test(flavor = "current_thread")]
async fn typed_keys_are_drawn_at_once_not_at_the_next_frame_tick() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("model.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let (cmds, events, journal) = fake_engine::spawn(Duration::from_millis(30));
    let (keys, input) = unbounded::<io::Result<Event>>();
    let mut state = State::new(&settings(), vec![model], fixed_time());
    state.size = (80, 24);
    let mut host = RecordingHost::default();
    // One frame a second: the clock draws at start and then not again before the test ends.
    let mut ctx = context(data.path(), &mut host, 1);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let script = async {
        wait_for(&journal, "the start-up load", |j| !j.commands.is_empty()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        type_keys(&keys, "Hey there");
        tokio::time::sleep(Duration::from_millis(100)).await;
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let (state, ()) = tokio::join!(run_app(&mut terminal, state, cmds, events, input, &mut ctx), script);
    state.expect("the loop ends cleanly");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Hey there"), "the typed text is on screen within 100 ms:\n{screen}");
}

fn mouse(keys: &UnboundedSender<io::Result<Event>>, kind: MouseEventKind, column: u16, row: u16) {
    let event = MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
    keys.unbounded_send(Ok(Event::Mouse(event))).expect("the app reads the mouse");
}

/// A click lands on the message drawn under it in the last frame, moves change nothing, and the
/// mouse key reaches the terminal.
#[tokio::test(flavor = "current_thread")]
async fn a_click_picks_the_message_under_it_and_the_mouse_key_reaches_the_terminal() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("model.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let (cmds, events, journal) = fake_engine::spawn(Duration::from_millis(5));
    let (keys, input) = unbounded::<io::Result<Event>>();
    let mut state = State::new(&settings(), vec![model], fixed_time());
    state.size = (80, 24);
    let mut host = RecordingHost::default();
    let mut ctx = context(data.path(), &mut host, 60);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let script = async {
        wait_for(&journal, "the start-up load", |j| !j.commands.is_empty()).await;
        type_keys(&keys, "Hi");
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&journal, "the reply", |j| j.generates().len() == 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        mouse(&keys, MouseEventKind::Moved, 5, 5);
        // Row 0 is the header, row 1 the label "You", row 2 its text.
        mouse(&keys, MouseEventKind::Down(MouseButton::Left), 1, 2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        press(&keys, KeyCode::Char('m'), KeyModifiers::ALT);
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let (state, ()) = tokio::join!(run_app(&mut terminal, state, cmds, events, input, &mut ctx), script);
    let state = state.expect("the loop ends cleanly");
    // Quitting closed the picked message; the last frame shows it.
    let screen = terminal.backend().to_string();
    assert!(screen.contains("▶ You"), "{screen}");
    assert!(!state.mouse_capture);
    assert_eq!(host.mouse, [false]);
}

/// A data folder that cannot take the conversation (its `conversations` is a file): the reply
/// stays in memory, quitting asks instead of leaving, and "save elsewhere" writes it to the
/// rescue folder before the loop ends.
#[tokio::test(flavor = "current_thread")]
async fn a_conversation_that_cannot_be_saved_is_rescued_on_quit_not_lost() {
    let data = tempfile::tempdir().unwrap();
    let rescue = tempfile::tempdir().unwrap();
    let model = data.path().join("model.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    std::fs::write(data.path().join("conversations"), b"not a folder").unwrap();
    let (cmds, events, journal) = fake_engine::spawn(Duration::from_millis(5));
    let (keys, input) = unbounded::<io::Result<Event>>();
    let mut state = State::new(&settings(), vec![model], fixed_time());
    state.rescue_dir = rescue.path().to_path_buf();
    let mut host = RecordingHost::default();
    let mut ctx = context(data.path(), &mut host, 60);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let script = async {
        wait_for(&journal, "the start-up load", |j| !j.commands.is_empty()).await;
        type_keys(&keys, "Hi");
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&journal, "the reply", |j| j.generates().len() == 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Still running: these keys reach the dialog (a closed loop would make `press` fail).
        press(&keys, KeyCode::Char('s'), KeyModifiers::NONE);
    };
    let (state, ()) = tokio::join!(run_app(&mut terminal, state, cmds, events, input, &mut ctx), script);
    let state = state.expect("the loop ends cleanly");
    assert!(state.unsaved.is_empty());
    let rescued = Store::new(rescue.path()).load(&state.conversation.id).expect("the rescued conversation loads");
    assert_eq!(rescued.messages.len(), 2);
    assert_eq!(rescued.messages[1].content, REPLY.concat());
    let farewell = state.farewell.expect("the farewell says where it went");
    assert!(farewell.contains(&rescue.path().display().to_string()), "{farewell}");
}

#[tokio::test(flavor = "current_thread")]
async fn ctrl_g_edits_the_draft_through_the_host_and_sent_inputs_are_saved() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("model.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let (cmds, events, journal) = fake_engine::spawn(Duration::from_millis(5));
    let (keys, input) = unbounded::<io::Result<Event>>();
    let mut state = State::new(&settings(), vec![model], fixed_time());
    state.size = (80, 24);
    let mut host = RecordingHost::default();
    let mut ctx = context(data.path(), &mut host, 60);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let script = async {
        wait_for(&journal, "the start-up load", |j| !j.commands.is_empty()).await;
        type_keys(&keys, "draft");
        press(&keys, KeyCode::Char('g'), KeyModifiers::CONTROL);
        press(&keys, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&journal, "the reply", |j| j.generates().len() == 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let (state, ()) = tokio::join!(run_app(&mut terminal, state, cmds, events, input, &mut ctx), script);
    let state = state.expect("the loop ends cleanly");
    assert_eq!(host.edited, ["draft"]);
    assert_eq!(state.conversation.messages[0].content, "draft (edited)");
    assert_eq!(Store::new(data.path()).input_history(), ["draft (edited)"]);
}
