//! The accessibility devices: a tactile keypad (a USB numeric or navigation keypad) and the
//! headphone jack, both read through `evdev`. The keypad is found like the barcode scanner and
//! grabbed, so its keys never type into anything else; the jack is the input device that
//! reports `SW_HEADPHONE_INSERT` (the sound card's), read without grabbing. A pure decoder
//! turns their events into [`AccessEvent`]s, which tests drive with synthetic events.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use evdev::{Device, EventSummary, InputEvent, KeyCode, SwitchCode};
use kiosk_core::config::{KeypadAction, KeypadKeys};
use tokio::sync::mpsc;

use crate::input::InputMatch;

/// What the customer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessEvent {
    Key(KeypadAction),
    /// Headphones went in (`true`) or came out.
    Headphones(bool),
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("[accessibility.keys] names {0}, which is not a Linux key name (see linux/input-event-codes.h)")]
    UnknownKey(String),
    #[error("no input device matches the keypad {0:?}")]
    NoKeypad(InputMatch),
    #[error("no input device reports a headphone jack (SW_HEADPHONE_INSERT)")]
    NoJack,
    #[error("cannot read {0}: {1}")]
    Device(String, std::io::Error),
}

/// Keypad key events and jack switch events in, [`AccessEvent`]s out.
#[derive(Clone, Debug)]
pub struct AccessDecoder {
    keys: HashMap<KeyCode, KeypadAction>,
}

impl AccessDecoder {
    /// The decoder for the configured keys; a name Linux does not know is refused.
    pub fn new(keys: &KeypadKeys) -> Result<AccessDecoder, AccessError> {
        let mut codes = HashMap::new();
        for (action, names) in keys.actions() {
            for name in names {
                let code = KeyCode::from_str(name).map_err(|_| AccessError::UnknownKey(name.clone()))?;
                codes.insert(code, action);
            }
        }
        Ok(AccessDecoder { keys: codes })
    }

    /// One event: a press of a configured key (not its release or auto-repeat, so a key held
    /// down moves once), or the jack's switch.
    pub fn event(&self, event: InputEvent) -> Option<AccessEvent> {
        match event.destructure() {
            EventSummary::Key(_, key, 1) => self.keys.get(&key).map(|action| AccessEvent::Key(*action)),
            EventSummary::Switch(_, SwitchCode::SW_HEADPHONE_INSERT, value) => {
                Some(AccessEvent::Headphones(value != 0))
            }
            _ => None,
        }
    }
}

/// How long a reader waits before looking again for a device that is missing or went away.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// Reads the keypad for as long as the kiosk runs: found and grabbed, read until it goes away,
/// looked for again every few seconds (a keypad is plugged in and out). Returns when nobody
/// listens any more.
pub async fn read_keypad(which: InputMatch, decoder: AccessDecoder, events: mpsc::Sender<AccessEvent>) {
    keep_reading(events, || {
        let (path, mut device) = which.find().ok_or_else(|| AccessError::NoKeypad(which.clone()))?;
        let name = path.display().to_string();
        device.grab().map_err(|error| AccessError::Device(name.clone(), error))?;
        Ok((name, device, decoder.clone()))
    })
    .await;
}

/// Reads the headphone jack for as long as the kiosk runs, starting with whether headphones
/// are in already.
pub async fn read_headphone_jack(events: mpsc::Sender<AccessEvent>) {
    keep_reading(events, || {
        let (path, device) = evdev::enumerate()
            .find(|(_, device)| {
                device.supported_switches().is_some_and(|switches| switches.contains(SwitchCode::SW_HEADPHONE_INSERT))
            })
            .ok_or(AccessError::NoJack)?;
        let name = path.display().to_string();
        Ok((name, device, AccessDecoder { keys: HashMap::new() }))
    })
    .await;
}

