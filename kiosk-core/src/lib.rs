//! The kiosk's rules, pure: no I/O, no clock, no random ids. Time, ids, stock levels and file
//! contents are arguments; decisions come back as values (a quote, the effects of a payment
//! event, a journal entry) for `kiosk-engine` to carry out.

pub mod alert;
pub mod cart;
pub mod config;
pub mod journal;
pub mod menu;
pub mod menu_file;
pub mod money;
pub mod order;
pub mod payment;
pub mod pricing;
pub mod receipt;
pub mod refund;
pub mod report;
pub mod staff;
pub mod status;
pub mod stock;
pub mod web;
