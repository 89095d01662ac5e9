//! The escape routes out of the kiosk app, checked closed: no login prompt on any virtual
//! terminal, Ctrl+Alt+Del and SysRq off, and no shell for the kiosk's user. Each open one is
//! named, for the logs and the heartbeat. The files are read under a root folder, `/` on a
//! device and a fake tree in the tests (the image's boot test proves the real ones).

use std::path::Path;

pub use kiosk_protocol::EscapeRoute;

/// Shells a kiosk user must not have.
const NO_LOGIN: &[&str] = &["/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"];

/// Terminal emulators and desktop shells that must not be installed.
const TERMINALS: &[&str] = &["xterm", "gnome-terminal", "konsole", "xfce4-terminal", "lxterminal", "foot", "alacritty"];

/// Checks every escape route under `root`; `kiosk_user` is the account the app runs as.
pub fn check(root: &Path, kiosk_user: &str) -> Vec<EscapeRoute> {
    let read = |path: &str| std::fs::read_to_string(root.join(path.trim_start_matches('/'))).ok();
    let masked = |unit: &str| {
        std::fs::read_link(root.join("etc/systemd/system").join(unit))
            .is_ok_and(|target| target == Path::new("/dev/null"))
    };
    let route = |name: &str, open: bool, detail: String| EscapeRoute { name: name.into(), open, detail };
    let mut routes = Vec::new();

    let gettys: Vec<String> = std::fs::read_dir(root.join("etc/systemd/system/getty.target.wants"))
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let logind = logind_settings(root);
    let auto_vts = logind.iter().rev().find_map(|(key, value)| (key == "NAutoVTs").then(|| value.clone()));
    let reserve_vt = logind.iter().rev().find_map(|(key, value)| (key == "ReserveVT").then(|| value.clone()));
    let getty_open = !gettys.is_empty()
        || !masked("getty@.service") && auto_vts.as_deref() != Some("0")
        || reserve_vt.as_deref().is_some_and(|vt| vt != "0");
    routes.push(route(
        "login prompt on a virtual terminal",
        getty_open,
        format!(
            "getty units enabled: {gettys:?}; getty@.service masked: {}; logind NAutoVTs={} ReserveVT={}",
            masked("getty@.service"),
            auto_vts.as_deref().unwrap_or("6 (default)"),
            reserve_vt.as_deref().unwrap_or("6 (default)")
        ),
    ));

    let ctrl_alt_del_masked = masked("ctrl-alt-del.target");
    routes.push(route(
        "Ctrl+Alt+Del",
        !ctrl_alt_del_masked,
        format!("ctrl-alt-del.target masked: {ctrl_alt_del_masked}"),
    ));

    let sysrq = read("/proc/sys/kernel/sysrq").map(|text| text.trim().to_owned());
    routes.push(route(
        "SysRq",
        sysrq.as_deref() != Some("0"),
        format!("kernel.sysrq = {}", sysrq.as_deref().unwrap_or("unreadable")),
    ));

    let shell = read("/etc/passwd").and_then(|passwd| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&kiosk_user)).then(|| fields.get(6).unwrap_or(&"").to_string())
        })
    });
    routes.push(route(
        "a shell for the kiosk user",
        shell.as_deref().is_none_or(|shell| !NO_LOGIN.contains(&shell)),
        format!("{kiosk_user}'s shell: {}", shell.as_deref().unwrap_or("no such user")),
    ));

    let installed: Vec<&str> =
        TERMINALS.iter().copied().filter(|name| root.join("usr/bin").join(name).exists()).collect();
    routes.push(route("a terminal emulator", !installed.is_empty(), format!("installed: {installed:?}")));
    routes
}

/// `key=value` lines of logind.conf and its drop-ins, in the order systemd reads them.
fn logind_settings(root: &Path) -> Vec<(String, String)> {
    let mut files = vec![root.join("etc/systemd/logind.conf")];
    if let Ok(entries) = std::fs::read_dir(root.join("etc/systemd/logind.conf.d")) {
        let mut dropins: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dropins.sort();
        files.extend(dropins);
    }
    files
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|line| !line.trim_start().starts_with('#'))
                .filter_map(|line| line.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn mask(root: &Path, unit: &str) {
        std::fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
        std::os::unix::fs::symlink("/dev/null", root.join("etc/systemd/system").join(unit)).unwrap();
    }

    fn open(routes: &[EscapeRoute]) -> Vec<&str> {
        routes.iter().filter(|route| route.open).map(|route| route.name.as_str()).collect()
    }

    #[test]
    fn a_locked_down_tree_has_no_route_open() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(root, "etc/systemd/logind.conf.d/kiosk.conf", "[Login]\nNAutoVTs=0\nReserveVT=0\n");
        mask(root, "getty@.service");
        mask(root, "ctrl-alt-del.target");
        write(root, "proc/sys/kernel/sysrq", "0\n");
        write(
            root,
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\nkiosk:x:990:990::/var/lib/kiosk:/usr/sbin/nologin\n",
        );
        let routes = check(root, "kiosk");
        assert!(open(&routes).is_empty(), "{routes:#?}");
    }

    #[test]
    fn a_desktop_debian_has_every_route_open() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(root, "etc/systemd/system/getty.target.wants/getty@tty1.service", "");
        write(root, "proc/sys/kernel/sysrq", "438\n");
        write(root, "etc/passwd", "kiosk:x:1000:1000::/home/kiosk:/bin/bash\n");
        write(root, "usr/bin/xterm", "");
        let routes = check(root, "kiosk");
        assert_eq!(
            open(&routes),
            [
                "login prompt on a virtual terminal",
                "Ctrl+Alt+Del",
                "SysRq",
                "a shell for the kiosk user",
                "a terminal emulator"
            ]
        );
        assert!(routes[2].detail.contains("kernel.sysrq = 438"), "{:?}", routes[2]);
        assert!(routes[3].detail.contains("/bin/bash"));
    }

    #[test]
    fn a_later_logind_drop_in_wins() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write(root, "etc/systemd/logind.conf.d/10-kiosk.conf", "[Login]\nNAutoVTs=0\nReserveVT=0\n");
        write(root, "etc/systemd/logind.conf.d/20-vendor.conf", "[Login]\nReserveVT=6\n");
        mask(root, "getty@.service");
        assert!(open(&check(root, "kiosk")).contains(&"login prompt on a virtual terminal"));
    }
}
