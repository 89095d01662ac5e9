//! The policy's host names, followed: resolved through the policy's resolvers (the system's,
//! `/etc/resolv.conf`, when it lists none) and resolved again when their TTL runs out, so that
//! a target whose address moves (a cloud payment gateway, a CDN) stays reachable and its old
//! address does not stay open. A name that cannot be resolved keeps the addresses it had
//! (a DNS hiccup never cuts the kiosk off its terminal) and is tried again soon.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use tokio::time::Instant;

use crate::firewall::Resolved;

/// The shortest wait before a name is resolved again, whatever its TTL says (a TTL of 0 would
/// have the agent ask all the time).
pub const SHORTEST_REFRESH: Duration = Duration::from_secs(5);
/// The longest: a name is asked again at least this often.
pub const LONGEST_REFRESH: Duration = Duration::from_secs(3600);
/// After a failed lookup.
pub const RETRY: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
struct Entry {
    addresses: Vec<IpAddr>,
    refresh_at: Instant,
}

/// The names being followed, with their addresses and when each is due again.
#[derive(Clone, Debug, Default)]
pub struct Names {
    entries: BTreeMap<String, Entry>,
}

impl Names {
    /// Follows `names` (those of the policy in force; the others are dropped) and resolves the
    /// ones due now through `resolvers`; true when an address changed.
    pub async fn refresh(&mut self, names: &[String], resolvers: &[IpAddr]) -> bool {
        let before = self.resolved();
        self.entries.retain(|name, _| names.contains(name));
        let now = Instant::now();
        let due: Vec<&String> =
            names.iter().filter(|name| self.entries.get(*name).is_none_or(|entry| entry.refresh_at <= now)).collect();
        if due.is_empty() {
            return false;
        }
        let resolver = match resolver(resolvers) {
            Ok(resolver) => resolver,
            Err(error) => {
                log::error!("no resolver for the policy's host names: {error}");
                for name in due {
                    self.retry(name, now);
                }
                return self.resolved() != before;
            }
        };
        for name in due {
            match resolver.lookup_ip(name.as_str()).await {
                Ok(lookup) => {
                    let mut addresses: Vec<IpAddr> = lookup.iter().collect();
                    addresses.sort();
                    addresses.dedup();
                    let ttl = lookup.valid_until().saturating_duration_since(std::time::Instant::now());
                    let refresh_at = now + ttl.clamp(SHORTEST_REFRESH, LONGEST_REFRESH);
                    self.entries.insert(name.clone(), Entry { addresses, refresh_at });
                }
                Err(error) => {
                    log::warn!("{name} does not resolve now ({error}): it keeps what it had, tried again soon");
                    self.retry(name, now);
                }
            }
        }
        let after = self.resolved();
        if after != before {
            log::info!("the policy's host names moved: {after:?}");
        }
        after != before
    }

    fn retry(&mut self, name: &str, now: Instant) {
        let entry = self.entries.entry(name.to_owned()).or_insert(Entry { addresses: Vec::new(), refresh_at: now });
        entry.refresh_at = now + RETRY;
    }

    /// The addresses each name resolved to last (a name never resolved has none).
    pub fn resolved(&self) -> Resolved {
        self.entries.iter().map(|(name, entry)| (name.clone(), entry.addresses.clone())).collect()
    }

    /// When the next name is due, if any is followed.
    pub fn next_refresh(&self) -> Option<Instant> {
        self.entries.values().map(|entry| entry.refresh_at).min()
    }
}

/// A resolver asking `resolvers` (UDP, then TCP), or the system's when there are none; no
/// cache of its own, so that every answer comes with the TTL left.
fn resolver(resolvers: &[IpAddr]) -> Result<TokioResolver, hickory_resolver::net::NetError> {
    let mut builder = if resolvers.is_empty() {
        TokioResolver::builder_tokio()?
    } else {
        let servers = resolvers.iter().map(|address| NameServerConfig::udp_and_tcp(*address)).collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), servers),
            TokioRuntimeProvider::default(),
        )
    };
    let options = builder.options_mut();
    options.cache_size = 0;
    options.timeout = Duration::from_secs(2);
    options.attempts = 1;
    builder.build()
}
