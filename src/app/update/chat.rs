//! The conversation: send, stop, regenerate, continue, edit and resend, new chat, copy and
//! export. Regenerating and resending an edit add versions (`crate::app::versions`).

use super::{text_box, tokens, unsaved};
use crate::app::code_blocks::conversation_code_blocks;
use crate::app::conversation::{Conversation, Message};
use crate::app::msg::{Copied, Effect};
use crate::app::state::{new_input, Generation, NoticeLevel, Scroll, SentDraft, State};
use crate::app::text;
use crate::engine::protocol::{EngineCmd, Prompt, Role, StopReason};

pub(super) fn send(state: &mut State) -> Vec<Effect> {
    let text = state.input_text();
    if text.trim().is_empty() {
        return Vec::new();
    }
    if !can_generate(state) {
        return Vec::new();
    }
    let mut effects = remember_input(state, text.clone());
    state.input = new_input();
    let editing = state.editing.take();
    let before = state.conversation.messages.clone();
    let conversation = &mut state.conversation;
    let at = editing.unwrap_or(conversation.messages.len()).min(conversation.messages.len());
    conversation.add_version(at, Message::new(Role::User, text.trim_end()));
    let reply_at = conversation.messages.len();
    effects.extend(tokens::count_messages(state));
    effects.extend(start_generation(state, reply_at));
    if let Some(generation) = &mut state.generation {
        generation.sent = Some(Box::new(SentDraft { text, before, editing }));
    }
    effects
}

/// Adds `text` to the input history, which is saved for the next start.
fn remember_input(state: &mut State, text: String) -> Vec<Effect> {
    state.input_history.push(text);
    vec![Effect::SaveInputHistory(state.input_history.entries().to_vec())]
}

/// The engine refused the request before writing a word: the conversation goes back to how it
/// was before the send and the text back into the input box, so nothing unsendable is saved.
pub(super) fn undo_send(state: &mut State, sent: SentDraft, reason: &str) {
    state.conversation.messages = sent.before;
    state.editing = sent.editing;
    state.input = text_box::filled(new_input(), &sent.text);
    state.notify(NoticeLevel::Error, text::send_refused(reason));
}

/// Whether a new request may start; says why not otherwise.
fn can_generate(state: &mut State) -> bool {
    if state.is_generating() {
        state.notify(NoticeLevel::Warning, text::busy(&state.keymap));
        false
    } else if state.model.is_none() && state.loading.is_none() {
        state.notify(NoticeLevel::Warning, text::no_model(&state.keymap));
        false
    } else {
        true
    }
}

/// Sends the conversation before `at` and opens an empty assistant message there for the reply,
/// as a new version when a reply was there.
fn start_generation(state: &mut State, at: usize) -> Vec<Effect> {
    let mut reply = Message::new(Role::Assistant, "");
    reply.model = state.model.as_ref().map(|m| m.name.clone());
    state.conversation.add_version(at, reply);
    write_reply(state, at)
}

/// Asks for the reply at `at`, the last message: the engine writes it, or (when it has text)
/// goes on from its text.
fn write_reply(state: &mut State, at: usize) -> Vec<Effect> {
    let prompt = state.conversation.prompt();
    let id = state.next_request;
    state.next_request += 1;
    state.generation = Some(Generation { id, message: at, cancelling: false, sent: None });
    if let Some(model) = &state.model {
        state.conversation.model = Some(model.name.clone());
    }
    state.live.start_request();
    state.scroll = Scroll::default();
    vec![Effect::Engine(EngineCmd::Generate {
        id,
        prompt: Prompt::Chat(prompt),
        sampling: state.knobs.sampling.clone(),
        max_tokens: state.knobs.max_tokens,
        logprobs: None,
    })]
}

/// Asks the engine to stop the running reply; the partial text stays.
pub(super) fn cancel(state: &mut State) -> Vec<Effect> {
    match &mut state.generation {
        Some(generation) if !generation.cancelling => {
            generation.cancelling = true;
            vec![Effect::Engine(EngineCmd::Cancel { id: generation.id })]
        }
        _ => Vec::new(),
    }
}

/// The stop key: stops the reply, or else leaves edit mode.
pub(super) fn stop(state: &mut State) -> Vec<Effect> {
    if state.is_generating() {
        return cancel(state);
    }
    if state.editing.take().is_some() {
        state.input = new_input();
        state.notify(NoticeLevel::Info, text::EDIT_CANCELLED);
    }
    Vec::new()
}

