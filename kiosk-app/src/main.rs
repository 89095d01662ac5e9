//! The kiosk app's composition root: reads the device config (required, or with `--dev` a
//! development kiosk's on simulated devices), opens the engine with the configured terminal
//! and printers, makes sure a menu is in use, and shows the touch UI in a window, fullscreen
//! on DRM/KMS, or as PNG screenshots without a display.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use kiosk_app::headless::Headless;
use kiosk_app::{Kiosk, KioskOptions, Layout, SCREENSHOT_MANAGER, SCREENSHOT_PIN};
use kiosk_engine::devices::{
    AccessDecoder, Espeak, InputMatch, KeyboardLayout, ScanRules, SimOutcome, read_headphone_jack, read_keypad,
    read_scans,
};
use kiosk_engine::kiosk_core::config::AccessibilityConfig;
use kiosk_engine::kiosk_core::staff::{Pin, Role};
use kiosk_engine::service::ServiceNotifier;
use kiosk_engine::{Actor, Engine, EngineBuilder, EngineError, FixedClock, Locations};
use slint::ComponentHandle;

#[derive(Parser, Debug)]
#[command(version, about = "The kiosk's touch app")]
struct Args {
    /// A development kiosk: simulated terminal and printers (every sale a training sale),
    /// database and config under kiosk-data/ unless --db or --config say otherwise.
    #[arg(long)]
    dev: bool,
    /// The kiosk's database [default: /var/lib/kiosk/kiosk.db; with --dev kiosk-data/kiosk.db].
    #[arg(long, env = "KIOSK_DB")]
    db: Option<PathBuf>,
    /// The device config: kiosk id, terminal, printers, screen; required, a kiosk never sells
    /// on a simulator by accident [default: /etc/kiosk/kiosk.toml; with --dev
    /// kiosk-data/kiosk.toml, written the first time].
    #[arg(long, env = "KIOSK_CONFIG")]
    config: Option<PathBuf>,
    /// The menu imported when none is in use.
    #[arg(long, env = "KIOSK_MENU", default_value = "menus/brasserie/menu.toml")]
    menu: PathBuf,
    /// How a simulated terminal answers: approve, decline, timeout, lost-response, disconnect.
    #[arg(long, env = "KIOSK_SIM_OUTCOME", default_value = "approve")]
    sim_outcome: SimOutcome,
    /// How long a simulated terminal's customer takes to present a card, in milliseconds.
    #[arg(long, env = "KIOSK_SIM_CARD_MS", default_value_t = 2500)]
    sim_card_ms: u64,
    /// A barcode scanner (keyboard wedge) by name or VID:PID, for badges and promo codes.
    #[arg(long, env = "KIOSK_SCANNER")]
    scanner: Option<String>,
    /// The keyboard layout the scanner types in: azerty or qwerty.
    #[arg(long, env = "KIOSK_SCANNER_LAYOUT", default_value = "azerty", value_parser = ["azerty", "qwerty"])]
    scanner_layout: String,
    /// The Unix socket the device agent talks to the app on [default: /run/kiosk/app.sock;
    /// with --dev kiosk-data/app.sock].
    #[arg(long, env = "KIOSK_SOCKET")]
    socket: Option<PathBuf>,
    /// Render every screen to PNG files in this folder instead of opening a window (on a
    /// fresh demo database, at a fixed time).
    #[arg(long)]
    screenshots: Option<PathBuf>,
    /// Screenshot layouts: portrait, landscape, tablet (default: all).
    #[arg(long = "layout")]
    layouts: Vec<String>,
    /// Screenshot languages (default: the menu's).
    #[arg(long = "language")]
    languages: Vec<String>,
    /// For the benchmarks: start without a display, draw the first frame and the menu screen,
    /// print the time to the first frame and the memory used, and exit.
    #[arg(long)]
    report_startup: bool,
    /// Serve without a display, the screen drawn in memory only: for the device agent's
    /// update tests on machines without a screen.
    #[arg(long)]
    headless: bool,
}

