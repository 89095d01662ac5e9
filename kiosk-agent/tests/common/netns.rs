//! Two network namespaces of a test's own joined by a veth pair: the kiosk on one side
//! (10.231.0.1), servers on the other (10.231.0.2 to .5: HTTP on port 8080, and a small DNS
//! server). The host's own network is never touched; everything is removed when dropped
//! (the kiosk's `/etc/netns/<name>/resolv.conf` included). Needs root.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Two namespaces and the servers in the far one, removed when dropped.
pub struct Namespaces {
    pub kiosk: String,
    pub far: String,
    servers: Vec<Child>,
}

fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().unwrap();
    assert!(output.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

impl Namespaces {
    pub fn new() -> Namespaces {
        // Unique per test in this process too: tests run side by side.
        static CREATED: AtomicU32 = AtomicU32::new(0);
        let id = format!("{}{}", std::process::id(), CREATED.fetch_add(1, Ordering::SeqCst));
        let spaces = Namespaces { kiosk: format!("kt-kiosk-{id}"), far: format!("kt-far-{id}"), servers: Vec::new() };
        let (near_link, far_link) = (format!("ktk{id}"), format!("ktf{id}"));
        ip(&["netns", "add", &spaces.kiosk]);
        ip(&["netns", "add", &spaces.far]);
        ip(&["link", "add", &near_link, "type", "veth", "peer", "name", &far_link]);
        ip(&["link", "set", &near_link, "netns", &spaces.kiosk]);
        ip(&["link", "set", &far_link, "netns", &spaces.far]);
        ip(&["-n", &spaces.kiosk, "addr", "add", "10.231.0.1/24", "dev", &near_link]);
        ip(&["-n", &spaces.far, "addr", "add", "10.231.0.2/24", "dev", &far_link]);
        for address in ["10.231.0.3/24", "10.231.0.4/24", "10.231.0.5/24"] {
            ip(&["-n", &spaces.far, "addr", "add", address, "dev", &far_link]);
        }
        for (space, link) in [(&spaces.kiosk, &near_link), (&spaces.far, &far_link)] {
            ip(&["-n", space, "link", "set", link, "up"]);
            ip(&["-n", space, "link", "set", "lo", "up"]);
        }
        spaces
    }

    pub fn serve(&mut self, address: &str) {
        let server = Command::new("ip")
            .args(["netns", "exec", &self.far, "python3", "-m", "http.server", "8080", "--bind", address])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.servers.push(server);
        let started = Instant::now();
        while !self.reaches(&self.far.clone(), address) {
            assert!(started.elapsed() < Duration::from_secs(10), "the server on {address} never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Serves the names of `records` (a JSON file, see `dns_server.py`) on `address`:53, and
    /// makes it the kiosk namespace's resolver for the programs run in it.
    pub fn serve_dns(&mut self, address: &str, records: &Path) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/dns_server.py");
        let server = Command::new("ip")
            .args(["netns", "exec", &self.far, "python3"])
            .arg(script)
            .arg(address)
            .arg(records)
            .spawn()
            .unwrap();
        self.servers.push(server);
        let folder = Path::new("/etc/netns").join(&self.kiosk);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("resolv.conf"), format!("nameserver {address}\noptions timeout:1 attempts:1\n"))
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Whether a TCP connection from `space` to `address` (or a name), port 8080, opens within
    /// a second.
    pub fn reaches(&self, space: &str, address: &str) -> bool {
        let probe = "import socket, sys; socket.create_connection((sys.argv[1], 8080), timeout=1)";
        Command::new("ip")
            .args(["netns", "exec", space, "python3", "-c", probe, address])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    pub fn nft(&self) -> Vec<String> {
        ["ip", "netns", "exec", &self.kiosk, "nft"].map(str::to_owned).to_vec()
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
        for space in [&self.kiosk, &self.far] {
            let _ = Command::new("ip").args(["netns", "del", space]).status();
        }
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.kiosk));
    }
}