/// The interrupt key (Ctrl+C), as in a shell: stops a reply, else clears the draft (the input
/// history keeps it); on an empty draft it arms, and pressed again with nothing running, quits.
pub(super) fn interrupt(state: &mut State, armed: bool) -> Vec<Effect> {
    let stuck = state.generation.as_ref().is_some_and(|g| g.cancelling);
    if armed && (!state.is_generating() || stuck) {
        return quit(state);
    }
    let draft = state.input_text();
    if state.is_generating() || draft.is_empty() {
        let effects = cancel(state);
        if draft.is_empty() {
            state.quit_armed = true;
            state.notify(NoticeLevel::Info, text::press_again_to_quit(&state.keymap));
        }
        return effects;
    }
    state.input = new_input();
    state.editing = None;
    state.notify(NoticeLevel::Info, text::draft_cleared(&state.keymap));
    remember_input(state, draft)
}

/// Saves what there is and leaves, asking first if something cannot be saved.
pub(super) fn quit(state: &mut State) -> Vec<Effect> {
    unsaved::quit(state, true)
}

/// Stops the running reply without waiting for it, marks it stopped and saves the
/// conversation, and tries the unsaved ones again: used before the conversation is replaced.
/// A conversation without a reply running was saved with its last change, so it is not saved
/// again: that would make merely looking at it its latest update.
pub(super) fn abandon_generation(state: &mut State) -> Vec<Effect> {
    let mut effects = cancel(state);
    let Some(generation) = state.generation.take() else {
        effects.extend(unsaved::retries(state, None));
        return effects;
    };
    if let Some(message) = state.conversation.messages.get_mut(generation.message) {
        message.stop_reason = Some(StopReason::Cancelled);
    }
    effects.extend(save(state));
    effects
}

/// Saves the conversation if it has anything in it, and tries the unsaved ones again.
pub(super) fn save(state: &mut State) -> Vec<Effect> {
    let mut effects = unsaved::retries(state, Some(&state.conversation.id));
    if !state.conversation.messages.is_empty() {
        state.conversation.updated = crate::app::state::timestamp(state.now);
        effects.push(Effect::SaveConversation(state.conversation.clone()));
    }
    effects
}

/// Writes a new version of the last reply; the old one stays a version to flip back to.
pub(super) fn regenerate(state: &mut State) -> Vec<Effect> {
    let messages = &state.conversation.messages;
    let last_reply = messages.last().is_some_and(|m| m.role == Role::Assistant);
    regenerate_at(state, messages.len() - usize::from(last_reply))
}

/// Writes a new version of the reply at `at` (or a reply at the end, `at` being the length),
/// which follows a message of the user's.
pub(super) fn regenerate_at(state: &mut State, at: usize) -> Vec<Effect> {
    if !can_generate(state) {
        return Vec::new();
    }
    let after_user =
        at.checked_sub(1).and_then(|i| state.conversation.messages.get(i)).is_some_and(|m| m.role == Role::User);
    if !after_user {
        state.notify(NoticeLevel::Warning, text::NOTHING_TO_REGENERATE);
        return Vec::new();
    }
    state.editing = None;
    start_generation(state, at)
}

/// Lets the model go on with the last reply where it stopped (stopped, cut at max tokens, or
/// failed midway).
pub(super) fn continue_reply(state: &mut State) -> Vec<Effect> {
    if !can_generate(state) {
        return Vec::new();
    }
    let messages = &mut state.conversation.messages;
    let at = messages.len().saturating_sub(1);
    let Some(reply) = messages.last_mut().filter(|m| can_continue(m)) else {
        state.notify(NoticeLevel::Warning, text::nothing_to_continue(&state.keymap));
        return Vec::new();
    };
    reply.stop_reason = None;
    reply.error = None;
    // The reply names the model that wrote its end.
    if let Some(model) = &state.model {
        reply.model = Some(model.name.clone());
    }
    state.editing = None;
    write_reply(state, at)
}

/// A reply with text that ended before the model finished it.
fn can_continue(message: &Message) -> bool {
    let stopped = matches!(message.stop_reason, Some(StopReason::Cancelled | StopReason::MaxTokens));
    message.role == Role::Assistant && !message.content.is_empty() && (stopped || message.error.is_some())
}

