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

/// "pid:start time" of a process; the start time (in clock ticks since boot) tells a process
/// from a later one that got the same pid.
fn identity(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_time = after_name.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start_time}"))
}

/// This boot's id, as the kernel draws it at each boot; `None` where /proc hides it.
fn boot_id() -> Option<&'static str> {
    static BOOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|id| id.trim().to_owned()))
        .as_deref()
}

/// A new owner name for an engine of this process: "pid:start time:engine number:boot id".
/// The boot's id tells this process from one of an earlier boot with the same pid and start
/// tick (a power cut leaves owners behind, and a boot much like the last may reuse both); it
/// comes last so that a release reading only the first two fields still understands it.
pub(crate) fn new_owner() -> String {
    static ENGINES: AtomicU64 = AtomicU64::new(0);
    let process = identity(std::process::id()).unwrap_or_else(|| format!("{}:unknown", std::process::id()));
    let engine = ENGINES.fetch_add(1, Ordering::Relaxed);
    match boot_id() {
        Some(boot) => format!("{process}:{engine}:{boot}"),
        None => format!("{process}:{engine}"),
    }
}

/// Whether the process of an owner name is still running: same pid and start tick, and the
/// same boot when both the owner and this process know theirs.
pub(crate) fn is_running(owner: &str) -> bool {
    let mut parts = owner.splitn(4, ':');
    let (Some(pid), Some(start)) = (parts.next(), parts.next()) else { return false };
    let owner_boot = parts.nth(1);
    if owner_boot.zip(boot_id()).is_some_and(|(theirs, ours)| theirs != ours) {
        return false;
    }
    let Ok(pid) = pid.parse() else { return false };
    identity(pid).is_some_and(|now| now == format!("{pid}:{start}"))
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
        assert!(!is_running(&format!("{}:0", std::process::id())));
        // This very process, named as an earlier release named it (no boot id): running.
        let this = new_owner();
        let without_boot: String = this.splitn(4, ':').take(3).collect::<Vec<_>>().join(":");
        assert!(is_running(&without_boot), "{without_boot}");
        // And as a process of an earlier boot would have been named: not running.
        if let Some(boot) = boot_id() {
            let earlier_boot = this.replace(boot, "00000000-0000-0000-0000-000000000000");
            assert!(!is_running(&earlier_boot), "{earlier_boot}");
        }
    }
}