fn main() -> Result<()> {
    let started = Instant::now();
    kiosk_engine::logging::init_service(log::LevelFilter::Info, kiosk_app::release());
    let args = Args::parse();
    // The app links rustls with ring only (no aws-lc, see ARCHITECTURE): made the process's
    // default, so that no HTTPS client the app builds can be left without a provider.
    let _already_set = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    if let Some(out) = &args.screenshots {
        return screenshots(&args, &runtime, out);
    }
    if args.report_startup {
        return report_startup(&args, &runtime, started);
    }
    let locations = args.locations();
    let headless = if args.headless { Some(Headless::install()?) } else { None };
    let windowing = ["DISPLAY", "WAYLAND_DISPLAY", "SLINT_BACKEND"].iter().any(|name| std::env::var_os(name).is_some());
    if !windowing && headless.is_none() {
        bail!(
            "no display: set DISPLAY (e.g. run under `xvfb-run -s '-screen 0 1080x1920x24' cargo run -p kiosk-app`), \
             use SLINT_BACKEND=linuxkms-software on the device (build with --features linuxkms), or render the \
             screens to PNG with `cargo run -p kiosk-app -- --screenshots FOLDER`"
        );
    }
    let engine = runtime.block_on(open_engine(&args, &locations, None))?;
    let mut kiosk = Kiosk::new(engine.clone(), runtime.handle().clone(), &KioskOptions::default())?;
    let screen = &engine.device().screen;
    #[allow(clippy::cast_precision_loss, reason = "screen sizes")]
    kiosk.window().window().set_size(slint::LogicalSize::new(screen.width as f32, screen.height as f32));
    if let Some(headless) = &headless {
        headless.resize(screen.width, screen.height);
    }
    if let Some(scanner) = &args.scanner {
        let layout =
            if args.scanner_layout == "qwerty" { KeyboardLayout::UsQwerty } else { KeyboardLayout::FrenchAzerty };
        read_scanner(&kiosk, &runtime, scanner, layout)?;
    }
    listen_to_accessibility_devices(&kiosk, &runtime, &engine.device().accessibility);
    // The kiosk sells without its agent: a socket that cannot be served is logged, and the
    // agent, finding no answer, reports the app unhealthy.
    if let Err(error) = kiosk.serve_agent(&args.socket()) {
        log::error!("the device agent cannot reach the app: {error:#}");
    }
    let service = Rc::new(ServiceNotifier::from_env());
    kiosk.keep_watchdog(service.clone());
    service.ready("taking orders");
    log::info!("window ready {} ms after start", started.elapsed().as_millis());
    kiosk.run()
}

impl Args {
    fn locations(&self) -> Locations {
        Locations::new(self.dev, self.db.clone(), self.config.clone())
    }

    fn socket(&self) -> PathBuf {
        let default = if self.dev { "kiosk-data/app.sock" } else { kiosk_protocol::APP_SOCKET };
        self.socket.clone().unwrap_or_else(|| default.into())
    }
}

async fn open_engine(args: &Args, locations: &Locations, clock: Option<FixedClock>) -> Result<Arc<Engine>> {
    let mut builder =
        EngineBuilder::at(locations)?.simulator(args.sim_outcome, Duration::from_millis(args.sim_card_ms));
    if let Some(clock) = clock {
        builder = builder.clock(Arc::new(clock));
    }
    let (engine, recovery) =
        builder.open().await.with_context(|| format!("cannot open the kiosk database {}", locations.db.display()))?;
    log::info!("payments resolved at start: {recovery:?}");
    if let Err(EngineError::NoMenu) = engine.active_menu().await {
        engine.import_menu(&args.menu).await?;
    }
    Ok(Arc::new(engine))
}

