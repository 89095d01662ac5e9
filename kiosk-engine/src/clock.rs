//! The clock, passed in so that tests choose the time.

use std::fmt::Debug;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, FixedOffset, Local, Timelike};
use kiosk_core::menu::{Date, LocalMoment, TimeOfDay, Weekday};

pub trait Clock: Send + Sync + Debug {
    /// Local time, with its offset.
    fn now(&self) -> DateTime<FixedOffset>;
}

/// The machine's clock in its local time zone.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset()
    }
}

/// A clock that stands still until moved: for tests and benchmarks.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<FixedOffset>>);

impl FixedClock {
    /// At an RFC 3339 time such as "2026-12-01T12:00:00+01:00".
    pub fn at(rfc3339: &str) -> FixedClock {
        FixedClock(Mutex::new(DateTime::parse_from_rfc3339(rfc3339).expect("an RFC 3339 time")))
    }

    pub fn set(&self, rfc3339: &str) {
        *self.0.lock().expect("clock lock") = DateTime::parse_from_rfc3339(rfc3339).expect("an RFC 3339 time");
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        *self.0.lock().expect("clock lock")
    }
}

/// The moment as the core's availability rules see it.
pub(crate) fn local_moment(now: &DateTime<FixedOffset>) -> LocalMoment {
    let weekday = Weekday::ALL[now.weekday().num_days_from_monday() as usize];
    let time = TimeOfDay::new(now.hour(), now.minute()).expect("a clock gives a valid time of day");
    let date = Date::new(now.year() as u16, now.month() as u8, now.day() as u8).expect("a clock gives a valid date");
    LocalMoment { date, weekday, time }
}

/// The business day an order belongs to.
pub(crate) fn business_date(now: &DateTime<FixedOffset>) -> String {
    now.format("%Y-%m-%d").to_string()
}

pub(crate) fn timestamp(now: &DateTime<FixedOffset>) -> String {
    now.to_rfc3339()
}
