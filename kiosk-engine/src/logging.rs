//! Where binaries send the `log` facade, at the level `KIOSK_LOG` names (error, warn, info,
//! debug, trace; the binary picks the default): a service to journald when systemd connected
//! it there, anything else to standard error. Libraries only use `log`.

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

fn level(default_level: LevelFilter) -> LevelFilter {
    std::env::var("KIOSK_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(default_level)
}

/// Sends log records to standard error (a command run by a person). Call once, first thing
/// in `main`.
pub fn init_stderr(default_level: LevelFilter) {
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level(default_level));
    }
}

/// For a service (the app, the agent): log records go to journald, `log`'s key-value pairs
/// (`order`, `attempt`) as journal fields and `release` on every record, when systemd
/// connected the process's output to the journal (`JOURNAL_STREAM`); to standard error
/// otherwise, or when the journal cannot be reached. Call once, first thing in `main`.
pub fn init_service(default_level: LevelFilter, release: &str) {
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let journal = systemd_journal_logger::JournalLog::new().and_then(|journal| {
            journal.with_extra_fields([("RELEASE", release)]).install().map_err(std::io::Error::other)
        });
        match journal {
            Ok(()) => {
                log::set_max_level(level(default_level));
                return;
            }
            Err(error) => eprintln!("warning: the journal cannot be reached ({error}): logging to standard error"),
        }
    }
    init_stderr(default_level);
}
