//! The kiosk's device agent: signed software and menu updates with automatic rollback, health
//! reporting, the policy's lockdown and the fleet's remote actions; and the library behind
//! `kioskctl repo`, which publishes them.

mod actions;
pub mod archive;
pub mod catalog;
pub mod config;
pub mod daemon;
pub mod dns;
pub mod effects;
pub mod escape;
pub mod firewall;
pub mod health;
pub mod lockdown;
pub mod policy;
pub mod publish;
pub mod releases;
pub mod remote;
pub mod source;
pub mod swap;
pub mod updater;
pub mod usb_guard;
pub mod wifi;
