//! Speech output for a customer who cannot see the screen, through the headphones.
//!
//! [`Espeak`] runs eSpeak NG's program (`espeak-ng`, Debian's package of that name) once per
//! utterance, the text on its standard input, the sound to the default ALSA device. The
//! program rather than the library: a new utterance or headphones pulled out stop speech by
//! ending the process at once, whatever it was doing; the synthesiser's memory and any crash
//! of it stay out of the app; and no C binding or unsafe code is needed. Starting the program
//! costs a few tens of milliseconds (the speech benchmark measures it), well inside the time a
//! key press may take to be heard.
//!
//! A warning (a time limit running out) is heard as a tone as well as said: eSpeak NG plays
//! the tone before the words, from a sound file named in SSML (`<audio src>`), so tone and
//! words come from one process, in order, and stop together. The tone is made here
//! ([`warning_tone`]) and written to a temporary file while the speaking thread runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

/// Something to say, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utterance {
    pub text: String,
    /// The language of the text, as the menu names it ("fr", "en"): the voice.
    pub language: String,
    /// Words per minute.
    pub rate: u32,
    /// 0 to 200, 100 being the voice's own.
    pub volume: u32,
    /// Opened by the warning tone: a time limit is running out.
    pub warning: bool,
}

/// Says things out loud.
pub trait Speaker: Send + Sync {
    /// Stops what is being said and what waits, and says `utterance`.
    fn say(&self, utterance: &Utterance);
    /// Says `utterance` after what is being said and what waits.
    fn then(&self, utterance: &Utterance);
    /// Stops at once; nothing waiting is said.
    fn stop(&self);
}

/// eSpeak NG's program, run by a thread of its own that starts each utterance when the one
/// before has ended.
#[derive(Debug)]
pub struct Espeak {
    orders: std::sync::mpsc::Sender<Order>,
}

#[derive(Debug)]
enum Order {
    Say(Utterance),
    Then(Utterance),
    Stop,
}

/// The most utterances waiting their turn.
const MOST_WAITING: usize = 16;

/// How often the speaking thread looks whether an utterance has ended, while one speaks.
const ENDED_POLL: std::time::Duration = std::time::Duration::from_millis(20);

impl Espeak {
    /// `espeak-ng` from the `PATH`.
    pub fn new() -> Espeak {
        Espeak::with_program("espeak-ng")
    }

    pub fn with_program(program: impl Into<PathBuf>) -> Espeak {
        let program = program.into();
        let (orders, received) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("speech".into()).spawn(move || speak(&program, &received));
        if let Err(error) = spawned {
            log::error!("cannot start the speech thread: {error}");
        }
        Espeak { orders }
    }

    fn send(&self, order: Order) {
        if self.orders.send(order).is_err() {
            log::error!("the speech thread has stopped");
        }
    }
}

