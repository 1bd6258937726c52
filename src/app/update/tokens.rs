//! Token counts: the draft's as it is typed, and each user message's. The counting itself runs
//! off the UI thread (`Effect::CountTokens`); this keeps track of what to count and takes the
//! answers.

use crate::app::msg::{text_hash, Effect, TokenCount, TokenJob};
use crate::app::state::State;
use crate::engine::protocol::Role;
use crate::engine::token_counter::TokenCounter;

/// A model was loaded: its tokenizer counts from now on, everything again (another model's
/// tokenizer cuts text differently).
pub(super) fn on_counter(state: &mut State, counter: TokenCounter) -> Vec<Effect> {
    state.token_counter = Some(counter);
    state.tokens.counting.clear();
    for message in &mut state.conversation.messages {
        message.tokens = None;
    }
    let mut effects = count_draft(state);
    effects.extend(count_messages(state));
    effects
}

/// Asks for the draft's count when its text changed since the last ask.
pub(super) fn count_draft(state: &mut State) -> Vec<Effect> {
    let Some(counter) = &state.token_counter else {
        return Vec::new();
    };
    let text = state.input_text();
    if text == state.tokens.counting {
        return Vec::new();
    }
    state.tokens.counting.clone_from(&text);
    if text.is_empty() {
        state.tokens.count = None;
        return Vec::new();
    }
    vec![Effect::CountTokens { counter: counter.clone(), job: TokenJob::Draft(text) }]
}

/// Asks for the counts of the open conversation's user messages that have none.
pub(super) fn count_messages(state: &State) -> Vec<Effect> {
    let Some(counter) = &state.token_counter else {
        return Vec::new();
    };
    let messages = state.conversation.messages.iter().enumerate();
    let texts: Vec<(usize, String)> = messages
        .filter(|(_, m)| m.role == Role::User && m.tokens.is_none())
        .map(|(index, m)| (index, m.content.clone()))
        .collect();
    if texts.is_empty() {
        return Vec::new();
    }
    let job = TokenJob::Messages { id: state.conversation.id.clone(), texts };
    vec![Effect::CountTokens { counter: counter.clone(), job }]
}

pub(super) fn on_counted(state: &mut State, count: TokenCount) {
    match count {
        // A late count for a draft that was sent meanwhile is not shown on the empty box.
        TokenCount::Draft(count) if !state.tokens.counting.is_empty() => state.tokens.count = Some(count),
        TokenCount::Draft(_) => {}
        TokenCount::Messages { id, counts } if id == state.conversation.id => {
            for (index, hash, tokens) in counts {
                let message = state.conversation.messages.get_mut(index);
                if let Some(message) = message.filter(|m| text_hash(&m.content) == hash) {
                    message.tokens = Some(tokens);
                }
            }
        }
        TokenCount::Messages { .. } => {}
    }
}
