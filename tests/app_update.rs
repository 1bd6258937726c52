//! `update()` without a terminal: one test (or a few) per user action.

mod support;

use std::path::PathBuf;

use bitnet_tui::app::conversation::{Conversation, Message};
use bitnet_tui::app::models::{ModelEntry, ModelSource};
use bitnet_tui::app::msg::{text_hash, Effect, Msg, TokenCount, TokenJob};
use bitnet_tui::app::state::{ChatViewport, HistoryBrowser, NoticeLevel, Overlay, TextBox};
use bitnet_tui::app::store::{ConversationSummary, Listing};
use bitnet_tui::app::update;
use bitnet_tui::engine::protocol::{ChatMessage, EngineCmd, EngineEvent, Prompt, Role, StopReason};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use support::fake_engine::{done, stats_event, token};
use support::*;

/// Types `text`, presses Enter, and returns the request id of the `Generate` it caused.
fn send(state: &mut bitnet_tui::app::State, text: &str) -> u64 {
    type_text(state, text);
    let cmds = engine_cmds(&update(state, key(KeyCode::Enter)));
    match cmds.as_slice() {
        [EngineCmd::Generate { id, .. }] => *id,
        other => panic!("expected one Generate, got {other:?}"),
    }
}

fn prompt_of(cmd: &EngineCmd) -> Vec<ChatMessage> {
    match cmd {
        EngineCmd::Generate { prompt: Prompt::Chat(messages), .. } => messages.clone(),
        other => panic!("not a chat Generate: {other:?}"),
    }
}

fn saved(effects: &[Effect]) -> Option<Conversation> {
    effects.iter().find_map(|e| match e {
        Effect::SaveConversation(c) => Some(c.clone()),
        _ => None,
    })
}

#[test]
fn enter_sends_the_whole_conversation() {
    let mut state = ready_state();
    state.conversation.system_prompt = Some("Be brief.".into());
    type_text(&mut state, "Hi there");
    let effects = update(&mut state, key(KeyCode::Enter));
    let cmds = engine_cmds(&effects);
    assert_eq!(cmds.len(), 1);
    assert_eq!(
        prompt_of(&cmds[0]),
        [ChatMessage::new(Role::System, "Be brief."), ChatMessage::new(Role::User, "Hi there")]
    );
    let EngineCmd::Generate { sampling, max_tokens, .. } = &cmds[0] else { unreachable!() };
    assert_eq!(*sampling, state.knobs.sampling);
    assert_eq!(*max_tokens, state.knobs.max_tokens);
    assert!(state.input.is_empty());
    assert_eq!(state.conversation.messages.len(), 2);
    assert_eq!(state.conversation.messages[1].role, Role::Assistant);
    assert!(state.is_generating());
    assert_eq!(state.conversation.model.as_deref(), Some("bitnet-2b"));
}

#[test]
fn send_without_a_model_keeps_the_text_and_says_why() {
    let mut state = state();
    type_text(&mut state, "hello");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty());
    assert_eq!(state.input_text(), "hello");
    assert_eq!(state.notice.as_ref().map(|n| n.level), Some(NoticeLevel::Warning));
    assert!(state.conversation.messages.is_empty());
}

#[test]
fn send_while_loading_is_allowed_and_queued_behind_the_load() {
    let mut state = state();
    state.recent_models = vec![PathBuf::from("/m/a.gguf")];
    let effects = update::start(&mut state);
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Load { .. }]));
    send(&mut state, "hello");
}

#[test]
fn send_while_generating_is_refused() {
    let mut state = ready_state();
    send(&mut state, "one");
    type_text(&mut state, "two");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert_eq!(state.input_text(), "two");
    assert!(state.notice.is_some());
}

#[test]
fn ctrl_j_and_alt_enter_insert_newlines() {
    let mut state = ready_state();
    type_text(&mut state, "a");
    update(&mut state, ctrl('j'));
    type_text(&mut state, "b");
    update(&mut state, alt(KeyCode::Enter));
    type_text(&mut state, "c");
    assert_eq!(state.input_text(), "a\nb\nc");
    let id = send(&mut state, "");
    assert_eq!(id, 1);
    assert_eq!(state.conversation.messages[0].content, "a\nb\nc");
}

#[test]
fn bracketed_paste_is_one_edit_and_never_sends() {
    let mut state = ready_state();
    let effects = update(&mut state, Msg::Paste("line one\r\nline two\nline three".into()));
    assert!(effects.is_empty());
    assert_eq!(state.input.lines(), ["line one", "line two", "line three"]);
    assert!(!state.is_generating());
    // One undo takes the whole paste back.
    update(&mut state, ctrl('_'));
    assert!(state.input.is_empty());
}

#[test]
fn up_and_down_recall_inputs_only_in_an_empty_box() {
    let mut state = ready_state();
    let id = send(&mut state, "first");
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.input_text(), "first");
    update(&mut state, key(KeyCode::Down));
    assert_eq!(state.input_text(), "");
    type_text(&mut state, "typing");
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.input_text(), "typing");
}

#[test]
fn tokens_stream_in_and_done_saves_with_stats() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(EngineEvent::PrefillProgress { id, done: 10, total: 40 }));
    assert_eq!(state.live.prefill, Some((10, 40)));
    for n in 0..3 {
        update(&mut state, Msg::Engine(token(id, n)));
        update(&mut state, Msg::Engine(stats_event(id, n + 1)));
    }
    assert_eq!(state.conversation.messages[1].content, "Hello! How");
    assert_eq!(state.live.token_speeds.len(), 3);
    assert_eq!(state.live.current_speed(), Some(31));
    // Events of an older request are ignored.
    update(&mut state, Msg::Engine(token(id + 7, 0)));
    assert_eq!(state.conversation.messages[1].content, "Hello! How");

    let effects = update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 3)));
    let conversation = saved(&effects).expect("saved after the reply");
    let reply = &conversation.messages[1];
    assert_eq!(reply.stop_reason, Some(StopReason::EndOfText));
    assert_eq!(reply.stats.as_ref().map(|s| s.generated_tokens), Some(3));
    assert!(!state.is_generating());
}

#[test]
fn esc_stops_the_reply_and_keeps_the_partial_text() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Esc)));
    assert!(matches!(cmds[..], [EngineCmd::Cancel { .. }]));
    assert!(engine_cmds(&update(&mut state, key(KeyCode::Esc))).is_empty());
    let effects = update(&mut state, Msg::Engine(done(id, StopReason::Cancelled, 1)));
    let reply = &saved(&effects).unwrap().messages[1];
    assert_eq!(reply.content, "Hello");
    assert_eq!(reply.stop_reason, Some(StopReason::Cancelled));
}

#[test]
fn ctrl_c_stops_then_a_second_press_quits() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    let cmds = engine_cmds(&update(&mut state, ctrl('c')));
    assert!(matches!(cmds[..], [EngineCmd::Cancel { .. }]));
    assert!(saved(&update(&mut state, Msg::Engine(done(id, StopReason::Cancelled, 0)))).is_some());
    assert!(!state.quitting);
    let effects = update_settled(&mut state, ctrl('c'));
    assert!(state.quitting);
    assert!(saved(&effects).is_none(), "saved when the reply ended, not again");
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Shutdown]));
}

#[test]
fn ctrl_c_idle_needs_two_presses_in_a_row() {
    let mut state = ready_state();
    update(&mut state, ctrl('c'));
    assert!(!state.quitting && state.quit_armed);
    type_text(&mut state, "x");
    assert!(!state.quit_armed);
    // The first press clears the draft, the second arms, the third quits.
    update(&mut state, ctrl('c'));
    assert!(state.input.is_empty() && !state.quit_armed);
    update(&mut state, ctrl('c'));
    assert!(!state.quitting);
    update_settled(&mut state, ctrl('c'));
    assert!(state.quitting);
}

#[test]
fn quitting_mid_reply_saves_it_marked_stopped() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    let effects = update_settled(&mut state, ctrl('q'));
    let cmds = engine_cmds(&effects);
    assert!(matches!(cmds[..], [EngineCmd::Cancel { .. }, EngineCmd::Shutdown]));
    let reply = &saved(&effects).unwrap().messages[1];
    assert_eq!(reply.stop_reason, Some(StopReason::Cancelled));
    assert!(state.quitting);
}

#[test]
fn regenerate_resends_without_the_last_reply() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    let cmds = engine_cmds(&update(&mut state, ctrl('r')));
    assert_eq!(prompt_of(&cmds[0]), [ChatMessage::new(Role::User, "hi")]);
    let EngineCmd::Generate { id: new_id, .. } = cmds[0] else { unreachable!() };
    assert!(new_id > id);
    assert_eq!(state.conversation.messages.len(), 2);
    assert_eq!(state.conversation.messages[1].content, "");
}

#[test]
fn regenerate_with_nothing_sent_says_so() {
    let mut state = ready_state();
    assert!(update(&mut state, ctrl('r')).is_empty());
    assert!(state.notice.is_some());
}

