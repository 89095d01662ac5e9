//! Updates end to end on loopback, with the real app: IT publishes into a signed repository
//! served over HTTP; the agent finds each release, verifies it, installs it beside the running
//! one, restarts the app and commits it once the app passes its health gate, or rolls it back
//! by itself; a menu push changes a price the app then quotes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    Device, Repo, Supervisor, app_binary, app_release, app_socket, migrating_then_crashing_binary, v, wait_for_state,
};
use kiosk_agent::archive::Entry;
use kiosk_agent::catalog::Kind;
use kiosk_agent::effects::{AppLink, Kioskctl, ServiceManager};
use kiosk_agent::updater::Outcome;
use kiosk_engine::kiosk_core::money::Money;
use kiosk_protocol::{Answer, Command};
use kiosk_tests::http_server::StaticServer;

const PATIENCE: Duration = Duration::from_secs(20);

async fn test_order_price(app: &dyn AppLink) -> String {
    match app.ask(Command::SelfCheck).await.unwrap() {
        Answer::SelfCheck(report) => report.test_order.detail,
        other => panic!("a self check, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_are_installed_committed_or_rolled_back_and_menus_pushed() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let repo = Repo::create(dir.path()).await;
    let server = StaticServer::start(repo.dir.clone()).await;
    let device = Device::new(dir.path());

    // The image ships release 1.0.0, also published; the app runs it.
    let first = app_release(&scratch, "1.0.0", &app_binary());
    repo.add(Kind::App, "1.0.0", &first).await;
    device.install_as_image("1.0.0", &first);
    let services = Arc::new(Supervisor::new(&device.dir));
    let app = Arc::new(app_socket(&device.dir));
    services.restart_app().await.unwrap();
    assert_eq!(wait_for_state(&*app, PATIENCE).await.expect("release 1.0.0 starts").release, "1.0.0");

    let config = device.config(&server.url, &repo.root_of_trust(), 10);
    let database = Arc::new(Kioskctl {
        program: env!("CARGO_BIN_EXE_kioskctl").into(),
        db: config.paths.db.clone(),
        device_config: config.paths.device_config.clone(),
        development: true,
    });
    let updater = device.updater(config, &repo.root_of_trust(), services.clone(), app.clone(), database);

    // Nothing new: the timestamp is asked for conditionally, and nothing is downloaded.
    let report = updater.poll().await;
    assert_eq!(report.outcomes.get(&Kind::App), Some(&Outcome::UpToDate { version: v("1.0.0") }));
    server.clear_log();
    updater.poll().await;
    let timestamps: Vec<u16> =
        server.served().iter().filter(|s| s.path.ends_with("timestamp.json")).map(|s| s.status).collect();
    assert_eq!(timestamps, [304], "an unchanged repository costs a 304");
    assert!(server.served().iter().all(|s| !s.path.contains("/targets/")), "{:?}", server.served());

    // Release 1.1.0, a small change: downloaded as a delta, installed, gated, committed.
    repo.add(Kind::App, "1.1.0", &app_release(&scratch, "1.1.0", &app_binary())).await;
    let full = repo.target_length("app-1.1.0.tar.zst");
    let report = updater.poll().await;
    let Some(Outcome::Installed { version, downloaded }) = report.outcomes.get(&Kind::App) else {
        panic!("release 1.1.0 installed: {report:?}");
    };
    assert_eq!(version, &v("1.1.0"));
    assert!(*downloaded < full / 20, "a delta of {downloaded} bytes against the whole {full}");
    assert_eq!(wait_for_state(&*app, PATIENCE).await.unwrap().release, "1.1.0");
    let state = device.releases().state().unwrap();
    assert_eq!((state.committed.as_str(), state.previous.as_ref().map(|p| p.as_str())), ("1.1.0", Some("1.0.0")));
    assert_eq!(device.releases().current().unwrap(), v("1.1.0"));
    assert!(device.dir.join("backups/kiosk-before-1.1.0.db").is_file(), "the database is backed up first");

    // Release 1.2.0 migrates the database, then cannot start: the gate fails, and 1.1.0 serves
    // again by itself, on the schema 1.2.0 left.
    repo.add(Kind::App, "1.2.0", &app_release(&scratch, "1.2.0", &migrating_then_crashing_binary(&scratch))).await;
    let report = updater.poll().await;
    let Some(Outcome::RolledBack { version, why }) = report.outcomes.get(&Kind::App) else {
        panic!("release 1.2.0 rolled back: {report:?}");
    };
    assert_eq!(version, &v("1.2.0"));
    assert!(why.contains("did not pass its health gate"), "{why}");
    assert_eq!(wait_for_state(&*app, PATIENCE).await.unwrap().release, "1.1.0");
    assert_eq!(device.releases().current().unwrap(), v("1.1.0"));
    let migrated = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM sqlite_master WHERE name = 'loyalty_cards'\").fetchone()[0])")
        .arg(device.dir.join("kiosk.db"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&migrated.stdout).trim(), "1", "1.2.0's migration stays, and 1.1.0 runs on it");
    let state = device.releases().state().unwrap();
    assert_eq!(state.committed, v("1.1.0"));
    assert!(state.failed.contains_key("1.2.0"));
    let report = updater.poll().await;
    assert!(matches!(report.outcomes.get(&Kind::App), Some(Outcome::FailedBefore { .. })), "not tried again");

    // A menu push: whatever the self check prices at this hour (the demo menu has breakfast,
    // lunch and all-day items), everything at that price costs 0.70 more, and the app quotes
    // the new price at once.
    let before = test_order_price(&*app).await;
    let after = (Money::parse_price(&before).unwrap() + Money::parse_price("0.70").unwrap()).to_string();
    let menu_dir = scratch.join("menu");
    std::fs::create_dir_all(&menu_dir).unwrap();
    for image in std::fs::read_dir(common::workspace("menus/brasserie/images")).unwrap() {
        let image = image.unwrap().path();
        std::fs::create_dir_all(menu_dir.join("images")).unwrap();
        std::fs::copy(&image, menu_dir.join("images").join(image.file_name().unwrap())).unwrap();
    }
    let menu = std::fs::read_to_string(common::workspace("menus/brasserie/menu.toml")).unwrap();
    let (old_price, new_price) = (format!("price = \"{before}\""), format!("price = \"{after}\""));
    assert!(menu.contains(&old_price), "the quoted {before} is a price in the menu");
    std::fs::write(menu_dir.join("menu.toml"), menu.replace(&old_price, &new_price)).unwrap();
    repo.add(Kind::Menu, "2026.12.1", &Entry::folder(&menu_dir, std::path::Path::new("")).unwrap()).await;
    let report = updater.poll().await;
    assert!(
        matches!(report.outcomes.get(&Kind::Menu), Some(Outcome::Installed { .. })),
        "the menu is imported: {report:?}"
    );
    assert_eq!(test_order_price(&*app).await, after);
    services.stop();
}
