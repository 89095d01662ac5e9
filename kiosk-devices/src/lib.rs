//! Kiosk hardware behind small traits, each with a simulator that is real code, so the whole
//! kiosk runs and is tested without hardware. Drivers report what happened; they never
//! decide a business outcome.

pub mod access;
pub mod input;
pub mod printer;
pub mod scanner;
pub mod speech;
pub mod terminal;
pub mod usb;
pub mod web;
