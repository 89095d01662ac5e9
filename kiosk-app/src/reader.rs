//! The kiosk's own screen reader, for a customer who cannot see the screen: what it says is
//! read from the Slint accessibility properties of the elements on screen (role, label,
//! state, position in a list), never from a second copy of the UI, and the keypad moves
//! through them.
//!
//! A screen becomes a list of *stops*, its controls in reading order. The texts between two
//! stops lead into the second ("Sauces, choose 1" before the first sauce); the texts drawn
//! inside a control are its details (a card's price). A new place (screen, overlay, combo
//! step) is announced with its name, what it opens with and its first control; texts marked
//! as live regions (notices, the payment's progress) are said when they change.
//!
//! The element tree is read with `i-slint-backend-testing`'s element API, which works on any
//! backend for a UI compiled with debug info (see `build.rs`).

use std::sync::Arc;

use i_slint_backend_testing::{AccessibleLiveness, AccessibleRole, ElementHandle, ElementRoot};
use kiosk_engine::devices::{Speaker, Utterance};
use kiosk_engine::kiosk_core::config::KeypadAction;
use slint::ComponentHandle;

use crate::spoken::spoken;
use crate::ui::{KioskWindow, Words};

/// The voice a customer starts with, and how far the keypad changes it.
const RATES: [u32; 3] = [175, 140, 110];
const VOLUME: u32 = 100;
const VOLUME_STEP: u32 = 25;
const VOLUME_RANGE: (u32, u32) = (25, 200);

/// Where the customer is: a screen, an overlay above it, the step of a combo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The name [`Words::speech_place`] knows it by ("menu", "still-there").
    pub name: &'static str,
    /// The element the place is read from (an overlay's type name), or the whole window.
    pub scope: Option<&'static str>,
    pub step: usize,
}

impl Place {
    /// A time limit running out ("are you still there?"): heard as a tone as well as said.
    pub fn is_warning(&self) -> bool {
        self.name == "still-there"
    }
}

/// A control on screen.
#[derive(Clone)]
pub struct Stop {
    element: ElementHandle,
    /// The texts between the control before and this one.
    lead: Vec<String>,
    pub label: String,
    /// The texts drawn inside it.
    details: Vec<String>,
    role: AccessibleRole,
    enabled: bool,
    checked: Option<bool>,
    /// Its place among its like ("2 of 9"), counted from 1.
    position: Option<(usize, usize)>,
    /// In a banner (a title bar): a place opens past it.
    in_banner: bool,
    /// The scrolled list it is in, if any.
    list: Option<ElementHandle>,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop").field("label", &self.label).field("role", &self.role).finish()
    }
}

/// What the reader says in, for the place and the session on screen.
pub struct Context<'a> {
    pub ui: &'a KioskWindow,
    pub place: Place,
    pub language: &'a str,
    pub order_prefix: &'a str,
    /// Whether the model has the kiosk speak.
    pub speaking: bool,
}

impl Context<'_> {
    fn word(&self, id: &str) -> String {
        self.ui.global::<Words>().invoke_speech(id.into()).into()
    }

    fn said(&self, text: &str) -> String {
        spoken(&readable(text), self.language, self.order_prefix)
    }
}

pub struct Reader {
    speaker: Option<Arc<dyn Speaker>>,
    /// The spoken names of the keys, for the help.
    key_names: [(KeypadAction, String); 9],
    on: bool,
    rate: usize,
    volume: u32,
    place: Option<Place>,
    cursor: usize,
    /// The live regions' texts last said.
    live: Vec<String>,
    /// Where a control was selected, until it has been said again.
    selected_in: Option<Place>,
}

impl Reader {
    pub fn new(keys: &kiosk_engine::kiosk_core::config::KeypadKeys) -> Reader {
        Reader {
            speaker: None,
            key_names: keys
                .actions()
                .map(|(action, names)| (action, names.first().map(|name| key_name(name)).unwrap_or_default())),
            on: false,
            rate: 0,
            volume: VOLUME,
            place: None,
            cursor: 0,
            live: Vec::new(),
            selected_in: None,
        }
    }

    pub fn speak_with(&mut self, speaker: Arc<dyn Speaker>) {
        self.speaker = Some(speaker);
    }

