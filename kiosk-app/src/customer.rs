//! The customer screens' callbacks, each turned into the model's intent.

use std::rc::Rc;

use slint::ComponentHandle;

use crate::kiosk::Inner;
use crate::model::SheetEdit;
use crate::ui::{CartAdapter, DoneAdapter, MenuAdapter, PaymentAdapter, ProductAdapter, Session, UpsellAdapter};

/// Wires a callback to an intent of the model without keeping the kiosk alive.
macro_rules! on {
    ($inner:expr, $adapter:ty, $callback:ident, |$model:ident, $now:ident $(, $arg:ident)*| $body:expr) => {{
        let weak = std::rc::Rc::downgrade($inner);
        $inner.ui.global::<$adapter>().$callback(move |$($arg),*| {
            if let Some(kiosk) = weak.upgrade() {
                #[allow(unused_variables, reason = "not every intent reads the time")]
                kiosk.intent(|$model, $now| $body);
            }
        });
    }};
}
pub(crate) use on;

/// A count from the screen, never below zero.
fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

pub fn connect(inner: &Rc<Inner>) {
    on!(inner, Session, on_start, |m, now, language| m.start(&language, now));
    on!(inner, Session, on_choose_language, |m, now, language| {
        m.choose_language(&language);
        Vec::new()
    });
    on!(inner, Session, on_choose_mode, |m, now, take_away| m.choose_mode(take_away, now));
    on!(inner, Session, on_still_here, |m, now| Vec::new());
    on!(inner, Session, on_abandon, |m, now| m.abandon(now));
    on!(inner, Session, on_start_again, |m, now| m.start_again(now));
    on!(inner, Session, on_keep_order, |m, now| {
        m.keep_order();
        Vec::new()
    });
    on!(inner, Session, on_dismiss_notice, |m, now| {
        m.dismiss_notice();
        Vec::new()
    });
    on!(inner, Session, on_scanned, |m, now, code| m.scan(code.into()));
    on!(inner, Session, on_staff_corner, |m, now| m.staff_corner(now));

    on!(inner, MenuAdapter, on_choose_category, |m, now, index| {
        m.choose_category(usize::try_from(index).unwrap_or(0));
        Vec::new()
    });
    on!(inner, MenuAdapter, on_choose_day, |m, now, day| {
        m.choose_day(&day);
        Vec::new()
    });
    on!(inner, MenuAdapter, on_open_product, |m, now, id| m.open_product(&id, false, now));
    on!(inner, MenuAdapter, on_add_one, |m, now, id| m.add_one(&id, now));
    on!(inner, MenuAdapter, on_remove_one, |m, now, id| m.remove_one(&id));
    on!(inner, MenuAdapter, on_view_cart, |m, now| {
        m.view_cart(now);
        Vec::new()
    });

    on!(inner, ProductAdapter, on_toggle_option, |m, now, group, option| {
        m.edit_sheet(SheetEdit::Toggle { group: group.into(), option: option.into() })
    });
    on!(inner, ProductAdapter, on_choose_slot_item, |m, now, item| m.edit_sheet(SheetEdit::SlotItem(item.into())));
    on!(inner, ProductAdapter, on_change_quantity, |m, now, quantity| {
        m.edit_sheet(SheetEdit::Quantity(count(quantity)))
    });
    on!(inner, ProductAdapter, on_change_tickets, |m, now, ticket_type, tickets| {
        m.edit_sheet(SheetEdit::Tickets { ticket_type: ticket_type.into(), count: count(tickets) })
    });
    on!(inner, ProductAdapter, on_next_step, |m, now| m.edit_sheet(SheetEdit::Next));
    on!(inner, ProductAdapter, on_previous_step, |m, now| m.edit_sheet(SheetEdit::Previous));
    on!(inner, ProductAdapter, on_add, |m, now| m.add_to_cart(now));
    on!(inner, ProductAdapter, on_close, |m, now| {
        m.close_sheet(now);
        Vec::new()
    });

    on!(inner, UpsellAdapter, on_take, |m, now, id| m.take_upsell(&id, now));
    on!(inner, UpsellAdapter, on_decline, |m, now| {
        m.decline_upsell(now);
        Vec::new()
    });

    on!(inner, CartAdapter, on_change_quantity, |m, now, line, quantity| {
        m.change_quantity(count(line) as usize, count(quantity))
    });
    on!(inner, CartAdapter, on_remove, |m, now, line| m.remove_line(count(line) as usize));
    on!(inner, CartAdapter, on_promo_key, |m, now, key| {
        m.promo_key(&key);
        Vec::new()
    });
    on!(inner, CartAdapter, on_apply_promo, |m, now| m.apply_promo());
    on!(inner, CartAdapter, on_remove_promo, |m, now| m.remove_promo());
    on!(inner, CartAdapter, on_pay_card, |m, now| m.pay_by_card(now));
    on!(inner, CartAdapter, on_pay_counter, |m, now| m.pay_at_counter(now));
    on!(inner, CartAdapter, on_keep_ordering, |m, now| {
        m.keep_ordering(now);
        Vec::new()
    });

    on!(inner, PaymentAdapter, on_cancel, |m, now| m.cancel_payment());
    on!(inner, PaymentAdapter, on_retry, |m, now| m.retry_payment());
    on!(inner, PaymentAdapter, on_pay_counter, |m, now| m.pay_at_counter_instead());
    on!(inner, PaymentAdapter, on_give_up, |m, now| m.give_up_payment(now));

    on!(inner, DoneAdapter, on_print, |m, now| m.print_receipt());
    on!(inner, DoneAdapter, on_finish, |m, now| m.reset(now));
}