#[test]
fn edit_last_message_and_resend_replaces_it_and_its_reply() {
    let mut state = ready_state();
    let id = send(&mut state, "What is 2+2?");
    update(&mut state, Msg::Engine(token(id, 0)));
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    update(&mut state, alt(KeyCode::Char('e')));
    assert_eq!(state.input_text(), "What is 2+2?");
    assert_eq!(state.editing, Some(0));
    for _ in 0.."2+2?".len() {
        update(&mut state, key(KeyCode::Backspace));
    }
    let cmds = engine_cmds(&{
        type_text(&mut state, "3+3?");
        update(&mut state, key(KeyCode::Enter))
    });
    assert_eq!(prompt_of(&cmds[0]), [ChatMessage::new(Role::User, "What is 3+3?")]);
    assert_eq!(state.conversation.messages.len(), 2);
    assert_eq!(state.editing, None);
}

#[test]
fn esc_leaves_edit_mode() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 0)));
    update(&mut state, alt(KeyCode::Char('e')));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.editing, None);
    assert!(state.input.is_empty());
    assert_eq!(state.conversation.messages.len(), 2);
}

#[test]
fn new_chat_saves_the_old_one_and_stops_its_reply() {
    let mut state = ready_state();
    let old_id = state.conversation.id.clone();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    state.now += std::time::Duration::from_secs(5);
    let effects = update(&mut state, ctrl('l'));
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Cancel { .. }]));
    let old = saved(&effects).unwrap();
    assert_eq!(old.id, old_id);
    assert_eq!(old.messages[1].content, "Hello");
    assert!(state.conversation.messages.is_empty());
    assert_ne!(state.conversation.id, old_id);
    assert!(!state.is_generating());
    // The stopped request's last events change nothing.
    update(&mut state, Msg::Engine(token(id, 1)));
    assert!(state.conversation.messages.is_empty());
}

#[test]
fn scrolling_up_stops_follow_and_the_bottom_resumes_it() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    state.viewport = ChatViewport { total_lines: 50, height: 10, ..Default::default() };
    update(&mut state, shift(KeyCode::Up));
    assert_eq!(state.scroll.top, Some(39));
    update(&mut state, Msg::Engine(token(id, 0)));
    assert!(state.scroll.unseen_output);
    update(&mut state, key(KeyCode::PageUp));
    assert_eq!(state.scroll.top, Some(31));
    update(&mut state, key(KeyCode::PageDown));
    update(&mut state, shift(KeyCode::Down));
    assert_eq!(state.scroll.top, None, "back at the bottom: following again");
    assert!(!state.scroll.unseen_output);
    update(&mut state, Msg::Key(KeyEvent::new(KeyCode::Home, KeyModifiers::CONTROL)));
    assert_eq!(state.scroll.top, Some(0));
    update(&mut state, Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::CONTROL)));
    assert_eq!(state.scroll.top, None);
    // Nothing to scroll: stays in follow mode.
    state.viewport = ChatViewport { total_lines: 5, height: 10, ..Default::default() };
    update(&mut state, shift(KeyCode::Up));
    assert_eq!(state.scroll.top, None);
}

#[test]
fn sending_resumes_follow() {
    let mut state = ready_state();
    state.viewport = ChatViewport { total_lines: 50, height: 10, ..Default::default() };
    update(&mut state, shift(KeyCode::Up));
    send(&mut state, "hi");
    assert_eq!(state.scroll.top, None);
}

#[test]
fn stats_panel_toggles() {
    let mut state = ready_state();
    state.size = (120, 40);
    assert!(state.stats_visible());
    update(&mut state, key(KeyCode::F(2)));
    assert!(!state.stats_visible());
    update(&mut state, key(KeyCode::F(2)));
    assert!(state.stats_visible());
}

#[test]
fn sliders_send_sampling_changes_to_the_running_reply_at_once() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(3)));
    assert!(matches!(state.overlay, Some(Overlay::Sliders { selected: 0 })));
    // Idle: the next request carries the settings.
    assert!(engine_cmds(&update(&mut state, key(KeyCode::Right))).is_empty());
    assert_eq!(state.knobs.sampling.temperature, 0.85);
    update(&mut state, key(KeyCode::Left));
    update(&mut state, key(KeyCode::Esc));
    let id = send(&mut state, "hi");
    update(&mut state, key(KeyCode::F(3)));
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Right)));
    let [EngineCmd::SetSampling { id: target, sampling }] = &cmds[..] else { panic!("{cmds:?}") };
    assert_eq!((*target, sampling.temperature), (id, 0.85));
    update(&mut state, shift(KeyCode::Right));
    assert_eq!(state.knobs.sampling.temperature, 1.1);
    update(&mut state, key(KeyCode::Left));
    assert_eq!(state.knobs.sampling.temperature, 1.05);
    // Typed letters drive the panel, not the input box.
    update(&mut state, key(KeyCode::Char('j')));
    assert!(matches!(state.overlay, Some(Overlay::Sliders { selected: 1 })));
    assert!(state.input.is_empty());
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Char('r'))));
    let [EngineCmd::SetSampling { sampling, .. }] = &cmds[..] else { panic!("{cmds:?}") };
    assert_eq!(sampling.temperature, 0.8);
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

#[test]
fn max_tokens_slider_applies_to_the_next_request() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(3)));
    for _ in 0..5 {
        update(&mut state, key(KeyCode::Down));
    }
    assert!(engine_cmds(&update(&mut state, shift(KeyCode::Right))).is_empty());
    update(&mut state, key(KeyCode::Esc));
    type_text(&mut state, "hi");
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    let EngineCmd::Generate { max_tokens, .. } = cmds[0] else { unreachable!() };
    assert_eq!(max_tokens, 1024 + 256);
}

fn entry(path: &str) -> ModelEntry {
    ModelEntry::from_path(std::path::Path::new(path), ModelSource::Recent)
}

#[test]
fn picker_lists_models_and_loads_the_chosen_one() {
    let dir = tempfile::tempdir().unwrap();
    let smol = dir.path().join("smol-q8_0.gguf");
    std::fs::write(&smol, b"GGUF").unwrap();
    let smol = smol.to_str().unwrap();
    let mut state = ready_state();
    let effects = update(&mut state, key(KeyCode::F(4)));
    assert!(matches!(effects[..], [Effect::DiscoverModels]));
    assert!(state.discovering, "the picker says it is looking");
    update(&mut state, Msg::ModelsFound(vec![entry("/models/bitnet-2b.gguf"), entry(smol)]));
    assert!(!state.discovering);
    assert!(matches!(state.overlay, Some(Overlay::Picker { selected: 0 })));
    assert_eq!(state.models[0].quant.as_deref(), Some("I2_S"), "loaded model's facts");
    update(&mut state, key(KeyCode::Down));
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    let [EngineCmd::Load { path, options }] = &cmds[..] else { panic!("{cmds:?}") };
    assert_eq!(path, &PathBuf::from(smol));
    assert_eq!(*options, state.load_options);
    assert!(state.overlay.is_none());
    assert_eq!(state.loading.as_ref().map(|l| l.fraction), Some(0.0));

    update(&mut state, Msg::Engine(EngineEvent::LoadProgress { fraction: 0.25, stage: "weights".into() }));
    assert_eq!(state.loading.as_ref().map(|l| l.fraction), Some(0.25));
    let effects = update(&mut state, Msg::Engine(EngineEvent::Ready(model_info(smol))));
    assert!(state.loading.is_none());
    assert_eq!(state.model.as_ref().map(|m| m.name.as_str()), Some("smol-q8_0"));
    let Some(Effect::SaveRecentModels(recent)) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(recent[0], PathBuf::from(smol));
}

#[test]
fn switching_models_mid_reply_stops_it_and_keeps_the_conversation() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    state.recent_models.push(PathBuf::from("/models/other.gguf"));
    let cmds = engine_cmds(&update(&mut state, ctrl('n')));
    assert!(matches!(cmds[..], [EngineCmd::Cancel { .. }, EngineCmd::Load { .. }]));
    update(&mut state, Msg::Engine(done(id, StopReason::Cancelled, 1)));
    update(&mut state, Msg::Engine(EngineEvent::Ready(model_info("/models/other.gguf"))));
    assert_eq!(state.conversation.messages.len(), 2);
    // The next request carries the whole conversation, so the new model prefills all of it.
    let cmds = engine_cmds(&{
        type_text(&mut state, "again");
        update(&mut state, key(KeyCode::Enter))
    });
    assert_eq!(prompt_of(&cmds[0]).len(), 3);
}

