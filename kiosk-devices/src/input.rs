//! Finding an input device (a scanner, a keypad) among `/dev/input/event*`, by name or USB id.

use evdev::Device;

/// How to find a device among the input devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputMatch {
    /// The device's name contains this text.
    Name(String),
    VidPid(u16, u16),
}

impl InputMatch {
    /// "vvvv:pppp" in hexadecimal is a USB id; anything else is part of the device's name.
    pub fn parse(text: &str) -> InputMatch {
        let id = text.split_once(':').map(|(v, p)| (u16::from_str_radix(v, 16), u16::from_str_radix(p, 16)));
        match id {
            Some((Ok(vendor), Ok(product))) => InputMatch::VidPid(vendor, product),
            _ => InputMatch::Name(text.to_owned()),
        }
    }

    pub fn matches(&self, device: &Device) -> bool {
        match self {
            InputMatch::Name(part) => device.name().is_some_and(|name| name.contains(part.as_str())),
            InputMatch::VidPid(vendor, product) => {
                device.input_id().vendor() == *vendor && device.input_id().product() == *product
            }
        }
    }

    /// The first input device that matches, with its path.
    pub fn find(&self) -> Option<(std::path::PathBuf, Device)> {
        evdev::enumerate().find(|(_, device)| self.matches(device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usb_id_or_a_name() {
        assert_eq!(InputMatch::parse("05e0:1200"), InputMatch::VidPid(0x05e0, 0x1200));
        assert_eq!(InputMatch::parse("Honeywell"), InputMatch::Name("Honeywell".into()));
        assert_eq!(InputMatch::parse("Keypad: 12"), InputMatch::Name("Keypad: 12".into()), "not hexadecimal");
    }
}
