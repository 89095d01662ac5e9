//! The device config (`/etc/kiosk/kiosk.toml`): who this kiosk is within its venue.

use serde::Deserialize;

use crate::order::OrderPrefix;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueMode {
    Restaurant,
    Cinema,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Unique across the fleet; part of every payment's idempotency key.
    pub kiosk_id: String,
    /// Unique among the kiosks of the venue; starts every order number.
    pub order_prefix: OrderPrefix,
    #[serde(default = "restaurant")]
    pub mode: VenueMode,
    /// How long the terminal may take to answer a payment before it is treated as in doubt.
    #[serde(default = "default_terminal_timeout")]
    pub terminal_timeout_seconds: u64,
    /// How long an order to pay at the counter keeps its stock before it is voided.
    #[serde(default = "default_counter_minutes")]
    pub counter_order_minutes: u32,
}

fn restaurant() -> VenueMode {
    VenueMode::Restaurant
}

fn default_terminal_timeout() -> u64 {
    120
}

fn default_counter_minutes() -> u32 {
    30
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl DeviceConfig {
    pub fn parse(file: &str, source: &str) -> Result<DeviceConfig, ConfigError> {
        let config: DeviceConfig = toml::from_str(source)
            .map_err(|e| ConfigError { file: file.into(), message: e.to_string().trim().into() })?;
        let id_ok = !config.kiosk_id.is_empty()
            && config.kiosk_id.len() <= 32
            && config.kiosk_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            let message = format!("kiosk_id \"{}\" must be 1 to 32 letters, digits or '-'", config.kiosk_id);
            return Err(ConfigError { file: file.into(), message });
        }
        if config.terminal_timeout_seconds == 0 {
            return Err(ConfigError {
                file: file.into(),
                message: "terminal_timeout_seconds must be at least 1".into(),
            });
        }
        Ok(config)
    }

    /// The settings of a development machine with no config file.
    pub fn development() -> DeviceConfig {
        DeviceConfig {
            kiosk_id: "dev-kiosk".into(),
            order_prefix: OrderPrefix::parse("A").expect("a valid prefix"),
            mode: VenueMode::Restaurant,
            terminal_timeout_seconds: default_terminal_timeout(),
            counter_order_minutes: default_counter_minutes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let config =
            DeviceConfig::parse("k.toml", "kiosk_id = \"lyon-01\"\norder_prefix = \"B\"\nmode = \"cinema\"\n").unwrap();
        assert_eq!(config.order_prefix.number(1), "B001");
        assert_eq!(config.mode, VenueMode::Cinema);
        let bad_prefix = DeviceConfig::parse("k.toml", "kiosk_id = \"x\"\norder_prefix = \"b\"\n").unwrap_err();
        assert!(bad_prefix.message.contains("not an order prefix"), "{bad_prefix}");
        let bad_id = DeviceConfig::parse("k.toml", "kiosk_id = \"a b\"\norder_prefix = \"B\"\n").unwrap_err();
        assert!(bad_id.message.contains("kiosk_id"), "{bad_id}");
    }
}