#[test]
fn ctrl_n_and_ctrl_p_cycle_recent_models() {
    let mut state = ready_state();
    let paths: Vec<PathBuf> = ["/models/bitnet-2b.gguf", "/m/b.gguf", "/m/c.gguf"].map(PathBuf::from).into();
    state.recent_models = paths.clone();
    let load_path = |effects: &[Effect]| match engine_cmds(effects).as_slice() {
        [EngineCmd::Load { path, .. }] => path.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(load_path(&update(&mut state, ctrl('n'))), paths[1]);
    update(&mut state, Msg::Engine(EngineEvent::Ready(model_info("/m/b.gguf"))));
    assert_eq!(state.recent_models, paths, "known models keep their place");
    assert_eq!(load_path(&update(&mut state, ctrl('n'))), paths[2]);
    update(&mut state, Msg::Engine(EngineEvent::Ready(model_info("/m/c.gguf"))));
    assert_eq!(load_path(&update(&mut state, ctrl('n'))), paths[0]);
    update(&mut state, Msg::Engine(EngineEvent::Ready(model_info("/models/bitnet-2b.gguf"))));
    assert_eq!(load_path(&update(&mut state, ctrl('p'))), paths[2]);

    let mut alone = ready_state();
    assert!(update(&mut alone, ctrl('n')).is_empty());
    assert!(alone.notice.is_some());
}

#[test]
fn load_failure_is_reported() {
    let mut state = ready_state();
    state.recent_models.push(PathBuf::from("/m/broken.gguf"));
    update(&mut state, ctrl('n'));
    update(&mut state, Msg::Engine(EngineEvent::Error { id: None, message: "bad magic".into() }));
    assert!(state.loading.is_none());
    let Some(Overlay::Error(panel)) = &state.overlay else { panic!("no error panel: {:?}", state.overlay) };
    assert!(panel.message.contains("broken.gguf") && panel.message.contains("bad magic"), "{panel:?}");
}

#[test]
fn generation_error_is_kept_on_the_reply() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    let effects = update(&mut state, Msg::Engine(EngineEvent::Error { id: Some(id), message: "worker died".into() }));
    let reply = &saved(&effects).unwrap().messages[1];
    assert_eq!(reply.error.as_deref(), Some("worker died"));
    assert!(!reply.content.is_empty());
    assert!(!state.is_generating());
}

/// A message the context cannot hold: the engine refuses it before writing anything. Nothing is
/// saved, the conversation is as before, the text is back in the box, and the notice gives the
/// engine's counts.
#[test]
fn a_message_the_engine_refuses_is_not_saved_and_goes_back_to_the_input() {
    let mut state = ready_state();
    finished_turn(&mut state, "hi");
    let before = state.conversation.messages.clone();
    let long = "word ".repeat(20_000);
    update(&mut state, Msg::Paste(long.clone()));
    let id = send(&mut state, "");
    let refusal = "the prompt has 20012 tokens but the context holds 4096; raise --ctx or use --context-policy \
                   drop-oldest";
    let effects = update(&mut state, Msg::Engine(EngineEvent::Error { id: Some(id), message: refusal.into() }));
    assert!(saved(&effects).is_none(), "a refused message is never saved");
    assert_eq!(state.conversation.messages, before);
    assert_eq!(state.input_text(), long);
    assert!(!state.is_generating());
    let notice = state.notice.unwrap();
    assert_eq!(notice.level, NoticeLevel::Error);
    assert!(notice.text.contains("20012 tokens") && notice.text.contains("4096"), "{}", notice.text);
}

#[test]
fn a_refused_edit_puts_back_the_messages_it_replaced() {
    let mut state = ready_state();
    finished_turn(&mut state, "first");
    let before = state.conversation.messages.clone();
    update(&mut state, alt(KeyCode::Char('e')));
    assert_eq!(state.editing, Some(0));
    type_text(&mut state, " and much more");
    let id = send(&mut state, "");
    update(&mut state, Msg::Engine(EngineEvent::Error { id: Some(id), message: "too long".into() }));
    assert_eq!(state.conversation.messages, before);
    assert_eq!(state.editing, Some(0), "still editing the same message");
    assert_eq!(state.input_text(), "first and much more");
}

#[test]
fn engine_gone_ends_the_reply_with_an_error() {
    let mut state = ready_state();
    send(&mut state, "hi");
    let effects = update(&mut state, Msg::EngineGone);
    assert!(saved(&effects).is_some());
    assert!(!state.engine_alive && !state.is_generating());
    assert!(state.conversation.messages[1].error.is_some());
}

fn summary(id: &str, title: &str) -> ConversationSummary {
    stored(id, title, &["question", "answer"])
}

/// A stored conversation's summary, as the folder's listing gives it.
fn stored(id: &str, title: &str, messages: &[&str]) -> ConversationSummary {
    let mut conversation = Conversation::new(id.into(), "2026-11-29T12:00:00Z".into());
    conversation.title = title.into();
    let roles = [Role::User, Role::Assistant].into_iter().cycle();
    conversation.messages = roles.zip(messages).map(|(role, text)| Message::new(role, *text)).collect();
    ConversationSummary::new(&conversation)
}

fn browser(state: &bitnet_tui::app::State) -> &HistoryBrowser {
    match &state.overlay {
        Some(Overlay::History(browser)) => browser,
        other => panic!("no history browser: {other:?}"),
    }
}

fn shown_ids(state: &bitnet_tui::app::State) -> Vec<String> {
    let browser = browser(state);
    (0..browser.row_count()).filter_map(|r| browser.row(r)).map(|(item, _)| item.id.clone()).collect()
}

/// F5 with three stored conversations: "Rust kernels" mentions AVX2 in a reply, "Pasta" does
/// not, "Trip" is about kernels of corn in its text.
fn searchable_history() -> bitnet_tui::app::State {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(5)));
    let items = vec![
        stored("rust", "Rust kernels", &["How fast is it?", "The AVX2 path does 40 tok/s."]),
        stored("pasta", "Pasta", &["Recipe please", "Boil the water."]),
        stored("trip", "Trip", &["Farm visit", "We saw Kernels of corn\nin the barn."]),
    ];
    update(&mut state, Msg::ConversationsListed(items.into()));
    state
}

#[test]
fn history_search_filters_by_title_and_text_with_a_preview() {
    let mut state = searchable_history();
    let effects = update(&mut state, key(KeyCode::Char('/')));
    assert!(effects.is_empty());
    assert!(state.is_searching());
    assert_eq!(shown_ids(&state), ["rust", "pasta", "trip"], "a blank query shows everything");
    // Letters bound in the list (j, k, d, r) are text in the box; case does not matter.
    type_text(&mut state, "KERNELS");
    assert_eq!(shown_ids(&state), ["rust", "trip"]);
    let (_, title_match) = browser(&state).row(0).unwrap();
    assert!(title_match.is_none(), "a title match has no text preview");
    let (_, preview) = browser(&state).row(1).unwrap();
    let preview = preview.unwrap();
    assert_eq!((preview.role, preview.matched.as_str()), (Role::Assistant, "Kernels"));
    assert_eq!((preview.before.as_str(), preview.after.as_str()), ("We saw ", " of corn in the barn."));
    update(&mut state, ctrl('w'));
    type_text(&mut state, "avx2");
    assert_eq!(shown_ids(&state), ["rust"]);
    update(&mut state, ctrl('u'));
    update(&mut state, Msg::Paste("boil\nthe".into()));
    assert_eq!(shown_ids(&state), ["pasta"], "a pasted new line is a space");
    update(&mut state, ctrl('u'));
    type_text(&mut state, "nowhere");
    assert!(shown_ids(&state).is_empty());
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty(), "nothing to open");
}

#[test]
fn enter_in_the_search_box_opens_the_selected_match() {
    let mut state = searchable_history();
    update(&mut state, ctrl('f'));
    type_text(&mut state, "kernels");
    update(&mut state, key(KeyCode::Down));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::OpenConversation(id)] if id == "trip"), "{effects:?}");
    assert!(state.overlay.is_none());
}

