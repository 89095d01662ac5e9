//! The kiosk's policy (`/etc/kiosk/policy.toml`, pushed as a signed target): how the kiosk is
//! locked down, where it may connect, which Wi-Fi networks and USB devices it trusts, and the
//! staff accounts to provision. See docs/policy.md. A policy is read whole and checked before
//! anything acts on it; a bad one is refused with its file, key and reason, and the policy in
//! force stays.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use kiosk_engine::kiosk_core::web::WebPolicy;
use serde::Deserialize;

use crate::config::DailyWindow;

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub kiosk: KioskPolicy,
    /// When software may be installed, local time ("02:00-05:00"); the agent's config says
    /// when the policy does not.
    #[serde(default)]
    pub maintenance_window: Option<String>,
    #[serde(default)]
    pub network: NetworkPolicy,
    #[serde(default)]
    pub web: WebPolicy,
    #[serde(default)]
    pub wifi: WifiPolicy,
    #[serde(default)]
    pub usb: UsbPolicy,
    #[serde(default)]
    pub staff: Vec<StaffAccount>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KioskMode {
    /// The kiosk app alone owns the screen.
    #[default]
    SingleApp,
    /// The programs listed in `apps` may own the screen, one at a time.
    MultiApp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskPolicy {
    #[serde(default)]
    pub mode: KioskMode,
    /// In multi-app mode, the programs that may own the screen (their systemd units' names
    /// without `.service`, e.g. "kiosk-app", "order-board"); the first owns it outside the
    /// schedule.
    #[serde(default)]
    pub apps: Vec<String>,
    /// In multi-app mode, which app owns the screen when.
    #[serde(default)]
    pub schedule: Vec<ScreenSlot>,
}

/// An app that owns the screen every day between two local times.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenSlot {
    pub app: String,
    /// "22:00-23:30", may wrap midnight.
    pub window: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicy {
    /// The DNS servers the kiosk may ask (addresses).
    #[serde(default)]
    pub resolvers: Vec<IpAddr>,
    /// The NTP servers (host names or addresses), reached on UDP 123.
    #[serde(default)]
    pub ntp: Vec<String>,
    /// Everything else the kiosk may connect to.
    #[serde(default)]
    pub allow: Vec<NetworkTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkTarget {
    /// A host name, an address, or a network ("10.1.0.0/16").
    pub host: String,
    pub ports: Vec<u16>,
    #[serde(default)]
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// What a target's `host` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Address(IpAddr),
    Network(IpAddr, u8),
    Name(String),
}

impl Host {
    pub fn parse(text: &str) -> Result<Host, String> {
        if let Ok(address) = text.parse::<IpAddr>() {
            return Ok(Host::Address(address));
        }
        if let Some((address, length)) = text.split_once('/') {
            let address: IpAddr = address.parse().map_err(|_| format!("{text:?} is not a network as 10.1.0.0/16"))?;
            let most = if address.is_ipv4() { 32 } else { 128 };
            let length: u8 = length
                .parse()
                .ok()
                .filter(|length| *length <= most)
                .ok_or_else(|| format!("{text:?}: a network's prefix length is 0 to {most}"))?;
            return Ok(Host::Network(address, length));
        }
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let name = text.trim_end_matches('.');
        if name.len() <= 253 && name.split('.').all(valid_label) && name.bytes().any(|b| b.is_ascii_alphabetic()) {
            Ok(Host::Name(name.to_ascii_lowercase()))
        } else {
            Err(format!("{text:?} is not a host name, an address or a network"))
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WifiPolicy {
    #[serde(default)]
    pub trusted: Vec<WifiNetwork>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WifiNetwork {
    pub ssid: String,
    /// The WPA2/WPA3 passphrase (8 to 63 characters); none for an open network.
    #[serde(default)]
    pub passphrase: Option<String>,
    #[serde(default)]
    pub hidden: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbPolicy {
    /// Leave devices the lists do not name unauthorized (sysfs `authorized`).
    #[serde(default)]
    pub enforce: bool,
    /// Interface classes allowed: names (hid, printer, mass-storage, hub, communications,
    /// smart-card, video, audio, vendor-specific) or two hex digits.
    #[serde(default)]
    pub allow_classes: Vec<String>,
    /// Devices allowed whatever their class, as "04b8:0202" (vendor:product, hex).
    #[serde(default)]
    pub allow_ids: Vec<String>,
}

/// USB interface class codes by the names the policy uses.
pub const USB_CLASSES: &[(&str, u8)] = &[
    ("audio", 0x01),
    ("communications", 0x02),
    ("hid", 0x03),
    ("printer", 0x07),
    ("mass-storage", 0x08),
    ("hub", 0x09),
    ("smart-card", 0x0b),
    ("video", 0x0e),
    ("vendor-specific", 0xff),
];

impl UsbPolicy {
    /// The allowed classes as codes.
    pub fn class_codes(&self) -> Result<Vec<u8>, String> {
        self.allow_classes
            .iter()
            .map(|class| {
                USB_CLASSES
                    .iter()
                    .find(|(name, _)| name == class)
                    .map(|(_, code)| *code)
                    .or_else(|| {
                        u8::from_str_radix(class.trim_start_matches("0x"), 16).ok().filter(|_| class.len() <= 4)
                    })
                    .ok_or_else(|| format!("{class:?} is not a USB class (a name as \"printer\", or two hex digits)"))
            })
            .collect()
    }

    /// The allowed devices as (vendor, product).
    pub fn ids(&self) -> Result<Vec<(u16, u16)>, String> {
        self.allow_ids
            .iter()
            .map(|id| {
                let parsed = id.split_once(':').and_then(|(vendor, product)| {
                    let hex = |part: &str| u16::from_str_radix(part, 16).ok().filter(|_| part.len() == 4);
                    Some((hex(vendor)?, hex(product)?))
                });
                parsed.ok_or_else(|| format!("{id:?} is not a USB id as \"04b8:0202\""))
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAccount {
    pub name: String,
    /// staff or manager.
    pub role: String,
    /// The PIN's Argon2 hash (PHC string, as `kioskctl staff` stores it): the policy never
    /// carries a PIN.
    pub pin_hash: String,
    #[serde(default)]
    pub badge: Option<String>,
}

impl Policy {
    /// In multi-app mode, the app that owns the screen at `now` (local time): the first slot of
    /// the schedule that holds it, else the first app. None in single-app mode.
    pub fn screen_owner(&self, now: chrono::NaiveTime) -> Option<&str> {
        if self.kiosk.mode != KioskMode::MultiApp {
            return None;
        }
        let scheduled = self
            .kiosk
            .schedule
            .iter()
            .find(|slot| DailyWindow::parse(&slot.window).is_ok_and(|window| window.contains(now)));
        scheduled.map(|slot| slot.app.as_str()).or(self.kiosk.apps.first().map(String::as_str))
    }

    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Policy::parse(&text).with_context(|| format!("{} is refused", path.display()))
    }

    /// Reads and checks a policy; the error names the key and the reason.
    pub fn parse(text: &str) -> Result<Policy> {
        let policy: Policy = toml::from_str(text).map_err(|error| anyhow::anyhow!("{}", error.to_string().trim()))?;
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<()> {
        if self.kiosk.mode == KioskMode::MultiApp && self.kiosk.apps.is_empty() {
            bail!("kiosk.apps: multi-app mode needs the programs that may own the screen");
        }
        if self.kiosk.mode == KioskMode::SingleApp && !self.kiosk.apps.is_empty() {
            bail!("kiosk.apps: only multi-app mode lists programs; single-app mode runs the kiosk app alone");
        }
        for (index, slot) in self.kiosk.schedule.iter().enumerate() {
            if !self.kiosk.apps.contains(&slot.app) {
                bail!("kiosk.schedule[{index}].app: {:?} is not one of kiosk.apps", slot.app);
            }
            DailyWindow::parse(&slot.window).with_context(|| format!("kiosk.schedule[{index}].window"))?;
        }
        for (index, app) in self.kiosk.apps.iter().enumerate() {
            let unit_name = !app.is_empty() && app.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
            if !unit_name {
                bail!("kiosk.apps[{index}]: {app:?} is not a program's unit name");
            }
        }
        if let Some(window) = &self.maintenance_window {
            DailyWindow::parse(window).context("maintenance_window")?;
        }
        for (index, ntp) in self.network.ntp.iter().enumerate() {
            Host::parse(ntp).map_err(|why| anyhow::anyhow!("network.ntp[{index}]: {why}"))?;
        }
        for (index, target) in self.network.allow.iter().enumerate() {
            Host::parse(&target.host).map_err(|why| anyhow::anyhow!("network.allow[{index}].host: {why}"))?;
            if target.ports.is_empty() || target.ports.contains(&0) {
                bail!("network.allow[{index}].ports: one port or more, 1 to 65535");
            }
        }
        for (index, prefix) in self.web.allow.iter().enumerate() {
            let url =
                url::Url::parse(prefix).map_err(|_| anyhow::anyhow!("web.allow[{index}]: {prefix:?} is not a URL"))?;
            let loopback =
                url.host_str().is_some_and(|host| host == "localhost" || host == "127.0.0.1" || host == "[::1]");
            if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
                bail!("web.allow[{index}]: {prefix:?}: the kiosk calls out over https only (http on loopback)");
            }
        }
        for (index, network) in self.wifi.trusted.iter().enumerate() {
            if network.ssid.is_empty() || network.ssid.len() > 32 {
                bail!("wifi.trusted[{index}].ssid: 1 to 32 bytes");
            }
            if let Some(passphrase) = &network.passphrase
                && !(8..=63).contains(&passphrase.len())
            {
                bail!("wifi.trusted[{index}].passphrase: a WPA passphrase is 8 to 63 characters");
            }
        }
        self.usb.class_codes().map_err(|why| anyhow::anyhow!("usb.allow_classes: {why}"))?;
        self.usb.ids().map_err(|why| anyhow::anyhow!("usb.allow_ids: {why}"))?;
        for (index, account) in self.staff.iter().enumerate() {
            if !matches!(account.role.as_str(), "staff" | "manager") {
                bail!("staff[{index}].role: {:?} is not a role (staff, manager)", account.role);
            }
            if !account.pin_hash.starts_with("$argon2") {
                bail!("staff[{index}].pin_hash: an Argon2 hash (PHC string), never a PIN");
            }
            if account.name.trim().is_empty() {
                bail!("staff[{index}].name: a name is needed");
            }
        }
        Ok(())
    }
}

/// A whole policy, for the tests of what reads it.
#[cfg(test)]
pub(crate) const EXAMPLE: &str = r#"
maintenance_window = "02:00-05:00"

[kiosk]
mode = "single-app"

[network]
resolvers = ["10.0.0.53"]
ntp = ["ntp.example.net"]
[[network.allow]]
host = "terminal.venue.lan"
ports = [8443]
[[network.allow]]
host = "10.20.0.0/16"
ports = [9100, 9101]
[[network.allow]]
host = "2001:db8::10"
ports = [443]
protocol = "tcp"

[web]
allow = ["https://updates.example.com/kiosk/", "https://fleet.example.com/api/"]

[[wifi.trusted]]
ssid = "Venue-Kiosks"
passphrase = "correct horse battery"

[usb]
enforce = true
allow_classes = ["printer", "hid", "0x0b"]
allow_ids = ["04b8:0202"]

[[staff]]
name = "Marie"
role = "manager"
pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_policy_reads() {
        let policy = Policy::parse(EXAMPLE).unwrap();
        assert_eq!(policy.network.allow.len(), 3);
        assert_eq!(policy.network.allow[0].protocol, Protocol::Tcp);
        assert_eq!(policy.usb.class_codes().unwrap(), [0x07, 0x03, 0x0b]);
        assert_eq!(policy.usb.ids().unwrap(), [(0x04b8, 0x0202)]);
        assert_eq!(Policy::parse("").unwrap(), Policy::default(), "an empty policy: single-app, nothing allowed");
    }

    #[test]
    fn every_bad_policy_says_the_key_and_why() {
        let cases = [
            ("mode = \"kiosk\"", "unknown field `mode`"),
            ("[kiosk]\nmode = \"single\"", "single-app"),
            ("[kiosk]\nmode = \"multi-app\"", "kiosk.apps: multi-app mode needs"),
            ("[kiosk]\napps = [\"kiosk-app\"]", "kiosk.apps: only multi-app mode"),
            ("[kiosk]\nmode = \"multi-app\"\napps = [\"rm -rf\"]", "kiosk.apps[0]"),
            (
                "[kiosk]\nmode = \"multi-app\"\napps = [\"kiosk-app\"]\n[[kiosk.schedule]]\napp = \"board\"\nwindow = \"22:00-23:00\"",
                "kiosk.schedule[0].app",
            ),
            (
                "[kiosk]\nmode = \"multi-app\"\napps = [\"kiosk-app\"]\n[[kiosk.schedule]]\napp = \"kiosk-app\"\nwindow = \"late\"",
                "kiosk.schedule[0].window",
            ),
            ("maintenance_window = \"late\"", "maintenance_window"),
            ("[network]\nresolvers = [\"dns.example.com\"]", "resolvers"),
            ("[network]\nntp = [\"bad host!\"]", "network.ntp[0]"),
            ("[[network.allow]]\nhost = \"10.0.0.0/33\"\nports = [1]", "network.allow[0].host"),
            ("[[network.allow]]\nhost = \"-x.example\"\nports = [1]", "network.allow[0].host"),
            ("[[network.allow]]\nhost = \"a.example\"\nports = []", "network.allow[0].ports"),
            ("[[network.allow]]\nhost = \"a.example\"\nports = [70000]", "ports"),
            ("[[network.allow]]\nhost = \"a.example\"\nports = [1]\nprotocol = \"icmp\"", "protocol"),
            ("[web]\nallow = [\"http://fleet.example.com/\"]", "web.allow[0]"),
            ("[web]\nallow = [\"fleet\"]", "web.allow[0]"),
            ("[[wifi.trusted]]\nssid = \"\"", "wifi.trusted[0].ssid"),
            ("[[wifi.trusted]]\nssid = \"x\"\npassphrase = \"short\"", "wifi.trusted[0].passphrase"),
            ("[usb]\nallow_classes = [\"keyboard\"]", "usb.allow_classes"),
            ("[usb]\nallow_ids = [\"4b8:202\"]", "usb.allow_ids"),
            ("[[staff]]\nname = \"M\"\nrole = \"boss\"\npin_hash = \"$argon2id$x\"", "staff[0].role"),
            ("[[staff]]\nname = \"M\"\nrole = \"staff\"\npin_hash = \"1234\"", "staff[0].pin_hash"),
        ];
        for (text, key) in cases {
            let error = format!("{:#}", Policy::parse(text).unwrap_err());
            assert!(error.contains(key), "{text:?}: {error}");
        }
    }

    #[test]
    fn the_schedule_says_which_app_owns_the_screen() {
        let policy = Policy::parse(
            "[kiosk]\nmode = \"multi-app\"\napps = [\"kiosk-app\", \"order-board\"]\n\
             [[kiosk.schedule]]\napp = \"order-board\"\nwindow = \"22:00-01:00\"\n",
        )
        .unwrap();
        let at = |time: &str| chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap();
        assert_eq!(policy.screen_owner(at("23:30")), Some("order-board"));
        assert_eq!(policy.screen_owner(at("12:00")), Some("kiosk-app"));
        assert_eq!(Policy::default().screen_owner(at("23:30")), None, "single-app: the kiosk app alone");
    }

    #[test]
    fn hosts_are_names_addresses_or_networks() {
        assert_eq!(Host::parse("Terminal.Venue.LAN."), Ok(Host::Name("terminal.venue.lan".into())));
        assert_eq!(Host::parse("10.0.0.1"), Ok(Host::Address("10.0.0.1".parse().unwrap())));
        assert_eq!(Host::parse("fd00::/8"), Ok(Host::Network("fd00::".parse().unwrap(), 8)));
        assert!(Host::parse("10.0.0.300").is_err() && Host::parse("a..b").is_err() && Host::parse("").is_err());
    }
}
