//! Every colour pair the screens draw one on another, in the normal and the high contrast
//! mode, meets WCAG's contrast: 4.5:1 for text (1.4.3), 3:1 for the outline of a control
//! (1.4.11). The colours are read from the running theme (`ui/theme.slint`), and no screen
//! may use a colour of its own, so that this list stays the whole of them.

#![allow(clippy::float_arithmetic, reason = "luminance and contrast ratios")]

use kiosk_app::headless::Headless;
use kiosk_app::{KioskWindow, Theme};
use slint::{Color, ComponentHandle};

/// Text and what it is drawn on.
const TEXT: f64 = 4.5;
/// The outline or fill that shows where a control is.
const CONTROL: f64 = 3.0;

/// WCAG's relative luminance of an sRGB colour.
fn luminance(color: Color) -> f64 {
    let linear = |channel: u8| {
        let value = f64::from(channel) / 255.0;
        if value <= 0.040_45 { value / 12.92 } else { ((value + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * linear(color.red()) + 0.7152 * linear(color.green()) + 0.0722 * linear(color.blue())
}

/// WCAG's contrast ratio, 1 to 21.
fn contrast(one: Color, other: Color) -> f64 {
    let (a, b) = (luminance(one), luminance(other));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// What is drawn on what, where, and the least contrast it needs. Disabled controls and sold
/// out cards (`disabled`) are left out: WCAG exempts inactive components.
fn pairs(theme: &Theme<'_>) -> Vec<(&'static str, Color, Color, f64)> {
    let text_on = |name, fg, bg| (name, fg, bg, TEXT);
    let control_on = |name, fg, bg| (name, fg, bg, CONTROL);
    vec![
        text_on("text on the background", theme.get_text(), theme.get_background()),
        text_on("text on a card or sheet", theme.get_text(), theme.get_surface()),
        text_on("a selected choice's text", theme.get_chosen_text(), theme.get_chosen()),
        text_on("muted text (details, prices in a chip) on the background", theme.get_muted(), theme.get_background()),
        text_on("muted text on a card", theme.get_muted(), theme.get_surface()),
        text_on("accent text (prices, steps) on the background", theme.get_accent(), theme.get_background()),
        text_on("accent text on a card", theme.get_accent(), theme.get_surface()),
        text_on("a primary button's label", theme.get_accent_text(), theme.get_accent()),
        text_on("a danger button's label", theme.get_accent_text(), theme.get_danger()),
        text_on("success text (badges, a discount) on a card", theme.get_success(), theme.get_surface()),
        text_on("success text on the background", theme.get_success(), theme.get_background()),
        text_on("warning text (low stock) on the background", theme.get_warning(), theme.get_background()),
        text_on("warning text on a card", theme.get_warning(), theme.get_surface()),
        text_on("danger text (a decline) on the background", theme.get_danger(), theme.get_background()),
        text_on("danger text on a card", theme.get_danger(), theme.get_surface()),
        text_on("a notice on success", theme.get_notice_text(), theme.get_success()),
        text_on("a notice on warning", theme.get_notice_text(), theme.get_warning()),
        text_on("the attract screen's name", theme.get_dark_text(), theme.get_dark()),
        text_on("the attract screen's line", theme.get_dark_detail(), theme.get_dark()),
        text_on("the training band", theme.get_alarm_text(), theme.get_alarm()),
        control_on("a control's outline on a card", theme.get_border(), theme.get_surface()),
        control_on("a control's outline on the background", theme.get_border(), theme.get_background()),
        // A selected choice shows by this outline against what is around it (and its ✓).
        control_on("a button's or selected choice's accent outline on a card", theme.get_accent(), theme.get_surface()),
        control_on("an accent outline on the background", theme.get_accent(), theme.get_background()),
        control_on("a danger outline on a card", theme.get_danger(), theme.get_surface()),
    ]
}

#[test]
fn the_contrast_check_measures_as_wcag_does() {
    let (black, white) = (Color::from_rgb_u8(0, 0, 0), Color::from_rgb_u8(255, 255, 255));
    assert!((contrast(black, white) - 21.0).abs() < 1e-9);
    assert!((contrast(white, white) - 1.0).abs() < 1e-9);
    // #777777 on white is the well-known near miss: 4.48:1.
    let grey = Color::from_rgb_u8(0x77, 0x77, 0x77);
    assert!((contrast(grey, white) - 4.48).abs() < 0.01, "{}", contrast(grey, white));
    // High contrast's old notices: white on yellow, 1.07:1.
    assert!(contrast(white, Color::from_rgb_u8(255, 255, 0)) < 1.1);
}

#[test]
fn every_pair_meets_its_contrast_in_both_modes() {
    let _headless = Headless::install().unwrap();
    let window = KioskWindow::new().unwrap();
    let theme = window.global::<Theme>();
    let mut faults = Vec::new();
    for high_contrast in [false, true] {
        theme.set_high_contrast(high_contrast);
        for (what, fg, bg, least) in pairs(&theme) {
            let ratio = contrast(fg, bg);
            if ratio < least {
                faults.push(format!(
                    "{}: {what}: {ratio:.2}:1, under {least}:1 ({fg:?} on {bg:?})",
                    if high_contrast { "high contrast" } else { "normal" }
                ));
            }
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
}

#[test]
fn no_screen_uses_a_colour_of_its_own() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let mut own = Vec::new();
    for entry in std::fs::read_dir(&ui).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "slint") || path.ends_with("theme.slint") {
            continue;
        }
        for (number, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let hex = line.split('#').skip(1).any(|after| {
                let digits = after.chars().take_while(char::is_ascii_hexdigit).count();
                matches!(digits, 3 | 4 | 6 | 8)
            });
            if hex && !line.trim_start().starts_with("//") {
                own.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(own.is_empty(), "colours outside ui/theme.slint, which the contrast check cannot see: {own:#?}");
}
