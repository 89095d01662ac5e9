//! USB discovery: what is plugged in (printers, scanners, payment terminals and the rest),
//! for the staff screen and the agent's health inventory, and when it changes. A machine
//! without a USB bus has no devices; that is not an error.

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;
use serde::Serialize;

/// What a device probably is, from its USB classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsbKind {
    /// Printer class (7).
    Printer,
    /// HID (3): keyboards and keyboard-wedge scanners.
    InputDevice,
    /// Communications / CDC (2, 10): serial payment terminals and modems.
    Serial,
    Other,
}

/// One connected device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsbDevice {
    pub vendor_id: u16,
    pub product_id: u16,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    pub bus: String,
    pub address: u8,
    pub kind: UsbKind,
}

/// Classifies a device from its device class and its interfaces' classes.
pub fn kind_of(device_class: u8, interface_classes: &[u8]) -> UsbKind {
    let has = |class: u8| device_class == class || interface_classes.contains(&class);
    if has(7) {
        UsbKind::Printer
    } else if has(3) {
        UsbKind::InputDevice
    } else if has(2) || has(10) {
        UsbKind::Serial
    } else {
        UsbKind::Other
    }
}

fn describe(info: &nusb::DeviceInfo) -> UsbDevice {
    let interfaces: Vec<u8> = info.interfaces().map(|i| i.class()).collect();
    UsbDevice {
        vendor_id: info.vendor_id(),
        product_id: info.product_id(),
        manufacturer: info.manufacturer_string().map(str::to_owned),
        product: info.product_string().map(str::to_owned),
        serial: info.serial_number().map(str::to_owned),
        bus: info.bus_id().to_owned(),
        address: info.device_address(),
        kind: kind_of(info.class(), &interfaces),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot list USB devices: {0}")]
pub struct UsbError(String);

/// The devices connected now. Without a USB bus (a VM, a container), the list is empty.
pub async fn list() -> Result<Vec<UsbDevice>, UsbError> {
    match nusb::list_devices().await {
        Ok(devices) => Ok(devices.map(|info| describe(&info)).collect()),
        Err(error) if error.kind() == nusb::ErrorKind::NotFound || no_bus(&error) => Ok(Vec::new()),
        Err(error) => Err(UsbError(error.to_string())),
    }
}

/// Whether an error says there is no USB bus at all (no /sys/bus/usb).
fn no_bus(error: &nusb::Error) -> bool {
    error.to_string().contains("not found") || error.to_string().contains("No such file")
}

/// A change in what is plugged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsbChange {
    Connected(UsbDevice),
    Disconnected,
}

/// Waits for the next plug or unplug. `None` when hot-plug cannot be watched here (no USB
/// bus): the caller lists again from time to time instead.
pub struct UsbWatch(Option<nusb::hotplug::HotplugWatch>);

impl std::fmt::Debug for UsbWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbWatch").field("watching", &self.is_watching()).finish()
    }
}

impl UsbWatch {
    pub fn start() -> UsbWatch {
        match nusb::watch_devices() {
            Ok(watch) => UsbWatch(Some(watch)),
            Err(error) => {
                log::info!("USB hot-plug not watched: {error}");
                UsbWatch(None)
            }
        }
    }

    pub fn is_watching(&self) -> bool {
        self.0.is_some()
    }

    pub async fn next(&mut self) -> Option<UsbChange> {
        let watch = self.0.as_mut()?;
        let event = poll_fn(|cx| Pin::new(&mut *watch).poll_next(cx)).await?;
        Some(match event {
            nusb::hotplug::HotplugEvent::Connected(info) => UsbChange::Connected(describe(&info)),
            nusb::hotplug::HotplugEvent::Disconnected(_) => UsbChange::Disconnected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_name_the_kind() {
        assert_eq!(kind_of(0, &[7]), UsbKind::Printer);
        assert_eq!(kind_of(0, &[3, 3]), UsbKind::InputDevice);
        assert_eq!(kind_of(2, &[]), UsbKind::Serial);
        assert_eq!(kind_of(0, &[10, 3]), UsbKind::InputDevice, "a HID interface wins over CDC data");
        assert_eq!(kind_of(9, &[9]), UsbKind::Other);
    }

    #[tokio::test]
    async fn a_machine_without_usb_lists_no_devices() {
        // On these machines /sys/bus/usb does not exist: that must read as "no devices".
        let devices = list().await.unwrap();
        println!("{} USB devices: {devices:?}", devices.len());
        let watch = UsbWatch::start();
        println!("hot-plug watched: {}", watch.is_watching());
    }
}
