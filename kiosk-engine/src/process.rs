//! Which process owns a payment attempt, and whether it still runs. The app, the agent and
//! `kioskctl` share one database on one device; a process resolving unresolved payments at
//! start must leave alone those another running process is still carrying out. (And the
//! kernel's randomness, for keys and salts.)

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes from the kernel's random source.
pub(crate) fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::io::Read::read_exact(&mut fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes)
}

/// "boot:pid:start time" of a process: the start time (in clock ticks since boot) tells a
/// process from a later one that got the same pid, and the boot's id one of an earlier boot
/// (a power cut leaves owners behind, and a boot much like the last may reuse pid and tick).
fn identity(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_time = after_name.split_whitespace().nth(19)?;
    Some(format!("{}:{pid}:{start_time}", boot_id()))
}

/// This boot's id, as the kernel draws it at each boot.
fn boot_id() -> &'static str {
    static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map_or_else(|_| "unknown".to_owned(), |id| id.trim().to_owned())
    })
}

/// A new owner name for an engine of this process: "boot:pid:start time:engine number".
pub(crate) fn new_owner() -> String {
    static ENGINES: AtomicU64 = AtomicU64::new(0);
    let process =
        identity(std::process::id()).unwrap_or_else(|| format!("{}:{}:unknown", boot_id(), std::process::id()));
    format!("{process}:{}", ENGINES.fetch_add(1, Ordering::Relaxed))
}

/// Whether the process of an owner name is still running (in this boot).
pub(crate) fn is_running(owner: &str) -> bool {
    let mut parts = owner.splitn(4, ':');
    let (Some(boot), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Ok(pid) = pid.parse() else { return false };
    identity(pid).is_some_and(|now| now == format!("{boot}:{pid}:{start}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_a_finished_one_does_not() {
        assert!(is_running(&new_owner()));
        assert_ne!(new_owner(), new_owner(), "each engine has its own name");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let owner = identity(pid);
        child.wait().unwrap();
        if let Some(owner) = owner {
            assert!(!is_running(&owner));
        }
        assert!(!is_running("garbage"));
        assert!(!is_running(&format!("{}:{}:0", boot_id(), std::process::id())));
        // This very process, as a process of an earlier boot would have been named.
        let this = new_owner();
        let earlier_boot = this.replacen(boot_id(), "00000000-0000-0000-0000-000000000000", 1);
        assert!(!is_running(&earlier_boot), "{earlier_boot}");
    }
}
