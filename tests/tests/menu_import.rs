//! Importing menus: versions, the live stock kept across imports, and every kind of bad
//! file refused with the menu in use left exactly as it was.

use std::path::Path;

use kiosk_engine::EngineError;
use kiosk_tests::{DEMO_MENU, TestKiosk, workspace_path};

/// Copies the demo menu folder into `dir`, with `from` replaced by `to` in the menu file.
fn altered_demo(dir: &Path, from: &str, to: &str) -> std::path::PathBuf {
    let source = std::fs::read_to_string(workspace_path(DEMO_MENU)).unwrap();
    assert!(source.contains(from), "the demo menu has no {from:?}");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for image in std::fs::read_dir(workspace_path("menus/brasserie/images")).unwrap() {
        let image = image.unwrap();
        std::fs::copy(image.path(), images.join(image.file_name())).unwrap();
    }
    let path = dir.join("menu.toml");
    std::fs::write(&path, source.replacen(from, to, 1)).unwrap();
    path
}

#[tokio::test]
async fn imports_are_versioned_and_keep_live_stock() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    assert_eq!(kiosk.engine.active_menu().await.unwrap().version, 1);
    let again = kiosk.engine.import_menu(&workspace_path(DEMO_MENU)).await.unwrap();
    assert!(again.already_in_use);
    assert_eq!(again.version, 1);

    let cart = kiosk_core::cart::Cart::new(
        kiosk_core::menu::ConsumptionMode::TakeAway,
        vec![kiosk_core::cart::CartLine::item("salade-nicoise", 2)],
    );
    kiosk.engine.checkout(&cart).await.unwrap();
    let cheaper = altered_demo(&dir.path().join("v2"), "price = \"11.90\"", "price = \"10.90\"");
    let outcome = kiosk.engine.import_menu(&cheaper).await.unwrap();
    assert_eq!((outcome.version, outcome.already_in_use), (2, false));
    let menu = kiosk.engine.active_menu().await.unwrap();
    assert_eq!(menu.menu.item("salade-nicoise").unwrap().info.price.to_string(), "10.90");
    let salad = kiosk.engine.stock().await.unwrap().into_iter().find(|e| e.item.as_str() == "salade-nicoise").unwrap();
    assert_eq!(salad.level.on_hand, 13, "a new import keeps the live count");
    let image = kiosk.engine.menu_image("images/salade-nicoise.svg").await.unwrap().unwrap();
    assert!(String::from_utf8(image).unwrap().contains("<svg"));
}

#[tokio::test]
async fn a_bad_menu_is_refused_and_the_menu_in_use_stays() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let cases: Vec<(&str, &str, &str)> = vec![
        ("price = \"11.90\"", "price = \"-11.90\"", "item \"salade-nicoise\".price: \"-11.90\" is negative"),
        ("id = \"frites\"", "id = \"cola\"", "item \"cola\".id: is used twice"),
        (
            "{ item = \"frites\", default = true }",
            "{ item = \"potatoes\", default = true }",
            "combo \"menu-burger\".slot \"side\".choices: unknown item \"potatoes\"",
        ),
        ("min = 1\nmax = 1", "min = 2\nmax = 1", "modifier_group \"cuisson\".min: min 2 is larger than max 1"),
        ("tax = \"alcohol\"", "tax = \"spirits\"", "tax: unknown tax category \"spirits\""),
        (
            "image = \"images/cola.svg\"",
            "image = \"images/cola-zero.svg\"",
            "item \"cola\".image: file \"images/cola-zero.svg\" not found",
        ),
        ("[venue]", "[venue", "syntax:"),
    ];
    for (index, (from, to, expected)) in cases.into_iter().enumerate() {
        let path = altered_demo(&dir.path().join(format!("bad{index}")), from, to);
        let error = kiosk.engine.import_menu(&path).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, EngineError::Menu(_)), "{message}");
        assert!(message.starts_with(&format!("{}:", path.display())), "names the file: {message}");
        assert!(message.contains(expected), "{message}\nshould say: {expected}");
        let menu = kiosk.engine.active_menu().await.unwrap();
        assert_eq!(menu.version, 1, "the menu in use stays after {expected}");
    }
    let missing = kiosk.engine.import_menu(&dir.path().join("nowhere.toml")).await.unwrap_err();
    assert!(matches!(missing, EngineError::File { .. }), "{missing}");
}

#[tokio::test]
async fn an_image_linked_from_outside_the_menu_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let outside = dir.path().join("secret.svg");
    std::fs::write(&outside, "<svg/>").unwrap();
    let menu = altered_demo(&dir.path().join("linked"), "[venue]", "[venue]");
    let image = dir.path().join("linked/images/cola.svg");
    std::fs::remove_file(&image).unwrap();
    std::os::unix::fs::symlink(&outside, &image).unwrap();
    let error = kiosk.engine.import_menu(&menu).await.unwrap_err().to_string();
    assert!(error.contains("item \"cola\".image: file \"images/cola.svg\" not found"), "{error}");
    assert_eq!(kiosk.engine.active_menu().await.unwrap().version, 1);
}

#[tokio::test]
async fn an_oversized_menu_or_image_set_is_refused_before_it_grows_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let db = TestKiosk::db_path(dir.path());
    let size_before = std::fs::metadata(&db).unwrap().len();

    // A menu padded with comments past 5 MiB: refused, whatever the rest says.
    let padded =
        altered_demo(&dir.path().join("padded"), "[venue]", &format!("{}\n[venue]", "# pad\n".repeat(900_000)));
    let error = kiosk.engine.import_menu(&padded).await.unwrap_err();
    assert!(matches!(error, EngineError::File { .. }), "{error}");
    assert!(error.to_string().contains("larger than the 5 MiB allowed"), "{error}");

    // Images each under the 2 MiB limit, but together past 32 MiB.
    let heavy = altered_demo(&dir.path().join("heavy"), "[venue]", "[venue]");
    let mut images: Vec<_> =
        std::fs::read_dir(dir.path().join("heavy/images")).unwrap().map(|e| e.unwrap().path()).collect();
    images.sort();
    assert!(images.len() >= 18, "the demo menu has enough images for this test");
    let filler = format!("<svg xmlns=\"http://www.w3.org/2000/svg\"/><!--{}-->", "x".repeat(1_900_000));
    for image in &images[..18] {
        std::fs::write(image, &filler).unwrap();
    }
    let error = kiosk.engine.import_menu(&heavy).await.unwrap_err();
    assert!(matches!(error, EngineError::TooLarge { .. }), "{error}");
    assert!(error.to_string().contains("the menu's images together"), "{error}");

    assert_eq!(kiosk.engine.active_menu().await.unwrap().version, 1, "the menu in use stays");
    let size_after = std::fs::metadata(&db).unwrap().len();
    assert!(size_after < size_before + 1024 * 1024, "the database did not grow: {size_before} -> {size_after}");
}
