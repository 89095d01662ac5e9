//! The database belongs to the `kiosk` user: what the agent (root) has written there, it has
//! written as that user, so that no root-owned file (a copy, a WAL) ever locks the app out.
//! Runs as root (as CI does); elsewhere it says it was skipped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use kiosk_agent::effects::{Database, Kioskctl, MenuImport};

/// The `nobody` user and group, standing in for `kiosk`.
const OWNER: u32 = 65534;

fn chown_all(path: &Path) {
    let status = std::process::Command::new("chown").arg("-R").arg(format!("{OWNER}:{OWNER}")).arg(path).status();
    assert!(status.unwrap().success());
}

fn owners(dir: &Path) -> Vec<(String, u32)> {
    let mut found: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), entry.metadata().unwrap().uid())
        })
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn the_agent_writes_the_database_as_its_owner() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: only root can write as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("kiosk.db");
    let ctl = Kioskctl {
        program: env!("CARGO_BIN_EXE_kioskctl").into(),
        db: db.clone(),
        device_config: data.join("kiosk.toml"),
        development: true,
    };
    // The kiosk user's database, made by the app (here kioskctl) before the agent comes.
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["--dev", "--db", db.to_str().unwrap(), "--config", data.join("kiosk.toml").to_str().unwrap(), "status"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    chown_all(&data);

    let menu_folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie");
    assert_eq!(ctl.import_menu(&menu_folder.join("menu.toml")).await.unwrap(), MenuImport::Imported);
    let backups = data.join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    chown_all(&backups);
    ctl.backup(&backups.join("kiosk-before-1.1.0.db")).await.unwrap();
    assert_eq!(ctl.day_status().await.unwrap().menu_version, Some(1));

    let root_owned: Vec<_> =
        [owners(&data), owners(&backups)].concat().into_iter().filter(|(_, uid)| *uid != OWNER).collect();
    assert!(root_owned.is_empty(), "files not the kiosk user's: {root_owned:?}");
    assert!(owners(&backups).iter().any(|(name, _)| name == "kiosk-before-1.1.0.db"));
}