#[test]
fn esc_steps_out_of_the_search_and_the_list_acts_on_the_matches() {
    let mut state = searchable_history();
    update(&mut state, key(KeyCode::Char('/')));
    type_text(&mut state, "corn");
    // Esc: from the box to the filtered list, where the list's keys work on the matches.
    update(&mut state, key(KeyCode::Esc));
    assert!(!state.is_searching());
    assert_eq!(shown_ids(&state), ["trip"]);
    let effects = update(&mut state, key(KeyCode::Char('x')));
    assert!(matches!(&effects[..], [Effect::ExportStored(id)] if id == "trip"), "{effects:?}");
    update(&mut state, key(KeyCode::Char('d')));
    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert!(matches!(&effects[..], [Effect::DeleteConversation(id)] if id == "trip"), "{effects:?}");
    assert!(shown_ids(&state).is_empty());
    // `/` goes back to the box with the query kept.
    update(&mut state, key(KeyCode::Char('/')));
    update(&mut state, ctrl('u'));
    type_text(&mut state, "p");
    assert_eq!(shown_ids(&state), ["rust", "pasta"]);
    update(&mut state, key(KeyCode::Down));
    // Esc twice: the whole list again, the selection kept; a third closes the browser.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, key(KeyCode::Esc));
    assert!(browser(&state).search.is_none());
    assert_eq!(shown_ids(&state), ["rust", "pasta"]);
    assert_eq!(browser(&state).selected_item().unwrap().id, "pasta");
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

#[test]
fn esc_on_a_blank_search_ends_it() {
    let mut state = searchable_history();
    update(&mut state, key(KeyCode::Char('/')));
    update(&mut state, key(KeyCode::Esc));
    assert!(browser(&state).search.is_none());
}

#[test]
fn viewing_a_conversation_does_not_make_it_the_latest_updated() {
    let mut state = ready_state();
    let mut first = Conversation::new("a".into(), "2026-11-28T10:00:00Z".into());
    first.messages.push(Message::new(Role::User, "old question"));
    let mut second = first.clone();
    second.id = "b".into();
    assert!(saved(&update(&mut state, Msg::ConversationOpened(first))).is_none());
    state.now += std::time::Duration::from_secs(60);
    let effects = update(&mut state, Msg::ConversationOpened(second));
    assert!(saved(&effects).is_none(), "the conversation only looked at is not saved: {effects:?}");
    let effects = update_settled(&mut state, ctrl('q'));
    assert!(saved(&effects).is_none(), "{effects:?}");
    assert_eq!(state.conversation.updated, "2026-11-28T10:00:00Z");
    assert!(state.quitting);
}

#[test]
fn history_browser_opens_renames_deletes_and_exports() {
    let mut state = ready_state();
    let effects = update(&mut state, key(KeyCode::F(5)));
    assert!(matches!(effects[..], [Effect::ListConversations]));
    update(&mut state, Msg::ConversationsListed(vec![summary("a", "Alpha"), summary("b", "Beta")].into()));

    // Rename: typed letters are text, Enter confirms.
    update(&mut state, key(KeyCode::Char('r')));
    type_text(&mut state, "Renamed");
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::RenameConversation { id, title }] = &effects[..] else { panic!("{effects:?}") };
    assert_eq!((id.as_str(), title.as_str()), ("a", "Renamed"));

    // Export the selected one.
    let effects = update(&mut state, key(KeyCode::Char('x')));
    assert!(matches!(&effects[..], [Effect::ExportStored(id)] if id == "a"));

    // Delete asks first.
    update(&mut state, key(KeyCode::Down));
    assert!(update(&mut state, key(KeyCode::Char('d'))).is_empty());
    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert!(matches!(&effects[..], [Effect::DeleteConversation(id)] if id == "b"));
    let Some(Overlay::History(browser)) = &state.overlay else { panic!() };
    assert_eq!(browser.items.len(), 1);

    // Open.
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::OpenConversation(id)] if id == "a"));
    assert!(state.overlay.is_none());
    let mut stored = Conversation::new("a".into(), "2026-11-28T10:00:00Z".into());
    stored.messages.push(Message::new(Role::User, "old question"));
    update(&mut state, Msg::ConversationOpened(stored.clone()));
    assert_eq!(state.conversation, stored);
}

#[test]
fn history_new_chat_and_rename_of_the_open_conversation() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 0)));
    let current = state.conversation.id.clone();
    update(&mut state, key(KeyCode::F(5)));
    update(&mut state, Msg::ConversationsListed(vec![summary(&current, "hi")].into()));
    update(&mut state, key(KeyCode::Char('r')));
    update(&mut state, Msg::Paste("Greeting\nline".into()));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(saved(&effects).unwrap().title, "Greeting line", "the paste replaces the old title");
    update(&mut state, key(KeyCode::Char('n')));
    assert!(state.overlay.is_none());
    assert!(state.conversation.messages.is_empty());
}

#[test]
fn copy_reply_and_code_blocks() {
    let mut state = ready_state();
    state.conversation.messages.push(Message::new(Role::User, "code please"));
    state
        .conversation
        .messages
        .push(Message::new(Role::Assistant, "```rust\nfn a() {}\n```\ntext\n```py\nprint(2)\n```"));
    let copied = |effects: Vec<Effect>| match &effects[..] {
        [Effect::CopyToClipboard { text, .. }] => text.clone(),
        other => panic!("{other:?}"),
    };
    assert!(copied(update(&mut state, ctrl('y'))).starts_with("```rust"));
    assert_eq!(copied(update(&mut state, alt(KeyCode::Char('1')))), "fn a() {}");
    assert_eq!(copied(update(&mut state, alt(KeyCode::Char('c')))), "print(2)");
    assert!(update(&mut state, alt(KeyCode::Char('3'))).is_empty());
    assert_eq!(state.notice.as_ref().map(|n| n.level), Some(NoticeLevel::Warning));
}

#[test]
fn export_sends_the_conversation() {
    let mut state = ready_state();
    assert!(update(&mut state, ctrl('x')).is_empty());
    send(&mut state, "hi");
    let effects = update(&mut state, ctrl('x'));
    assert!(matches!(&effects[..], [Effect::Export(c)] if c.messages.len() == 2));
    update(&mut state, Msg::Exported(PathBuf::from("/data/exports/x.md")));
    assert!(state.notice.unwrap().text.contains("/data/exports/x.md"));
}

#[test]
fn help_toggles_and_closes() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(1)));
    assert!(matches!(state.overlay, Some(Overlay::Help { scroll: 0 })));
    update(&mut state, key(KeyCode::Down));
    assert!(matches!(state.overlay, Some(Overlay::Help { scroll: 1 })));
    update(&mut state, key(KeyCode::F(1)));
    assert!(state.overlay.is_none());
    update(&mut state, key(KeyCode::F(1)));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

#[test]
fn suspend_terminate_resize_and_key_release() {
    let mut state = ready_state();
    assert!(matches!(update(&mut state, ctrl('z'))[..], [Effect::Suspend]));
    update(&mut state, Msg::Resize { width: 100, height: 30 });
    assert_eq!(state.size, (100, 30));
    let mut release = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    update(&mut state, Msg::Key(release));
    assert!(state.input.is_empty());
    update_settled(&mut state, Msg::Terminate);
    assert!(state.quitting);
}

#[test]
fn start_loads_the_first_recent_model_or_opens_the_picker() {
    let mut state = state();
    let effects = update::start(&mut state);
    assert!(matches!(effects[..], [Effect::DiscoverModels]));
    assert!(matches!(state.overlay, Some(Overlay::Picker { .. })));
}

#[test]
fn effect_failures_show_in_the_footer() {
    let mut state = ready_state();
    update(&mut state, Msg::EffectFailed("Saving failed: disk full".into()));
    assert_eq!(state.notice.unwrap().level, NoticeLevel::Error);
}

#[test]
fn a_failed_model_switch_keeps_the_loaded_model_usable() {
    let mut state = ready_state();
    state.recent_models.push(PathBuf::from("/m/moved.gguf"));
    update(&mut state, ctrl('n'));
    assert_eq!(state.current_model_path(), Some(&PathBuf::from("/m/moved.gguf")));
    update(&mut state, Msg::Engine(EngineEvent::Error { id: None, message: "No such file".into() }));
    // The engine keeps the model it had; the header, the picker and sending say so.
    assert_eq!(state.model.as_ref().map(|m| m.name.as_str()), Some("bitnet-2b"));
    assert_eq!(state.current_model_path(), Some(&PathBuf::from("/models/bitnet-2b.gguf")));
    let Some(Overlay::Error(panel)) = &state.overlay else { panic!("no error panel: {:?}", state.overlay) };
    assert!(panel.message.starts_with("Could not load moved.gguf (still using bitnet-2b): "), "{panel:?}");
    update(&mut state, key(KeyCode::Esc));
    send(&mut state, "still there?");
}

#[test]
fn a_vanished_model_is_marked_missing_and_not_loaded() {
    use bitnet_tui::app::models::ModelStatus;
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(4)));
    update(&mut state, Msg::ModelsFound(vec![entry("/models/bitnet-2b.gguf"), entry("/gone/fixture.gguf")]));
    assert_eq!(state.models[1].status, ModelStatus::Missing);
    update(&mut state, key(KeyCode::Down));
    assert!(engine_cmds(&update(&mut state, key(KeyCode::Enter))).is_empty());
    let notice = state.notice.clone().unwrap();
    assert!(notice.text.contains("no longer at /gone/fixture.gguf"), "{notice:?}");
}

#[test]
fn rename_starts_with_the_old_title_selected() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(5)));
    update(&mut state, Msg::ConversationsListed(vec![summary("a", "What is BitNet b1.58 and how does it…")].into()));
    update(&mut state, key(KeyCode::Char('r')));
    assert!(state.is_renaming());
    type_text(&mut state, "BitNet");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::RenameConversation { title, .. }] if title == "BitNet"), "{effects:?}");

    // An arrow key keeps the old title to edit it.
    update(&mut state, key(KeyCode::Char('r')));
    update(&mut state, key(KeyCode::End));
    type_text(&mut state, "!");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::RenameConversation { title, .. }] if title == "BitNet!"), "{effects:?}");
}

#[test]
fn copying_says_which_clipboard_took_it_only_once_it_did() {
    use bitnet_tui::app::msg::{ClipboardKind, Copied};
    let mut state = ready_state();
    state.conversation.messages.push(Message::new(Role::User, "code please"));
    state.conversation.messages.push(Message::new(Role::Assistant, "Here:\n```rust\nfn a() {}\n```"));
    let effects = update(&mut state, ctrl('y'));
    assert!(matches!(&effects[..], [Effect::CopyToClipboard { what: Copied::Reply, .. }]), "{effects:?}");
    assert!(state.notice.is_none(), "nothing is copied yet: {:?}", state.notice);
    update(&mut state, Msg::Copied { what: Copied::Reply, via: ClipboardKind::System });
    assert_eq!(state.notice.clone().unwrap().text, "Copied the last reply to the system clipboard.");
    update(&mut state, Msg::Copied { what: Copied::CodeBlock { number: 1, closed: true }, via: ClipboardKind::Osc52 });
    assert!(state.notice.clone().unwrap().text.contains("OSC 52"));
    update(&mut state, Msg::EffectFailed("Copying to the clipboard failed: no terminal".into()));
    assert_eq!(state.notice.clone().unwrap().level, NoticeLevel::Error);
}

