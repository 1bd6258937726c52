//! The conversation view: labelled messages (with the model that wrote a reply, which version
//! is shown, and the picked one marked), markdown replies, per-reply footers, scrolling with
//! follow mode and the "new output below" hint.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};
use ratatui::Frame;

use crate::app::action::Action;
use crate::app::conversation::Message;
use crate::app::keymap::Scope;
use crate::app::state::{ChatViewport, Overlay, State};
use crate::app::text;
use crate::engine::protocol::{GenStats, Role, StopReason};
use crate::ui::markdown::{self, Rendered};
use crate::ui::strings;
use crate::ui::theme::Theme;
use crate::ui::wrap::{self, wrap, Breaks};

/// Rendered replies by content, width and numbering, so that only the streaming reply is
/// parsed again each frame.
#[derive(Debug, Default)]
pub struct ChatCache {
    entries: HashMap<u64, Rc<Rendered>>,
}

impl ChatCache {
    fn markdown(&mut self, text: &str, width: usize, theme: &Theme, first_block: usize) -> (u64, Rc<Rendered>) {
        let mut hasher = DefaultHasher::new();
        (text, width, theme, first_block).hash(&mut hasher);
        let key = hasher.finish();
        let rendered = self
            .entries
            .entry(key)
            .or_insert_with(|| Rc::new(markdown::render(text, width, theme, first_block)))
            .clone();
        (key, rendered)
    }

    /// Forgets entries the last frame did not use (edited, streamed or resized away).
    fn keep_only(&mut self, used: &[u64]) {
        self.entries.retain(|k, _| used.contains(k));
    }
}

/// Lines of the view: built for this frame, or shared with the cache.
enum Block {
    Owned(Vec<Line<'static>>),
    Cached(Rc<Rendered>),
}

impl Block {
    fn lines(&self) -> &[Line<'static>] {
        match self {
            Block::Owned(lines) => lines,
            Block::Cached(rendered) => &rendered.lines,
        }
    }
}

/// Draws the conversation into `area` and reports its size for scrolling.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, cache: &mut ChatCache) -> ChatViewport {
    // One column for the scrollbar.
    let width = usize::from(area.width.saturating_sub(1)).max(1);
    let height = usize::from(area.height);
    let system = system_block(state, theme, width);
    if state.conversation.messages.is_empty() {
        let hint = Paragraph::new(Line::styled(strings::EMPTY_CHAT, theme.dim)).alignment(Alignment::Center);
        let middle = Rect { y: area.y + area.height / 2, height: 1.min(area.height), ..area };
        frame.render_widget(Paragraph::new(system), Rect { width: area.width.saturating_sub(1), ..area });
        frame.render_widget(hint, middle);
        return ChatViewport { total_lines: 0, height, area, message_tops: Vec::new() };
    }

    let picked = match state.overlay {
        Some(Overlay::Messages { selected, .. }) => Some(selected),
        _ => None,
    };
    let mut blocks: Vec<Block> = vec![Block::Owned(system)];
    let mut used_keys = Vec::new();
    let mut next_block = 1;
    // The block each message starts with.
    let mut first_blocks = Vec::with_capacity(state.conversation.messages.len());
    for (index, message) in state.conversation.messages.iter().enumerate() {
        let streaming = state.generation.as_ref().is_some_and(|g| g.message == index);
        first_blocks.push(blocks.len());
        blocks.push(Block::Owned(vec![label(message, picked == Some(index), theme)]));
        match message.role {
            Role::Assistant => {
                let content = wrap::terminal_safe(&message.content);
                let (key, rendered) = cache.markdown(&content, width, theme, next_block);
                next_block += rendered.code_blocks;
                used_keys.push(key);
                blocks.push(Block::Cached(rendered));
            }
            Role::User | Role::System => {
                blocks.push(Block::Owned(plain(&wrap::terminal_safe(&message.content), width)));
            }
        }
        let mut tail = reply_footer(message, streaming, state, theme, width);
        tail.push(Line::default());
        blocks.push(Block::Owned(tail));
    }
    cache.keep_only(&used_keys);

    let block_tops: Vec<usize> = blocks
        .iter()
        .scan(0, |line, block| {
            let top = *line;
            *line += block.lines().len();
            Some(top)
        })
        .collect();
    let message_tops = first_blocks.iter().map(|&b| block_tops[b]).collect();
    let total: usize = blocks.iter().map(|b| b.lines().len()).sum();
    let max_top = total.saturating_sub(height);
    let top = state.scroll.top.unwrap_or(max_top).min(max_top);
    let visible: Vec<Line<'static>> =
        blocks.iter().flat_map(|b| b.lines().iter()).skip(top).take(height).cloned().collect();
    let text_area = Rect { width: area.width.saturating_sub(1), ..area };
    frame.render_widget(Paragraph::new(visible), text_area);

