//! The mouse: the wheel scrolls the chat or moves through the open list; a click on a message
//! picks it, a click below the chat gives the input box the keys again, and a click on a row of
//! a list selects it.

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

fn click(state: &mut State, at: Position) {
    match &state.overlay {
        None | Some(Overlay::Messages { .. }) => click_chat(state, at),
        Some(Overlay::Picker { .. } | Overlay::History(_) | Overlay::Personas { .. }) if !state.is_renaming() => {
            click_row(state, at);
        }
        _ => {}
    }
}

/// Picks the message under `at`; below the chat, leaves the picked message for the input box.
fn click_chat(state: &mut State, at: Position) {
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

/// Selects the row of the open list under `at`, as the arrow keys would.
fn click_row(state: &mut State, at: Position) {
    let Some(list) = state.list_viewport.filter(|list| list.rows.contains(at)) else {
        return;
    };
    let row = list.first + usize::from((at.y - list.rows.y) / list.row_height.max(1));
    match &mut state.overlay {
        Some(Overlay::Picker { selected }) if row < state.models.len() => *selected = row,
        Some(Overlay::Personas { selected }) if row < state.personas.len() => *selected = row,
        Some(Overlay::History(browser)) if row < browser.row_count() => {
            browser.selected = row;
            browser.confirm_delete = false;
        }
        _ => {}
    }
}
