//! USB control: the devices the policy does not list are left unauthorized through sysfs
//! (`/sys/bus/usb/devices/*/authorized`), so that a keyboard or a USB stick plugged into a
//! kiosk gets no driver. With the policy enforcing, root hubs are told to leave new devices
//! unauthorized (`authorized_default = 0`) until the agent has looked at them; a device the
//! policy allows is authorized. Tests run it on a fake sysfs tree.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::policy::UsbPolicy;

/// The real tree.
pub const SYSFS_USB: &str = "/sys/bus/usb/devices";

/// One device as the agent found and left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsbDevice {
    /// Its sysfs name ("1-2", "1-2.4").
    pub name: String,
    pub vendor: u16,
    pub product: u16,
    /// Its interfaces' classes (or the device's own class when it lists none).
    pub classes: Vec<u8>,
    pub allowed: bool,
    pub change: Change,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Authorized,
    Deauthorized,
}

/// A sysfs attribute written in hex ("04b8", "07").
fn read_hex(path: &Path) -> Option<u16> {
    u16::from_str_radix(std::fs::read_to_string(path).ok()?.trim(), 16).ok()
}

fn read_class(path: &Path) -> Option<u8> {
    u8::try_from(read_hex(path)?).ok()
}

/// Looks at every device under `sysfs` and authorizes or deauthorizes it as `policy` says.
/// Without `enforce`, nothing is changed and the report says what would be.
pub fn apply(sysfs: &Path, policy: &UsbPolicy) -> Result<Vec<UsbDevice>> {
    let classes = policy.class_codes().map_err(anyhow::Error::msg)?;
    let ids = policy.ids().map_err(anyhow::Error::msg)?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(sysfs)
        .with_context(|| format!("cannot read {}", sysfs.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    let mut devices = Vec::new();
    for path in &entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if name.starts_with("usb") {
            // A root hub: it stays, and with the policy enforcing it leaves new devices
            // unauthorized until the agent has looked at them.
            if policy.enforce {
                write_flag(&path.join("authorized_default"), false)?;
            }
            continue;
        }
        // Interfaces ("1-2:1.0") are looked at with their device.
        if name.contains(':') {
            continue;
        }
        let (Some(vendor), Some(product)) = (read_hex(&path.join("idVendor")), read_hex(&path.join("idProduct")))
        else {
            continue;
        };
        let mut device_classes: Vec<u8> = entries
            .iter()
            .filter(|interface| {
                interface.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}:")))
            })
            .filter_map(|interface| read_class(&interface.join("bInterfaceClass")))
            .collect();
        if device_classes.is_empty() {
            device_classes.extend(read_class(&path.join("bDeviceClass")));
        }
        device_classes.sort_unstable();
        device_classes.dedup();
        let allowed = ids.contains(&(vendor, product))
            || (!device_classes.is_empty() && device_classes.iter().all(|class| classes.contains(class)));
        let authorized = std::fs::read_to_string(path.join("authorized")).is_ok_and(|text| text.trim() == "1");
        let change = match (policy.enforce, allowed, authorized) {
            (true, false, true) => {
                write_flag(&path.join("authorized"), false)?;
                log::warn!(
                    "USB device {name} ({vendor:04x}:{product:04x}, classes {device_classes:02x?}) is not in the policy: left unauthorized"
                );
                Change::Deauthorized
            }
            (true, true, false) => {
                write_flag(&path.join("authorized"), true)?;
                Change::Authorized
            }
            _ => Change::Unchanged,
        };
        devices.push(UsbDevice { name, vendor, product, classes: device_classes, allowed, change });
    }
    Ok(devices)
}

fn write_flag(path: &Path, on: bool) -> Result<()> {
    std::fs::write(path, if on { "1" } else { "0" }).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake sysfs: a root hub, a receipt printer, a keyboard, a USB stick, a vendor's
    /// scanner allowed by its id, all authorized as the kernel leaves them by default.
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let device = |name: &str, id: (&str, &str), interfaces: &[&str]| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("idVendor"), format!("{}\n", id.0)).unwrap();
            std::fs::write(path.join("idProduct"), format!("{}\n", id.1)).unwrap();
            std::fs::write(path.join("bDeviceClass"), "00\n").unwrap();
            std::fs::write(path.join("authorized"), "1\n").unwrap();
            for (index, class) in interfaces.iter().enumerate() {
                let interface = dir.path().join(format!("{name}:1.{index}"));
                std::fs::create_dir_all(&interface).unwrap();
                std::fs::write(interface.join("bInterfaceClass"), format!("{class}\n")).unwrap();
            }
        };
        std::fs::create_dir_all(dir.path().join("usb1")).unwrap();
        std::fs::write(dir.path().join("usb1/authorized_default"), "1\n").unwrap();
        device("1-1", ("04b8", "0202"), &["07"]);
        device("1-2", ("046d", "c31c"), &["03", "03"]);
        device("1-3", ("0781", "5567"), &["08"]);
        device("1-4", ("0c2e", "0b61"), &["03", "ff"]);
        dir
    }

    fn policy(enforce: bool) -> UsbPolicy {
        UsbPolicy { enforce, allow_classes: vec!["printer".into()], allow_ids: vec!["0c2e:0b61".into()] }
    }

    fn authorized(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name).join("authorized")).unwrap().trim().to_owned()
    }

    #[test]
    fn unlisted_keyboards_and_storage_are_left_unauthorized() {
        let dir = tree();
        let devices = apply(dir.path(), &policy(true)).unwrap();
        let changes: Vec<(&str, bool, Change)> =
            devices.iter().map(|device| (device.name.as_str(), device.allowed, device.change)).collect();
        assert_eq!(
            changes,
            [
                ("1-1", true, Change::Unchanged),
                ("1-2", false, Change::Deauthorized),
                ("1-3", false, Change::Deauthorized),
                ("1-4", true, Change::Unchanged),
            ]
        );
        assert_eq!(devices[1].classes, [0x03], "a keyboard");
        assert_eq!((authorized(dir.path(), "1-2"), authorized(dir.path(), "1-3")), ("0".into(), "0".into()));
        assert_eq!(authorized(dir.path(), "1-1"), "1");
        let default = std::fs::read_to_string(dir.path().join("usb1/authorized_default")).unwrap();
        assert_eq!(default, "0", "new devices wait for the agent");
        // A device the policy allows, left unauthorized by the kernel, is authorized.
        std::fs::write(dir.path().join("1-1/authorized"), "0").unwrap();
        let devices = apply(dir.path(), &policy(true)).unwrap();
        assert_eq!(devices[0].change, Change::Authorized);
        assert_eq!(authorized(dir.path(), "1-1"), "1");
    }

    #[test]
    fn without_enforcing_nothing_changes_but_the_report_says_what_would() {
        let dir = tree();
        let devices = apply(dir.path(), &policy(false)).unwrap();
        assert!(devices.iter().all(|device| device.change == Change::Unchanged));
        assert_eq!(devices.iter().filter(|device| !device.allowed).count(), 2);
        assert_eq!(authorized(dir.path(), "1-2"), "1");
    }
}
