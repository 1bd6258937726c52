//! The system prompt editor: a box over the chat with the open conversation's system prompt.

use ratatui::layout::Rect;
use ratatui::Frame;
use ratatui_textarea::TextArea;

use crate::app::state::State;
use crate::ui::theme::Theme;
use crate::ui::{input, popup, strings};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, editor: &TextArea<'static>) {
    let title = strings::system_prompt_title(state.conversation.persona.as_deref());
    let inner = popup::open(frame, area, 80, 60, &title, theme);
    input::render_text(frame, inner, editor, theme);
}
