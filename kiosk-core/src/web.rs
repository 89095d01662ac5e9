//! The web allowlist: the URL prefixes the kiosk's software may call (the policy's
//! `web.allow`). A URL is allowed when its scheme, host and port are a prefix's and its path
//! starts with the prefix's path at a `/` boundary, so that `https://fleet.example.com/api/`
//! allows `https://fleet.example.com/api/heartbeat` and nothing of
//! `https://fleet.example.com.evil.example/` or `https://fleet.example.com/apiary`.

use serde::Deserialize;
use url::Url;

/// The policy's `[web]` section (the policy file is the agent's; see docs/policy.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebPolicy {
    /// URL prefixes the software may call (payment terminal, fleet, updates, e-receipts).
    #[serde(default)]
    pub allow: Vec<String>,
}

impl WebPolicy {
    /// The `[web]` section of a whole policy file; the other sections are left to the agent.
    pub fn of_policy(text: &str) -> Result<WebPolicy, String> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            web: WebPolicy,
        }
        toml::from_str::<Whole>(text).map(|whole| whole.web).map_err(|error| error.to_string().trim().to_owned())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebAllowlist {
    prefixes: Vec<Url>,
}

/// A URL the allowlist refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{url} is outside the kiosk's web allowlist (the policy's web.allow)")]
pub struct NotAllowed {
    pub url: String,
}

impl WebAllowlist {
    /// The allowlist of these prefixes; a prefix that is not a URL is refused.
    pub fn new<S: AsRef<str>>(prefixes: &[S]) -> Result<WebAllowlist, String> {
        let prefixes = prefixes
            .iter()
            .map(|prefix| Url::parse(prefix.as_ref()).map_err(|_| format!("{:?} is not a URL", prefix.as_ref())))
            .collect::<Result<_, _>>()?;
        Ok(WebAllowlist { prefixes })
    }

    pub fn allows(&self, url: &str) -> bool {
        let Ok(url) = Url::parse(url) else { return false };
        self.prefixes.iter().any(|prefix| {
            let same_origin = prefix.scheme() == url.scheme()
                && prefix.host_str() == url.host_str()
                && prefix.port_or_known_default() == url.port_or_known_default();
            let (base, path) = (prefix.path(), url.path());
            same_origin
                && path.starts_with(base)
                && (base.ends_with('/') || path.len() == base.len() || path[base.len()..].starts_with('/'))
        })
    }

    /// `Ok` when `url` is allowed; the error names it.
    pub fn check(&self, url: &str) -> Result<(), NotAllowed> {
        if self.allows(url) { Ok(()) } else { Err(NotAllowed { url: url.to_owned() }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_allows_its_own_origin_and_path_only() {
        let list = WebAllowlist::new(&["https://fleet.example.com/api/", "https://updates.example.com/kiosk"]).unwrap();
        for allowed in [
            "https://fleet.example.com/api/heartbeat",
            "https://FLEET.example.com:443/api/v2/x?y=1",
            "https://updates.example.com/kiosk",
            "https://updates.example.com/kiosk/metadata/timestamp.json",
        ] {
            assert!(list.allows(allowed), "{allowed}");
        }
        for refused in [
            "http://fleet.example.com/api/heartbeat",
            "https://fleet.example.com:8443/api/heartbeat",
            "https://fleet.example.com.evil.example/api/",
            "https://evil.example/https://fleet.example.com/api/",
            "https://fleet.example.com/apiary",
            "https://updates.example.com/kiosk-evil/",
            "not a url",
        ] {
            assert!(!list.allows(refused), "{refused}");
        }
        assert_eq!(
            list.check("https://evil.example/").unwrap_err().to_string(),
            "https://evil.example/ is outside the kiosk's web allowlist (the policy's web.allow)"
        );
        assert!(WebAllowlist::new(&["fleet"]).is_err());

        let policy = "[kiosk]\nmode = \"single-app\"\n[web]\nallow = [\"https://fleet.example.com/api/\"]\n";
        assert_eq!(WebPolicy::of_policy(policy).unwrap().allow, ["https://fleet.example.com/api/"]);
        assert_eq!(WebPolicy::of_policy("[usb]\nenforce = true\n").unwrap(), WebPolicy::default(), "no [web]");
        assert!(WebPolicy::of_policy("[web]\nallowed = []\n").unwrap_err().contains("unknown field `allowed`"));
    }
}