#[test]
fn copying_an_empty_or_unclosed_fence_says_so() {
    use bitnet_tui::app::msg::Copied;
    let mut state = ready_state();
    state.conversation.messages.push(Message::new(Role::User, "code please"));
    state.conversation.messages.push(Message::new(Role::Assistant, "Here:\n```rust\n"));
    assert!(update(&mut state, alt(KeyCode::Char('c'))).is_empty());
    let notice = state.notice.clone().unwrap();
    assert_eq!(notice.text, "Code block 1 is empty and its fence is not closed: nothing copied.");

    state.conversation.messages[1].content.push_str("let x = 1;\n");
    let effects = update(&mut state, alt(KeyCode::Char('c')));
    assert!(
        matches!(&effects[..], [Effect::CopyToClipboard { text, what: Copied::CodeBlock { number: 1, closed: false } }] if text == "let x = 1;"),
        "{effects:?}"
    );
}

#[test]
fn the_redraw_key_clears_the_terminal() {
    let mut state = ready_state();
    assert!(matches!(update(&mut state, alt(KeyCode::Char('l')))[..], [Effect::Redraw]));
    let help: Vec<String> = bitnet_tui::ui::help::lines(&state.keymap, &bitnet_tui::ui::theme::Theme::mono())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(help.iter().any(|l| l.contains("Alt+L") && l.contains("redraw the screen")), "{help:#?}");
}

/// Finishes a one-turn chat and returns the conversation its `Done` asked to save.
fn finished_turn(state: &mut bitnet_tui::app::State, text: &str) -> Conversation {
    let id = send(state, text);
    update(state, Msg::Engine(token(id, 0)));
    let effects = update(state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    let open = state.conversation.id.clone();
    let mut saves = effects.into_iter().filter_map(|e| match e {
        Effect::SaveConversation(c) if c.id == open => Some(c),
        _ => None,
    });
    saves.next().expect("Done saves the open conversation")
}

fn save_failed(conversation: Conversation) -> Msg {
    Msg::SaveFailed { conversation: Box::new(conversation), error: "No space left on device (os error 28)".into() }
}

fn saved_ids(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SaveConversation(c) => Some(c.id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_failed_save_is_kept_in_memory_and_retried_with_the_next_save() {
    let mut state = ready_state();
    let first = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(first.clone()));
    assert_eq!(state.unsaved, std::slice::from_ref(&first));
    let notice = state.notice.clone().unwrap();
    assert_eq!(notice.level, NoticeLevel::Error);
    assert!(notice.text.contains("No space left") && notice.text.contains("kept in memory"), "{}", notice.text);

    // A new chat, then its first save: the failed one is written again beside it.
    state.now += std::time::Duration::from_secs(1);
    let effects = update(&mut state, ctrl('l'));
    assert_eq!(saved_ids(&effects), [first.id.as_str()], "leaving it retries it");
    let second = finished_turn(&mut state, "again");
    assert_ne!(second.id, first.id);
    let id = send(&mut state, "more");
    let effects = update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    assert_eq!(saved_ids(&effects), [first.id.clone(), second.id.clone()]);
    update(&mut state, Msg::Saved(first.id.clone()));
    assert!(state.unsaved.is_empty());
    assert_eq!(state.save_error, None);
}

#[test]
fn quitting_with_unsaved_work_asks_and_esc_goes_back() {
    let mut state = ready_state();
    let conversation = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(conversation.clone()));
    // The loop runs the saves, hands back their results, then the queued check.
    let effects = update(&mut state, ctrl('q'));
    assert_eq!(saved_ids(&effects), [conversation.id.as_str()]);
    assert!(matches!(effects.last(), Some(Effect::Queue(m)) if matches!(**m, Msg::QuitWhenSaved { ask: true })));
    assert!(engine_cmds(&effects).is_empty(), "the engine keeps running until the user decides");
    update(&mut state, save_failed(conversation.clone()));
    let effects = update(&mut state, Msg::QuitWhenSaved { ask: true });
    assert!(effects.is_empty());
    assert!(matches!(state.overlay, Some(Overlay::Unsaved)));
    assert!(!state.quitting);

    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none() && !state.quitting);
    assert_eq!(state.unsaved.len(), 1, "going back keeps the unsaved conversation");
}

#[test]
fn retry_that_succeeds_quits() {
    let mut state = ready_state();
    let conversation = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(conversation.clone()));
    update(&mut state, Msg::QuitWhenSaved { ask: true });
    let effects = update(&mut state, key(KeyCode::Char('r')));
    assert_eq!(saved_ids(&effects), [conversation.id.as_str()]);
    update(&mut state, Msg::Saved(conversation.id.clone()));
    let effects = update(&mut state, Msg::QuitWhenSaved { ask: true });
    assert!(state.quitting);
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Shutdown]));
}

#[test]
fn save_elsewhere_writes_the_rescue_folder_then_quits() {
    let mut state = ready_state();
    state.rescue_dir = PathBuf::from("/tmp/rescue-here");
    let conversation = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(conversation.clone()));
    update(&mut state, Msg::QuitWhenSaved { ask: true });
    let effects = update(&mut state, key(KeyCode::Char('s')));
    match &effects[..] {
        [Effect::Rescue { dir, conversations }, Effect::Queue(_)] => {
            assert_eq!(dir, &state.rescue_dir);
            assert_eq!(conversations, &[conversation]);
        }
        other => panic!("expected a rescue then the quit check: {other:?}"),
    }
    let dir = state.rescue_dir.clone();
    update(&mut state, Msg::Rescued { dir, count: 1 });
    update_settled(&mut state, Msg::QuitWhenSaved { ask: true });
    assert!(state.quitting);
    let farewell = state.farewell.unwrap();
    assert!(farewell.contains("/tmp/rescue-here/conversations"), "{farewell}");
}

#[test]
fn quit_anyway_says_what_was_lost() {
    let mut state = ready_state();
    let conversation = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(conversation));
    update(&mut state, Msg::QuitWhenSaved { ask: true });
    let effects = update(&mut state, key(KeyCode::Char('q')));
    assert!(state.quitting);
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Shutdown]));
    assert!(state.farewell.unwrap().contains("without saving 1"));
}

#[test]
fn a_signal_with_unsaved_work_rescues_it_without_asking() {
    let mut state = ready_state();
    let conversation = finished_turn(&mut state, "hi");
    update(&mut state, save_failed(conversation.clone()));
    let effects = update(&mut state, Msg::Terminate);
    assert_eq!(saved_ids(&effects), [conversation.id.as_str()]);
    update(&mut state, save_failed(conversation.clone()));
    let effects = update(&mut state, Msg::QuitWhenSaved { ask: false });
    assert!(matches!(&effects[..], [Effect::Rescue { conversations, .. }, Effect::Engine(EngineCmd::Shutdown)]
        if conversations == std::slice::from_ref(&conversation)));
    assert!(state.quitting && state.overlay.is_none());
}

#[test]
fn unreadable_conversation_files_are_named_in_a_notice() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(5)));
    let listing = Listing {
        items: vec![summary("a", "Alpha")],
        unreadable: vec!["/data/conversations/x.json: EOF while parsing".into(), "/data/y.json: bad".into()],
    };
    update(&mut state, Msg::ConversationsListed(listing));
    let notice = state.notice.unwrap();
    assert_eq!(notice.level, NoticeLevel::Warning);
    assert!(notice.text.contains("x.json: EOF while parsing") && notice.text.contains("1 more"), "{}", notice.text);
}

#[test]
fn the_busy_hint_goes_when_the_reply_ends() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    type_text(&mut state, "next");
    update(&mut state, key(KeyCode::Enter));
    assert!(state.notice.as_ref().is_some_and(|n| n.text.contains("being written")));
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)));
    assert!(state.notice.is_none(), "a finished reply is no longer being written: {:?}", state.notice);
    assert_eq!(state.input_text(), "next", "the draft is still there to send");
}

// Readline habits in the input box.

#[test]
fn readline_keys_move_and_delete_in_the_draft() {
    let mut state = ready_state();
    type_text(&mut state, "hello big world");
    update(&mut state, ctrl('a'));
    assert_eq!(state.input.cursor(), (0, 0));
    type_text(&mut state, ">");
    update(&mut state, ctrl('e'));
    type_text(&mut state, "!");
    assert_eq!(state.input_text(), ">hello big world!");
    update(&mut state, ctrl('w'));
    assert_eq!(state.input_text(), ">hello big world", "the `!` is a word of its own");
    update(&mut state, ctrl('w'));
    assert_eq!(state.input_text(), ">hello big ");
    update(&mut state, alt(KeyCode::Char('b')));
    update(&mut state, ctrl('k'));
    assert_eq!(state.input_text(), ">hello ");
    update(&mut state, ctrl('u'));
    assert!(state.input.is_empty(), "{:?}", state.input_text());
    // Ctrl+E no longer edits the last message: with one, the draft stays as it is.
    let id = send(&mut state, "question");
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 0)));
    update(&mut state, ctrl('e'));
    assert!(state.input.is_empty() && state.editing.is_none());
    update(&mut state, alt(KeyCode::Char('e')));
    assert_eq!((state.input_text().as_str(), state.editing), ("question", Some(0)));
}

