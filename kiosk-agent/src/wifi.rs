//! Wi-Fi limited to the networks the policy trusts. The image uses iwd (with
//! systemd-networkd for addresses): it keeps one profile file per known network in
//! `/var/lib/iwd`, so the agent can write each trusted network's profile in one rename and
//! remove every other one, and iwd needs no desktop stack (NetworkManager would bring more than
//! a kiosk uses). What was written and removed is reported.

use std::path::Path;

use anyhow::{Context, Result};

use crate::policy::WifiNetwork;
use crate::releases::write_atomically;

/// The real profile folder.
pub const IWD_PROFILES: &str = "/var/lib/iwd";

/// Profile kinds iwd reads: a pre-shared key, an open network, 802.1X.
const PROFILE_EXTENSIONS: &[&str] = &["psk", "open", "8021x"];

/// What the Wi-Fi configuration became.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WifiReport {
    /// Profiles written for the trusted networks.
    pub trusted: Vec<String>,
    /// Networks found configured that the policy does not trust, now removed.
    pub removed: Vec<String>,
}

/// iwd's file name for a network: the SSID itself when it is plain text, else `=` and its
/// bytes in hex; the extension says the kind.
pub fn profile_name(network: &WifiNetwork) -> String {
    let plain = network.ssid.bytes().all(|b| b.is_ascii_alphanumeric() || b" -_".contains(&b));
    let stem = if plain { network.ssid.clone() } else { format!("={}", hex::encode(network.ssid.as_bytes())) };
    let kind = if network.passphrase.is_some() { "psk" } else { "open" };
    format!("{stem}.{kind}")
}

fn profile(network: &WifiNetwork) -> String {
    let mut text = String::new();
    if let Some(passphrase) = &network.passphrase {
        text.push_str(&format!("[Security]\nPassphrase={passphrase}\n"));
    }
    text.push_str(&format!("[Settings]\nAutoConnect=true\nHidden={}\n", network.hidden));
    text
}

/// The SSID a profile file is for, from its name.
fn ssid_of(stem: &str) -> String {
    match stem.strip_prefix('=') {
        Some(hex) => {
            hex::decode(hex).map_or_else(|_| stem.to_owned(), |bytes| String::from_utf8_lossy(&bytes).into_owned())
        }
        None => stem.to_owned(),
    }
}

/// Writes a profile for each trusted network into `profiles` and removes every other one.
pub fn apply(profiles: &Path, trusted: &[WifiNetwork]) -> Result<WifiReport> {
    std::fs::create_dir_all(profiles).with_context(|| format!("cannot create {}", profiles.display()))?;
    let mut report = WifiReport::default();
    let names: Vec<String> = trusted.iter().map(profile_name).collect();
    for (network, name) in trusted.iter().zip(&names) {
        let path = profiles.join(name);
        write_atomically(&path, profile(network).as_bytes())?;
        // The passphrase is a secret: the profile is root's alone.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        report.trusted.push(network.ssid.clone());
    }
    let mut found: Vec<_> =
        std::fs::read_dir(profiles)?.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    found.sort();
    for path in found {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let is_profile = path.extension().is_some_and(|ext| PROFILE_EXTENSIONS.iter().any(|known| ext == *known));
        if is_profile && !names.contains(&name) {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            log::warn!("Wi-Fi network {:?} is not trusted by the policy: removed", ssid_of(&stem));
            report.removed.push(ssid_of(&stem));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(ssid: &str, passphrase: Option<&str>, hidden: bool) -> WifiNetwork {
        WifiNetwork { ssid: ssid.into(), passphrase: passphrase.map(str::to_owned), hidden }
    }

    #[test]
    fn only_trusted_networks_stay_configured() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cafe Free WiFi.open"), "").unwrap();
        std::fs::write(dir.path().join("=c3a9717569706521.psk"), "[Security]\nPassphrase=x\n").unwrap();
        std::fs::write(dir.path().join("Venue-Kiosks.psk"), "[Security]\nPassphrase=old one\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not iwd's").unwrap();
        let trusted = [network("Venue-Kiosks", Some("correct horse battery"), false), network("Bar/Café", None, true)];
        let report = apply(dir.path(), &trusted).unwrap();
        assert_eq!(report.trusted, ["Venue-Kiosks", "Bar/Café"]);
        assert_eq!(report.removed, ["équipe!", "Cafe Free WiFi"]);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["=4261722f436166c3a9.open", "Venue-Kiosks.psk", "notes.txt"]);
        let written = std::fs::read_to_string(dir.path().join("Venue-Kiosks.psk")).unwrap();
        assert_eq!(
            written,
            "[Security]\nPassphrase=correct horse battery\n[Settings]\nAutoConnect=true\nHidden=false\n"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("Venue-Kiosks.psk")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let hidden = std::fs::read_to_string(dir.path().join("=4261722f436166c3a9.open")).unwrap();
        assert!(hidden.contains("Hidden=true") && !hidden.contains("Passphrase"));
    }

    #[test]
    fn no_trusted_network_removes_them_all() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Home.psk"), "").unwrap();
        let report = apply(dir.path(), &[]).unwrap();
        assert_eq!((report.trusted.len(), report.removed), (0, vec!["Home".to_owned()]));
    }
}
