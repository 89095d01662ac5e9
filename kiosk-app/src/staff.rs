//! Staff mode's callbacks, each turned into the model's intent.

use std::rc::Rc;

use kiosk_engine::CounterPayment;
use slint::ComponentHandle;

use crate::customer::on;
use crate::kiosk::Inner;
use crate::model::{StaffAction, StaffTab};
use crate::ui::{StaffAdapter, StaffTab as Tab};

pub fn connect(inner: &Rc<Inner>) {
    on!(inner, StaffAdapter, on_choose_name, |m, now, name| {
        m.choose_name(&name);
        Vec::new()
    });
    on!(inner, StaffAdapter, on_pin_key, |m, now, key| {
        m.pin_key(&key);
        Vec::new()
    });
    on!(inner, StaffAdapter, on_sign_in, |m, now| m.sign_in());
    on!(inner, StaffAdapter, on_leave, |m, now| m.leave_staff(now));
    on!(inner, StaffAdapter, on_show, |m, now, tab| m.show_tab(tab_of(tab)));
    on!(inner, StaffAdapter, on_restock, |m, now, item, units| {
        m.act(StaffAction::Restock { item: item.into(), units: units.into() }, now)
    });
    on!(inner, StaffAdapter, on_sold_out, |m, now, item, sold_out| {
        m.act(StaffAction::SoldOut { item: item.into(), sold_out }, now)
    });
    on!(inner, StaffAdapter, on_settle, |m, now, order, by_card| {
        let by = if by_card { CounterPayment::Card } else { CounterPayment::Cash };
        m.act(StaffAction::Settle { order: order.into(), by }, now)
    });
    on!(inner, StaffAdapter, on_refund, |m, now, order| m.act(StaffAction::Refund { order: order.into() }, now));
    on!(inner, StaffAdapter, on_reprint, |m, now, order| m.act(StaffAction::Reprint { order: order.into() }, now));
    on!(inner, StaffAdapter, on_x_report, |m, now| m.act(StaffAction::XReport, now));
    on!(inner, StaffAdapter, on_z_close, |m, now| m.act(StaffAction::ZClose, now));
    on!(inner, StaffAdapter, on_clear_alert, |m, now, id| m.act(StaffAction::ClearAlert { id: id.into() }, now));
    on!(inner, StaffAdapter, on_set_training, |m, now, on| m.act(StaffAction::SetTraining(on), now));
    on!(inner, StaffAdapter, on_test_print, |m, now| m.act(StaffAction::TestPrint, now));
}

fn tab_of(tab: Tab) -> StaffTab {
    match tab {
        Tab::Stock => StaffTab::Stock,
        Tab::Counter => StaffTab::Counter,
        Tab::Orders => StaffTab::Orders,
        Tab::Reports => StaffTab::Reports,
        Tab::Printers => StaffTab::Printers,
    }
}