#[test]
fn ctrl_c_clears_a_draft_and_up_brings_it_back() {
    let mut state = ready_state();
    type_text(&mut state, "a long draft");
    let effects = update(&mut state, ctrl('c'));
    assert!(state.input.is_empty());
    assert!(!state.quit_armed && !state.quitting);
    assert!(matches!(&effects[..], [Effect::SaveInputHistory(h)] if h == &["a long draft"]), "{effects:?}");
    assert!(state.notice.as_ref().unwrap().text.contains("Draft cleared"));
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.input_text(), "a long draft");

    // While a reply streams, Ctrl+C stops it and keeps the draft, without arming quit.
    let id = send(&mut state, "go");
    type_text(&mut state, "next question");
    let effects = update(&mut state, ctrl('c'));
    assert!(matches!(engine_cmds(&effects)[..], [EngineCmd::Cancel { .. }]));
    assert_eq!(state.input_text(), "next question");
    assert!(!state.quit_armed);
    update(&mut state, Msg::Engine(done(id, StopReason::Cancelled, 0)));
    update(&mut state, ctrl('c'));
    assert!(state.input.is_empty() && !state.quitting);
}

#[test]
fn sending_saves_the_input_history() {
    let mut state = ready_state();
    state.input_history = bitnet_tui::app::input_history::InputHistory::new(vec!["from last time".into()]);
    type_text(&mut state, "now");
    let effects = update(&mut state, key(KeyCode::Enter));
    let history = effects.iter().find_map(|e| match e {
        Effect::SaveInputHistory(h) => Some(h.clone()),
        _ => None,
    });
    assert_eq!(history.unwrap(), ["from last time", "now"]);
    update(&mut state, Msg::Engine(done(1, StopReason::EndOfText, 0)));
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.input_text(), "from last time");
}

#[test]
fn ctrl_g_opens_the_editor_on_the_draft_and_its_text_replaces_it() {
    let mut state = ready_state();
    type_text(&mut state, "start");
    let effects = update(&mut state, ctrl('g'));
    match &effects[..] {
        [Effect::OpenEditor { target: TextBox::Draft, text }] => assert_eq!(text, "start"),
        other => panic!("expected OpenEditor, got {other:?}"),
    }
    update(&mut state, Msg::Edited { target: TextBox::Draft, text: "start\nand a second line\n".into() });
    assert_eq!(state.input.lines(), ["start", "and a second line"]);
    assert_eq!(state.input.cursor(), (1, 17), "the cursor is at the end");
    // In the system prompt editor, the editor gets that box's text.
    update(&mut state, key(KeyCode::F(6)));
    type_text(&mut state, "Be brief.");
    let effects = update(&mut state, ctrl('g'));
    assert!(
        matches!(&effects[..], [Effect::OpenEditor { target: TextBox::SystemPrompt, text }] if text == "Be brief.")
    );
    update(&mut state, Msg::Edited { target: TextBox::SystemPrompt, text: "Be very brief.\n".into() });
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("Be very brief."));
    assert_eq!(state.input.lines(), ["start", "and a second line"], "the draft is untouched");
}

#[test]
fn the_rename_box_takes_the_editing_keys_too() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(5)));
    update(&mut state, Msg::ConversationsListed(vec![summary("a", "old")].into()));
    update(&mut state, key(KeyCode::Char('r')));
    type_text(&mut state, "new title here");
    update(&mut state, ctrl('w'));
    update(&mut state, ctrl('a'));
    type_text(&mut state, "A ");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(
        matches!(&effects[..], [Effect::RenameConversation { title, .. }] if title == "A new title"),
        "{effects:?}"
    );
}

// The system prompt and personas.

#[test]
fn f6_edits_the_conversations_system_prompt_and_the_next_request_sends_it() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(6)));
    assert!(matches!(state.overlay, Some(Overlay::SystemPrompt(_))));
    type_text(&mut state, "Be brief.");
    update(&mut state, ctrl('j'));
    type_text(&mut state, "Answer in French.");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(state.overlay.is_none());
    assert!(effects.is_empty(), "an empty conversation is not saved: {effects:?}");
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("Be brief.\nAnswer in French."));
    assert!(state.input.is_empty(), "the system prompt's keys did not reach the draft");

    type_text(&mut state, "hi");
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    let prompt = prompt_of(&cmds[0]);
    assert_eq!(prompt[0], ChatMessage::new(Role::System, "Be brief.\nAnswer in French."));
    update(&mut state, Msg::Engine(done(1, StopReason::EndOfText, 0)));

    // Esc discards an edit; emptying the box removes the prompt and saves the conversation.
    update(&mut state, key(KeyCode::F(6)));
    update(&mut state, ctrl('u'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("Be brief.\nAnswer in French."));
    update(&mut state, key(KeyCode::F(6)));
    for _ in 0..3 {
        update(&mut state, ctrl('u'));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(saved(&effects).unwrap().system_prompt, None);
    type_text(&mut state, "again");
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(prompt_of(&cmds[0])[0], ChatMessage::new(Role::User, "hi"));
}

#[test]
fn the_default_system_prompt_starts_every_chat_and_stored_ones_keep_theirs() {
    let sampling = bitnet_tui::cli::args::SamplingArgs::default();
    let load = bitnet_tui::cli::args::LoadArgs::default();
    let cli = bitnet_tui::app::config::CliOverrides {
        models: &[],
        sampling: &sampling,
        load: &load,
        max_tokens: None,
        system_prompt: Some("You are terse."),
    };
    let env = |name: &str| (name == "BITNET_TUI_SYSTEM_PROMPT").then(|| "from the environment".to_string());
    let settings = bitnet_tui::app::config::Settings::load(std::path::Path::new("/nonexistent"), &env, cli).unwrap();
    let mut state = bitnet_tui::app::State::new(&settings, Vec::new(), fixed_time());
    state.model = ready_state().model;
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("You are terse."), "--system wins");
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 0)));
    update(&mut state, ctrl('l'));
    assert!(state.conversation.messages.is_empty());
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("You are terse."));

    let mut stored = Conversation::new("7".into(), "2026-01-01T00:00:00Z".into());
    stored.system_prompt = Some("You are a pirate.".into());
    stored.messages.push(Message::new(Role::User, "ahoy"));
    stored.messages.push(Message::new(Role::Assistant, "arr"));
    update(&mut state, Msg::ConversationOpened(stored));
    type_text(&mut state, "where is the treasure?");
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(prompt_of(&cmds[0])[0], ChatMessage::new(Role::System, "You are a pirate."));
}

/// A state whose config defines two personas.
fn state_with_personas() -> bitnet_tui::app::State {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "system_prompt = \"Be helpful.\"\n\
         [personas.coder]\nsystem_prompt = \"You write Rust.\"\nmax_tokens = 2048\n\
         [personas.coder.sampling]\ntemperature = 0.2\n\
         [personas.poet]\nsystem_prompt = \"You answer in verse.\"\n",
    )
    .unwrap();
    let sampling = bitnet_tui::cli::args::SamplingArgs::default();
    let load = bitnet_tui::cli::args::LoadArgs::default();
    let cli = bitnet_tui::app::config::CliOverrides {
        models: &[],
        sampling: &sampling,
        load: &load,
        max_tokens: None,
        system_prompt: None,
    };
    let settings = bitnet_tui::app::config::Settings::load(&config, &|_| None, cli).unwrap();
    let mut state = bitnet_tui::app::State::new(&settings, Vec::new(), fixed_time());
    state.model = ready_state().model;
    state
}

#[test]
fn a_new_chat_starts_with_the_persona_picked_and_its_settings() {
    let mut state = state_with_personas();
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("Be helpful."));
    let id = send(&mut state, "hi");
    assert!(saved(&update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 0)))).is_some());

    update(&mut state, ctrl('l'));
    assert!(matches!(state.overlay, Some(Overlay::Personas { selected: 0 })));
    assert_eq!(state.conversation.messages.len(), 2, "nothing changes before a persona is picked");
    update(&mut state, key(KeyCode::Down));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(saved(&effects).is_none(), "the old conversation was saved when its reply ended");
    assert!(state.overlay.is_none());
    assert!(state.conversation.messages.is_empty());
    assert_eq!(state.conversation.persona.as_deref(), Some("coder"));
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("You write Rust."));
    assert_eq!((state.knobs.sampling.temperature, state.knobs.max_tokens), (0.2, 2048));
    assert_eq!(state.knob_defaults, state.knobs, "reset goes back to the persona's settings");
    assert!(state.notice.as_ref().unwrap().text.contains("coder"));

    type_text(&mut state, "write a loop");
    let cmds = engine_cmds(&update(&mut state, key(KeyCode::Enter)));
    let EngineCmd::Generate { prompt: Prompt::Chat(prompt), sampling, max_tokens, .. } = &cmds[0] else {
        unreachable!()
    };
    assert_eq!(prompt[0], ChatMessage::new(Role::System, "You write Rust."));
    assert_eq!((sampling.temperature, *max_tokens), (0.2, 2048));
    update(&mut state, Msg::Engine(done(3, StopReason::EndOfText, 0)));

    // The list starts on the open conversation's persona; Esc keeps the chat; the default is
    // first and brings the starting settings back.
    update(&mut state, key(KeyCode::F(5)));
    update(&mut state, key(KeyCode::Char('n')));
    assert!(matches!(state.overlay, Some(Overlay::Personas { selected: 1 })));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
    assert_eq!(state.conversation.messages.len(), 2);
    update(&mut state, ctrl('l'));
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.conversation.persona, None);
    assert_eq!(state.conversation.system_prompt.as_deref(), Some("Be helpful."));
    assert_eq!(state.knobs.sampling.temperature, 0.8);
}