fn screenshots(args: &Args, runtime: &tokio::runtime::Runtime, out: &Path) -> Result<()> {
    let headless = Headless::install()?;
    let scratch = std::env::temp_dir().join(format!("kiosk-screenshots-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let demo = Args {
        menu: args.menu.clone(),
        sim_card_ms: 0,
        sim_outcome: SimOutcome::Approve,
        ..Args::parse_from(["kiosk-app", "--dev"])
    };
    let clock = FixedClock::at("2026-11-30T12:30:00+01:00");
    let locations = Locations::new(true, Some(scratch.join("kiosk.db")), Some(scratch.join("kiosk.toml")));
    let engine = runtime.block_on(open_engine(&demo, &locations, Some(clock)))?;
    let pin = Pin::parse(SCREENSHOT_PIN).map_err(anyhow::Error::msg)?;
    runtime.block_on(engine.add_staff(&Actor::Admin, SCREENSHOT_MANAGER, Role::Manager, &pin, None))?;
    let layouts = if args.layouts.is_empty() {
        Layout::ALL.to_vec()
    } else {
        args.layouts
            .iter()
            .map(|name| {
                Layout::named(name).with_context(|| format!("unknown layout {name}: portrait, landscape or tablet"))
            })
            .collect::<Result<_>>()?
    };
    let languages = if args.languages.is_empty() {
        runtime.block_on(engine.active_menu())?.menu.venue.languages.clone()
    } else {
        args.languages.clone()
    };
    let kiosk = Kiosk::new(engine, runtime.handle().clone(), &KioskOptions::default())?;
    let written = headless.run({
        let headless = headless.clone();
        let out = out.to_owned();
        async move { kiosk_app::render_screens(&kiosk, &headless, &layouts, &languages, &out).await }
    })??;
    let _ = std::fs::remove_dir_all(&scratch);
    for path in &written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Measures, in this process, the time from `main` to the first frame drawn (the attract
/// screen with the menu loaded), then the proportional memory on the menu screen.
fn report_startup(args: &Args, runtime: &tokio::runtime::Runtime, started: Instant) -> Result<()> {
    let headless = Headless::install()?;
    headless.resize(1080, 1920);
    let engine = runtime.block_on(open_engine(args, &args.locations(), None))?;
    let kiosk = std::rc::Rc::new(Kiosk::new(engine, runtime.handle().clone(), &KioskOptions::default())?);
    let first_frame = headless.run({
        let headless = headless.clone();
        let kiosk = kiosk.clone();
        async move {
            kiosk_app::headless::wait_until(Duration::from_secs(10), || kiosk.is_ready()).await;
            headless.render();
            let first_frame = started.elapsed();
            let session = kiosk.window().global::<kiosk_app::Session>();
            session.invoke_start("en".into());
            session.invoke_choose_mode(false);
            headless.render();
            first_frame
        }
    })?;
    // Let the allocator settle after the first frames, as a kiosk waiting for a customer does.
    std::thread::sleep(Duration::from_millis(200));
    let pss = kiosk_app::headless::proportional_memory_kib()?;
    println!("first_frame_ms={}.{:03} menu_pss_kib={pss}", first_frame.as_millis(), first_frame.as_micros() % 1000);
    Ok(())
}

/// Speech with eSpeak NG; the headphone jack, and the keypad when the device config names one,
/// read on the runtime.
fn listen_to_accessibility_devices(
    kiosk: &Kiosk,
    runtime: &tokio::runtime::Runtime,
    accessibility: &AccessibilityConfig,
) {
    let (events, received) = tokio::sync::mpsc::channel(16);
    // A key name Linux does not know leaves the keypad unread, not the kiosk closed: the jack
    // still starts speech.
    match (&accessibility.keypad, AccessDecoder::new(&accessibility.keys)) {
        (Some(keypad), Ok(decoder)) => {
            runtime.spawn(read_keypad(InputMatch::parse(keypad), decoder, events.clone()));
        }
        (Some(_), Err(error)) => log::error!("the keypad is not read: {error}"),
        (None, _) => {}
    }
    runtime.spawn(read_headphone_jack(events));
    kiosk.speak_with(std::sync::Arc::new(Espeak::new()));
    kiosk.listen_to_access(received);
}

/// Reads the barcode scanner on the runtime and hands each scan to the UI thread.
fn read_scanner(kiosk: &Kiosk, runtime: &tokio::runtime::Runtime, scanner: &str, layout: KeyboardLayout) -> Result<()> {
    let which = InputMatch::parse(scanner);
    let (sender, mut scans) = tokio::sync::mpsc::channel(16);
    runtime.spawn(async move {
        if let Err(error) = read_scans(&which, layout, ScanRules::default(), sender).await {
            log::error!("the scanner stopped: {error}");
        }
    });
    let handle = kiosk.scan_handle();
    runtime.spawn(async move {
        while let Some(code) = scans.recv().await {
            handle.deliver(code);
        }
    });
    Ok(())
}