/// The command that says `utterance` with `program`, and what goes to its standard input:
/// the text, or for a warning with a `tone` file, SSML that plays the tone and then says it.
pub fn espeak_command(program: &Path, utterance: &Utterance, tone: Option<&Path>) -> (Command, String) {
    let mut command = Command::new(program);
    command
        .args(["-b", "1", "-v", &utterance.language])
        .args(["-s", &utterance.rate.to_string(), "-a", &utterance.volume.min(200).to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        // ALSA's complaints, once per utterance while no sound card answers, would flood the
        // journal: the exit status is what the speaking thread logs.
        .stderr(Stdio::null());
    let input = match tone.filter(|_| utterance.warning) {
        Some(tone) => {
            command.arg("-m");
            let source = escape_markup(&tone.to_string_lossy());
            format!("<speak><audio src=\"{source}\"/>{}</speak>", escape_markup(&utterance.text))
        }
        None => utterance.text.clone(),
    };
    (command, input)
}

/// `text` as SSML's text and attribute values carry it.
fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// The warning tone: two rising notes, as a WAV file in the form eSpeak NG plays without
/// converting it (mono, 16-bit, at its voices' 22,050 Hz). Faded in and out, so that it
/// starts and ends without a click; eSpeak NG scales it with the speech's volume.
#[allow(clippy::float_arithmetic, reason = "a sound's samples, not money")]
pub fn warning_tone() -> Vec<u8> {
    const RATE: u32 = 22_050;
    const NOTES: [f64; 2] = [880.0, 1174.7];
    const NOTE_SECONDS: f64 = 0.15;
    const GAP_SECONDS: f64 = 0.05;
    const FADE_SECONDS: f64 = 0.01;
    const PEAK: f64 = 12_000.0;
    let note_samples = (f64::from(RATE) * NOTE_SECONDS) as usize;
    let gap_samples = (f64::from(RATE) * GAP_SECONDS) as usize;
    let fade_samples = f64::from(RATE) * FADE_SECONDS;
    let mut samples: Vec<i16> = Vec::new();
    for frequency in NOTES {
        for index in 0..note_samples {
            let fade = (index.min(note_samples - index) as f64 / fade_samples).min(1.0);
            let phase = std::f64::consts::TAU * frequency * index as f64 / f64::from(RATE);
            samples.push((PEAK * fade * phase.sin()) as i16);
        }
        samples.extend(std::iter::repeat_n(0, gap_samples));
    }
    let data_bytes = u32::try_from(samples.len() * 2).expect("a short tone");
    let mut wave = Vec::with_capacity(44 + samples.len() * 2);
    wave.extend_from_slice(b"RIFF");
    wave.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wave.extend_from_slice(b"WAVEfmt ");
    wave.extend_from_slice(&16u32.to_le_bytes());
    // PCM, one channel, the rate, bytes a second, bytes a frame, bits a sample.
    wave.extend_from_slice(&1u16.to_le_bytes());
    wave.extend_from_slice(&1u16.to_le_bytes());
    wave.extend_from_slice(&RATE.to_le_bytes());
    wave.extend_from_slice(&(RATE * 2).to_le_bytes());
    wave.extend_from_slice(&2u16.to_le_bytes());
    wave.extend_from_slice(&16u16.to_le_bytes());
    wave.extend_from_slice(b"data");
    wave.extend_from_slice(&data_bytes.to_le_bytes());
    for sample in samples {
        wave.extend_from_slice(&sample.to_le_bytes());
    }
    wave
}

/// The warning tone written to a temporary file, removed when dropped.
struct ToneFile(PathBuf);

impl ToneFile {
    fn write() -> std::io::Result<ToneFile> {
        static WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let number = WRITTEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("kiosk-warning-tone-{}-{number}.wav", std::process::id()));
        std::fs::write(&path, warning_tone())?;
        Ok(ToneFile(path))
    }
}

impl Drop for ToneFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts saying `utterance`: the program's process, with its input written to it.
fn start(program: &Path, utterance: &Utterance, tone: Option<&Path>) -> std::io::Result<Child> {
    let (mut command, input) = espeak_command(program, utterance, tone);
    let mut child = command.spawn()?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(input.as_bytes()));
    if let Some(Err(error)) = written {
        end(&mut child);
        return Err(error);
    }
    Ok(child)
}

/// Ends a speaking process and collects it.
fn end(child: &mut Child) {
    // Already ended by itself when kill fails: collecting it is all that is left.
    let _ = child.kill();
    let _ = child.wait();
}