/// A stand-in for the model's tokenizer: one token per word.
fn word_counter() -> bitnet_tui::engine::token_counter::TokenCounter {
    bitnet_tui::engine::token_counter::TokenCounter::new(|text| text.split_whitespace().count())
}

/// The token jobs among `effects`.
fn token_jobs(effects: &[Effect]) -> Vec<TokenJob> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::CountTokens { job, .. } => Some(job.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_draft_is_counted_off_the_ui_thread_as_it_is_typed() {
    let mut state = ready_state();
    type_text(&mut state, "no model yet");
    assert!(state.tokens.count.is_none());
    let effects = update(&mut state, Msg::Engine(EngineEvent::Tokenizer(word_counter())));
    assert_eq!(token_jobs(&effects), [TokenJob::Draft("no model yet".into())], "a new tokenizer counts again");
    let effects = update(&mut state, key(KeyCode::Char('!')));
    assert_eq!(token_jobs(&effects), [TokenJob::Draft("no model yet!".into())]);
    update(&mut state, Msg::TokensCounted(TokenCount::Draft(3)));
    assert_eq!(state.tokens.count, Some(3));
    // Keys that change nothing ask for nothing.
    assert!(token_jobs(&update(&mut state, key(KeyCode::Left))).is_empty());
    update(&mut state, ctrl('e'));
    update(&mut state, ctrl('u'));
    assert_eq!(state.tokens.count, None, "an empty box has no count");
    update(&mut state, Msg::TokensCounted(TokenCount::Draft(3)));
    assert_eq!(state.tokens.count, None, "a late count of an older draft is not shown on an empty box");
}

#[test]
fn sent_and_opened_messages_are_counted() {
    let mut state = ready_state();
    update(&mut state, Msg::Engine(EngineEvent::Tokenizer(word_counter())));
    type_text(&mut state, "how are you");
    let effects = update(&mut state, key(KeyCode::Enter));
    let id = state.conversation.id.clone();
    let jobs = token_jobs(&effects);
    assert_eq!(jobs, [TokenJob::Messages { id: id.clone(), texts: vec![(0, "how are you".into())] }]);
    assert_eq!(state.tokens.count, None);
    // A count for a message that changed meanwhile is dropped.
    let stale = TokenCount::Messages { id: id.clone(), counts: vec![(0, text_hash("how are"), 2)] };
    update(&mut state, Msg::TokensCounted(stale));
    assert_eq!(state.conversation.messages[0].tokens, None);
    let counted = TokenCount::Messages { id: id.clone(), counts: vec![(0, text_hash("how are you"), 3)] };
    update(&mut state, Msg::TokensCounted(counted.clone()));
    assert_eq!(state.conversation.messages[0].tokens, Some(3));

    let mut stored = Conversation::new("other".into(), "2026-11-28T10:00:00Z".into());
    stored.messages = vec![Message::new(Role::User, "one"), Message::new(Role::Assistant, "reply")];
    let effects = update(&mut state, Msg::ConversationOpened(stored));
    let jobs = token_jobs(&effects);
    assert_eq!(jobs, [TokenJob::Messages { id: "other".into(), texts: vec![(0, "one".into())] }]);
    update(&mut state, Msg::TokensCounted(counted));
    assert_eq!(state.conversation.messages[0].tokens, None, "another conversation's count is dropped");
}

/// Streams the first `tokens` pieces of the fake reply and ends the request with `reason`;
/// returns what its `Done` saved.
fn answer(state: &mut bitnet_tui::app::State, id: u64, tokens: usize, reason: StopReason) -> Vec<Effect> {
    for n in 0..tokens {
        update(state, Msg::Engine(token(id, n)));
    }
    update(state, Msg::Engine(done(id, reason, tokens)))
}

fn generate_id(effects: &[Effect]) -> u64 {
    match engine_cmds(effects).as_slice() {
        [EngineCmd::Generate { id, .. }] => *id,
        other => panic!("expected one Generate, got {other:?}"),
    }
}

fn shown(state: &bitnet_tui::app::State) -> Vec<String> {
    state.conversation.messages.iter().map(|m| m.content.clone()).collect()
}

#[test]
fn regenerate_keeps_the_old_reply_and_arrows_in_an_empty_box_flip_between_them() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    answer(&mut state, id, 2, StopReason::EndOfText);
    let effects = update(&mut state, ctrl('r'));
    assert_eq!(prompt_of(&engine_cmds(&effects)[0]), [ChatMessage::new(Role::User, "hi")]);
    // No flipping while the new version is written.
    assert!(update(&mut state, key(KeyCode::Left)).is_empty());
    assert!(state.notice.as_ref().unwrap().text.contains("A reply is being written"));
    let saved_reply = saved(&answer(&mut state, generate_id(&effects), 1, StopReason::EndOfText)).unwrap();
    assert_eq!(saved_reply.messages[1].content, "Hello");
    assert_eq!((saved_reply.messages[1].version, saved_reply.messages[1].alternatives.len()), (1, 1));
    assert_eq!(saved_reply.messages[1].alternatives[0][0].content, "Hello!");

    // ← shows the old reply and saves the choice; → goes back.
    let effects = update(&mut state, key(KeyCode::Left));
    assert_eq!(shown(&state), ["hi", "Hello!"]);
    assert_eq!(saved(&effects).unwrap().messages[1].version, 0);
    assert_eq!(state.notice.as_ref().unwrap().text, "Version 1 of 2.");
    update(&mut state, key(KeyCode::Left));
    assert_eq!(state.notice.as_ref().unwrap().text, "No other version there.");
    update(&mut state, key(KeyCode::Right));
    assert_eq!(shown(&state), ["hi", "Hello"]);
    // With text in the box the arrows move its cursor.
    type_text(&mut state, "ab");
    assert!(update(&mut state, key(KeyCode::Left)).is_empty());
    type_text(&mut state, "X");
    assert_eq!((state.input_text().as_str(), shown(&state)[1].as_str()), ("aXb", "Hello"));
}

#[test]
fn the_engine_gets_only_the_shown_versions() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    answer(&mut state, id, 2, StopReason::EndOfText);
    let id = generate_id(&update(&mut state, ctrl('r')));
    answer(&mut state, id, 1, StopReason::EndOfText);
    update(&mut state, key(KeyCode::Left));
    type_text(&mut state, "next");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        prompt_of(&engine_cmds(&effects)[0]),
        [
            ChatMessage::new(Role::User, "hi"),
            ChatMessage::new(Role::Assistant, "Hello!"),
            ChatMessage::new(Role::User, "next")
        ]
    );
}

#[test]
fn each_reply_names_the_model_that_wrote_it() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    answer(&mut state, id, 1, StopReason::EndOfText);
    state.model = Some(model_info("/models/smollm2.gguf"));
    let id = generate_id(&update(&mut state, ctrl('r')));
    let conversation = saved(&answer(&mut state, id, 1, StopReason::EndOfText)).unwrap();
    assert_eq!(conversation.messages[1].model.as_deref(), Some("smollm2"));
    assert_eq!(conversation.messages[1].alternatives[0][0].model.as_deref(), Some("bitnet-2b"));
    assert_eq!(conversation.messages[0].model, None);
}

/// Two finished turns: "q1", "Hello!", "q2", "Hello!".
fn two_turns() -> bitnet_tui::app::State {
    let mut state = ready_state();
    for question in ["q1", "q2"] {
        let id = send(&mut state, question);
        answer(&mut state, id, 2, StopReason::EndOfText);
    }
    state
}

#[test]
fn an_earlier_message_is_picked_edited_and_forks_there() {
    let mut state = two_turns();
    update(&mut state, alt(KeyCode::Up));
    assert!(matches!(state.overlay, Some(Overlay::Messages { selected: 3, .. })));
    for _ in 0..5 {
        update(&mut state, key(KeyCode::Up));
    }
    assert!(matches!(state.overlay, Some(Overlay::Messages { selected: 0, .. })));
    update(&mut state, key(KeyCode::Char('e')));
    assert!(state.overlay.is_none());
    assert_eq!((state.input_text().as_str(), state.editing), ("q1", Some(0)));
    type_text(&mut state, " again");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(prompt_of(&engine_cmds(&effects)[0]), [ChatMessage::new(Role::User, "q1 again")]);
    answer(&mut state, generate_id(&effects), 1, StopReason::EndOfText);
    assert_eq!(shown(&state), ["q1 again", "Hello"]);
    // The old branch is a version of the first message, whole.
    update(&mut state, key(KeyCode::Left));
    assert_eq!(shown(&state), ["q1", "Hello!", "q2", "Hello!"]);
    // A reply cannot be edited; it can be written again from where it is.
    update(&mut state, alt(KeyCode::Up));
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Char('e')));
    assert!(state.notice.as_ref().unwrap().text.starts_with("Only your messages"));
    assert!(state.editing.is_none());
    let effects = update(&mut state, key(KeyCode::Char('r')));
    assert_eq!(prompt_of(&engine_cmds(&effects)[0]), [ChatMessage::new(Role::User, "q1")]);
    assert!(state.overlay.is_none());
    assert_eq!(shown(&state), ["q1", ""]);
    assert_eq!(state.conversation.messages[1].version_position().count, 2);
}

