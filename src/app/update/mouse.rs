//! The mouse: the wheel scrolls the chat or moves through the open list; a click on a message
//! picks it, and a click below the chat gives the input box the keys again.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::{messages, panels, scroll};
use crate::app::action::Action;
use crate::app::msg::Effect;
use crate::app::state::{Overlay, State};

/// Lines of the chat one notch of the wheel scrolls.
const WHEEL_LINES: usize = 3;

pub(super) fn on_mouse(state: &mut State, event: MouseEvent) -> Vec<Effect> {
    match event.kind {
        MouseEventKind::ScrollUp => wheel(state, Action::Up),
        MouseEventKind::ScrollDown => wheel(state, Action::Down),
        MouseEventKind::Down(MouseButton::Left) => {
            click(state, Position { x: event.column, y: event.row });
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Scrolls the chat, or moves the open list's selection (`direction` is `Up` or `Down`).
fn wheel(state: &mut State, direction: Action) -> Vec<Effect> {
    match &state.overlay {
        None | Some(Overlay::Messages { .. }) if direction == Action::Up => scroll::up(state, WHEEL_LINES),
        None | Some(Overlay::Messages { .. }) => scroll::down(state, WHEEL_LINES),
        // A title being typed keeps its row.
        Some(Overlay::History(_)) if state.is_renaming() => Vec::new(),
        Some(
            Overlay::Picker { .. }
            | Overlay::History(_)
            | Overlay::Personas { .. }
            | Overlay::Sliders { .. }
            | Overlay::Help { .. }
            | Overlay::ModelSettings(_),
        ) => panels::on_overlay_action(state, direction),
        Some(Overlay::SystemPrompt(_) | Overlay::Unsaved | Overlay::Error(_)) => Vec::new(),
    }
}

/// On the chat (with no popup over it), picks the message under `at`; below the chat, leaves
/// the picked message for the input box.
fn click(state: &mut State, at: Position) {
    if !matches!(state.overlay, None | Some(Overlay::Messages { .. })) {
        return;
    }
    let area = state.viewport.area;
    if area.contains(at) {
        let line = scroll::first_visible_line(state) + usize::from(at.y - area.y);
        // The last message starting at or above the line (none over the system prompt).
        let tops = &state.viewport.message_tops;
        if let Some(index) = tops.partition_point(|&top| top <= line).checked_sub(1) {
            messages::pick(state, index);
        }
    } else if at.y >= area.bottom() {
        state.overlay = None;
    }
}
