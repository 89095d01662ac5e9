//! The device config (`/etc/kiosk/kiosk.toml`): who this kiosk is within its venue.

use serde::Deserialize;

use crate::order::OrderPrefix;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueMode {
    Restaurant,
    Cinema,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
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
    /// Receipts, kitchen tickets and the printers they go to.
    #[serde(default)]
    pub printing: PrintingConfig,
    /// The payment terminal: required, so that a kiosk never sells on a simulator by
    /// accident.
    pub terminal: TerminalConfig,
    /// The touch screen and how long the app waits for a customer.
    #[serde(default)]
    pub screen: ScreenConfig,
    /// Speech through the headphone jack and the tactile keypad.
    #[serde(default)]
    pub accessibility: AccessibilityConfig,
}

/// The touch screen: its size in pixels and inches (touch targets are sized in millimetres
/// from them) and the customer session's timers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScreenConfig {
    pub width: u32,
    pub height: u32,
    pub diagonal_inches: f64,
    /// Seconds without a touch before "Are you still there?".
    pub idle_seconds: u32,
    /// Seconds that question waits before the order is abandoned.
    pub still_there_seconds: u32,
    /// Seconds the order number stays on screen after an order.
    pub done_seconds: u32,
}

impl Default for ScreenConfig {
    /// A 21.5-inch portrait display.
    fn default() -> Self {
        ScreenConfig {
            width: 1080,
            height: 1920,
            diagonal_inches: 21.5,
            idle_seconds: 60,
            still_there_seconds: 20,
            done_seconds: 20,
        }
    }
}

impl ScreenConfig {
    /// Pixels in one millimetre of the screen.
    #[allow(clippy::float_arithmetic, reason = "a screen's geometry, not money")]
    pub fn pixels_per_mm(&self) -> f64 {
        let diagonal_pixels = f64::from(self.width).hypot(f64::from(self.height));
        diagonal_pixels / (self.diagonal_inches * 25.4)
    }
}

/// What a keypad key does while the kiosk speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeypadAction {
    Next,
    Previous,
    Select,
    Back,
    Help,
    Repeat,
    Louder,
    Quieter,
    Slower,
}

/// Speech and the tactile keypad (EN 301 549): the headphone jack starts speech, the keypad
/// moves through every control.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessibilityConfig {
    /// The keypad among the input devices: part of its name, or its USB id "vvvv:pppp". None:
    /// the headphone jack alone starts speech, and the touch screen stays the only input.
    pub keypad: Option<String>,
    /// The keys of each action, by their Linux names (`KEY_KP6`).
    pub keys: KeypadKeys,
    /// While the kiosk speaks, its time limits (inactivity, "are you still there?", the order
    /// number) are this many times longer.
    pub speech_time_factor: u32,
}

impl Default for AccessibilityConfig {
    fn default() -> Self {
        AccessibilityConfig { keypad: None, keys: KeypadKeys::default(), speech_time_factor: 3 }
    }
}

/// The keys of each keypad action. The defaults suit a numeric keypad (arrows on 8, 4, 6 and
/// 2 with the arrow keys, 5 or Enter to select) and a navigation keypad's arrows.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeypadKeys {
    pub next: Vec<String>,
    pub previous: Vec<String>,
    pub select: Vec<String>,
    pub back: Vec<String>,
    pub help: Vec<String>,
    pub repeat: Vec<String>,
    pub louder: Vec<String>,
    pub quieter: Vec<String>,
    pub slower: Vec<String>,
}

impl Default for KeypadKeys {
    fn default() -> Self {
        let keys = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        KeypadKeys {
            next: keys(&["KEY_KP6", "KEY_KP2", "KEY_RIGHT", "KEY_DOWN"]),
            previous: keys(&["KEY_KP4", "KEY_KP8", "KEY_LEFT", "KEY_UP"]),
            select: keys(&["KEY_KP5", "KEY_KPENTER", "KEY_ENTER"]),
            back: keys(&["KEY_KP0", "KEY_BACKSPACE", "KEY_ESC"]),
            help: keys(&["KEY_KPASTERISK", "KEY_HELP"]),
            repeat: keys(&["KEY_KPDOT", "KEY_KP7"]),
            louder: keys(&["KEY_KPPLUS", "KEY_VOLUMEUP"]),
            quieter: keys(&["KEY_KPMINUS", "KEY_VOLUMEDOWN"]),
            slower: keys(&["KEY_KPSLASH", "KEY_KP9"]),
        }
    }
}

