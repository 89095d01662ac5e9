//! Barcode and QR scanners in keyboard-wedge mode: the scanner types its code as key
//! presses. The reader finds it by name or VID:PID with `evdev`, grabs it so that scans never
//! type into anything else, and turns key events into text the way the host layout the
//! scanner is set up for (US QWERTY or French AZERTY) would. A scan ends on Enter or after a
//! pause; garbage, partial and over-long scans are dropped with a log line.

use std::time::Duration;

use evdev::{EventSummary, KeyCode};
use tokio::sync::mpsc;

use crate::input::InputMatch;

/// The keyboard layout the scanner is configured to type for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    UsQwerty,
    FrenchAzerty,
}

/// The character a key makes, positionally (Linux key codes name QWERTY positions).
fn key_char(key: KeyCode, shift: bool, layout: Layout) -> Option<char> {
    use KeyCode as K;
    let pick = |plain: char, shifted: char| Some(if shift { shifted } else { plain });
    let letter = |c: char| pick(c, c.to_ascii_uppercase());
    let azerty = layout == Layout::FrenchAzerty;
    match key {
        K::KEY_Q if azerty => letter('a'),
        K::KEY_W if azerty => letter('z'),
        K::KEY_A if azerty => letter('q'),
        K::KEY_Z if azerty => letter('w'),
        K::KEY_SEMICOLON if azerty => letter('m'),
        K::KEY_M if azerty => pick(',', '?'),
        K::KEY_COMMA if azerty => pick(';', '.'),
        K::KEY_DOT if azerty => pick(':', '/'),
        K::KEY_SLASH if azerty => pick('!', '§'),
        K::KEY_MINUS if azerty => pick(')', '°'),
        K::KEY_EQUAL => pick('=', '+'),
        K::KEY_APOSTROPHE if azerty => pick('ù', '%'),
        K::KEY_1 if azerty => pick('&', '1'),
        K::KEY_2 if azerty => pick('é', '2'),
        K::KEY_3 if azerty => pick('"', '3'),
        K::KEY_4 if azerty => pick('\'', '4'),
        K::KEY_5 if azerty => pick('(', '5'),
        K::KEY_6 if azerty => pick('-', '6'),
        K::KEY_7 if azerty => pick('è', '7'),
        K::KEY_8 if azerty => pick('_', '8'),
        K::KEY_9 if azerty => pick('ç', '9'),
        K::KEY_0 if azerty => pick('à', '0'),
        K::KEY_1 => pick('1', '!'),
        K::KEY_2 => pick('2', '@'),
        K::KEY_3 => pick('3', '#'),
        K::KEY_4 => pick('4', '$'),
        K::KEY_5 => pick('5', '%'),
        K::KEY_6 => pick('6', '^'),
        K::KEY_7 => pick('7', '&'),
        K::KEY_8 => pick('8', '*'),
        K::KEY_9 => pick('9', '('),
        K::KEY_0 => pick('0', ')'),
        K::KEY_MINUS => pick('-', '_'),
        K::KEY_SEMICOLON => pick(';', ':'),
        K::KEY_APOSTROPHE => pick('\'', '"'),
        K::KEY_COMMA => pick(',', '<'),
        K::KEY_DOT => pick('.', '>'),
        K::KEY_SLASH => pick('/', '?'),
        K::KEY_SPACE => pick(' ', ' '),
        _ => {
            const LETTERS: [(KeyCode, char); 26] = [
                (K::KEY_A, 'a'),
                (K::KEY_B, 'b'),
                (K::KEY_C, 'c'),
                (K::KEY_D, 'd'),
                (K::KEY_E, 'e'),
                (K::KEY_F, 'f'),
                (K::KEY_G, 'g'),
                (K::KEY_H, 'h'),
                (K::KEY_I, 'i'),
                (K::KEY_J, 'j'),
                (K::KEY_K, 'k'),
                (K::KEY_L, 'l'),
                (K::KEY_M, 'm'),
                (K::KEY_N, 'n'),
                (K::KEY_O, 'o'),
                (K::KEY_P, 'p'),
                (K::KEY_Q, 'q'),
                (K::KEY_R, 'r'),
                (K::KEY_S, 's'),
                (K::KEY_T, 't'),
                (K::KEY_U, 'u'),
                (K::KEY_V, 'v'),
                (K::KEY_W, 'w'),
                (K::KEY_X, 'x'),
                (K::KEY_Y, 'y'),
                (K::KEY_Z, 'z'),
            ];
            LETTERS.iter().find(|(code, _)| *code == key).and_then(|&(_, c)| letter(c))
        }
    }
}

