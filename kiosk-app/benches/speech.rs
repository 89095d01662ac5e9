//! Speech's figures, printed (no timing is asserted):
//! - from a keypad key to the start of speech: the app's part (the key handled, the screen
//!   read, the utterance handed to the speaker) on the menu screen at 1080x1920, plus eSpeak
//!   NG's part (the program started with the utterance to its first sound, written to a pipe
//!   instead of the sound card, whose own buffering these machines cannot show);
//! - the memory the speech path adds to the app: its PSS before speech and after two hundred
//!   keys spoken (the reader, then eSpeak NG's thread and processes), and the eSpeak NG
//!   process's own PSS while it speaks (a process of its own, only while it speaks).
//!
//! Run with `cargo bench -p kiosk-app --bench speech`.

#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::report;
use kiosk_app::Session;
use kiosk_app::headless::{proportional_memory_kib, wait_until};
use kiosk_engine::devices::{AccessEvent, Espeak, Speaker, Utterance, espeak_command};
use kiosk_engine::kiosk_core::config::KeypadAction;
use slint::ComponentHandle;

const KEYS: usize = 100;
const STARTS: usize = 20;

/// A speaker that notes when each utterance reached it.
#[derive(Default)]
struct Stopwatch {
    heard: Mutex<Vec<(Instant, Utterance)>>,
}

impl Speaker for Stopwatch {
    fn say(&self, utterance: &Utterance) {
        self.then(utterance);
    }

    fn then(&self, utterance: &Utterance) {
        self.heard.lock().unwrap().push((Instant::now(), utterance.clone()));
    }

    fn stop(&self) {}
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let common::Demo { runtime: _runtime, headless, kiosk, .. } = common::demo_kiosk(dir.path())?;
    let stopwatch = Arc::new(Stopwatch::default());
    kiosk.speak_with(stopwatch.clone());
    let (app_part, memory, sample) = headless.clone().run(async move {
        assert!(wait_until(Duration::from_secs(10), || kiosk.is_ready()).await, "the menu did not load");
        let ui = kiosk.window();
        ui.global::<Session>().invoke_start("fr".into());
        ui.global::<Session>().invoke_choose_mode(false);
        headless.render();
        let before = proportional_memory_kib().expect("PSS");
        kiosk.access(AccessEvent::Headphones(true));
        let mut times = Vec::new();
        for _ in 0..KEYS {
            stopwatch.heard.lock().unwrap().clear();
            let pressed = Instant::now();
            kiosk.access(AccessEvent::Key(KeypadAction::Next));
            let heard = stopwatch.heard.lock().unwrap();
            let (spoken_at, _) = heard.first().expect("every key is answered");
            times.push(*spoken_at - pressed);
        }
        let sample = stopwatch.heard.lock().unwrap().first().map(|(_, utterance)| utterance.clone()).expect("a phrase");
        // The same keys through eSpeak NG, as on a kiosk: its thread, and a process per key
        // (which ends at once here, where no sound card is).
        kiosk.speak_with(Arc::new(Espeak::new()));
        for _ in 0..KEYS {
            kiosk.access(AccessEvent::Key(KeypadAction::Next));
            kiosk_app::headless::sleep(Duration::from_millis(20)).await;
        }
        let after = proportional_memory_kib().expect("PSS");
        (times, (before, after), sample)
    })?;
    report("keypad key to the utterance handed to the speaker, menu screen", &app_part, "the app's part");
    let program = std::path::Path::new("espeak-ng");
    let mut starts = Vec::new();
    let mut speaking_pss = Vec::new();
    for _ in 0..STARTS {
        let (first_sound, pss) = espeak_first_sound(program, &sample)?;
        starts.push(first_sound);
        speaking_pss.push(pss);
    }
    report(&format!("eSpeak NG started to its first sound, for {:?}", sample.text), &starts, "eSpeak's part");
    let (mut app, mut espeak) = (app_part.clone(), starts.clone());
    app.sort();
    espeak.sort();
    println!(
        "keypad key to the start of speech: median {:.1} ms, p90 {:.1} ms (target < 150 ms)",
        common::millis(app[app.len() / 2] + espeak[espeak.len() / 2]),
        common::millis(common::at(&app, 0.9) + common::at(&espeak, 0.9)),
    );
    let (before, after) = memory;
    println!(
        "the app's PSS on the menu: {:.1} MiB before speech, {:.1} MiB after {} keys spoken, the last {KEYS} \
         through eSpeak NG ({:+} KiB)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        2 * KEYS,
        i128::from(after) - i128::from(before)
    );
    println!("the eSpeak NG process while it speaks: PSS median {:.1} MiB", common::median_mib(&speaking_pss));
    Ok(())
}

/// Starts eSpeak NG as the kiosk does, the sound to a pipe: the time to its first sound (the
/// WAV header and a first block of samples) and its PSS then, in KiB.
fn espeak_first_sound(program: &std::path::Path, utterance: &Utterance) -> anyhow::Result<(Duration, f64)> {
    let started = Instant::now();
    // The keys' utterances carry no warning tone.
    let (mut command, input) = espeak_command(program, utterance, None);
    command.arg("--stdout").stdout(Stdio::piped());
    let mut child = command.spawn()?;
    child.stdin.take().expect("piped").write_all(input.as_bytes())?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut first = [0u8; 1024];
    stdout.read_exact(&mut first)?;
    let elapsed = started.elapsed();
    let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", child.id()))?;
    let pss = rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    std::io::copy(&mut stdout, &mut std::io::sink())?;
    child.wait()?;
    Ok((elapsed, pss))
}