impl KeypadKeys {
    /// Every action with its keys.
    pub fn actions(&self) -> [(KeypadAction, &[String]); 9] {
        [
            (KeypadAction::Next, &self.next),
            (KeypadAction::Previous, &self.previous),
            (KeypadAction::Select, &self.select),
            (KeypadAction::Back, &self.back),
            (KeypadAction::Help, &self.help),
            (KeypadAction::Repeat, &self.repeat),
            (KeypadAction::Louder, &self.louder),
            (KeypadAction::Quieter, &self.quieter),
            (KeypadAction::Slower, &self.slower),
        ]
    }

    /// Every key named once, like `KEY_KP5`, and every action with a key.
    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeMap::new();
        for (action, keys) in self.actions() {
            if keys.is_empty() {
                return Err(format!("[accessibility.keys] {action:?} has no key").to_lowercase());
            }
            for key in keys {
                let named = key.strip_prefix("KEY_").is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                });
                if !named {
                    return Err(format!("[accessibility.keys] \"{key}\" is not a key name like \"KEY_KP5\""));
                }
                if let Some(other) = seen.insert(key.as_str(), action) {
                    return Err(format!("[accessibility.keys] {key} is given to both {other:?} and {action:?}"));
                }
            }
        }
        Ok(())
    }
}

/// Which payment terminal the kiosk drives.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TerminalConfig {
    /// The simulator, with its ledger beside the database: development only, and every
    /// sale on it is a training sale.
    Sim,
    /// A nexo terminal (Adyen's Terminal API) on the venue's network, over TLS with the
    /// vendor's root certificate and the Terminal API's message encryption.
    Nexo(NexoConfig),
}

/// How to reach and trust a nexo terminal.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NexoConfig {
    /// The terminal on the venue's network: an IP address, with a port when not 8443.
    #[serde(deserialize_with = "terminal_address")]
    pub address: std::net::SocketAddr,
    /// The terminal's id, "V400m-324688179" (model and serial number).
    pub poi_id: String,
    /// Which of the vendor's environments issued the terminal's certificate: its name is
    /// "<poi_id>.<environment>.terminal.adyen.com", checked rather than the address.
    pub environment: TerminalEnvironment,
    /// The vendor's root certificate (PEM), the only one the terminal's is trusted under:
    /// on the device, in /etc/kiosk/trust/.
    pub root_certificate: std::path::PathBuf,
    /// The shared key of the Terminal API's message encryption, as set up on the terminal:
    /// its identifier and version, and a file holding its passphrase.
    pub key_identifier: String,
    pub key_version: u32,
    pub passphrase_file: std::path::PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TerminalEnvironment {
    Test,
    Live,
}

impl NexoConfig {
    /// The name the terminal's certificate carries.
    pub fn certificate_name(&self) -> String {
        let environment = match self.environment {
            TerminalEnvironment::Test => "test",
            TerminalEnvironment::Live => "live",
        };
        format!("{}.{environment}.terminal.adyen.com", self.poi_id)
    }
}

/// The port a nexo terminal listens on when the config names none.
const NEXO_PORT: u16 = 8443;

fn terminal_address<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<std::net::SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse::<std::net::SocketAddr>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(|ip| std::net::SocketAddr::new(ip, NEXO_PORT)))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "\"{text}\" is not the terminal's IP address (such as \"192.0.2.20\" or \"192.0.2.20:8443\")"
            ))
        })
}

/// When the customer's receipt is printed. In France a receipt is printed only when the
/// customer asks for it; the document is always made (and offered as a QR e-receipt).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptPrinting {
    Always,
    #[default]
    OnRequest,
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintingConfig {
    #[serde(default)]
    pub receipts: ReceiptPrinting,
    /// The printer receipts go to, by name.
    #[serde(default = "receipt_printer")]
    pub receipt_printer: String,
    /// Kitchen tickets: the printer of each menu category ("burgers" = "kitchen"); a category
    /// not listed gets no ticket.
    #[serde(default)]
    pub kitchen_routes: std::collections::BTreeMap<String, String>,
    /// What the receipt says about the venue.
    #[serde(default)]
    pub header: crate::receipt::ReceiptHeader,
    /// The e-receipt address (shown as a QR code), with `{token}` for the order's random
    /// token: `https://receipts.example.com/{token}`.
    pub e_receipt_url: Option<String>,
    /// A kitchen ticket that could not print for this long is not printed late: staff are
    /// told instead.
    #[serde(default = "kitchen_ticket_minutes")]
    pub kitchen_ticket_minutes: u32,
    #[serde(default, rename = "printer")]
    pub printers: Vec<PrinterConfig>,
}