/// Limits of a scan.
#[derive(Clone, Copy, Debug)]
pub struct ScanRules {
    pub min_len: usize,
    pub max_len: usize,
    /// A pause this long ends a scan.
    pub pause: Duration,
    /// The scanner ends every scan with Enter: a scan a pause ended is a fragment, dropped.
    pub ends_with_enter: bool,
}

impl Default for ScanRules {
    fn default() -> Self {
        ScanRules { min_len: 3, max_len: 256, pause: Duration::from_millis(80), ends_with_enter: true }
    }
}

/// Why a scan was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// A key that makes no character in the layout.
    Garbage(u16),
    TooShort(String),
    TooLong(usize),
    /// A pause came before Enter.
    Partial(String),
}

/// Key events in, scans out.
#[derive(Debug)]
pub struct ScanDecoder {
    layout: Layout,
    rules: ScanRules,
    shift: bool,
    text: String,
    garbage: Option<u16>,
}

impl ScanDecoder {
    pub fn new(layout: Layout, rules: ScanRules) -> ScanDecoder {
        ScanDecoder { layout, rules, shift: false, text: String::new(), garbage: None }
    }

    /// Feeds one key event (value 1 pressed, 0 released, 2 repeated); returns a finished scan
    /// on Enter.
    pub fn key(&mut self, key: KeyCode, value: i32) -> Option<Result<String, Dropped>> {
        if matches!(key, KeyCode::KEY_LEFTSHIFT | KeyCode::KEY_RIGHTSHIFT) {
            self.shift = value != 0;
            return None;
        }
        if value != 1 {
            return None;
        }
        if matches!(key, KeyCode::KEY_ENTER | KeyCode::KEY_KPENTER) {
            return self.finish();
        }
        match key_char(key, self.shift, self.layout) {
            Some(c) => self.text.push(c),
            None => {
                self.garbage.get_or_insert(key.code());
            }
        }
        None
    }

    /// A pause: ends the scan in progress, a fragment when the scanner ends scans with Enter.
    pub fn pause(&mut self) -> Option<Result<String, Dropped>> {
        match self.finish()? {
            Ok(text) if self.rules.ends_with_enter => Some(Err(Dropped::Partial(text))),
            other => Some(other),
        }
    }

