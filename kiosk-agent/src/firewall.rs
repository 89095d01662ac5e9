//! The network allowlist: the policy rendered into an nftables ruleset in the agent's own table
//! (`inet kiosk_agent`): outbound traffic dropped unless it goes to loopback, belongs to a
//! connection already allowed, asks the configured resolvers, reaches the NTP servers or one of
//! the listed targets. Host names go into named sets, filled with the addresses they resolve
//! to. The file replaces the table in one `nft -f` transaction: a ruleset that does not load
//! changes nothing, and the previous one stays in force. The same addresses go into systemd
//! drop-ins (`IPAddressAllow=`) for the kiosk's own services, a second wall.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::policy::{Host, Policy, Protocol};

/// The table the agent owns; nothing else of the machine's ruleset is touched.
pub const TABLE: &str = "kiosk_agent";

/// Addresses a host name resolved to.
pub type Resolved = BTreeMap<String, Vec<IpAddr>>;

/// The host names a policy needs resolved (NTP servers and targets).
pub fn names(policy: &Policy) -> Vec<String> {
    let hosts = policy.network.ntp.iter().chain(policy.network.allow.iter().map(|target| &target.host));
    let mut names: Vec<String> = hosts
        .filter_map(|host| match Host::parse(host) {
            Ok(Host::Name(name)) => Some(name),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The addresses of `hosts` (names, addresses, networks) as nft set elements, IPv4 and IPv6.
fn elements(hosts: &[&str], resolved: &Resolved) -> (Vec<String>, Vec<String>) {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut push = |address: IpAddr, text: String| if address.is_ipv4() { v4.push(text) } else { v6.push(text) };
    for host in hosts {
        match Host::parse(host) {
            Ok(Host::Address(address)) => push(address, address.to_string()),
            Ok(Host::Network(address, length)) => push(address, format!("{address}/{length}")),
            Ok(Host::Name(name)) => {
                for address in resolved.get(&name).into_iter().flatten() {
                    push(*address, address.to_string());
                }
            }
            Err(_) => {}
        }
    }
    for list in [&mut v4, &mut v6] {
        list.sort();
        list.dedup();
    }
    (v4, v6)
}

fn set(out: &mut String, name: &str, family: &str, elements: &[String]) {
    let _ = writeln!(out, "\tset {name} {{\n\t\ttype {family}_addr\n\t\tflags interval");
    if !elements.is_empty() {
        let _ = writeln!(out, "\t\telements = {{ {} }}", elements.join(", "));
    }
    let _ = writeln!(out, "\t}}");
}

/// The ruleset for `policy`, host names replaced by the addresses in `resolved` (a name not
/// resolved yet allows nothing).
pub fn ruleset(policy: &Policy, resolved: &Resolved) -> String {
    let network = &policy.network;
    let mut sets = String::new();
    let mut rules = String::new();
    let mut allow = |name: &str, hosts: &[&str], protocol: Protocol, ports: &[u16], comment: &str| {
        let (v4, v6) = elements(hosts, resolved);
        set(&mut sets, &format!("{name}_v4"), "ipv4", &v4);
        set(&mut sets, &format!("{name}_v6"), "ipv6", &v6);
        let ports = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        for (family, suffix) in [("ip", "v4"), ("ip6", "v6")] {
            let _ = writeln!(
                rules,
                "\t\t{family} daddr @{name}_{suffix} {} dport {{ {ports} }} accept comment \"{comment}\"",
                protocol.name()
            );
        }
    };
    let resolvers: Vec<String> = network.resolvers.iter().map(IpAddr::to_string).collect();
    let resolvers: Vec<&str> = resolvers.iter().map(String::as_str).collect();
    allow("dns", &resolvers, Protocol::Udp, &[53], "DNS");
    allow("dns_tcp", &resolvers, Protocol::Tcp, &[53], "DNS over TCP");
    let ntp: Vec<&str> = network.ntp.iter().map(String::as_str).collect();
    allow("ntp", &ntp, Protocol::Udp, &[123], "NTP");
    for (index, target) in network.allow.iter().enumerate() {
        let comment = target.host.replace('"', "");
        allow(&format!("target_{index}"), &[target.host.as_str()], target.protocol, &target.ports, &comment);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Written by kiosk-agent from the policy: outbound traffic is dropped unless listed.");
    let _ = writeln!(out, "# This file replaces the table whole; the rest of the ruleset is left alone.");
    let _ = writeln!(out, "table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{");
    out.push_str(&sets);
    let _ = writeln!(out, "\tchain output {{\n\t\ttype filter hook output priority filter; policy drop;");
    let _ = writeln!(out, "\t\toifname \"lo\" accept\n\t\tct state established,related accept");
    out.push_str(&rules);
    let _ = writeln!(out, "\t\tcounter comment \"dropped: not in the policy\"\n\t}}\n}}");
    out
}

/// The systemd units the second wall goes to: each may reach only loopback and what the
/// policy lists, whatever the nftables ruleset says.
pub const WALLED_UNITS: &[&str] = &["kiosk-app.service", "kiosk-agent.service"];

/// A drop-in for a unit: `IPAddressDeny=any`, then loopback and every address and network the
/// policy lists (host names as resolved now).
pub fn unit_dropin(policy: &Policy, resolved: &Resolved) -> String {
    let network = &policy.network;
    let resolvers: Vec<String> = network.resolvers.iter().map(IpAddr::to_string).collect();
    let hosts: Vec<&str> = resolvers
        .iter()
        .map(String::as_str)
        .chain(network.ntp.iter().map(String::as_str))
        .chain(network.allow.iter().map(|target| target.host.as_str()))
        .collect();
    let (v4, v6) = elements(&hosts, resolved);
    let mut out =
        String::from("# Written by kiosk-agent from the policy: a second wall behind the nftables allowlist.\n");
    out.push_str("[Service]\nIPAddressDeny=any\nIPAddressAllow=localhost\n");
    for address in v4.iter().chain(&v6) {
        let _ = writeln!(out, "IPAddressAllow={address}");
    }
    out
}

/// Writes the drop-in of every walled unit under `systemd` (`/etc/systemd/system`); true when
/// one changed (the service manager then reloads, and the units take it at their next start).
pub fn write_dropins(systemd: &Path, dropin: &str) -> Result<bool> {
    let mut changed = false;
    for unit in WALLED_UNITS {
        let folder = systemd.join(format!("{unit}.d"));
        let path = folder.join("50-kiosk-allowlist.conf");
        if std::fs::read_to_string(&path).is_ok_and(|text| text == dropin) {
            continue;
        }
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        crate::releases::write_atomically(&path, dropin.as_bytes())?;
        changed = true;
    }
    Ok(changed)
}

/// Loads `ruleset` with `nft -f` (through `nft`, a command and its leading arguments, so that
/// tests run it in a network namespace of their own): checked first, then applied in one
/// transaction. On any error nothing changed, and the error says what nft said.
pub fn apply(nft: &[String], ruleset: &str, scratch: &Path) -> Result<()> {
    let file = scratch.join("kiosk-agent.nft");
    std::fs::write(&file, ruleset).with_context(|| format!("cannot write {}", file.display()))?;
    for check in [true, false] {
        let (program, args) = nft.split_first().context("no nft command")?;
        let mut command = std::process::Command::new(program);
        command.args(args);
        if check {
            command.arg("--check");
        }
        let output = command.arg("--file").arg(&file).output().with_context(|| format!("cannot run {program}"))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            bail!("the ruleset is refused, the previous one stays in force: {}", said.trim());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_get_the_same_wall_as_a_drop_in() {
        let policy = Policy::parse(
            "[network]\nresolvers = [\"10.0.0.53\"]\n[[network.allow]]\nhost = \"terminal.venue.lan\"\nports = [8443]\n\
             [[network.allow]]\nhost = \"10.20.0.0/16\"\nports = [9100]\n",
        )
        .unwrap();
        let mut resolved = Resolved::new();
        resolved.insert("terminal.venue.lan".into(), vec!["10.1.2.3".parse().unwrap()]);
        let dropin = unit_dropin(&policy, &resolved);
        assert_eq!(
            dropin,
            "# Written by kiosk-agent from the policy: a second wall behind the nftables allowlist.\n[Service]\n\
             IPAddressDeny=any\nIPAddressAllow=localhost\nIPAddressAllow=10.0.0.53\nIPAddressAllow=10.1.2.3\n\
             IPAddressAllow=10.20.0.0/16\n"
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(write_dropins(dir.path(), &dropin).unwrap(), "written");
        assert!(!write_dropins(dir.path(), &dropin).unwrap(), "unchanged: no reload");
        let written = std::fs::read_to_string(dir.path().join("kiosk-app.service.d/50-kiosk-allowlist.conf")).unwrap();
        assert_eq!(written, dropin);
        assert!(dir.path().join("kiosk-agent.service.d/50-kiosk-allowlist.conf").is_file());
    }

    #[test]
    fn a_policy_renders_to_this_ruleset() {
        let policy = Policy::parse(crate::policy::EXAMPLE).unwrap();
        let mut resolved = Resolved::new();
        resolved.insert("terminal.venue.lan".into(), vec!["10.1.2.3".parse().unwrap(), "fd00::3".parse().unwrap()]);
        assert_eq!(names(&policy), ["ntp.example.net", "terminal.venue.lan"]);
        let rendered = ruleset(&policy, &resolved);
        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/ruleset.nft");
        if std::env::var_os("KIOSK_UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&snapshot, &rendered).unwrap();
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap();
        assert_eq!(rendered, expected, "the ruleset changed: if meant, run again with KIOSK_UPDATE_SNAPSHOTS=1");
    }
}
