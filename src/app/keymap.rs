//! Key bindings as data: `assets/keymap.toml` holds the defaults, `[keys.<scope>]` in config.toml
//! replaces the keys of single actions. The help overlay and the footer legend read this table.
//! A view's keys are looked up in its own scope, then in the scopes it falls back to (a text box
//! to `input`, the editing keys; everything to `global`).

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::action::Action;

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies. Lookup tries the focused scope first, then its [`Scope::fallbacks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Chat,
    /// A message of the conversation picked, to edit, flip, regenerate or delete.
    Messages,
    /// The keys of every text box: cursor moves, deletions, new line, `$EDITOR`.
    Input,
    SystemPrompt,
    Personas,
    Sliders,
    Picker,
    History,
    /// The history browser's search box.
    HistorySearch,
    Help,
    Unsaved,
    ModelSettings,
    /// An error panel.
    Error,
}

impl Scope {
    pub const ALL: [Scope; 14] = [
        Scope::Global,
        Scope::Chat,
        Scope::Messages,
        Scope::Input,
        Scope::SystemPrompt,
        Scope::Personas,
        Scope::Sliders,
        Scope::Picker,
        Scope::History,
        Scope::HistorySearch,
        Scope::Help,
        Scope::Unsaved,
        Scope::ModelSettings,
        Scope::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Chat => "chat",
            Scope::Messages => "messages",
            Scope::Input => "input",
            Scope::SystemPrompt => "system_prompt",
            Scope::Personas => "personas",
            Scope::Sliders => "sliders",
            Scope::Picker => "picker",
            Scope::History => "history",
            Scope::HistorySearch => "history_search",
            Scope::Help => "help",
            Scope::Unsaved => "unsaved",
            Scope::ModelSettings => "model_settings",
            Scope::Error => "error",
        }
    }

    /// Where a key not bound in this scope is looked up next, in order.
    pub fn fallbacks(self) -> &'static [Scope] {
        match self {
            Scope::Global => &[],
            Scope::Chat | Scope::SystemPrompt | Scope::HistorySearch => &[Scope::Input, Scope::Global],
            _ => &[Scope::Global],
        }
    }

    /// This scope, then its fallbacks.
    fn chain(self) -> impl Iterator<Item = Scope> {
        std::iter::once(self).chain(self.fallbacks().iter().copied())
    }

    fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One key with its modifiers, normalised so that a typed `A` and the binding "A" compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyCombo {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyCombo {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        // Shift is already in the character itself ('A', '?'), and terminals disagree on whether
        // they also report it.
        let mods = match code {
            KeyCode::Char(_) => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        Self { code, mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT) }
    }

    /// Parses "ctrl+shift+left", "alt+enter", "f1", "pageup", "a", "+".
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        // The last `+`-separated part is the key, so "ctrl++" means Ctrl and '+'.
        while let Some((head, tail)) = rest.split_once('+') {
            if tail.is_empty() {
                break;
            }
            mods |= match head.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" | "meta" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => return Err(format!("unknown modifier `{head}` in `{text}`")),
            };
            rest = tail;
        }
        let code = parse_key_name(rest).ok_or_else(|| format!("unknown key `{rest}` in `{text}`"))?;
        Ok(Self::new(code, mods))
    }

    pub fn from_event(event: &KeyEvent) -> Self {
        Self::new(event.code, event.modifiers)
    }
}

fn parse_key_name(name: &str) -> Option<KeyCode> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    let lower = name.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok().filter(|n| (1..=24).contains(n))?),
        _ => return None,
    };
    Some(code)
}

impl fmt::Display for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl+")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt+")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift+")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.is_empty() => write!(f, "{c}"),
            KeyCode::Char(c) => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift+Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A keymap entry that could not be used; `key` is the dotted config path, e.g. `keys.chat.send`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct KeymapError {
    pub key: String,
    pub message: String,
}

/// The active bindings: per scope, actions in keymap order with their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    scopes: BTreeMap<Scope, Vec<(Action, Vec<KeyCombo>)>>,
}

type RawKeymap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Keymap {
    /// The shipped defaults, with `overrides` (the `[keys]` table of config.toml) on top.
    pub fn with_overrides(overrides: Option<&toml::Table>) -> Result<Self, KeymapError> {
        let defaults: RawKeymap = toml::from_str(DEFAULT_KEYMAP)
            .map_err(|e| KeymapError { key: "assets/keymap.toml".into(), message: e.to_string() })?;
        let mut keymap = Keymap::from_raw(&defaults, "")?;
        if let Some(table) = overrides {
            let raw: RawKeymap = table
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| KeymapError { key: "keys".into(), message: e.to_string() })?;
            keymap.apply(&Keymap::from_raw(&raw, "keys.")?);
        }
        keymap.check_clashes()?;
        Ok(keymap)
    }

    /// The shipped defaults alone.
    pub fn defaults() -> Result<Self, KeymapError> {
        Self::with_overrides(None)
    }

    fn from_raw(raw: &RawKeymap, path_prefix: &str) -> Result<Self, KeymapError> {
        let mut scopes: BTreeMap<Scope, Vec<(Action, Vec<KeyCombo>)>> = BTreeMap::new();
        for (scope_name, actions) in raw {
            let scope = Scope::from_name(scope_name).ok_or_else(|| KeymapError {
                key: format!("{path_prefix}{scope_name}"),
                message: format!("unknown scope (expected one of {})", Scope::ALL.map(Scope::name).join(", ")),
            })?;
            let entries = scopes.entry(scope).or_default();
            for (action_name, keys) in actions {
                let key = format!("{path_prefix}{scope_name}.{action_name}");
                let action = Action::from_name(action_name)
                    .ok_or_else(|| KeymapError { key: key.clone(), message: "unknown action".into() })?;
                if keys.is_empty() {
                    return Err(KeymapError {
                        key,
                        message: "an empty list leaves the action without a key; give at least one".into(),
                    });
                }
                let combos = keys
                    .iter()
                    .map(|k| KeyCombo::parse(k))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|message| KeymapError { key, message })?;
                entries.push((action, combos));
            }
            entries.sort_by_key(|(action, _)| *action);
        }
        Ok(Self { scopes })
    }

    /// Replaces the keys of every action that `other` names.
    fn apply(&mut self, other: &Keymap) {
        for (scope, entries) in &other.scopes {
            let mine = self.scopes.entry(*scope).or_default();
            for (action, keys) in entries {
                match mine.iter_mut().find(|(a, _)| a == action) {
                    Some(slot) => slot.1 = keys.clone(),
                    None => mine.push((*action, keys.clone())),
                }
            }
            mine.sort_by_key(|(action, _)| *action);
        }
    }

    /// A key may run one action per scope, and a scope may not hide a key of its fallbacks.
    fn check_clashes(&self) -> Result<(), KeymapError> {
        for scope in Scope::ALL {
            let mut seen: Vec<(KeyCombo, Scope, Action)> = Vec::new();
            let entries = scope.chain().flat_map(|s| self.bindings(s).iter().map(move |entry| (s, entry)));
            for (from, (action, keys)) in entries {
                for key in keys {
                    if let Some((_, other_scope, other)) = seen.iter().find(|(k, _, _)| k == key) {
                        return Err(KeymapError {
                            key: format!("keys.{}.{action}", from.name()),
                            message: format!("{key} is also bound to keys.{}.{other}", other_scope.name()),
                        });
                    }
                    seen.push((*key, from, *action));
                }
            }
        }
        Ok(())
    }

    /// The action `event` runs in `scope` (or its fallbacks), if any.
    pub fn action_for(&self, scope: Scope, event: &KeyEvent) -> Option<Action> {
        let combo = KeyCombo::from_event(event);
        let find = |s: Scope| self.bindings(s).iter().find(|(_, keys)| keys.contains(&combo)).map(|(a, _)| *a);
        scope.chain().find_map(find)
    }

    /// The bindings of one scope, in help order.
    pub fn bindings(&self, scope: Scope) -> &[(Action, Vec<KeyCombo>)] {
        self.scopes.get(&scope).map_or(&[], Vec::as_slice)
    }

    /// The keys of `action` in `scope` or, failing that, its fallbacks.
    pub fn keys_for(&self, scope: Scope, action: Action) -> &[KeyCombo] {
        scope
            .chain()
            .find_map(|s| self.bindings(s).iter().find(|(a, _)| *a == action))
            .map_or(&[], |(_, keys)| keys.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_parse_without_clashes() {
        let keymap = Keymap::defaults().expect("default keymap");
        for scope in Scope::ALL {
            assert!(!keymap.bindings(scope).is_empty(), "{scope:?} has no bindings");
        }
    }

    #[test]
    fn parses_and_prints_keys() {
        let k = KeyCombo::parse("ctrl+shift+left").unwrap();
        assert_eq!(k.code, KeyCode::Left);
        assert_eq!(k.mods, KeyModifiers::CONTROL | KeyModifiers::SHIFT);
        assert_eq!(k.to_string(), "Ctrl+Shift+←");
        assert_eq!(KeyCombo::parse("alt+enter").unwrap().to_string(), "Alt+Enter");
        assert_eq!(KeyCombo::parse("ctrl+n").unwrap().to_string(), "Ctrl+N");
        assert_eq!(KeyCombo::parse("f12").unwrap().code, KeyCode::F(12));
        assert_eq!(KeyCombo::parse("ctrl++").unwrap().code, KeyCode::Char('+'));
        assert!(KeyCombo::parse("hyper+x").is_err());
        assert!(KeyCombo::parse("f99").is_err());
        assert!(KeyCombo::parse("bogus").is_err());
    }

    #[test]
    fn shifted_characters_match_regardless_of_reported_shift() {
        let keymap = Keymap::defaults().unwrap();
        let with_shift = press(KeyCode::Char('L'), KeyModifiers::SHIFT);
        let without = press(KeyCode::Char('L'), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(Scope::Sliders, &with_shift), Some(Action::IncreaseCoarse));
        assert_eq!(keymap.action_for(Scope::Sliders, &without), Some(Action::IncreaseCoarse));
    }

    #[test]
    fn scope_first_then_global() {
        let keymap = Keymap::defaults().unwrap();
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(keymap.action_for(Scope::Chat, &enter), Some(Action::Send));
        assert_eq!(keymap.action_for(Scope::Picker, &enter), Some(Action::Confirm));
        let f1 = press(KeyCode::F(1), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(Scope::Picker, &f1), Some(Action::Help));
        let plain_a = press(KeyCode::Char('a'), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(Scope::Chat, &plain_a), None);
    }

    #[test]
    fn text_boxes_fall_back_to_the_editing_keys() {
        let keymap = Keymap::defaults().unwrap();
        let ctrl_a = press(KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(keymap.action_for(Scope::Chat, &ctrl_a), Some(Action::LineStart));
        assert_eq!(keymap.action_for(Scope::SystemPrompt, &ctrl_a), Some(Action::LineStart));
        assert_eq!(keymap.action_for(Scope::Picker, &ctrl_a), None);
        assert_eq!(keymap.keys_for(Scope::Chat, Action::Newline).len(), 2);
        // The old Ctrl+E for edit_last clashes with the input box's end of line, and says so.
        let table: toml::Table = toml::from_str("[chat]\nedit_last = [\"ctrl+e\"]\n").unwrap();
        let err = Keymap::with_overrides(Some(&table)).unwrap_err().to_string();
        assert!(err.contains("keys.input.line_end") && err.contains("keys.chat.edit_last"), "{err}");
    }

    #[test]
    fn overrides_replace_keys_of_one_action() {
        let table: toml::Table = toml::from_str("[chat]\nsend = [\"ctrl+s\"]\n").unwrap();
        let keymap = Keymap::with_overrides(Some(&table)).unwrap();
        let ctrl_s = press(KeyCode::Char('s'), KeyModifiers::CONTROL);
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(keymap.action_for(Scope::Chat, &ctrl_s), Some(Action::Send));
        assert_eq!(keymap.action_for(Scope::Chat, &enter), None);
        assert_eq!(keymap.keys_for(Scope::Chat, Action::Newline).len(), 2);
    }

    #[test]
    fn bad_overrides_name_the_key() {
        let cases = [
            ("[chat]\nsned = [\"x\"]\n", "keys.chat.sned"),
            ("[chat]\nsend = [\"ctrl+bogus\"]\n", "keys.chat.send"),
            ("[chatt]\nsend = [\"x\"]\n", "keys.chatt"),
            ("[chat]\nsend = [\"ctrl+r\"]\n", "keys.chat."),
            ("[chat]\nsend = []\n", "keys.chat.send"),
        ];
        for (text, key) in cases {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = Keymap::with_overrides(Some(&table)).unwrap_err();
            assert!(err.key.starts_with(key), "{text}: {err}");
        }
        // A clash between a scope and the global keys names both places.
        for text in ["[chat]\nsend = [\"f1\"]\n", "[global]\nhelp = [\"enter\"]\n"] {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = Keymap::with_overrides(Some(&table)).unwrap_err().to_string();
            assert!(err.contains("keys.global.help") && err.contains("keys.chat.send"), "{text}: {err}");
        }
    }
}
