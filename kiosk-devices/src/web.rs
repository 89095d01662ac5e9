//! The one HTTP client the kiosk's software calls out with: the payment terminal here, the
//! fleet and the update repository in the agent. Every URL is checked against the web
//! allowlist in force first (the policy's `web.allow`, see `kiosk_core::web`); one outside it
//! is refused with a clear error, and logged, before a byte leaves the kiosk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use kiosk_core::web::{NotAllowed, WebAllowlist, WebPolicy};

/// The web allowlist in force, shared by every client of a program. None yet (no policy):
/// nothing is restricted.
#[derive(Clone, Debug, Default)]
pub struct WebGate(Arc<RwLock<Gate>>);

#[derive(Debug, Default)]
struct Gate {
    list: Option<WebAllowlist>,
    /// The policy file followed, and its modification time when last read.
    policy: Option<(PathBuf, Option<SystemTime>)>,
}

impl WebGate {
    /// Held to the `[web]` section of the policy at `path` (the app's way: the agent puts
    /// policies in place), read again whenever the file changes. No file: nothing restricted.
    /// A file that cannot be read leaves the allowlist read last; with none read yet,
    /// everything is refused until it can be.
    pub fn following(path: &Path) -> WebGate {
        let gate = Gate { list: None, policy: Some((path.to_owned(), None)) };
        WebGate(Arc::new(RwLock::new(gate)))
    }

    /// Held to `list` from now on (the agent's way, once it has enforced a policy).
    pub fn set(&self, list: WebAllowlist) {
        self.0.write().expect("web gate lock").list = Some(list);
    }

    /// `Ok` when `url` may be called; a refusal is logged.
    pub fn check(&self, url: &str) -> Result<(), NotAllowed> {
        self.follow_policy();
        let gate = self.0.read().expect("web gate lock");
        let checked = gate.list.as_ref().map_or(Ok(()), |list| list.check(url));
        if let Err(refused) = &checked {
            log::warn!("{refused}");
        }
        checked
    }

    /// Reads the policy followed again if it changed since.
    fn follow_policy(&self) {
        let (path, seen) = match &self.0.read().expect("web gate lock").policy {
            Some((path, seen)) => (path.clone(), *seen),
            None => return,
        };
        let modified = std::fs::metadata(&path).ok().map(|meta| meta.modified().unwrap_or(SystemTime::UNIX_EPOCH));
        if modified == seen && seen.is_some() {
            return;
        }
        let mut gate = self.0.write().expect("web gate lock");
        gate.policy = Some((path.clone(), modified));
        if modified.is_none() {
            gate.list = None;
            return;
        }
        let read = std::fs::read_to_string(&path)
            .map_err(|error| error.to_string())
            .and_then(|text| WebPolicy::of_policy(&text))
            .and_then(|web| WebAllowlist::new(&web.allow));
        match read {
            Ok(list) => gate.list = Some(list),
            Err(error) => {
                log::error!(
                    "the web allowlist of {} cannot be read ({error}): the one read last stays",
                    path.display()
                );
                gate.list.get_or_insert_with(|| WebAllowlist::new::<&str>(&[]).expect("no prefixes"));
            }
        }
    }
}

/// An HTTP client whose every request goes through a [`WebGate`] first.
#[derive(Clone, Debug)]
pub struct WebClient {
    client: reqwest::Client,
    gate: WebGate,
}

impl WebClient {
    pub fn new(client: reqwest::Client, gate: WebGate) -> WebClient {
        WebClient { client, gate }
    }

    /// A request to `url`, once the allowlist allows it.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, NotAllowed> {
        self.gate.check(url)?;
        Ok(self.client.request(method, url))
    }

    /// The same client, held to `gate` instead.
    pub fn with_gate(&self, gate: WebGate) -> WebClient {
        WebClient { client: self.client.clone(), gate }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_follows_the_policy_file() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        let gate = WebGate::following(&policy);
        let terminal = "https://10.0.0.40/nexo";
        assert!(gate.check(terminal).is_ok(), "no policy: nothing restricted");

        std::fs::write(&policy, "[web]\nallow = [\"https://fleet.example.com/api/\"]\n").unwrap();
        let refused = gate.check(terminal).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "https://10.0.0.40/nexo is outside the kiosk's web allowlist (the policy's web.allow)"
        );

        // A new policy is taken as soon as it is in place (its time moves on).
        std::fs::write(&policy, "[web]\nallow = [\"https://10.0.0.40/\"]\n").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(2);
        std::fs::File::options().write(true).open(&policy).unwrap().set_modified(later).unwrap();
        assert!(gate.check(terminal).is_ok());

        // One that cannot be read leaves the allowlist read last.
        std::fs::write(&policy, "[web\n").unwrap();
        let later = later + std::time::Duration::from_secs(2);
        std::fs::File::options().write(true).open(&policy).unwrap().set_modified(later).unwrap();
        assert!(gate.check(terminal).is_ok() && gate.check("https://evil.example/").is_err());

        // With none read before, it refuses everything until it can be read.
        let fresh = WebGate::following(&policy);
        assert!(fresh.check(terminal).is_err());

        std::fs::remove_file(&policy).unwrap();
        assert!(gate.check("https://evil.example/").is_ok(), "the policy removed: nothing restricted");
    }
}