    /// After the screens were filled again: speech follows the model (on, off), a new place is
    /// announced, and live regions that changed are said.
    pub fn after_render(&mut self, context: &Context<'_>) {
        if self.speaker.is_none() {
            return;
        }
        if !context.speaking {
            if self.on {
                self.silence();
            }
            return;
        }
        let started = !self.on;
        self.on = true;
        let mut said = String::new();
        if started || self.place.as_ref() != Some(&context.place) {
            self.place = Some(context.place.clone());
            scroll_to_start(context);
            let (text, cursor) = self.announce(context, started);
            said = text;
            self.cursor = cursor;
            self.stop();
            self.utter(context, &said, context.place.is_warning());
        }
        self.say_live(context, &said);
    }

    /// Speech stops, and the next customer starts with the voice as it was.
    fn silence(&mut self) {
        self.stop();
        self.on = false;
        self.rate = 0;
        self.volume = VOLUME;
        self.place = None;
        self.cursor = 0;
        self.live.clear();
    }

    /// A key while the kiosk speaks (the start of speech is the model's, and so is Back where
    /// it goes somewhere): returns the control to activate for Select, which the caller invokes
    /// once the reader is released (activating it fills the screens again) and then calls
    /// [`Reader::after_select`].
    pub fn key(&mut self, action: KeypadAction, context: &Context<'_>) -> Option<ElementHandle> {
        if !self.on {
            return None;
        }
        self.stop();
        let stops = stops_of(context);
        match action {
            KeypadAction::Next | KeypadAction::Previous => {
                if stops.is_empty() {
                    self.then(context, &self.announce(context, false).0);
                    return None;
                }
                let forward = action == KeypadAction::Next;
                if let Some((revealed, cursor)) = reveal(&stops, self.cursor, forward, context) {
                    self.cursor = cursor;
                    self.then(context, &phrase(&revealed[cursor], context, true));
                    return None;
                }
                let count = stops.len();
                let (cursor, wrapped) = match action {
                    KeypadAction::Next if self.cursor + 1 >= count => (0, Some("top")),
                    KeypadAction::Next => (self.cursor + 1, None),
                    _ if self.cursor == 0 || self.cursor > count => (count - 1, Some("bottom")),
                    _ => (self.cursor - 1, None),
                };
                self.cursor = cursor;
                // Round to the top: the lists go back to their start, and their first
                // controls with them.
                let stops = if cursor == 0 {
                    scroll_to_start(context);
                    stops_of(context)
                } else {
                    stops
                };
                let stop = stops.get(cursor)?;
                let mut text = wrapped.map(|edge| context.word(edge)).unwrap_or_default();
                push(&mut text, &phrase(stop, context, true));
                self.then(context, &text);
                None
            }
            KeypadAction::Select => match stops.get(self.cursor) {
                Some(stop) if stop.enabled => {
                    self.selected_in = self.place.clone();
                    Some(stop.element.clone())
                }
                Some(stop) => {
                    let text = format!("{}, {}", context.said(&stop.label), context.word("unavailable"));
                    self.then(context, &text);
                    None
                }
                None => None,
            },
            // Back reaches the reader only where it does nothing: where the customer is, again.
            KeypadAction::Repeat | KeypadAction::Back => {
                let (mut text, opening) = self.announce(context, false);
                if self.cursor != opening
                    && let Some(stop) = stops.get(self.cursor)
                {
                    push(&mut text, &phrase(stop, context, false));
                }
                self.then(context, &text);
                None
            }
            KeypadAction::Help => {
                let mut text = self.help(context);
                push(&mut text, &self.announce(context, false).0);
                self.then(context, &text);
                None
            }
            KeypadAction::Louder | KeypadAction::Quieter => {
                let (low, high) = VOLUME_RANGE;
                self.volume = match action {
                    KeypadAction::Louder => (self.volume + VOLUME_STEP).min(high),
                    _ => self.volume.saturating_sub(VOLUME_STEP).max(low),
                };
                let word = if action == KeypadAction::Louder { "louder" } else { "quieter" };
                self.then(context, &context.word(word));
                None
            }
            KeypadAction::Slower => {
                self.rate = (self.rate + 1) % RATES.len();
                let word = if self.rate == 0 { "normal-speed" } else { "slower" };
                self.then(context, &context.word(word));
                None
            }
        }
    }

    /// After a control was activated: where the place stayed, the control is said again with
    /// its new state ("selected", a new quantity).
    pub fn after_select(&mut self, context: &Context<'_>) {
        let selected_in = self.selected_in.take();
        if !self.on {
            return;
        }
        if self.place.as_ref() != Some(&context.place) {
            // Opened the accessibility panel, which the model does not know.
            self.after_render(context);
            return;
        }
        if selected_in.as_ref() != Some(&context.place) {
            // Already announced where the control led.
            return;
        }
        let stops = stops_of(context);
        self.cursor = self.cursor.min(stops.len().saturating_sub(1));
        if let Some(stop) = stops.get(self.cursor) {
            self.then(context, &phrase(stop, context, true));
        }
    }