    /// Ends the scan in progress (Enter); `None` when nothing was typed.
    pub fn finish(&mut self) -> Option<Result<String, Dropped>> {
        let text = std::mem::take(&mut self.text);
        let garbage = self.garbage.take();
        self.shift = false;
        if text.is_empty() && garbage.is_none() {
            return None;
        }
        let length = text.chars().count();
        Some(match garbage {
            Some(code) => Err(Dropped::Garbage(code)),
            None if length > self.rules.max_len => Err(Dropped::TooLong(length)),
            None if length < self.rules.min_len => Err(Dropped::TooShort(text)),
            None => Ok(text),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    #[error("no input device matches {0:?}")]
    NotFound(InputMatch),
    #[error("cannot take the scanner {0} for the kiosk alone: {1}")]
    Grab(String, std::io::Error),
}

/// Finds the scanner, grabs it and sends every good scan to `scans` until the device goes
/// away. Dropped scans are logged.
pub async fn read_scans(
    which: &InputMatch,
    layout: Layout,
    rules: ScanRules,
    scans: mpsc::Sender<String>,
) -> Result<(), ScannerError> {
    let (path, mut device) = which.find().ok_or_else(|| ScannerError::NotFound(which.clone()))?;
    let name = path.display().to_string();
    device.grab().map_err(|e| ScannerError::Grab(name.clone(), e))?;
    let mut events = device.into_event_stream().map_err(|e| ScannerError::Grab(name.clone(), e))?;
    let mut decoder = ScanDecoder::new(layout, rules);
    loop {
        let scan = match tokio::time::timeout(rules.pause, events.next_event()).await {
            Err(_) => decoder.pause(),
            Ok(Err(error)) => {
                log::warn!("scanner {name} went away: {error}");
                return Ok(());
            }
            Ok(Ok(event)) => match event.destructure() {
                EventSummary::Key(_, key, value) => decoder.key(key, value),
                _ => None,
            },
        };
        let text = match scan {
            Some(Ok(text)) => text,
            Some(Err(dropped)) => {
                log::warn!("scanner {name}: scan dropped: {dropped:?}");
                continue;
            }
            None => continue,
        };
        if scans.send(text).await.is_err() {
            // Nobody listens any more: the kiosk is closing.
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key presses (with shift) a scanner sends to type `keys`, then Enter.
    fn typed(decoder: &mut ScanDecoder, keys: &[(KeyCode, bool)]) -> Option<Result<String, Dropped>> {
        for &(key, shift) in keys {
            if shift {
                decoder.key(KeyCode::KEY_LEFTSHIFT, 1);
            }
            assert_eq!(decoder.key(key, 1), None);
            decoder.key(key, 0);
            if shift {
                decoder.key(KeyCode::KEY_LEFTSHIFT, 0);
            }
        }
        decoder.key(KeyCode::KEY_ENTER, 1)
    }

    use KeyCode as K;

    #[test]
    fn a_promo_code_on_qwerty() {
        let mut decoder = ScanDecoder::new(Layout::UsQwerty, ScanRules::default());
        let keys = [
            (K::KEY_D, true),
            (K::KEY_E, true),
            (K::KEY_S, true),
            (K::KEY_S, true),
            (K::KEY_MINUS, false),
            (K::KEY_2, false),
        ];
        assert_eq!(typed(&mut decoder, &keys), Some(Ok("DESS-2".into())));
    }

    #[test]
    fn the_same_badge_on_azerty() {
        // "BADGE-0042" typed for an AZERTY host: digits need shift, '-' is the 6 key, 'a' is Q.
        let mut decoder = ScanDecoder::new(Layout::FrenchAzerty, ScanRules::default());
        let keys = [
            (K::KEY_B, true),
            (K::KEY_Q, true),
            (K::KEY_D, true),
            (K::KEY_G, true),
            (K::KEY_E, true),
            (K::KEY_6, false),
            (K::KEY_0, true),
            (K::KEY_0, true),
            (K::KEY_4, true),
            (K::KEY_2, true),
        ];
        assert_eq!(typed(&mut decoder, &keys), Some(Ok("BADGE-0042".into())));
        // The same key presses read as QWERTY would be wrong: the layout matters.
        let mut qwerty = ScanDecoder::new(Layout::UsQwerty, ScanRules::default());
        assert_eq!(typed(&mut qwerty, &keys), Some(Ok("BQDGE6))$@".into())));
    }

    #[test]
    fn garbage_short_and_long_scans_are_dropped() {
        let rules = ScanRules { max_len: 5, ..ScanRules::default() };
        let mut decoder = ScanDecoder::new(Layout::UsQwerty, rules);
        assert_eq!(
            typed(&mut decoder, &[(K::KEY_A, false), (K::KEY_F1, false), (K::KEY_B, false)]),
            Some(Err(Dropped::Garbage(59)))
        );
        assert_eq!(typed(&mut decoder, &[(K::KEY_A, false)]), Some(Err(Dropped::TooShort("a".into()))));
        let long = [(K::KEY_A, false); 6];
        assert_eq!(typed(&mut decoder, &long), Some(Err(Dropped::TooLong(6))));
        // After all that, a good scan still reads.
        assert_eq!(
            typed(&mut decoder, &[(K::KEY_1, false), (K::KEY_2, false), (K::KEY_3, false)]),
            Some(Ok("123".into()))
        );
        assert_eq!(decoder.key(K::KEY_ENTER, 1), None, "Enter alone is no scan");
    }

    #[test]
    fn a_pause_ends_a_scan_without_enter_or_cuts_a_fragment() {
        let without_enter = ScanRules { ends_with_enter: false, ..ScanRules::default() };
        let mut decoder = ScanDecoder::new(Layout::UsQwerty, without_enter);
        for key in [K::KEY_4, K::KEY_2, K::KEY_7] {
            decoder.key(key, 1);
            decoder.key(key, 0);
        }
        assert_eq!(decoder.pause(), Some(Ok("427".into())));
        assert_eq!(decoder.pause(), None);
        let mut decoder = ScanDecoder::new(Layout::UsQwerty, ScanRules::default());
        for key in [K::KEY_4, K::KEY_2, K::KEY_7] {
            decoder.key(key, 1);
        }
        assert_eq!(decoder.pause(), Some(Err(Dropped::Partial("427".into()))));
    }

    #[tokio::test]
    async fn a_real_scanner_when_there_is_one() {
        let (sender, _scans) = mpsc::channel(1);
        let which = InputMatch::Name("Barcode".into());
        let reading = read_scans(&which, Layout::UsQwerty, ScanRules::default(), sender);
        match tokio::time::timeout(Duration::from_secs(1), reading).await {
            Ok(Err(ScannerError::NotFound(_))) => {
                println!("skipped: no input device named like a barcode scanner on this machine");
            }
            Ok(other) => panic!("the scanner could not be read: {other:?}"),
            Err(_) => println!("a scanner was found, grabbed and read for a second"),
        }
    }
}
