//! What a signed update repository offers a kiosk: each TUF target carries, in its signed
//! `custom` metadata under the key `kiosk`, what it is (an app or agent release, a menu, a
//! policy), its version, the channel and the share of the fleet it is offered to, and for a
//! delta which release it patches.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The key of a target's `custom` metadata that this module reads and writes.
pub const CUSTOM_KEY: &str = "kiosk";

/// What a target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The touch app: `bin/kiosk-app` and its assets, a zstd-compressed tar.
    App,
    /// The device agent: `bin/kiosk-agent` and `bin/kioskctl`, a zstd-compressed tar.
    Agent,
    /// A menu: `menu.toml` and its images, a zstd-compressed tar.
    Menu,
    /// The lockdown and network policy, a TOML file.
    Policy,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::App, Kind::Agent, Kind::Menu, Kind::Policy];

    pub fn name(self) -> &'static str {
        match self {
            Kind::App => "app",
            Kind::Agent => "agent",
            Kind::Menu => "menu",
            Kind::Policy => "policy",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A wave of the fleet: pilot kiosks take what is published for `pilot` and for `stable`;
/// the others only what is published for `stable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Stable,
    Pilot,
}

impl Channel {
    /// Whether a kiosk following `self` takes what is published for `published`.
    pub fn takes(self, published: Channel) -> bool {
        self == Channel::Pilot || published == Channel::Stable
    }
}

/// A version: numbers separated by dots (`1.4.2`, `2026.12.3`), compared number by number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    text: String,
    parts: Vec<u64>,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let parts: Option<Vec<u64>> = text.split('.').map(|part| part.parse().ok()).collect();
        match parts {
            Some(parts) if !text.is_empty() && parts.len() <= 4 => Ok(Version { text: text.to_owned(), parts }),
            _ => Err(format!("{text:?} is not a version: up to four numbers separated by dots, as 1.4.2")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(text: &str) -> Result<Version, String> {
        Version::parse(text)
    }
}

impl TryFrom<String> for Version {
    type Error = String;
    fn try_from(text: String) -> Result<Version, String> {
        Version::parse(&text)
    }
}

impl From<Version> for String {
    fn from(version: Version) -> String {
        version.text
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        let width = self.parts.len().max(other.parts.len());
        let padded = |parts: &[u64]| (0..width).map(|i| parts.get(i).copied().unwrap_or(0)).collect::<Vec<_>>();
        padded(&self.parts).cmp(&padded(&other.parts))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The hash and length of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest256 {
    pub sha256: String,
    pub length: u64,
}

impl Digest256 {
    pub fn of(bytes: &[u8]) -> Digest256 {
        Digest256 { sha256: hex::encode(Sha256::digest(bytes)), length: bytes.len() as u64 }
    }
}

/// A target's `kiosk` metadata, signed with the rest of the targets role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub kind: Kind,
    pub version: Version,
    pub channel: Channel,
    /// The share of the channel's kiosks it is offered to, 1 to 100.
    pub rollout: u8,
    /// The uncompressed tar inside a release archive: what a delta rebuilds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Digest256>,
    /// For a delta: the release whose uncompressed tar it patches (`zstd --patch-from`); its
    /// result is the uncompressed tar of `version`, checked against that release's `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_from: Option<Version>,
}

impl Published {
    /// Whether a kiosk with this id, following this channel, is offered it now.
    pub fn offered_to(&self, device_id: &str, channel: Channel) -> bool {
        channel.takes(self.channel) && place_in_waves(device_id) < u32::from(self.rollout)
    }
}

/// A kiosk's place in every staged rollout, 0 to 99: the same for every release, so that the
/// first 10% of a wave are always the same kiosks, and a kiosk in a 10% wave is in the 50% one.
pub fn place_in_waves(device_id: &str) -> u32 {
    let hash = Sha256::digest(device_id.as_bytes());
    let head = u64::from_be_bytes(hash[..8].try_into().expect("a SHA-256 has 8 bytes"));
    u32::try_from(head % 100).expect("under 100")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_number_by_number() {
        let v = |text| Version::parse(text).unwrap();
        assert!(v("1.10.0") > v("1.9.3"));
        assert_eq!(v("1.2").cmp(&v("1.2.0")), Ordering::Equal);
        assert!(v("2026.12.3") > v("2026.2.30"));
        for bad in ["", "1..2", "v1.2", "1.2-beta", "1.2.3.4.5"] {
            assert!(Version::parse(bad).unwrap_err().contains("is not a version"), "{bad}");
        }
    }

    #[test]
    fn waves_are_stable_and_nested() {
        let devices: Vec<String> = (0..1000).map(|n| format!("kiosk-{n:04}")).collect();
        let offered = |rollout| {
            let published = Published {
                kind: Kind::App,
                version: Version::parse("1.0.0").unwrap(),
                channel: Channel::Stable,
                rollout,
                content: None,
                patch_from: None,
            };
            devices.iter().filter(|id| published.offered_to(id, Channel::Stable)).cloned().collect::<Vec<_>>()
        };
        let (tenth, half, all) = (offered(10), offered(50), offered(100));
        assert!((60..=140).contains(&tenth.len()), "{} of 1000 in a 10% wave", tenth.len());
        assert!((420..=580).contains(&half.len()), "{} of 1000 in a 50% wave", half.len());
        assert_eq!(all.len(), 1000);
        assert!(tenth.iter().all(|id| half.contains(id)), "a kiosk of the 10% wave is in the 50% one");
        assert_eq!(offered(10), tenth, "the same kiosks every time");
    }

    #[test]
    fn pilots_take_both_channels_and_stable_kiosks_only_stable() {
        assert!(Channel::Pilot.takes(Channel::Pilot) && Channel::Pilot.takes(Channel::Stable));
        assert!(Channel::Stable.takes(Channel::Stable) && !Channel::Stable.takes(Channel::Pilot));
    }
}
