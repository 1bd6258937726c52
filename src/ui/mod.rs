//! Drawing: a pure function of the state. `mod.rs` lays out the screen; each panel has its file.

mod chat;
mod error_panel;
mod footer;
mod header;
pub mod help;
mod highlight;
mod history;
mod input;
pub mod markdown;
mod model_settings;
mod personas;
mod picker;
mod popup;
mod sliders;
mod stats;
pub mod strings;
mod system_prompt;
pub mod theme;
mod unsaved;
pub mod wrap;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::app::state::{ChatViewport, ListViewport, Overlay, State};
use crate::ui::theme::Theme;

/// Smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;
/// Width of the stats / sliders column.
const SIDE_PANEL_WIDTH: u16 = 34;

/// Where the last frame put what the mouse can point at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawn {
    pub chat: ChatViewport,
    /// The open list's rows, if a list is open.
    pub list: Option<ListViewport>,
}

/// Memory kept between frames so that unchanged replies are not rendered again.
#[derive(Debug, Default)]
pub struct View {
    chat_cache: chat::ChatCache,
}

impl View {
    /// Draws the whole screen and returns the chat's and the open list's places, for scrolling
    /// and clicks.
    pub fn draw(&mut self, frame: &mut Frame, state: &State) -> Drawn {
        let theme = Theme::new(&state.theme, state.no_color);
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let text = strings::too_small(area.width, area.height, MIN_WIDTH, MIN_HEIGHT);
            frame.render_widget(Paragraph::new(Line::styled(text, theme.warning)).wrap(Wrap { trim: true }), area);
            return Drawn { chat: state.viewport.clone(), list: None };
        }
        let [header_area, body, input_area, footer_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(input::height(state, area.width, area.height)),
            Constraint::Length(1),
        ])
        .areas(area);

        let sliders = match state.overlay {
            Some(Overlay::Sliders { selected }) => Some(selected),
            _ => None,
        };
        let side = sliders.is_some() || state.stats_visible();
        // The chat keeps at least half of a narrow terminal.
        let side_width = if side { SIDE_PANEL_WIDTH.min(body.width / 2) } else { 0 };
        let [chat_area, side_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(side_width)]).areas(body);

        header::render(frame, header_area, state, &theme);
        let viewport =
            chat::render(frame, reading_column(chat_area, state.max_width), state, &theme, &mut self.chat_cache);
        match sliders {
            Some(selected) => sliders::render(frame, side_area, state, &theme, selected),
            None if side => stats::render(frame, side_area, state, &theme),
            None => {}
        }
        input::render(frame, input_area, state, &theme);
        footer::render(frame, footer_area, state, &theme);
        // Popups cover the chat only: a border half over the input box would look broken.
        let list = draw_overlay(frame, body, state, &theme);
        Drawn { chat: viewport, list }
    }
}

/// The middle `max_width` columns of `area` (plus the scrollbar's), or all of it when it is
/// narrower or there is no limit: long lines are hard to read on a very wide terminal.
fn reading_column(area: Rect, max_width: u16) -> Rect {
    let width = max_width.saturating_add(1);
    if max_width == 0 || area.width <= width {
        return area;
    }
    Rect { x: area.x + (area.width - width) / 2, width, ..area }
}

/// Draws the open popup; returns its list's rows when it is a list.
fn draw_overlay(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) -> Option<ListViewport> {
    match &state.overlay {
        Some(Overlay::Picker { selected }) => return picker::render(frame, area, state, theme, *selected),
        Some(Overlay::History(browser)) => return history::render(frame, area, state, theme, browser),
        Some(Overlay::Personas { selected }) => return Some(personas::render(frame, area, state, theme, *selected)),
        Some(Overlay::Help { scroll }) => help::render(frame, area, state, theme, *scroll),
        Some(Overlay::SystemPrompt(editor)) => system_prompt::render(frame, area, state, theme, editor),
        Some(Overlay::Unsaved) => unsaved::render(frame, area, state, theme),
        Some(Overlay::ModelSettings(form)) => model_settings::render(frame, area, theme, form),
        Some(Overlay::Error(panel)) => error_panel::render(frame, area, state, theme, panel),
        // The picked message is marked in the chat itself.
        Some(Overlay::Sliders { .. } | Overlay::Messages { .. }) | None => {}
    }
    None
}