    if max_top > 0 {
        let mut bar = ScrollbarState::new(max_top).position(top);
        let scrollbar =
            Scrollbar::new(ScrollbarOrientation::VerticalRight).begin_symbol(None).end_symbol(None).style(theme.dim);
        frame.render_stateful_widget(scrollbar, area, &mut bar);
    }
    let hint = if state.scroll.unseen_output {
        Some(strings::NEW_OUTPUT_BELOW)
    } else if top < max_top {
        Some(strings::MORE_BELOW)
    } else {
        None
    };
    if let (Some(hint), true) = (hint, area.height > 0) {
        let line = Paragraph::new(Line::styled(hint, theme.hint)).alignment(Alignment::Right);
        let bottom = Rect { y: area.bottom() - 1, height: 1, ..text_area };
        frame.render_widget(line, bottom);
    }
    ChatViewport { total_lines: total, height, area, message_tops }
}

/// The conversation's system prompt, dim, above the first message, with the key that edits it;
/// nothing without one.
fn system_block(state: &State, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let Some(prompt) = state.conversation.system_text() else {
        return Vec::new();
    };
    let persona = state.conversation.persona.as_deref();
    let keys = state.keymap.keys_for(Scope::Global, Action::OpenSystemPrompt);
    let mut label = vec![Span::styled(strings::system_label(persona), theme.dim)];
    if let Some(key) = keys.first() {
        label.push(Span::styled(format!("  {key} edits"), theme.hint));
    }
    let mut lines = vec![Line::from(label)];
    let text = wrap::terminal_safe(prompt);
    lines.extend(plain(&text, width).into_iter().map(|line| line.style(theme.dim)));
    lines.push(Line::default());
    lines
}

/// "You" or "Assistant · model", a user message's token count once known (a reply's is in its
/// figures), the version shown when there are others, and a mark when the message is the picked
/// one.
fn label(message: &Message, picked: bool, theme: &Theme) -> Line<'static> {
    let (text, style) = match message.role {
        Role::User => (strings::YOU, theme.user_label),
        Role::Assistant => (strings::ASSISTANT, theme.assistant_label),
        Role::System => (strings::SYSTEM, theme.dim),
    };
    let mut spans = Vec::new();
    if picked {
        spans.push(Span::styled(strings::PICKED, theme.key));
        spans.push(Span::styled(text, style.patch(theme.selected)));
    } else {
        spans.push(Span::styled(text, style));
    }
    if let Some(model) = &message.model {
        spans.push(Span::styled(format!(" · {model}"), theme.dim));
    }
    if let Some(tokens) = message.tokens {
        spans.push(Span::styled(format!(" · {}", strings::tokens_text(tokens)), theme.dim));
    }
    let position = message.version_position();
    if position.count > 1 {
        spans.push(Span::styled(format!("  {}", strings::version(position.shown, position.count)), theme.key));
    }
    Line::from(spans)
}

/// User text is shown as typed: its own line breaks, wrapped at words.
fn plain(text: &str, width: usize) -> Vec<Line<'static>> {
    text.split('\n').flat_map(|line| wrap(&[Span::raw(line.to_string())], width, &[], &[], Breaks::Words)).collect()
}

/// The dim line under a reply: live progress while it streams, its figures once done.
fn reply_footer(message: &Message, streaming: bool, state: &State, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(error) = &message.error {
        let text = text::generation_failed(error);
        lines.extend(wrap(&[Span::styled(text, theme.error)], width, &[], &[], Breaks::Words));
    }
    let text = if streaming {
        let cancelling = state.generation.as_ref().is_some_and(|g| g.cancelling);
        Some(live_progress(state, cancelling))
    } else {
        finished_figures(message)
    };
    if let Some(text) = text {
        let style = match message.stop_reason {
            Some(StopReason::Cancelled | StopReason::ContextFull) => theme.warning,
            _ => theme.dim,
        };
        lines.extend(wrap(&[Span::styled(text, style)], width, &[], &[], Breaks::Words));
    }
    lines
}

fn live_progress(state: &State, cancelling: bool) -> String {
    if cancelling {
        return strings::STOPPING.to_string();
    }
    if let Some((done, total)) = state.live.prefill {
        return format!("{} {done}/{total}", strings::READING_PROMPT);
    }
    match &state.live.stats {
        Some(s) if !state.live.token_speeds.is_empty() => {
            format!("{} · {} tokens · {:.1} tok/s", strings::GENERATING, s.generated_tokens, s.decode_tok_s)
        }
        _ => strings::WAITING.to_string(),
    }
}

fn finished_figures(message: &Message) -> Option<String> {
    let reason = message.stop_reason.map(strings::stop_reason);
    match (&message.stats, reason) {
        (Some(s), Some(reason)) => Some(figures(s, reason)),
        (None, Some(reason)) => Some(reason.to_string()),
        _ => None,
    }
}

/// "42 tokens · 31.2 tok/s · TTFT 180 ms · end of text".
pub fn figures(s: &GenStats, reason: &str) -> String {
    format!("{} tokens · {:.1} tok/s · TTFT {:.0} ms · {reason}", s.generated_tokens, s.decode_tok_s, s.ttft_ms)
}