    /// The place's name, every text up to its first control past the title bar (the
    /// product's name and description, "Sauces, choose 1"), and that control; with the keys
    /// on the first words of a session. Returns the words and that control's index.
    fn announce(&self, context: &Context<'_>, first: bool) -> (String, usize) {
        let mut text = if first { self.help(context) } else { String::new() };
        let place: String = context.ui.global::<Words>().invoke_speech_place(context.place.name.into()).into();
        push(&mut text, &place);
        let stops = stops_of(context);
        let opening = stops.iter().position(|stop| !stop.in_banner).unwrap_or(0);
        // The screen's title, when it is the place's name, is said once.
        let leads: Vec<String> = stops
            .iter()
            .take(opening + 1)
            .flat_map(|stop| stop.lead.iter().cloned())
            .filter(|lead| *lead != place)
            .collect();
        push(&mut text, &join(&leads));
        if let Some(stop) = stops.get(opening) {
            push(&mut text, &phrase(stop, context, false));
        }
        (text, opening)
    }

    fn help(&self, context: &Context<'_>) -> String {
        let key = |action: KeypadAction| {
            self.key_names.iter().find(|(named, _)| *named == action).map(|(_, name)| name.clone()).unwrap_or_default()
        };
        context
            .ui
            .global::<Words>()
            .invoke_speech_keys(
                key(KeypadAction::Next).into(),
                key(KeypadAction::Previous).into(),
                key(KeypadAction::Select).into(),
                key(KeypadAction::Back).into(),
                key(KeypadAction::Repeat).into(),
                key(KeypadAction::Help).into(),
            )
            .into()
    }

    /// Says the live regions whose text changed, unless `said` just said them.
    fn say_live(&mut self, context: &Context<'_>, said: &str) {
        let now = live_texts(context);
        for text in &now {
            if !self.live.contains(text) && !said.contains(text.as_str()) {
                self.then(context, text);
            }
        }
        self.live = now;
    }

    fn stop(&self) {
        if let Some(speaker) = &self.speaker {
            speaker.stop();
        }
    }

    fn then(&self, context: &Context<'_>, text: &str) {
        self.utter(context, text, false);
    }

    /// Says `text` after what is being said; a `warning` opens with the warning tone.
    fn utter(&self, context: &Context<'_>, text: &str, warning: bool) {
        let text = context.said(text);
        if text.trim().is_empty() {
            return;
        }
        if let Some(speaker) = &self.speaker {
            let language = context.language.to_owned();
            let utterance = Utterance { text, language, rate: RATES[self.rate], volume: self.volume, warning };
            speaker.then(&utterance);
        }
    }
}

/// Appends `more` to `text` as a new sentence.
fn push(text: &mut String, more: &str) {
    append(text, more, ". ");
}

/// Appends `more` to `text` after `separator`, or after a space where `text` already ends a
/// sentence ("En menu ?" then "Menu Burger").
fn append(text: &mut String, more: &str, separator: &str) {
    if more.is_empty() {
        return;
    }
    if text.ends_with(['.', '?', '!', ':']) {
        text.push(' ');
    } else if !text.is_empty() {
        text.push_str(separator);
    }
    text.push_str(more);
}

/// Parts said one after the other, with a pause between.
fn join(parts: &[String]) -> String {
    let mut text = String::new();
    for part in parts {
        append(&mut text, part.trim(), ", ");
    }
    text
}

/// What a stop is said as: its lead (when moving onto it), its name and details, its role and
/// state, its position.
fn phrase(stop: &Stop, context: &Context<'_>, with_lead: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if with_lead {
        parts.extend(stop.lead.iter().cloned());
    }
    // A control whose own text says more than its name ("Add to order · 11,50 €") is said
    // by that text.
    let fuller = stop.details.iter().position(|detail| detail != &stop.label && detail.contains(stop.label.as_str()));
    let name = fuller.map_or_else(|| stop.label.clone(), |index| stop.details[index].clone());
    parts.push(name.clone());
    parts.extend(stop.details.iter().filter(|detail| **detail != name && !name.contains(detail.as_str())).cloned());
    match (stop.role, stop.checked) {
        (AccessibleRole::Checkbox | AccessibleRole::Switch | AccessibleRole::RadioButton, checked) => {
            parts.push(context.word(if checked == Some(true) { "selected" } else { "not-selected" }));
        }
        _ => parts.push(context.word("button")),
    }
    if !stop.enabled {
        parts.push(context.word("unavailable"));
    }
    if let Some((index, count)) = stop.position {
        parts.push(context.ui.global::<Words>().invoke_speech_position(index_int(index), index_int(count)).into());
    }
    join(&parts)
}

