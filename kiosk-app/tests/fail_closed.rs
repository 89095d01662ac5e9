//! The touch app refuses to start without a device config naming a real terminal, before it
//! opens a database or a window: a kiosk never sells on a simulator by accident.

use std::process::Command;

#[test]
fn the_app_refuses_to_start_without_a_real_device_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(dir.path().join("kiosk.db"))
            // A display is there: what stops the app is the config, not the missing window.
            .env("DISPLAY", ":99")
            .output()
            .unwrap()
    };
    let missing = start();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains(&format!("no device config at {}", config.display())), "{stderr}");
    assert!(stderr.contains("--dev"), "says how to run a development kiosk: {stderr}");

    std::fs::write(&config, kiosk_engine::kiosk_core::config::DEVELOPMENT_CONFIG).unwrap();
    let simulated = start();
    let stderr = String::from_utf8_lossy(&simulated.stderr);
    assert!(!simulated.status.success());
    assert!(stderr.contains("kind \"sim\" is the simulator"), "{stderr}");
    assert!(!dir.path().join("kiosk.db").exists(), "no database was opened");
}