fn kitchen_ticket_minutes() -> u32 {
    120
}

fn receipt_printer() -> String {
    "receipt".into()
}

impl Default for PrintingConfig {
    fn default() -> Self {
        PrintingConfig {
            receipts: ReceiptPrinting::default(),
            receipt_printer: receipt_printer(),
            kitchen_routes: Default::default(),
            header: Default::default(),
            e_receipt_url: None,
            kitchen_ticket_minutes: kitchen_ticket_minutes(),
            printers: Vec::new(),
        }
    }
}

/// One printer and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPrinter")]
pub struct PrinterConfig {
    pub name: String,
    pub transport: PrinterTransport,
    /// Characters per line (42 for an 80 mm printer, 32 for 58 mm).
    pub columns: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterTransport {
    /// Raw TCP, usually port 9100.
    Network { address: std::net::SocketAddr },
    /// A device file such as /dev/usb/lp0.
    File { path: std::path::PathBuf },
    /// USB, by VID:PID, or the first printer-class device.
    Usb { vid_pid: Option<(u16, u16)> },
    /// The simulator: keeps jobs in memory.
    Sim,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinter {
    name: String,
    kind: String,
    address: Option<std::net::SocketAddr>,
    path: Option<std::path::PathBuf>,
    /// "04b8:0e15" (hex VID:PID) for a USB printer.
    usb: Option<String>,
    #[serde(default = "columns")]
    columns: u8,
}

fn columns() -> u8 {
    42
}

/// Reads "04b8:0e15".
fn vid_pid(text: &str) -> Result<(u16, u16), String> {
    let parse = |part: &str| u16::from_str_radix(part, 16).ok();
    text.split_once(':')
        .and_then(|(vendor, product)| Some((parse(vendor)?, parse(product)?)))
        .ok_or_else(|| format!("\"{text}\" is not a USB id like \"04b8:0e15\""))
}

impl TryFrom<RawPrinter> for PrinterConfig {
    type Error = String;
    fn try_from(raw: RawPrinter) -> Result<PrinterConfig, String> {
        let name = &raw.name;
        let transport = match (raw.kind.as_str(), raw.address, raw.path.clone()) {
            ("network", Some(address), None) => PrinterTransport::Network { address },
            ("file", None, Some(path)) => PrinterTransport::File { path },
            ("usb", None, None) => PrinterTransport::Usb { vid_pid: raw.usb.as_deref().map(vid_pid).transpose()? },
            ("sim", None, None) => PrinterTransport::Sim,
            ("network", ..) => return Err(format!("printer \"{name}\": a network printer needs an address, no path")),
            ("file", ..) => return Err(format!("printer \"{name}\": a file printer needs a path, no address")),
            (other, ..) => {
                return Err(format!("printer \"{name}\": \"{other}\" is not a kind (network, file, usb, sim)"));
            }
        };
        if !(24..=64).contains(&raw.columns) {
            return Err(format!("printer \"{name}\": columns {} is not between 24 and 64", raw.columns));
        }
        Ok(PrinterConfig { name: raw.name, transport, columns: raw.columns })
    }
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

/// An e-receipt address must be HTTPS and carry the order's token, never its number: order
/// numbers repeat every day and are easy to guess, and a receipt names what was bought.
fn check_e_receipt_url(url: &str) -> Result<(), String> {
    if !url.starts_with("https://") {
        return Err(format!("\"{url}\" must start with https://"));
    }
    if url.contains("{order}") {
        return Err("\"{order}\" would put the guessable order number in the link: use {token}".into());
    }
    if !url.contains("{token}") {
        return Err(format!("\"{url}\" has no {{token}} for the order's e-receipt token"));
    }
    Ok(())
}

/// Which devices a config may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Devices {
    /// A kiosk selling for real: a real payment terminal and real printers only.
    Real,
    /// A development kiosk (`--dev`): simulators allowed.
    MaySimulate,
}

/// The config of a development kiosk (`--dev`), written to `kiosk-data/kiosk.toml` the first
/// time so that a developer can change it: simulated terminal and receipt printer.
pub const DEVELOPMENT_CONFIG: &str = r#"# A development kiosk: simulated devices, every sale a training sale. Written by --dev the
# first time; change it as you like (see README.md, "Device config").
kiosk_id = "dev-kiosk"
order_prefix = "A"
mode = "restaurant"

[terminal]
kind = "sim"

[printing]
receipt_printer = "receipt"
e_receipt_url = "https://receipts.example/{token}"

[[printing.printer]]
name = "receipt"
kind = "sim"
"#;

/// A device config without a `[terminal]` says so, rather than serde's "missing field".
#[derive(Deserialize)]
struct Shape {
    terminal: Option<toml::Value>,
}

impl DeviceConfig {
    /// Reads a device config. With [`Devices::Real`], a config naming no terminal, or a
    /// simulated terminal or printer, is refused with what to do.
    pub fn parse(file: &str, source: &str, devices: Devices) -> Result<DeviceConfig, ConfigError> {
        let problem = |message: String| ConfigError { file: file.into(), message };
        if let Ok(Shape { terminal: None }) = toml::from_str::<Shape>(source) {
            return Err(problem(
                "names no payment terminal: add a [terminal] section (kind = \"nexo\", see the README's \"Device \
                 config\"), or run with --dev for a development kiosk on a simulated terminal"
                    .into(),
            ));
        }
        let config: DeviceConfig = toml::from_str(source).map_err(|e| problem(e.to_string().trim().into()))?;
        if devices == Devices::Real {
            if config.terminal == TerminalConfig::Sim {
                return Err(problem(
                    "[terminal] kind \"sim\" is the simulator, which approves every card: name the real terminal, \
                     or run with --dev for a development kiosk"
                        .into(),
                ));
            }
            if let Some(printer) = config.printing.printers.iter().find(|p| p.transport == PrinterTransport::Sim) {
                return Err(problem(format!(
                    "printer \"{}\" is the simulator: name the real printer, or run with --dev for a development kiosk",
                    printer.name
                )));
            }
        }
        let id_ok = !config.kiosk_id.is_empty()
            && config.kiosk_id.len() <= 32
            && config.kiosk_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            let message = format!("kiosk_id \"{}\" must be 1 to 32 letters, digits or '-'", config.kiosk_id);
            return Err(ConfigError { file: file.into(), message });
        }
        let screen = &config.screen;
        if screen.width < 320 || screen.height < 320 || !(3.0..=100.0).contains(&screen.diagonal_inches) {
            return Err(ConfigError {
                file: file.into(),
                message: "[screen] needs width and height of at least 320 pixels and diagonal_inches from 3 to 100"
                    .into(),
            });
        }
        if screen.idle_seconds < 5 || screen.still_there_seconds == 0 || screen.done_seconds == 0 {
            return Err(ConfigError {
                file: file.into(),
                message: "[screen] idle_seconds must be at least 5, still_there_seconds and done_seconds at least 1"
                    .into(),
            });
        }
        if let Some(url) = &config.printing.e_receipt_url
            && let Err(problem) = check_e_receipt_url(url)
        {
            return Err(ConfigError { file: file.into(), message: format!("[printing] e_receipt_url: {problem}") });
        }
        if config.printing.kitchen_ticket_minutes == 0 {
            return Err(problem("[printing] kitchen_ticket_minutes must be at least 1".into()));
        }
        if let Err(problem) = config.accessibility.keys.check() {
            return Err(ConfigError { file: file.into(), message: problem });
        }
        if !(1..=10).contains(&config.accessibility.speech_time_factor) {
            return Err(problem("[accessibility] speech_time_factor must be from 1 to 10".into()));
        }
        if config.terminal_timeout_seconds == 0 {
            return Err(ConfigError {
                file: file.into(),
                message: "terminal_timeout_seconds must be at least 1".into(),
            });
        }
        Ok(config)
    }

    /// The development kiosk's settings ([`DEVELOPMENT_CONFIG`]).
    pub fn development() -> DeviceConfig {
        DeviceConfig::parse("development config", DEVELOPMENT_CONFIG, Devices::MaySimulate)
            .expect("the development config is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a development config: `source` with a simulated terminal.
    fn parse(file: &str, source: &str) -> Result<DeviceConfig, ConfigError> {
        DeviceConfig::parse(file, &format!("{source}\n[terminal]\nkind = \"sim\"\n"), Devices::MaySimulate)
    }

    #[test]
    fn a_kiosk_selling_for_real_names_real_devices() {
        let bare = "kiosk_id = \"k\"\norder_prefix = \"B\"\n";
        let real = |source: &str| DeviceConfig::parse("/etc/kiosk/kiosk.toml", source, Devices::Real);
        let none = real(bare).unwrap_err();
        assert!(none.to_string().starts_with("/etc/kiosk/kiosk.toml: names no payment terminal"), "{none}");
        assert!(none.message.contains("--dev"), "says how to develop without one: {none}");
        let sim = real(&format!("{bare}[terminal]\nkind = \"sim\"\n")).unwrap_err();
        assert!(sim.message.contains("kind \"sim\" is the simulator"), "{sim}");
        let printer =
            format!("{bare}[terminal]\nkind = \"sim\"\n[[printing.printer]]\nname = \"receipt\"\nkind = \"sim\"\n");
        assert!(DeviceConfig::parse("k.toml", &printer, Devices::MaySimulate).is_ok(), "--dev may simulate");
        let development = DeviceConfig::development();
        assert_eq!(development.terminal, TerminalConfig::Sim);
        assert_eq!(development.printing.printers[0].transport, PrinterTransport::Sim);
        let refused = real(DEVELOPMENT_CONFIG).unwrap_err();
        assert!(refused.message.contains("simulator"), "{refused}");
    }

    #[test]
    fn parses_and_refuses() {
        let config = parse("k.toml", "kiosk_id = \"lyon-01\"\norder_prefix = \"B\"\nmode = \"cinema\"\n").unwrap();
        assert_eq!(config.order_prefix.number(1), "B001");
        assert_eq!(config.mode, VenueMode::Cinema);
        assert_eq!(config.screen, ScreenConfig::default());
        let portrait = ScreenConfig::default().pixels_per_mm();
        assert!((4.0..4.05).contains(&portrait), "a 21.5-inch 1080x1920 screen has {portrait} px/mm");
        let tiny = parse("k.toml", "kiosk_id = \"x\"\norder_prefix = \"B\"\n[screen]\nwidth = 100\n").unwrap_err();
        assert!(tiny.message.contains("at least 320 pixels"), "{tiny}");
        let eager = parse("k.toml", "kiosk_id = \"x\"\norder_prefix = \"B\"\n[printing]\nkitchen_ticket_minutes = 0\n");
        assert!(eager.unwrap_err().message.contains("kitchen_ticket_minutes must be at least 1"));
        let hasty =
            parse("k.toml", "kiosk_id = \"x\"\norder_prefix = \"B\"\n[screen]\nidle_seconds = 1\n").unwrap_err();
        assert!(hasty.message.contains("idle_seconds must be at least 5"), "{hasty}");
        let bad_prefix = parse("k.toml", "kiosk_id = \"x\"\norder_prefix = \"b\"\n").unwrap_err();
        assert!(bad_prefix.message.contains("not an order prefix"), "{bad_prefix}");
        let bad_id = parse("k.toml", "kiosk_id = \"a b\"\norder_prefix = \"B\"\n").unwrap_err();
        assert!(bad_id.message.contains("kiosk_id"), "{bad_id}");

        let printing = "kiosk_id = \"k\"\norder_prefix = \"B\"\n[printing]\nreceipts = \"always\"\n\
            kitchen_routes = { burgers = \"kitchen\" }\n[[printing.printer]]\nname = \"kitchen\"\n\
            kind = \"network\"\naddress = \"127.0.0.1:9100\"\n[[printing.printer]]\nname = \"receipt\"\n\
            kind = \"file\"\npath = \"/dev/usb/lp0\"\ncolumns = 32\n";
        let config = parse("k.toml", printing).unwrap();
        assert_eq!(config.printing.receipts, ReceiptPrinting::Always);
        assert_eq!(config.printing.receipt_printer, "receipt");
        assert_eq!(config.printing.printers.len(), 2);
        assert_eq!(config.printing.printers[1].columns, 32);
        let unknown = parse("k.toml", &printing.replace("network", "bluetooth")).unwrap_err();
        assert!(unknown.message.contains("\"bluetooth\" is not a kind"), "{unknown}");
        let usb =
            printing.replace("kind = \"network\"\naddress = \"127.0.0.1:9100\"", "kind = \"usb\"\nusb = \"04b8:0e15\"");
        let config = parse("k.toml", &usb).unwrap();
        assert_eq!(config.printing.printers[0].transport, PrinterTransport::Usb { vid_pid: Some((0x04b8, 0x0e15)) });
        let nexo = "kiosk_id = \"k\"\norder_prefix = \"B\"\n[terminal]\nkind = \"nexo\"\naddress = \"192.0.2.20\"\n\
            poi_id = \"V400m-1\"\nenvironment = \"live\"\nroot_certificate = \"/etc/kiosk/trust/root.pem\"\n\
            key_identifier = \"kiosk\"\nkey_version = 1\npassphrase_file = \"/etc/kiosk/terminal.passphrase\"\n";
        let config = DeviceConfig::parse("k.toml", nexo, Devices::Real).unwrap();
        let TerminalConfig::Nexo(terminal) = &config.terminal else { panic!("a nexo terminal") };
        assert_eq!(terminal.address.to_string(), "192.0.2.20:8443", "the Terminal API's port by default");
        assert_eq!(terminal.certificate_name(), "V400m-1.live.terminal.adyen.com");
        assert!(DeviceConfig::parse("k.toml", &nexo.replace("poi_id", "poiid"), Devices::Real).is_err());
        let by_name = DeviceConfig::parse("k.toml", &nexo.replace("192.0.2.20", "terminal.local"), Devices::Real);
        assert!(by_name.unwrap_err().message.contains("is not the terminal's IP address"));
        let bad_usb = parse("k.toml", &usb.replace("04b8:0e15", "epson")).unwrap_err();
        assert!(bad_usb.message.contains("is not a USB id"), "{bad_usb}");

        let keys = |keys: &str| parse("k.toml", &format!("kiosk_id = \"k\"\norder_prefix = \"B\"\n{keys}"));
        let config =
            keys("[accessibility]\nkeypad = \"05ac:0250\"\n[accessibility.keys]\nnext = [\"KEY_N\"]\n").unwrap();
        assert_eq!(config.accessibility.keypad.as_deref(), Some("05ac:0250"));
        assert_eq!(config.accessibility.keys.next, ["KEY_N"]);
        assert_eq!(config.accessibility.keys.select, KeypadKeys::default().select, "the other actions keep theirs");
        let twice = keys("[accessibility.keys]\nnext = [\"KEY_KP5\"]\n").unwrap_err();
        assert!(twice.message.contains("KEY_KP5 is given to both Next and Select"), "{twice}");
        let misnamed = keys("[accessibility.keys]\nhelp = [\"F1\"]\n").unwrap_err();
        assert!(misnamed.message.contains("\"F1\" is not a key name like \"KEY_KP5\""), "{misnamed}");
        let keyless = keys("[accessibility.keys]\nrepeat = []\n").unwrap_err();
        assert!(keyless.message.contains("repeat has no key"), "{keyless}");
        let unknown = keys("[accessibility.keys]\nfaster = [\"KEY_F\"]\n").unwrap_err();
        assert!(unknown.message.contains("unknown field `faster`"), "{unknown}");
        let forever = keys("[accessibility]\nspeech_time_factor = 0\n").unwrap_err();
        assert!(forever.message.contains("speech_time_factor must be from 1 to 10"), "{forever}");

        let receipt_url = |url: &str| {
            let source = format!("kiosk_id = \"k\"\norder_prefix = \"B\"\n[printing]\ne_receipt_url = \"{url}\"\n");
            parse("k.toml", &source).map(|c| c.printing.e_receipt_url).map_err(|e| e.message)
        };
        assert_eq!(receipt_url("https://r.example/{token}"), Ok(Some("https://r.example/{token}".into())));
        assert!(receipt_url("https://r.example/{order}").unwrap_err().contains("guessable order number"));
        assert!(receipt_url("http://r.example/{token}").unwrap_err().contains("must start with https://"));
        assert!(receipt_url("https://r.example/receipt").unwrap_err().contains("has no {token}"));
    }
}
