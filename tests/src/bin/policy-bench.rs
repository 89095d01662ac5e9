//! The lockdown figure, printed: a new policy enforced end to end (names resolved, the
//! allowlist loaded with nft in a network namespace of its own, USB through a fake sysfs,
//! Wi-Fi profiles, the services' drop-ins), median of 20. Needs root (a namespace).
//! Usage: `cargo build --release -p kiosk-tests --bins && sudo target/release/policy-bench`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use kiosk_agent::dns::Names;
use kiosk_agent::effects::{Database, MenuImport};
use kiosk_agent::lockdown::{Enforcement, enforce, load};

/// The database is not what this measures: provisioning answers at once.
#[derive(Debug)]
struct NoDatabase;

#[async_trait::async_trait]
impl Database for NoDatabase {
    async fn backup(&self, _: &std::path::Path) -> Result<()> {
        Ok(())
    }
    async fn import_menu(&self, _: &std::path::Path) -> Result<MenuImport> {
        Ok(MenuImport::Imported)
    }
    async fn day_status(&self) -> Result<kiosk_engine::kiosk_core::status::DayStatus> {
        anyhow::bail!("not measured")
    }
    async fn provision_staff(&self, _: &std::path::Path) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    async fn fiscal_archive(&self, _: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
        anyhow::bail!("not measured")
    }
}

const POLICY: &str = r#"
[network]
resolvers = ["10.0.0.53"]
ntp = ["localhost"]
[[network.allow]]
host = "localhost"
ports = [8443]
[[network.allow]]
host = "10.20.0.0/16"
ports = [9100, 9101]
[web]
allow = ["https://fleet.example.com/api/"]
[usb]
enforce = true
allow_classes = ["printer", "hid"]
[[wifi.trusted]]
ssid = "Venue-Kiosks"
passphrase = "correct horse battery"
"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let space = format!("kt-policy-{}", std::process::id());
    let created = Command::new("ip").args(["netns", "add", &space]).status().context("cannot run ip")?;
    ensure!(created.success(), "cannot create a network namespace: run as root");
    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY)?;
    let sysfs = dir.path().join("sys");
    for (device, class) in [("1-1", "07"), ("1-2", "08")] {
        std::fs::create_dir_all(sysfs.join(device))?;
        std::fs::create_dir_all(sysfs.join(format!("{device}:1.0")))?;
        for (file, text) in [("idVendor", "04b8"), ("idProduct", "0202"), ("authorized", "1")] {
            std::fs::write(sysfs.join(device).join(file), text)?;
        }
        std::fs::write(sysfs.join(format!("{device}:1.0/bInterfaceClass")), class)?;
    }
    let enforcement = Enforcement {
        nft: Some(["ip", "netns", "exec", &space, "nft"].map(str::to_owned).to_vec()),
        usb_sysfs: Some(sysfs),
        wifi_profiles: Some(dir.path().join("iwd")),
        systemd: Some((dir.path().join("systemd"), vec!["true".into()])),
        scratch: dir.path().to_owned(),
        ..Enforcement::default()
    };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let loaded = load(&policy).map_err(anyhow::Error::msg)?;
        let mut names = Names::default();
        names.refresh(&kiosk_agent::firewall::names(&loaded), &loaded.network.resolvers).await;
        let status = enforce(&loaded, &policy, &names.resolved(), &enforcement, &NoDatabase).await;
        times.push(started.elapsed());
        ensure!(status.firewall_error.is_none() && status.policy_error.is_none(), "{status:?}");
    }
    let _ = Command::new("ip").args(["netns", "del", &space]).status();
    times.sort();
    println!(
        "a new policy enforced end to end: median {} ms, slowest {} ms (target < 1 s)",
        times[times.len() / 2].as_millis(),
        times[times.len() - 1].as_millis()
    );
    Ok(())
}
