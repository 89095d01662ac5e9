//! The network allowlist, for real: two network namespaces of the test's own joined by a veth
//! pair, the kiosk on one side and two servers on the other (one listed, one not). With the
//! policy's ruleset loaded in the kiosk's namespace, the listed server answers and the other
//! cannot be reached; a broken ruleset is refused and the one in force stays. The host's own
//! network is never touched. Runs as root (as CI does); elsewhere it says it was skipped.

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_agent::firewall::{Resolved, apply, ruleset};
use kiosk_agent::policy::Policy;

/// Two namespaces and the servers in the far one, removed when dropped.
struct Namespaces {
    kiosk: String,
    far: String,
    servers: Vec<Child>,
}

fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().unwrap();
    assert!(output.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

impl Namespaces {
    fn new() -> Namespaces {
        let id = std::process::id();
        let spaces = Namespaces { kiosk: format!("kt-kiosk-{id}"), far: format!("kt-far-{id}"), servers: Vec::new() };
        let (near_link, far_link) = (format!("ktk{id}"), format!("ktf{id}"));
        ip(&["netns", "add", &spaces.kiosk]);
        ip(&["netns", "add", &spaces.far]);
        ip(&["link", "add", &near_link, "type", "veth", "peer", "name", &far_link]);
        ip(&["link", "set", &near_link, "netns", &spaces.kiosk]);
        ip(&["link", "set", &far_link, "netns", &spaces.far]);
        ip(&["-n", &spaces.kiosk, "addr", "add", "10.231.0.1/24", "dev", &near_link]);
        ip(&["-n", &spaces.far, "addr", "add", "10.231.0.2/24", "dev", &far_link]);
        ip(&["-n", &spaces.far, "addr", "add", "10.231.0.3/24", "dev", &far_link]);
        for (space, link) in [(&spaces.kiosk, &near_link), (&spaces.far, &far_link)] {
            ip(&["-n", space, "link", "set", link, "up"]);
            ip(&["-n", space, "link", "set", "lo", "up"]);
        }
        spaces
    }

    fn serve(&mut self, address: &str) {
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

    /// Whether a TCP connection from `space` to `address`:8080 opens within a second.
    fn reaches(&self, space: &str, address: &str) -> bool {
        let probe = "import socket, sys; socket.create_connection((sys.argv[1], 8080), timeout=1)";
        Command::new("ip")
            .args(["netns", "exec", space, "python3", "-c", probe, address])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    fn nft(&self) -> Vec<String> {
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
    }
}

#[test]
fn only_the_listed_targets_can_be_reached_and_a_broken_ruleset_changes_nothing() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let mut spaces = Namespaces::new();
    spaces.serve("10.231.0.2");
    spaces.serve("10.231.0.3");
    let kiosk = spaces.kiosk.clone();
    assert!(spaces.reaches(&kiosk, "10.231.0.2") && spaces.reaches(&kiosk, "10.231.0.3"), "open before the policy");

    let policy = Policy::parse("[[network.allow]]\nhost = \"10.231.0.2\"\nports = [8080]\n").unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    apply(&spaces.nft(), &ruleset(&policy, &Resolved::new()), scratch.path()).unwrap();
    println!("policy to ruleset in force: {} ms", started.elapsed().as_millis());
    assert!(spaces.reaches(&kiosk, "10.231.0.2"), "the listed server answers");
    assert!(!spaces.reaches(&kiosk, "10.231.0.3"), "the other cannot be reached");

    // A ruleset nft refuses: the error says why, and the one in force stays.
    let broken = ruleset(&policy, &Resolved::new()).replace("policy drop;", "policy sometimes;");
    let error = apply(&spaces.nft(), &broken, scratch.path()).unwrap_err();
    assert!(error.to_string().starts_with("the ruleset is refused, the previous one stays in force"), "{error}");
    assert!(spaces.reaches(&kiosk, "10.231.0.2") && !spaces.reaches(&kiosk, "10.231.0.3"));

    // A new policy replaces the table whole.
    let policy = Policy::parse("[[network.allow]]\nhost = \"10.231.0.3/32\"\nports = [8080]\n").unwrap();
    apply(&spaces.nft(), &ruleset(&policy, &Resolved::new()), scratch.path()).unwrap();
    assert!(!spaces.reaches(&kiosk, "10.231.0.2") && spaces.reaches(&kiosk, "10.231.0.3"));
    let tables = Command::new("ip").args(["netns", "exec", &kiosk, "nft", "list", "tables"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&tables.stdout).trim(), "table inet kiosk_agent", "one table, the agent's");
}