/// Opens a device with `open` and forwards what its decoder makes of its events, again and
/// again; a device missing is logged once until it comes back.
async fn keep_reading(
    events: mpsc::Sender<AccessEvent>,
    open: impl Fn() -> Result<(String, Device, AccessDecoder), AccessError>,
) {
    let mut missing_said = false;
    while !events.is_closed() {
        match open() {
            Ok((name, device, decoder)) => {
                log::info!("reading {name} ({})", device.name().unwrap_or("unnamed"));
                missing_said = false;
                if let Err(error) = forward(&name, device, &decoder, &events).await {
                    log::warn!("{error}");
                }
            }
            Err(error) if !missing_said => {
                log::info!("{error}; looking again every {} s", LOOK_AGAIN.as_secs());
                missing_said = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(LOOK_AGAIN).await;
    }
}

async fn forward(
    name: &str,
    device: Device,
    decoder: &AccessDecoder,
    events: &mpsc::Sender<AccessEvent>,
) -> Result<(), AccessError> {
    if device.supported_switches().is_some_and(|switches| switches.contains(SwitchCode::SW_HEADPHONE_INSERT)) {
        let switches = device.get_switch_state().map_err(|error| AccessError::Device(name.into(), error))?;
        let plugged = switches.contains(SwitchCode::SW_HEADPHONE_INSERT);
        if events.send(AccessEvent::Headphones(plugged)).await.is_err() {
            return Ok(());
        }
    }
    let mut stream = device.into_event_stream().map_err(|error| AccessError::Device(name.into(), error))?;
    loop {
        let event = stream.next_event().await.map_err(|error| AccessError::Device(name.into(), error))?;
        if let Some(access) = decoder.event(event)
            && events.send(access).await.is_err()
        {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use evdev::EventType;

    use super::*;

    fn key(code: KeyCode, value: i32) -> InputEvent {
        InputEvent::new(EventType::KEY.0, code.0, value)
    }

    fn jack(value: i32) -> InputEvent {
        InputEvent::new(EventType::SWITCH.0, SwitchCode::SW_HEADPHONE_INSERT.0, value)
    }

    #[test]
    fn keys_as_configured_and_the_jack() {
        let decoder = AccessDecoder::new(&KeypadKeys::default()).unwrap();
        assert_eq!(decoder.event(key(KeyCode::KEY_KP6, 1)), Some(AccessEvent::Key(KeypadAction::Next)));
        assert_eq!(decoder.event(key(KeyCode::KEY_KP6, 2)), None, "auto-repeat moves no further");
        assert_eq!(decoder.event(key(KeyCode::KEY_KP6, 0)), None, "nor does the release");
        assert_eq!(decoder.event(key(KeyCode::KEY_KPENTER, 1)), Some(AccessEvent::Key(KeypadAction::Select)));
        assert_eq!(decoder.event(key(KeyCode::KEY_A, 1)), None, "a key no action has");
        assert_eq!(decoder.event(jack(1)), Some(AccessEvent::Headphones(true)));
        assert_eq!(decoder.event(jack(0)), Some(AccessEvent::Headphones(false)));
        let other_switch = InputEvent::new(EventType::SWITCH.0, SwitchCode::SW_LID.0, 1);
        assert_eq!(decoder.event(other_switch), None);

        let keys = KeypadKeys { next: vec!["KEY_N".into()], ..KeypadKeys::default() };
        let decoder = AccessDecoder::new(&keys).unwrap();
        assert_eq!(decoder.event(key(KeyCode::KEY_N, 1)), Some(AccessEvent::Key(KeypadAction::Next)));
        assert_eq!(decoder.event(key(KeyCode::KEY_KP6, 1)), None, "the default key is replaced");
    }

    #[test]
    fn a_key_linux_does_not_know_is_refused() {
        let keys = KeypadKeys { help: vec!["KEY_HELLO".into()], ..KeypadKeys::default() };
        let refused = AccessDecoder::new(&keys).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "[accessibility.keys] names KEY_HELLO, which is not a Linux key name (see linux/input-event-codes.h)"
        );
    }
}
