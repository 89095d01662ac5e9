//! The screenshot mode: walks the customer flow on the demo menu and saves each screen as a
//! PNG, for every layout and language asked, without a display; a control without a spoken
//! name on any screen stops the walk.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use kiosk_protocol::Command;
use slint::ComponentHandle;

use crate::Kiosk;
use crate::headless::{Headless, wait_until};
use crate::model::Model;
use crate::ui::{
    CartAdapter, MenuAdapter, PayPhase, PaymentAdapter, ProductAdapter, Screen, Session, StaffAdapter, StaffTab,
};

/// A screen size the UI is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

impl Layout {
    /// The main layout (21.5-inch portrait), landscape, and an 800x1280 tablet.
    pub const ALL: [Layout; 3] = [
        Layout { name: "portrait", width: 1080, height: 1920 },
        Layout { name: "landscape", width: 1920, height: 1080 },
        Layout { name: "tablet", width: 800, height: 1280 },
    ];

    pub fn named(name: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|layout| layout.name == name)
    }
}

const PATIENCE: Duration = Duration::from_secs(10);

/// The manager account the screenshot mode signs in with (on its own scratch database).
pub const SCREENSHOT_MANAGER: &str = "Alex";
pub const SCREENSHOT_PIN: &str = "1234";

/// Renders every screen of an order for each layout and language into `out`; returns the
/// files written.
pub async fn render_screens(
    kiosk: &Kiosk,
    headless: &Headless,
    layouts: &[Layout],
    languages: &[String],
    out: &Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if !wait_until(PATIENCE, || kiosk.is_ready()).await {
        bail!("the menu did not load");
    }
    let ui = kiosk.window();
    let inner = &kiosk.inner;
    let mut written = Vec::new();
    for layout in layouts {
        headless.resize(layout.width, layout.height);
        for language in languages {
            // Every control of every screen walked has a spoken name (src/reader.rs).
            let mut shoot = |name: &str| -> anyhow::Result<()> {
                let unnamed = crate::reader::unnamed_controls(ui);
                if !unnamed.is_empty() {
                    bail!("{} {language} {name}: controls without a spoken name: {unnamed:?}", layout.name);
                }
                let path = out.join(format!("{}-{language}-{name}.png", layout.name));
                headless.snapshot().save_png(&path)?;
                written.push(path);
                Ok(())
            };
            inner.reset_to(language);
            shoot("attract")?;
            ui.global::<Session>().invoke_start(language.into());
            if ui.global::<Session>().get_screen() == Screen::OrderMode {
                shoot("mode")?;
                ui.global::<Session>().invoke_choose_mode(false);
            }
            shoot("menu")?;
            // A cinema's first film's first showing, or the first card.
            let menu = ui.global::<MenuAdapter>();
            let first_film = slint::Model::row_data(&menu.get_films(), 0);
            let first_showing = first_film.and_then(|film| slint::Model::row_data(&film.showings, 0)).map(|s| s.id);
            let first = first_showing.or_else(|| slint::Model::row_data(&menu.get_cards(), 0).map(|card| card.id));
            let Some(first) = first else { bail!("the menu shows no product") };
            menu.invoke_open_product(first);
            shoot("product")?;
            let product = ui.global::<ProductAdapter>();
            choose_everything(&product);
            product.invoke_add();
            if ui.global::<Session>().get_screen() == Screen::Upsell {
                shoot("upsell")?;
                ui.global::<crate::ui::UpsellAdapter>().invoke_decline();
            }
            if !wait_until(PATIENCE, || ui.global::<MenuAdapter>().get_cart_count() > 0).await {
                bail!("the cart was not quoted");
            }
            ui.global::<MenuAdapter>().invoke_view_cart();
            ui.global::<Session>().invoke_dismiss_notice();
            shoot("cart")?;
            let cart = ui.global::<CartAdapter>();
            cart.set_keyboard_open(true);
            for key in ["N", "O", "E", "L"] {
                cart.invoke_promo_key(key.into());
            }
            cart.invoke_apply_promo();
            let session = ui.global::<Session>();
            wait_until(PATIENCE, || session.get_notice() == crate::ui::Notice::PromoUnknown).await;
            wait_until(PATIENCE, || !cart.get_quoting()).await;
            shoot("promo")?;
            cart.set_keyboard_open(false);
            session.invoke_dismiss_notice();
            ui.global::<crate::ui::Theme>().set_high_contrast(true);
            shoot("cart-contrast")?;
            ui.global::<crate::ui::Theme>().set_high_contrast(false);
            session.invoke_start_again();
            shoot("clear-order")?;
            session.invoke_keep_order();
            // The terminal's other endings, drawn as previews over the cart (the demo
            // terminal approves); the screens are then drawn from the session again.
            let payment = ui.global::<PaymentAdapter>();
            payment.set_amount(ui.global::<CartAdapter>().get_total());
            payment.set_number("A042".into());
            for (phase, name) in
                [(PayPhase::Waiting, "payment"), (PayPhase::Declined, "declined"), (PayPhase::InDoubt, "in-doubt")]
            {
                payment.set_phase(phase);
                session.set_screen(Screen::Payment);
                shoot(name)?;
            }
            inner.redraw();
            ui.global::<CartAdapter>().invoke_pay_card();
            if !wait_until(PATIENCE, || ui.global::<Session>().get_screen() == Screen::Done).await {
                bail!("the demo payment did not finish");
            }
            wait_until(Duration::from_secs(2), || ui.global::<crate::ui::DoneAdapter>().get_has_qr()).await;
            shoot("done")?;
            inner.reset_to(language);
            for _ in 0..5 {
                ui.global::<Session>().invoke_staff_corner();
            }
            let staff = ui.global::<StaffAdapter>();
            wait_until(PATIENCE, || slint::Model::row_count(&staff.get_names()) > 0).await;
            shoot("staff-sign-in")?;
            staff.invoke_choose_name(SCREENSHOT_MANAGER.into());
            for digit in SCREENSHOT_PIN.chars() {
                staff.invoke_pin_key(digit.to_string().into());
            }
            staff.invoke_sign_in();
            if !wait_until(PATIENCE, || slint::Model::row_count(&staff.get_stock()) > 0).await {
                bail!("staff mode did not open");
            }
            shoot("staff-stock")?;
            staff.invoke_show(StaffTab::Orders);
            wait_until(PATIENCE, || slint::Model::row_count(&staff.get_orders()) > 0).await;
            shoot("staff-orders")?;
            staff.invoke_show(StaffTab::Reports);
            wait_until(PATIENCE, || staff.get_tab() == StaffTab::Reports).await;
            shoot("staff-reports")?;
            staff.invoke_leave();
            kiosk.handle(Command::OutOfService { reason: "screenshot walk".into() });
            shoot("out-of-service")?;
            kiosk.handle(Command::BackInService);
        }
    }
    inner.answer(Model::reset);
    Ok(written)
}

/// Picks the first choices of the product sheet until it can be added.
fn choose_everything(product: &crate::ui::ProductAdapter<'_>) {
    for _ in 0..10 {
        if product.get_missing().is_empty() {
            if product.get_combo() && product.get_step() + 1 < product.get_steps() {
                product.invoke_next_step();
                continue;
            }
            return;
        }
        if product.get_combo()
            && let Some(choice) = slint::Model::iter(&product.get_slot_choices()).find(|c| !c.sold_out)
        {
            product.invoke_choose_slot_item(choice.id);
        }
        for group in slint::Model::iter(&product.get_groups()) {
            let chosen = slint::Model::iter(&group.options).filter(|o| o.selected).count();
            if i32::try_from(chosen).unwrap_or(0) < group.min
                && let Some(option) = slint::Model::iter(&group.options).find(|o| !o.selected && o.available)
            {
                product.invoke_toggle_option(group.id.clone(), option.id);
            }
        }
    }
}