/// The speaking thread: one process at a time, the next utterance when it has ended, until
/// the [`Espeak`] is dropped.
fn speak(program: &Path, orders: &std::sync::mpsc::Receiver<Order>) {
    use std::sync::mpsc::RecvTimeoutError;
    let tone = ToneFile::write()
        .map_err(|error| log::warn!("cannot write the warning tone: warnings are said without it: {error}"))
        .ok();
    let tone = tone.as_ref().map(|file| file.0.as_path());
    let mut speaking: Option<Child> = None;
    let mut waiting = std::collections::VecDeque::new();
    // Whether the last utterance failed: a failure is logged when it starts, not each time.
    let mut failing = false;
    loop {
        let order = if speaking.is_some() {
            match orders.recv_timeout(ENDED_POLL) {
                Ok(order) => Some(order),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match orders.recv() {
                Ok(order) => Some(order),
                Err(_) => break,
            }
        };
        match order {
            Some(Order::Say(utterance)) => {
                speaking.as_mut().map(end);
                speaking = None;
                waiting.clear();
                waiting.push_back(utterance);
            }
            Some(Order::Then(utterance)) => {
                // A customer pressing keys faster than speech hears the newest: what waits
                // beyond a few phrases is dropped, oldest first.
                if waiting.len() >= MOST_WAITING {
                    waiting.pop_front();
                }
                waiting.push_back(utterance);
            }
            Some(Order::Stop) => {
                speaking.as_mut().map(end);
                speaking = None;
                waiting.clear();
            }
            None => {}
        }
        if let Some(child) = speaking.as_mut() {
            match child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    if !status.success() && !failing {
                        log::warn!("{} could not speak ({status}): is a sound card there?", program.display());
                    }
                    failing = !status.success();
                    speaking = None;
                }
                Err(error) => {
                    log::warn!("cannot follow {}: {error}", program.display());
                    end(child);
                    speaking = None;
                }
            }
        }
        if speaking.is_none()
            && let Some(next) = waiting.pop_front()
        {
            match start(program, &next, tone) {
                Ok(child) => speaking = Some(child),
                Err(error) => log::error!("cannot speak with {}: {error}", program.display()),
            }
        }
    }
    speaking.as_mut().map(end);
}

impl Default for Espeak {
    fn default() -> Self {
        Espeak::new()
    }
}

impl Speaker for Espeak {
    fn say(&self, utterance: &Utterance) {
        self.send(Order::Say(utterance.clone()));
    }

    fn then(&self, utterance: &Utterance) {
        self.send(Order::Then(utterance.clone()));
    }

    fn stop(&self) {
        self.send(Order::Stop);
    }
}

/// What a [`RecordingSpeaker`] was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spoken {
    Said(Utterance),
    /// Asked to be said after what was being said.
    Then(Utterance),
    Stopped,
}

/// A speaker for tests and development: keeps what it was asked, says nothing.
#[derive(Clone, Debug, Default)]
pub struct RecordingSpeaker {
    heard: Arc<Mutex<Vec<Spoken>>>,
}