#[test]
fn deleting_a_picked_message_asks_once_then_drops_it_and_what_follows() {
    let mut state = two_turns();
    update(&mut state, alt(KeyCode::Up));
    update(&mut state, key(KeyCode::Up));
    assert!(update(&mut state, key(KeyCode::Char('d'))).is_empty());
    assert!(state.notice.as_ref().unwrap().text.contains("and everything after it"));
    assert_eq!(state.conversation.messages.len(), 4);
    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert_eq!(shown(&state), ["q1", "Hello!"]);
    assert_eq!(saved(&effects).unwrap().messages.len(), 2);
    assert!(matches!(state.overlay, Some(Overlay::Messages { selected: 1, .. })));
    // Another key in between asks again.
    update(&mut state, key(KeyCode::Char('d')));
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Char('d')));
    assert_eq!(state.conversation.messages.len(), 2);
    // The first message alone is not deleted: that is deleting the conversation, in the list.
    let effects = update(&mut state, key(KeyCode::Char('d')));
    assert!(effects.is_empty());
    assert!(state.notice.as_ref().unwrap().text.contains("F5"), "{:?}", state.notice);
    assert_eq!(state.conversation.messages.len(), 2);
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
}

#[test]
fn a_stopped_reply_is_continued_from_its_text() {
    let mut state = ready_state();
    let id = send(&mut state, "hi");
    update(&mut state, Msg::Engine(token(id, 0)));
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, Msg::Engine(done(id, StopReason::Cancelled, 1)));
    let effects = update(&mut state, alt(KeyCode::Char('r')));
    // The conversation ends with the partial reply: the engine goes on from it.
    assert_eq!(
        prompt_of(&engine_cmds(&effects)[0]),
        [ChatMessage::new(Role::User, "hi"), ChatMessage::new(Role::Assistant, "Hello")]
    );
    assert_eq!(state.generation.as_ref().map(|g| g.message), Some(1));
    let id = generate_id(&effects);
    update(&mut state, Msg::Engine(token(id, 1)));
    let conversation = saved(&update(&mut state, Msg::Engine(done(id, StopReason::EndOfText, 1)))).unwrap();
    assert_eq!(conversation.messages.len(), 2);
    assert_eq!(conversation.messages[1].content, "Hello!");
    assert_eq!(conversation.messages[1].stop_reason, Some(StopReason::EndOfText));
    // A finished reply has nothing to continue.
    assert!(update(&mut state, alt(KeyCode::Char('r'))).is_empty());
    assert!(state.notice.as_ref().unwrap().text.starts_with("Nothing to continue"));
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE })
}

#[test]
fn the_wheel_scrolls_the_chat_and_moves_through_lists() {
    let mut state = ready_state();
    state.viewport = ChatViewport { total_lines: 50, height: 10, ..Default::default() };
    update(&mut state, mouse(MouseEventKind::ScrollUp, 3, 3));
    assert_eq!(state.scroll.top, Some(37));
    update(&mut state, mouse(MouseEventKind::ScrollDown, 3, 3));
    update(&mut state, mouse(MouseEventKind::ScrollDown, 3, 3));
    assert_eq!(state.scroll.top, None, "back at the bottom, following again");
    state.models = vec![entry("/m/a.gguf"), entry("/m/b.gguf"), entry("/m/c.gguf")];
    state.overlay = Some(Overlay::Picker { selected: 0 });
    update(&mut state, mouse(MouseEventKind::ScrollDown, 3, 3));
    update(&mut state, mouse(MouseEventKind::ScrollDown, 3, 3));
    assert!(matches!(state.overlay, Some(Overlay::Picker { selected: 2 })));
    update(&mut state, mouse(MouseEventKind::ScrollUp, 3, 3));
    assert!(matches!(state.overlay, Some(Overlay::Picker { selected: 1 })));
    state.overlay = Some(Overlay::Help { scroll: 0 });
    update(&mut state, mouse(MouseEventKind::ScrollDown, 3, 3));
    assert!(matches!(state.overlay, Some(Overlay::Help { scroll: 1 })));
}

#[test]
fn a_click_picks_the_message_under_it_and_a_click_below_gives_the_box_back() {
    let mut state = two_turns();
    // The chat from row 1, 10 rows high, scrolled to its lines 5..15; messages start at lines
    // 0, 4, 8 and 12.
    state.viewport = ChatViewport {
        total_lines: 16,
        height: 10,
        area: ratatui::layout::Rect::new(0, 1, 60, 10),
        message_tops: vec![0, 4, 8, 12],
    };
    state.scroll.top = Some(5);
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 4, 1));
    assert!(matches!(state.overlay, Some(Overlay::Messages { selected: 1, .. })));
    assert_eq!(state.scroll.top, Some(4), "the picked message's label comes into view");
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 4, 9));
    assert!(matches!(state.overlay, Some(Overlay::Messages { selected: 3, .. })));
    assert_eq!(state.scroll.top, Some(4), "a message in view stays where it is");
    // The picked message's keys work as after Alt+Up.
    update(&mut state, key(KeyCode::Left));
    assert!(state.notice.as_ref().is_some_and(|n| n.text == "No other version there."));
    // Below the chat: the input box has the keys again.
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 4, 12));
    assert!(state.overlay.is_none());
    // Popups take no clicks through them.
    state.overlay = Some(Overlay::Help { scroll: 0 });
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 4, 2));
    assert!(matches!(state.overlay, Some(Overlay::Help { .. })));
}

#[test]
fn alt_m_leaves_the_mouse_to_the_terminal_and_takes_it_back() {
    let mut state = ready_state();
    assert!(state.mouse_capture);
    let effects = update(&mut state, alt(KeyCode::Char('m')));
    assert!(matches!(effects[..], [Effect::SetMouseCapture(false)]));
    assert!(state.notice.as_ref().unwrap().text.starts_with("Mouse off: the terminal selects text; Alt+M"));
    let effects = update(&mut state, alt(KeyCode::Char('m')));
    assert!(matches!(effects[..], [Effect::SetMouseCapture(true)]));
    assert!(state.mouse_capture);
}

#[test]
fn f8_cycles_the_colour_themes() {
    use bitnet_tui::app::theme::ThemeName;
    let mut state = ready_state();
    assert_eq!(state.theme.name, ThemeName::Dark);
    let mut seen = Vec::new();
    for _ in 0..3 {
        assert!(update(&mut state, key(KeyCode::F(8))).is_empty());
        seen.push((state.theme.name, state.notice.clone().unwrap().text));
    }
    assert_eq!(
        seen,
        [
            (ThemeName::Light, "Theme: light.".to_string()),
            (ThemeName::HighContrast, "Theme: high-contrast.".to_string()),
            (ThemeName::Dark, "Theme: dark.".to_string()),
        ]
    );
    // It works over a panel too, and types nothing into a text box.
    update(&mut state, key(KeyCode::F(6)));
    update(&mut state, key(KeyCode::F(8)));
    assert_eq!(state.theme.name, ThemeName::Light);
    assert!(matches!(&state.overlay, Some(Overlay::SystemPrompt(editor)) if editor.is_empty()));
}

#[test]
fn a_click_on_a_list_row_selects_it() {
    use bitnet_tui::app::state::ListViewport;
    let mut state = ready_state();
    state.models = vec![entry("/m/a.gguf"), entry("/m/b.gguf"), entry("/m/c.gguf")];
    state.overlay = Some(Overlay::Picker { selected: 0 });
    // Rows from screen row 5, scrolled by one: row 6 shows the third model.
    let rows = ratatui::layout::Rect::new(10, 5, 50, 4);
    state.list_viewport = Some(ListViewport { rows, first: 1, row_height: 1 });
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 12, 6));
    assert!(matches!(state.overlay, Some(Overlay::Picker { selected: 2 })));
    // Past the last item, or outside the rows: nothing.
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 12, 8));
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 5, 5));
    assert!(matches!(state.overlay, Some(Overlay::Picker { selected: 2 })));

    // A search's rows are two lines each (title, preview) and only its matches count.
    let mut state = searchable_history();
    update(&mut state, key(KeyCode::Char('/')));
    type_text(&mut state, "kernels");
    state.list_viewport = Some(ListViewport { rows, first: 0, row_height: 2 });
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 12, 8));
    assert_eq!(browser(&state).selected, 1, "the second line of the second match");
    update(&mut state, mouse(MouseEventKind::Down(MouseButton::Left), 12, 5));
    assert_eq!(browser(&state).selected, 0);
}
