//! The kiosk app's composition root. The Slint touch UI arrives with its own issue; until
//! then this shell does what the app will do at start: read the device config, open the
//! engine (which first resolves payments left in doubt), make sure a menu is in use, and
//! report what the screen would show.
//!
//! Environment: `KIOSK_DB` (default `kiosk-data/kiosk.db`), `KIOSK_CONFIG` (default
//! `/etc/kiosk/kiosk.toml`), `KIOSK_MENU` (menu imported when none is in use, default the
//! demo brasserie).

use std::path::PathBuf;

use anyhow::{Context, Result};
use kiosk_devices::terminal::SimOutcome;
use kiosk_engine::{Engine, EngineError, EngineOptions, load_device_config};

fn setting(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    kiosk_engine::logging::init_stderr(log::LevelFilter::Info);
    let db = setting("KIOSK_DB", "kiosk-data/kiosk.db");
    let device = load_device_config(&setting("KIOSK_CONFIG", "/etc/kiosk/kiosk.toml"))?;
    let ledger = db.with_file_name("sim-terminal.jsonl");
    let timeout = std::time::Duration::from_secs(device.terminal_timeout_seconds);
    let terminal =
        kiosk_devices::terminal::open(&device.terminal, &device.kiosk_id, timeout, &ledger, SimOutcome::Approve)?;
    let printers = kiosk_devices::printer::open_printers(&device.printing.printers);
    let mut options = EngineOptions::new(&db, device, terminal);
    options.printers = printers;
    let (engine, recovery) =
        Engine::open(options).await.with_context(|| format!("cannot open the kiosk database {}", db.display()))?;
    log::info!("payments resolved at start: {recovery:?}");
    let menu = match engine.active_menu().await {
        Err(EngineError::NoMenu) => {
            let file = setting("KIOSK_MENU", "menus/brasserie/menu.toml");
            engine.import_menu(&file).await?;
            engine.active_menu().await?
        }
        other => other?,
    };
    let venue = &menu.menu.venue;
    let language = venue.languages.first().map_or("", String::as_str);
    println!(
        "kiosk {} ready: {} — menu version {} ({} items, {} combos), database {}",
        engine.device().kiosk_id,
        venue.name.get(language),
        menu.version,
        menu.menu.items.len(),
        menu.menu.combos.len(),
        db.display()
    );
    println!("the touch screen is not built yet; order from the command line with kioskctl (see README.md)");
    Ok(())
}