impl RecordingSpeaker {
    /// Everything asked since the last call.
    pub fn take(&self) -> Vec<Spoken> {
        std::mem::take(&mut *self.heard.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The texts said since the last call (stops left out).
    pub fn take_texts(&self) -> Vec<String> {
        self.take()
            .into_iter()
            .filter_map(|spoken| match spoken {
                Spoken::Said(utterance) | Spoken::Then(utterance) => Some(utterance.text),
                Spoken::Stopped => None,
            })
            .collect()
    }
}

impl Speaker for RecordingSpeaker {
    fn say(&self, utterance: &Utterance) {
        self.heard.lock().unwrap_or_else(PoisonError::into_inner).push(Spoken::Said(utterance.clone()));
    }

    fn then(&self, utterance: &Utterance) {
        self.heard.lock().unwrap_or_else(PoisonError::into_inner).push(Spoken::Then(utterance.clone()));
    }

    fn stop(&self) {
        self.heard.lock().unwrap_or_else(PoisonError::into_inner).push(Spoken::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn hello(language: &str, text: &str) -> Utterance {
        Utterance { text: text.into(), language: language.into(), rate: 175, volume: 100, warning: false }
    }

    fn warning(language: &str, text: &str) -> Utterance {
        Utterance { warning: true, ..hello(language, text) }
    }

    fn args(command: &Command) -> Vec<String> {
        command.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn the_program_is_asked_for_the_voice_rate_and_volume() {
        let utterance = Utterance { volume: 500, ..hello("fr", "Bonjour") };
        let (command, input) = espeak_command("espeak-ng".as_ref(), &utterance, Some(Path::new("/tmp/tone.wav")));
        assert_eq!(command.get_program(), "espeak-ng");
        assert_eq!(args(&command), ["-b", "1", "-v", "fr", "-s", "175", "-a", "200"], "the volume is capped at 200");
        assert_eq!(input, "Bonjour", "the text as it is");
    }

    #[test]
    fn a_warning_is_markup_that_plays_the_tone_first() {
        let utterance = warning("fr", "Temps écoulé <bientôt> & \"vite\"");
        let (command, input) = espeak_command("espeak-ng".as_ref(), &utterance, Some(Path::new("/tmp/a&b.wav")));
        assert_eq!(args(&command), ["-b", "1", "-v", "fr", "-s", "175", "-a", "100", "-m"]);
        assert_eq!(
            input,
            "<speak><audio src=\"/tmp/a&amp;b.wav\"/>Temps écoulé &lt;bientôt&gt; &amp; &quot;vite&quot;</speak>"
        );
        let (command, input) = espeak_command("espeak-ng".as_ref(), &utterance, None);
        assert_eq!(args(&command).len(), 8, "without a tone file, no markup");
        assert_eq!(input, utterance.text, "and the words alone");
    }

    #[test]
    #[allow(clippy::float_arithmetic, reason = "the tone's length in seconds")]
    fn the_warning_tone_is_a_wave_espeak_ng_plays_as_it_is() {
        let wave = warning_tone();
        assert_eq!(&wave[..4], b"RIFF");
        assert_eq!(&wave[8..16], b"WAVEfmt ");
        let word = |at: usize| u16::from_le_bytes([wave[at], wave[at + 1]]);
        let long = |at: usize| u32::from_le_bytes(wave[at..at + 4].try_into().unwrap());
        assert_eq!((word(20), word(22), long(24), word(34)), (1, 1, 22_050, 16), "PCM, mono, 22,050 Hz, 16-bit");
        assert_eq!(long(4) as usize, wave.len() - 8);
        assert_eq!(long(40) as usize, wave.len() - 44);
        let samples: Vec<i16> = wave[44..].chunks(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect();
        let seconds = samples.len() as f64 / 22_050.0;
        assert!((0.35..=0.45).contains(&seconds), "{seconds} s");
        let peak = samples.iter().map(|sample| sample.unsigned_abs()).max().unwrap();
        assert!((10_000..=12_000).contains(&peak), "heard, with room for eSpeak NG's volume: {peak}");
        assert!(samples[0].unsigned_abs() < 500, "faded in: no click");
        assert_eq!(samples.last(), Some(&0), "ends in silence");
    }

    /// The sound `utterance` makes with the real `espeak-ng`, written to a pipe instead of the
    /// speakers, as 16-bit samples.
    fn sound(utterance: &Utterance, tone: Option<&Path>) -> Vec<i16> {
        let (mut command, input) = espeak_command("espeak-ng".as_ref(), utterance, tone);
        command.arg("--stdout").stdout(Stdio::piped());
        let mut child = command.spawn().expect("espeak-ng is installed (scripts/setup.sh)");
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let mut wave = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut wave).unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(&wave[..4], b"RIFF", "a WAV stream");
        wave[44..].chunks(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect()
    }

    #[test]
    fn espeak_ng_speaks_french_and_english() {
        for (language, text) in [("fr", "Menu Burger, 11 euros 50, bouton, 2 sur 9"), ("en", "Total, 14 euros 20")] {
            let samples = sound(&hello(language, text), None);
            assert!(
                samples.len() > 11_025,
                "{language}: at least half a second of sound, got {} samples",
                samples.len()
            );
        }
    }

    #[test]
    fn espeak_ng_plays_the_warning_tone_before_the_words() {
        let tone = ToneFile::write().unwrap();
        let text = "Le temps est bientôt écoulé. Êtes-vous toujours là ?";
        let words = sound(&hello("fr", text), Some(&tone.0));
        let warned = sound(&warning("fr", text), Some(&tone.0));
        let tone_samples = (warning_tone().len() - 44) / 2;
        assert!(
            warned.len() >= words.len() + tone_samples * 9 / 10,
            "the tone ({tone_samples} samples) comes on top of the words ({} samples): {} samples",
            words.len(),
            warned.len()
        );
        let opening = warned[..tone_samples / 3].iter().map(|sample| sample.unsigned_abs()).max().unwrap();
        assert!(opening > 5_000, "it opens with the tone, loud enough to hear: peak {opening}");
    }

    /// A stand-in for the program: notes each text it is given with its process id in `log`,
    /// then talks for `seconds`.
    fn talker(dir: &Path, seconds: &str) -> (Espeak, PathBuf) {
        let program = dir.join("talker");
        let log = dir.join("log");
        let script = format!("#!/bin/sh\necho \"$$ $(cat)\" >> {}\nexec sleep {seconds}\n", log.display());
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        (Espeak::with_program(&program), log)
    }

    /// The lines of `log` once it has `count` of them: process id and text.
    fn heard(log: &Path, count: usize) -> Vec<(u32, String)> {
        for _ in 0..200 {
            let lines: Vec<(u32, String)> = std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.split_once(' ').map(|(pid, text)| (pid.parse().unwrap(), text.to_owned())))
                .collect();
            if lines.len() >= count {
                return lines;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("{count} utterances were never started");
    }

    fn alive(pid: u32) -> bool {
        Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn saying_something_new_or_stopping_ends_the_speech_under_way() {
        let dir = tempfile::tempdir().unwrap();
        let (espeak, log) = talker(dir.path(), "60");
        espeak.say(&hello("fr", "Bonjour"));
        espeak.then(&hello("fr", "waits"));
        let [(first, text)] = &heard(&log, 1)[..] else { panic!("one utterance") };
        assert_eq!(text, "Bonjour");
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(heard(&log, 1).len(), 1, "what waits is not said while the first speaks");
        espeak.say(&hello("fr", "Au revoir"));
        let lines = heard(&log, 2);
        assert_eq!(lines[1].1, "Au revoir", "what waited was dropped");
        let second = lines[1].0;
        assert!(!alive(*first), "the first one ended and was collected");
        espeak.stop();
        for _ in 0..100 {
            if !alive(second) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!alive(second), "stopped at once");
    }

    #[test]
    fn the_speaking_thread_keeps_the_tone_file_while_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (espeak, log) = talker(dir.path(), "0");
        espeak.say(&warning("en", "Time is nearly up & then?"));
        let [(_, input)] = &heard(&log, 1)[..] else { panic!("one utterance") };
        let source = input.strip_prefix("<speak><audio src=\"").and_then(|rest| rest.split_once('"')).unwrap().0;
        assert!(input.ends_with("/>Time is nearly up &amp; then?</speak>"), "{input}");
        assert_eq!(std::fs::read(source).unwrap(), warning_tone());
        drop(espeak);
        for _ in 0..100 {
            if !Path::new(source).exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!Path::new(source).exists(), "removed when speech ends");
    }

    #[test]
    fn what_waits_is_said_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let (espeak, log) = talker(dir.path(), "0.1");
        espeak.say(&hello("en", "one"));
        espeak.then(&hello("en", "two"));
        espeak.then(&hello("en", "three"));
        let texts: Vec<String> = heard(&log, 3).into_iter().map(|(_, text)| text).collect();
        assert_eq!(texts, ["one", "two", "three"]);
    }

    #[test]
    fn a_missing_program_is_logged_not_fatal() {
        let espeak = Espeak::with_program("/nonexistent/espeak-ng");
        espeak.say(&hello("fr", "Bonjour"));
        espeak.then(&hello("fr", "encore"));
        espeak.stop();
    }
}