/// Puts the last user message into the input box; sending makes it a new version.
pub(super) fn edit_last(state: &mut State) -> Vec<Effect> {
    match state.conversation.messages.iter().rposition(|m| m.role == Role::User) {
        Some(index) => edit(state, index),
        None => {
            state.notify(NoticeLevel::Warning, text::NOTHING_TO_EDIT);
            Vec::new()
        }
    }
}

/// Puts user message `index` into the input box; sending adds the text as a new version of it,
/// with a new reply, and the old version stays to flip back to.
pub(super) fn edit(state: &mut State, index: usize) -> Vec<Effect> {
    if state.is_generating() {
        state.notify(NoticeLevel::Warning, text::busy(&state.keymap));
        return Vec::new();
    }
    let Some(message) = state.conversation.messages.get(index).filter(|m| m.role == Role::User) else {
        state.notify(NoticeLevel::Warning, text::only_your_messages(&state.keymap));
        return Vec::new();
    };
    state.input = text_box::filled(new_input(), &message.content);
    state.editing = Some(index);
    state.notify(NoticeLevel::Info, text::editing(&state.keymap));
    Vec::new()
}

/// Replaces the open conversation with `conversation`, a new one.
pub(super) fn new_chat(state: &mut State, conversation: Conversation, notice: String) -> Vec<Effect> {
    let effects = abandon_generation(state);
    replace_conversation(state, conversation);
    state.notify(NoticeLevel::Info, notice);
    effects
}

/// Shows a stored conversation (after the history browser asked for it).
pub(super) fn open(state: &mut State, conversation: Conversation) -> Vec<Effect> {
    let mut effects = abandon_generation(state);
    state.notify(NoticeLevel::Info, text::opened(&conversation.display_title()));
    replace_conversation(state, conversation);
    effects.extend(tokens::count_messages(state));
    effects
}

fn replace_conversation(state: &mut State, conversation: Conversation) {
    state.conversation = conversation;
    state.editing = None;
    state.scroll = Scroll::default();
    state.live.start_request();
}

/// Up/Down in an empty input box walk the input history; `false` lets the box have the key.
pub(super) fn recall(state: &mut State, older: bool) -> bool {
    if !state.input.is_empty() && !state.input_history.is_browsing() {
        return false;
    }
    let text = if older { state.input_history.older() } else { state.input_history.newer() };
    if let Some(text) = text.map(str::to_string) {
        state.input = text_box::filled(new_input(), &text);
    }
    true
}

/// Copies the last reply; the notice comes once the clipboard has taken it.
pub(super) fn copy_reply(state: &mut State) -> Vec<Effect> {
    let reply = state.conversation.messages.iter().rev().find(|m| m.role == Role::Assistant && !m.content.is_empty());
    match reply {
        Some(message) => vec![Effect::CopyToClipboard { text: message.content.clone(), what: Copied::Reply }],
        None => {
            state.notify(NoticeLevel::Warning, text::NOTHING_TO_COPY);
            Vec::new()
        }
    }
}

/// Copies code block `number` (1-based), or the last one. An empty block is not copied.
pub(super) fn copy_code(state: &mut State, number: Option<usize>) -> Vec<Effect> {
    let mut blocks = conversation_code_blocks(&state.conversation);
    let index = match number {
        Some(n) => n.checked_sub(1),
        None => blocks.len().checked_sub(1),
    };
    let Some(i) = index.filter(|i| *i < blocks.len()) else {
        state.notify(NoticeLevel::Warning, text::no_code_block(number));
        return Vec::new();
    };
    let block = blocks.swap_remove(i);
    if block.text.trim().is_empty() {
        state.notify(NoticeLevel::Warning, text::empty_code_block(i + 1, block.closed));
        return Vec::new();
    }
    vec![Effect::CopyToClipboard { text: block.text, what: Copied::CodeBlock { number: i + 1, closed: block.closed } }]
}

pub(super) fn export(state: &mut State) -> Vec<Effect> {
    if state.conversation.messages.is_empty() {
        state.notify(NoticeLevel::Warning, text::NOTHING_TO_EXPORT);
        return Vec::new();
    }
    vec![Effect::Export(state.conversation.clone())]
}
