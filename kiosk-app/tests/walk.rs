//! The screenshot walk through every screen, customer and staff, in both languages of the
//! demo menu: it stops on any control without a spoken name, which a customer listening
//! through the headphones could not tell from another (`kiosk_app::unnamed_controls`).

mod common;

use common::{Till, fixture};
use kiosk_app::headless::Headless;
use kiosk_app::{Layout, SCREENSHOT_MANAGER, SCREENSHOT_PIN, render_screens};
use kiosk_engine::Actor;
use kiosk_engine::kiosk_core::staff::{Pin, Role};

#[test]
fn every_control_of_every_screen_has_a_spoken_name() {
    let headless = Headless::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path(), "menus/brasserie/menu.toml", Till::StandIn);
    let pin = Pin::parse(SCREENSHOT_PIN).unwrap();
    fixture.engine(fixture.engine.add_staff(&Actor::Admin, SCREENSHOT_MANAGER, Role::Manager, &pin, None)).unwrap();
    let shots = dir.path().join("shots");
    let walked = headless
        .run({
            let headless = headless.clone();
            let shots = shots.clone();
            async move {
                let languages = ["fr".to_owned(), "en".to_owned()];
                render_screens(&fixture.kiosk, &headless, &[Layout::ALL[0]], &languages, &shots).await
            }
        })
        .unwrap();
    let written = walked.unwrap_or_else(|error| panic!("{error:#}"));
    assert!(written.len() >= 30, "every screen in both languages: {written:?}");
}
