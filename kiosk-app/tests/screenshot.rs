//! The agent's screenshot of the screen as it is, drawn by the software renderer without a
//! display: the same pixels as the screen, but for text that could be card data.

mod common;

use common::{PATIENCE, Till, fixture};
use kiosk_app::headless::{Frame, Headless, wait_until};
use kiosk_app::{CartAdapter, MenuAdapter, ProductAdapter, Screen, Session, UpsellAdapter};
use kiosk_protocol::{Answer, Command};
use slint::ComponentHandle;

/// The agent's screenshot, decoded, and whether it shows the same pixels as the screen.
fn same_as_screen(png: &[u8], screen: &Frame) -> bool {
    let shot = image::load_from_memory(png).expect("a PNG").into_rgb8();
    assert_eq!((shot.width(), shot.height()), (screen.width, screen.height), "the whole screen");
    shot.pixels().zip(&screen.pixels).all(|(shot, drawn)| shot.0 == [drawn.r, drawn.g, drawn.b])
}

#[test]
fn a_screenshot_masks_what_could_be_card_data() {
    let headless = Headless::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::rc::Rc::new(fixture(dir.path(), "menus/brasserie/menu.toml", Till::StandIn));
    headless
        .run({
            let headless = headless.clone();
            async move {
                let kiosk = &fixture.kiosk;
                let ui = kiosk.window();
                assert!(wait_until(PATIENCE, || kiosk.is_ready()).await, "the menu never loaded");
                ui.global::<Session>().invoke_start("en".into());
                ui.global::<Session>().invoke_choose_mode(false);
                ui.global::<MenuAdapter>().invoke_open_product("jambon-beurre".into());
                ui.global::<ProductAdapter>().invoke_add();
                ui.global::<UpsellAdapter>().invoke_decline();
                let cart = ui.global::<CartAdapter>();
                assert!(wait_until(PATIENCE, || ui.global::<MenuAdapter>().get_cart_count() > 0).await);
                ui.global::<MenuAdapter>().invoke_view_cart();
                ui.global::<Session>().invoke_dismiss_notice();
                assert_eq!(ui.global::<Session>().get_screen(), Screen::Cart);
                cart.set_keyboard_open(true);
                let shot = || match kiosk.handle(Command::Screenshot) {
                    Answer::Screenshot { png } => png,
                    other => panic!("a screenshot, not {other:?}"),
                };
                // An honest promo code: the screenshot is the screen.
                for key in ["N", "O", "E", "L"] {
                    cart.invoke_promo_key(key.into());
                }
                assert!(same_as_screen(&shot(), &headless.snapshot()), "nothing to mask");
                // A card number typed in the code's field is masked; the screen keeps it.
                for _ in 0..4 {
                    cart.invoke_promo_key("⌫".into());
                }
                for key in "4111111111111111".chars() {
                    cart.invoke_promo_key(key.to_string().into());
                }
                assert!(!same_as_screen(&shot(), &headless.snapshot()), "the number is masked");
                assert_eq!(cart.get_promo_entry(), "4111111111111111", "and the screen drawn as it was");
            }
        })
        .unwrap();
}
