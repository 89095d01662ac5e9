//! The policy in force, enforced: the network allowlist loaded (host names as last resolved),
//! USB devices authorized as listed, Wi-Fi limited to the trusted networks, the staff accounts
//! provisioned, the agent's own HTTP calls held to the web allowlist. The agent does it
//! at start and after every poll (a new policy, addresses that moved). Each part is enforced
//! only where [`Enforcement`] points it: a development kiosk (`--dev`) enforces nothing and
//! only reports, and tests point the parts at a network namespace and fake trees of their own.

use std::path::{Path, PathBuf};

use kiosk_engine::devices::WebGate;
use kiosk_engine::kiosk_core::web::WebAllowlist;
use kiosk_protocol::LockdownStatus;

use crate::effects::Database;
use crate::firewall::{self, Resolved};
use crate::policy::Policy;

/// Where each part of the policy is enforced; `None`: not enforced.
#[derive(Clone, Debug, Default)]
pub struct Enforcement {
    /// The web allowlist of the agent's HTTP calls, and the URLs always on it (the agent's own
    /// update repository and fleet: a policy can never cut the agent off its management).
    pub web: WebGate,
    pub own_endpoints: Vec<String>,
    /// The `nft` command (and leading arguments) that loads the ruleset.
    pub nft: Option<Vec<String>>,
    /// The USB devices' sysfs folder (`/sys/bus/usb/devices`).
    pub usb_sysfs: Option<PathBuf>,
    /// iwd's profile folder (`/var/lib/iwd`).
    pub wifi_profiles: Option<PathBuf>,
    /// Where the services' drop-ins go (`/etc/systemd/system`), and the command that has the
    /// service manager read them again.
    pub systemd: Option<(PathBuf, Vec<String>)>,
    /// Where the ruleset file is written before it is loaded.
    pub scratch: PathBuf,
}

impl Enforcement {
    /// The device's own: nft, sysfs, iwd.
    pub fn device(scratch: &Path, web: WebGate, own_endpoints: Vec<String>) -> Enforcement {
        Enforcement {
            web,
            own_endpoints,
            nft: Some(vec!["nft".into()]),
            usb_sysfs: Some(crate::usb_guard::SYSFS_USB.into()),
            wifi_profiles: Some(crate::wifi::IWD_PROFILES.into()),
            systemd: Some(("/etc/systemd/system".into(), vec!["systemctl".into(), "daemon-reload".into()])),
            scratch: scratch.to_owned(),
        }
    }
}

/// The policy in force at `path`; none there, or one that cannot be read, is said as the
/// heartbeat's `policy_error` says it.
pub fn load(path: &Path) -> Result<Policy, String> {
    if !path.exists() {
        return Err(format!("no policy at {}: nothing is locked down", path.display()));
    }
    Policy::load(path).map_err(|error| format!("{error:#}"))
}

/// Enforces `policy` (read from `policy_path`), its host names replaced by the addresses in
/// `resolved` (see [`crate::dns`]), and says how it went; its staff accounts are provisioned
/// through `database`.
pub async fn enforce(
    policy: &Policy,
    policy_path: &Path,
    resolved: &Resolved,
    enforcement: &Enforcement,
    database: &dyn Database,
) -> LockdownStatus {
    let mut status = LockdownStatus::default();
    let prefixes: Vec<&String> = policy.web.allow.iter().chain(&enforcement.own_endpoints).collect();
    match WebAllowlist::new(&prefixes) {
        Ok(list) => enforcement.web.set(list),
        Err(error) => status.policy_error = Some(format!("web.allow: {error}")),
    }
    status.firewall_error = allow_addresses(policy, resolved, enforcement).err();
    if let Some(sysfs) = &enforcement.usb_sysfs {
        match crate::usb_guard::apply(sysfs, &policy.usb) {
            Ok(devices) => {
                status.usb_not_allowed = devices
                    .iter()
                    .filter(|device| !device.allowed)
                    .map(|device| format!("{} {:04x}:{:04x}", device.name, device.vendor, device.product))
                    .collect();
            }
            Err(error) => status.usb_error = Some(format!("{error:#}")),
        }
    }
    if !policy.staff.is_empty() {
        match database.provision_staff(policy_path).await {
            Ok(changed) => status.staff_changed = changed,
            Err(error) => {
                log::error!("staff accounts: {error:#}");
                status.staff_error = Some(format!("{error:#}"));
            }
        }
    }
    if let Some(profiles) = &enforcement.wifi_profiles {
        match crate::wifi::apply(profiles, &policy.wifi.trusted) {
            Ok(report) => status.wifi_removed = report.removed,
            Err(error) => status.wifi_error = Some(format!("{error:#}")),
        }
    }
    status
}

/// Loads the network allowlist and writes the services' walls for `policy` with the addresses
/// in `resolved`: at each enforcement, and when a host name moves. An error says what failed
/// (the allowlist in force stays).
pub fn allow_addresses(policy: &Policy, resolved: &Resolved, enforcement: &Enforcement) -> Result<(), String> {
    let mut failed = None;
    if let Some(nft) = &enforcement.nft
        && let Err(error) = firewall::apply(nft, &firewall::ruleset(policy, resolved), &enforcement.scratch)
    {
        log::error!("network allowlist: {error:#}");
        failed = Some(format!("{error:#}"));
    }
    if let Some((folder, reload)) = &enforcement.systemd
        && let Err(error) = write_walls(folder, reload, &firewall::unit_dropin(policy, resolved))
    {
        log::error!("the services' address walls: {error:#}");
        failed.get_or_insert_with(|| format!("{error:#}"));
    }
    failed.map_or(Ok(()), Err)
}

/// Writes the services' drop-ins and, when one changed, has the service manager read them.
fn write_walls(folder: &Path, reload: &[String], dropin: &str) -> anyhow::Result<()> {
    if firewall::write_dropins(folder, dropin)? {
        let (program, args) = reload.split_first().ok_or_else(|| anyhow::anyhow!("no reload command"))?;
        let status = std::process::Command::new(program).args(args).status()?;
        anyhow::ensure!(status.success(), "{} failed: {status}", reload.join(" "));
    }
    Ok(())
}
