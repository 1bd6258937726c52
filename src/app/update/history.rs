//! The history browser: search, open, rename, delete, export stored conversations, start a new
//! one.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::{chat, panels, text_box, toggle_overlay};
use crate::app::action::Action;
use crate::app::keymap::Scope;
use crate::app::msg::Effect;
use crate::app::search::search;
use crate::app::state::{new_conversation, new_search_box, HistoryBrowser, HistorySearch, NoticeLevel, Overlay, State};
use crate::app::store::Listing;
use crate::app::text;

pub(super) fn open(state: &mut State) -> Vec<Effect> {
    if toggle_overlay(state, Overlay::History(Box::default())) {
        vec![Effect::ListConversations]
    } else {
        Vec::new()
    }
}

fn browser(state: &mut State) -> Option<&mut HistoryBrowser> {
    match &mut state.overlay {
        Some(Overlay::History(browser)) => Some(browser),
        _ => None,
    }
}

pub(super) fn on_listed(state: &mut State, listing: Listing) {
    let Listing { items, unreadable } = listing;
    if let Some(first) = unreadable.first() {
        state.notify(NoticeLevel::Warning, text::unreadable_conversations(unreadable.len(), first));
    }
    let current = state.conversation.id.clone();
    if let Some(browser) = browser(state) {
        browser.items = items;
        refresh_matches(browser);
        browser.selected =
            (0..browser.row_count()).find(|&r| browser.row(r).is_some_and(|(i, _)| i.id == current)).unwrap_or(0);
    }
}

/// Runs the search again after the query or the list changed; the first match is selected.
fn refresh_matches(browser: &mut HistoryBrowser) {
    if let Some(found) = &mut browser.search {
        let query = found.query.lines().join(" ");
        found.matches = search(browser.items.iter().map(|i| &i.text), &query);
        browser.selected = 0;
    }
}

/// The query was edited.
pub(super) fn query_changed(state: &mut State) {
    if let Some(browser) = browser(state) {
        refresh_matches(browser);
    }
}

/// Starts a search, or goes back to its box.
fn start_search(browser: &mut HistoryBrowser) {
    match &mut browser.search {
        Some(found) => found.typing = true,
        None => {
            browser.search = Some(HistorySearch { query: new_search_box(), typing: true, matches: Vec::new() });
            refresh_matches(browser);
        }
    }
}

/// The close key: from the search box back to the list (a blank query ends the search), then
/// from the filtered list to the whole list, then out of the browser.
fn close(state: &mut State) {
    let Some(browser) = browser(state) else {
        return;
    };
    let selected = browser.selected_item().map(|i| i.id.clone());
    match &mut browser.search {
        Some(found) if found.typing && !found.query.lines().join("").trim().is_empty() => found.typing = false,
        Some(_) => {
            // The conversation selected in the results stays selected in the whole list.
            browser.search = None;
            browser.selected = browser.items.iter().position(|i| Some(&i.id) == selected.as_ref()).unwrap_or(0);
        }
        None => state.overlay = None,
    }
}

pub(super) fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let current_id = state.conversation.id.clone();
    let Some(browser) = browser(state) else {
        return Vec::new();
    };
    let confirm_delete = std::mem::take(&mut browser.confirm_delete);
    let selected = browser.selected_item().cloned();
    match (action, selected) {
        (Action::Up | Action::Down, _) => {
            browser.selected = panels::step(browser.selected, action, browser.row_count());
            Vec::new()
        }
        (Action::Search, _) => {
            start_search(browser);
            Vec::new()
        }
        (Action::Close, _) => {
            close(state);
            Vec::new()
        }
        (Action::Confirm, Some(item)) => {
            state.overlay = None;
            if item.id == current_id {
                Vec::new()
            } else {
                vec![Effect::OpenConversation(item.id)]
            }
        }
        (Action::Rename, Some(item)) => {
            let mut input = TextArea::default();
            input.set_cursor_line_style(ratatui::style::Style::new());
            input.insert_str(&item.title);
            // Typing replaces the old title; an arrow key keeps it for editing.
            input.select_all();
            browser.rename = Some(input);
            Vec::new()
        }
        (Action::Delete, Some(item)) if !confirm_delete => {
            browser.confirm_delete = true;
            let keys = state.keymap.keys_for(Scope::History, Action::Delete);
            let text = text::confirm_delete(&item.title, keys);
            state.notify(NoticeLevel::Warning, text);
            Vec::new()
        }
        (Action::Delete, Some(item)) => {
            let selected = browser.selected;
            browser.items.retain(|i| i.id != item.id);
            refresh_matches(browser);
            browser.selected = selected.min(browser.row_count().saturating_sub(1));
            if item.id == current_id {
                state.conversation = new_conversation(state.now, &state.personas[0]);
            }
            state.notify(NoticeLevel::Info, text::deleted(&item.title));
            vec![Effect::DeleteConversation(item.id)]
        }
        _ => Vec::new(),
    }
}

pub(super) fn export_selected(state: &mut State) -> Vec<Effect> {
    let current_id = state.conversation.id.clone();
    let Some(item) = browser(state).and_then(|b| b.selected_item().cloned()) else {
        return Vec::new();
    };
    if item.id == current_id {
        chat::export(state)
    } else {
        vec![Effect::ExportStored(item.id)]
    }
}

/// Keys while a title is typed: confirm and close keep their meaning, the rest is text.
pub(super) fn rename_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let action = state.keymap.action_for(Scope::History, &key);
    // A title is one line: every editing key but the new line works in it.
    let editing = state.keymap.action_for(Scope::Input, &key).filter(|a| *a != Action::Newline);
    let current_id = state.conversation.id.clone();
    let Some(browser) = browser(state) else {
        return Vec::new();
    };
    match action {
        Some(Action::Close) => {
            browser.rename = None;
            Vec::new()
        }
        Some(Action::Confirm) => {
            let title = browser.rename.take().map(|r| r.lines().join(" ").trim().to_string()).unwrap_or_default();
            let Some(id) = browser.selected_item().map(|i| i.id.clone()) else {
                return Vec::new();
            };
            if title.is_empty() {
                return Vec::new();
            }
            if let Some(item) = browser.items.iter_mut().find(|i| i.id == id) {
                item.title = title.clone();
                item.text.set_title(&title);
            }
            if id == current_id {
                state.conversation.title = title;
                chat::save(state)
            } else {
                vec![Effect::RenameConversation { id, title }]
            }
        }
        _ => {
            if let Some(rename) = browser.rename.as_mut() {
                if !editing.is_some_and(|a| text_box::edit(rename, a)) {
                    rename.input(key);
                }
            }
            Vec::new()
        }
    }
}
