//! The network allowlist, for real: two network namespaces of the test's own joined by a veth
//! pair, the kiosk on one side and two servers on the other (one listed, one not). With the
//! policy's ruleset loaded in the kiosk's namespace, the listed server answers and the other
//! cannot be reached; a broken ruleset is refused and the one in force stays. The host's own
//! network is never touched. Runs as root (as CI does); elsewhere it says it was skipped.

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Instant;

use common::netns::Namespaces;
use kiosk_agent::firewall::{Resolved, apply, ruleset};
use kiosk_agent::policy::Policy;

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