fn index_int(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Moving on from the control at `cursor` out of its list while the list has more out of
/// sight: scrolls the list by most of its length and returns the controls then on screen
/// with the first one come into sight (the last one, going back).
fn reveal(stops: &[Stop], cursor: usize, forward: bool, context: &Context<'_>) -> Option<(Vec<Stop>, usize)> {
    let current = stops.get(cursor)?;
    let list = current.list.as_ref()?;
    let same_list = |stop: &Stop| stop.list.as_ref().is_some_and(|other| same_place(other, list));
    let neighbour = if forward { stops.get(cursor + 1) } else { cursor.checked_sub(1).and_then(|at| stops.get(at)) };
    if neighbour.is_some_and(same_list) {
        return None;
    }
    // Two lines of one product share their controls' names, not the texts leading to them.
    let seen: Vec<(&str, &[String])> =
        stops.iter().filter(|stop| same_list(stop)).map(|stop| (stop.label.as_str(), stop.lead.as_slice())).collect();
    let (across, down) = page(list.size(), forward);
    list.scroll(across, down);
    let now = stops_of(context);
    let mut fresh = now
        .iter()
        .enumerate()
        .filter(|(_, stop)| same_list(stop) && !seen.contains(&(stop.label.as_str(), stop.lead.as_slice())))
        .map(|(at, _)| at);
    let found = if forward { fresh.next() } else { fresh.next_back() };
    found.map(|at| (now, at))
}

/// The scroll that moves a list of `size` by most of its width and height (a list moves only
/// the way it scrolls): a wheel turned towards the user moves the content up, so negative
/// deltas reveal what is below and to the right.
#[allow(clippy::float_arithmetic, reason = "lengths on screen")]
fn page(size: slint::LogicalSize, forward: bool) -> (f32, f32) {
    let sign = if forward { -0.8 } else { 0.8 };
    (size.width * sign, size.height * sign)
}

/// Whether an element at `position` of `size` is drawn inside `outer`.
#[allow(clippy::float_arithmetic, reason = "lengths on screen")]
fn inside(outer: &ElementHandle, position: slint::LogicalPosition, size: slint::LogicalSize) -> bool {
    let (corner, extent) = (outer.absolute_position(), outer.size());
    position.x >= corner.x
        && position.y >= corner.y
        && position.x + size.width <= corner.x + extent.width + 0.5
        && position.y + size.height <= corner.y + extent.height + 0.5
}

/// Scrolls every list of the place back to its start, where a new place is read from (a
/// combo's next step keeps the list scrolled where the last one was).
fn scroll_to_start(context: &Context<'_>) {
    for list in scope_of(context).query_descendants().match_accessible_role(AccessibleRole::List).find_all() {
        // A flickable stops at its start, however far the wheel turns.
        list.scroll(1.0e6, 1.0e6);
    }
}

/// Whether two elements are drawn in the same place (the same list, found again).
fn same_place(one: &ElementHandle, other: &ElementHandle) -> bool {
    one.absolute_position() == other.absolute_position() && one.size() == other.size()
}

/// Whether customers act on elements of this role.
fn is_control(role: AccessibleRole) -> bool {
    matches!(
        role,
        AccessibleRole::Button
            | AccessibleRole::Checkbox
            | AccessibleRole::Combobox
            | AccessibleRole::Slider
            | AccessibleRole::Spinbox
            | AccessibleRole::Tab
            | AccessibleRole::TextInput
            | AccessibleRole::Switch
            | AccessibleRole::ListItem
            | AccessibleRole::RadioButton
    )
}

/// The element a place is read from.
fn scope_of(context: &Context<'_>) -> ElementHandle {
    context
        .place
        .scope
        .and_then(|type_name| ElementHandle::find_by_element_type_name(context.ui, type_name).next())
        .unwrap_or_else(|| context.ui.root_element())
}

fn stops_of(context: &Context<'_>) -> Vec<Stop> {
    stops(&scope_of(context))
}

/// The controls under `scope`, in reading order, with the texts that lead into them and the
/// texts they draw.
pub fn stops(scope: &ElementHandle) -> Vec<Stop> {
    let mut found: Vec<Stop> = Vec::new();
    let mut lead: Vec<String> = Vec::new();
    // One item shows as several elements (a component and the element it is built on), one
    // after the other: only the first carries the accessibility properties.
    let mut last_item = None;
    let mut banners = Vec::new();
    let mut lists: Vec<ElementHandle> = Vec::new();
    for element in scope.query_descendants().find_all() {
        let Some(role) = element.accessible_role() else { continue };
        if role == AccessibleRole::None {
            continue;
        }
        let (position, size) = (element.absolute_position(), element.size());
        let within = |outer: &ElementHandle| inside(outer, position, size);
        if role == AccessibleRole::Banner {
            banners.push(element);
            continue;
        }
        if role == AccessibleRole::List {
            lists.push(element);
            continue;
        }
        let item = (role, position.x, position.y, size.width, size.height);
        if last_item == Some(item) {
            continue;
        }
        last_item = Some(item);
        let label = element.accessible_label().map(|label| label.trim().to_owned()).unwrap_or_default();
        if is_control(role) {
            let position = element.accessible_item_index().zip(element.accessible_item_count());
            found.push(Stop {
                lead: std::mem::take(&mut lead),
                label,
                details: Vec::new(),
                role,
                enabled: element.accessible_enabled().unwrap_or(true),
                checked: element.accessible_checked(),
                position: position.map(|(index, count)| (index + 1, count)),
                in_banner: banners.iter().any(within),
                list: lists.iter().rev().find(|list| within(list)).cloned(),
                element,
            });
            continue;
        }
        if !label.chars().any(char::is_alphanumeric) {
            continue;
        }
        let drawn_in = found.last_mut().filter(|stop| lead.is_empty() && within(&stop.element));
        match drawn_in {
            Some(stop) if !stop.details.contains(&label) && stop.label != label => stop.details.push(label),
            Some(_) => {}
            None if lead.last() != Some(&label) => lead.push(label),
            None => {}
        }
    }
    found
}

/// The texts of the live regions on screen.
fn live_texts(context: &Context<'_>) -> Vec<String> {
    context
        .ui
        .root_element()
        .query_descendants()
        .match_predicate(|element| element.accessible_live_region().is_some_and(|live| live != AccessibleLiveness::Off))
        .find_all()
        .into_iter()
        .filter_map(|element| element.accessible_label())
        .map(|label| label.trim().to_owned())
        .filter(|label| !label.is_empty())
        .collect()
}

/// A text as it reads: marks drawn for the eye ("✓ ", "‹ ", "…") left out, " · " a pause.
fn readable(text: &str) -> String {
    let bare = text.replace(" · ", ", ").replace(['✓', '‹', '…', '♿', '✕'], "");
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A key's name as the help says it: "KEY_KP6" is "6", "KEY_KPENTER" "enter".
fn key_name(name: &str) -> String {
    let bare = name.strip_prefix("KEY_").unwrap_or(name);
    let bare = bare.strip_prefix("KP").filter(|rest| !rest.is_empty()).unwrap_or(bare);
    match bare {
        "ASTERISK" => "*".into(),
        "PLUS" => "+".into(),
        "MINUS" => "-".into(),
        "SLASH" => "/".into(),
        "DOT" => ".".into(),
        other => other.to_lowercase().replace('_', " "),
    }
}

/// The controls of every place a walk visits that have no spoken name: each as its role and
/// where it is on screen.
pub fn unnamed_controls(ui: &KioskWindow) -> Vec<String> {
    stops(&ui.root_element())
        .into_iter()
        .filter(|stop| !stop.label.chars().any(char::is_alphanumeric))
        .map(|stop| {
            let (position, size) = (stop.element.absolute_position(), stop.element.size());
            format!("a {:?} at ({}, {}) of {}x{}", stop.role, position.x, position.y, size.width, size.height)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_as_they_are_printed() {
        assert_eq!(key_name("KEY_KP6"), "6");
        assert_eq!(key_name("KEY_KPENTER"), "enter");
        assert_eq!(key_name("KEY_KPASTERISK"), "*");
        assert_eq!(key_name("KEY_RIGHT"), "right");
        assert_eq!(key_name("KEY_VOLUMEUP"), "volumeup");
        assert_eq!(key_name("KEY_PAGE_DOWN"), "page down");
    }

    #[test]
    fn marks_for_the_eye_are_not_read() {
        assert_eq!(readable("✓ Béarnaise"), "Béarnaise");
        assert_eq!(readable("‹ Back"), "Back");
        assert_eq!(readable("Add to order · €11.50"), "Add to order, €11.50");
        assert_eq!(readable("Printing…"), "Printing");
    }
}
