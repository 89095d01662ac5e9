//! Every string the UI marks for translation has its French translation bundled.

use std::collections::BTreeSet;
use std::path::Path;

fn ui_folder() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

/// The first string of each `@tr("...")` in the .slint files.
fn marked_strings() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(ui_folder()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "slint") {
            let source = std::fs::read_to_string(&path).unwrap();
            for piece in source.split("@tr(\"").skip(1) {
                let end = piece.find("\"").expect("a closed string");
                found.insert(piece[..end].to_owned());
            }
        }
    }
    found
}

/// msgid -> first msgstr of the French catalogue.
fn french() -> std::collections::BTreeMap<String, String> {
    let catalogue = std::fs::read_to_string(ui_folder().join("translations/fr/LC_MESSAGES/kiosk-app.po")).unwrap();
    let unquote = |line: &str| line.split_once(' ').map(|(_, q)| q.trim_matches('"').replace("\\\"", "\"")).unwrap();
    let mut pairs = std::collections::BTreeMap::new();
    let mut id = None;
    for line in catalogue.lines() {
        if line.starts_with("msgid ") {
            id = Some(unquote(line));
        } else if (line.starts_with("msgstr ") || line.starts_with("msgstr[0] "))
            && let Some(id) = id.take()
        {
            pairs.insert(id, unquote(line));
        }
    }
    pairs
}

#[test]
fn every_marked_string_has_a_french_translation() {
    let french = french();
    let missing: Vec<_> = marked_strings().into_iter().filter(|s| french.get(s).is_none_or(|t| t.is_empty())).collect();
    assert!(missing.is_empty(), "strings without a French translation in ui/translations: {missing:#?}");
    assert_eq!(french["Touch to order"], "Touchez pour commander");
}

/// Where `text` breaks French typography: an ordinary space (or none) before ":", "?", "!"
/// or ";" where a non-breaking one belongs (so the mark never starts a line), a plural
/// written "(s)", or a time written "14h00" where the kiosk writes "14:00".
fn typography_faults(text: &str) -> Vec<String> {
    let mut faults = Vec::new();
    let characters: Vec<char> = text.chars().collect();
    for (at, mark) in characters.iter().enumerate() {
        let before = at.checked_sub(1).map(|at| characters[at]);
        // A colon after a digit is a time ("14:00").
        let in_time = *mark == ':' && before.is_some_and(|c| c.is_ascii_digit());
        if [':', '?', '!', ';'].contains(mark) && !in_time && !matches!(before, Some('\u{a0}' | '\u{202f}')) {
            faults.push(format!("{mark:?} without a non-breaking space before it"));
        }
    }
    if text.contains("(s)") {
        faults.push("a plural written \"(s)\"".into());
    }
    let hour_marks = characters.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == 'h' && w[2].is_ascii_digit());
    if hour_marks {
        faults.push("a time written with \"h\"".into());
    }
    faults
}

#[test]
fn french_follows_french_typography() {
    let catalogue = std::fs::read_to_string(ui_folder().join("translations/fr/LC_MESSAGES/kiosk-app.po")).unwrap();
    let translations = catalogue
        .lines()
        .filter(|line| line.starts_with("msgstr"))
        .filter_map(|line| line.split_once(' ').map(|(_, quoted)| quoted.trim_matches('"').to_owned()));
    let demo_menus = ["brasserie", "cinema"].into_iter().flat_map(|menu| {
        let path = ui_folder().join(format!("../menus/{menu}/menu.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        text.split("fr = \"")
            .skip(1)
            .map(|piece| piece.split('"').next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    });
    let faults: Vec<(String, Vec<String>)> = translations
        .chain(demo_menus)
        .map(|text| {
            let faults = typography_faults(&text);
            (text, faults)
        })
        .filter(|(_, faults)| !faults.is_empty())
        .collect();
    assert!(faults.is_empty(), "French texts against French typography: {faults:#?}");
}

#[test]
fn the_typography_check_sees_each_fault() {
    assert!(typography_faults("Êtes-vous là\u{a0}? Étape 1\u{a0}: 14:00").is_empty());
    assert_eq!(typography_faults("Vraiment ?").len(), 1, "an ordinary space");
    assert_eq!(typography_faults("Attention!").len(), 1, "no space at all");
    assert_eq!(typography_faults("2 article(s)"), ["a plural written \"(s)\""]);
    assert_eq!(typography_faults("Séance de 14h00"), ["a time written with \"h\""]);
}
