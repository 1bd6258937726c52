//! Scrolling the chat. `top == None` follows new output; scrolling up leaves follow mode and
//! reaching the bottom again resumes it.

use crate::app::msg::Effect;
use crate::app::state::{Scroll, State};

/// Lines a page moves: the visible height less two lines of overlap.
pub(super) fn page(height: usize) -> usize {
    height.saturating_sub(2).max(1)
}

fn max_top(state: &State) -> usize {
    state.viewport.total_lines.saturating_sub(state.viewport.height)
}

/// The first line of the chat in view.
pub(super) fn first_visible_line(state: &State) -> usize {
    let max = max_top(state);
    state.scroll.top.unwrap_or(max).min(max)
}

pub(super) fn up(state: &mut State, lines: usize) -> Vec<Effect> {
    let max = max_top(state);
    if max > 0 {
        let top = state.scroll.top.unwrap_or(max).min(max);
        state.scroll.top = Some(top.saturating_sub(lines));
    }
    Vec::new()
}

pub(super) fn down(state: &mut State, lines: usize) -> Vec<Effect> {
    if let Some(top) = state.scroll.top {
        let next = top + lines;
        if next >= max_top(state) {
            return bottom(state);
        }
        state.scroll.top = Some(next);
    }
    Vec::new()
}

pub(super) fn top(state: &mut State) -> Vec<Effect> {
    if max_top(state) > 0 {
        state.scroll.top = Some(0);
    }
    Vec::new()
}

/// Scrolls so that message `index` starts in view, if it is not in view already.
pub(super) fn reveal_message(state: &mut State, index: usize) {
    let Some(&line) = state.viewport.message_tops.get(index) else {
        return;
    };
    let max = max_top(state);
    let top = first_visible_line(state);
    if line < top || line >= top + state.viewport.height {
        let top = line.min(max);
        state.scroll.top = (top < max).then_some(top);
    }
}

pub(super) fn bottom(state: &mut State) -> Vec<Effect> {
    state.scroll = Scroll::default();
    Vec::new()
}
