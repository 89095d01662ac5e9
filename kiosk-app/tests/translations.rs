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
