//! Where binaries send the `log` facade: standard error, at the level `KIOSK_LOG` names
//! (error, warn, info, debug, trace; the binary picks the default). Libraries only use `log`.

use log::{Level, LevelFilter, Log, Metadata, Record};

#[derive(Debug)]
struct StderrLog;

impl Log for StderrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            eprintln!("{level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Sends log records to standard error. Call once, first thing in `main`.
pub fn init_stderr(default_level: LevelFilter) {
    let level = std::env::var("KIOSK_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(default_level);
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level);
    }
}
