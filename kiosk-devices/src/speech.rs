//! Speech output for a customer who cannot see the screen, through the headphones.
//!
//! [`Espeak`] runs eSpeak NG's program (`espeak-ng`, Debian's package of that name) once per
//! utterance, the text on its standard input, the sound to the default ALSA device. The
//! program rather than the library: a new utterance or headphones pulled out stop speech by
//! ending the process at once, whatever it was doing; the synthesiser's memory and any crash
//! of it stay out of the app; and no C binding or unsafe code is needed. Starting the program
//! costs a few tens of milliseconds (the speech benchmark measures it), well inside the time a
//! key press may take to be heard.

use std::io::Write;
use std::path::PathBuf;
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

/// The command that says `utterance` with `program` (its text goes to the standard input).
pub fn espeak_command(program: &std::path::Path, utterance: &Utterance) -> Command {
    let mut command = Command::new(program);
    command
        .args(["-b", "1", "-v", &utterance.language])
        .args(["-s", &utterance.rate.to_string(), "-a", &utterance.volume.min(200).to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        // ALSA's complaints, once per utterance while no sound card answers, would flood the
        // journal: the exit status is what the speaking thread logs.
        .stderr(Stdio::null());
    command
}

/// Starts saying `utterance`: the program's process, with the text written to it.
fn start(program: &std::path::Path, utterance: &Utterance) -> std::io::Result<Child> {
    let mut child = espeak_command(program, utterance).spawn()?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(utterance.text.as_bytes()));
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
fn speak(program: &std::path::Path, orders: &std::sync::mpsc::Receiver<Order>) {
    use std::sync::mpsc::RecvTimeoutError;
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
            match start(program, &next) {
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
        Utterance { text: text.into(), language: language.into(), rate: 175, volume: 100 }
    }

    #[test]
    fn the_program_is_asked_for_the_voice_rate_and_volume() {
        let command = espeak_command("espeak-ng".as_ref(), &Utterance { volume: 500, ..hello("fr", "Bonjour") });
        let args: Vec<_> = command.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect();
        assert_eq!(command.get_program(), "espeak-ng");
        assert_eq!(args, ["-b", "1", "-v", "fr", "-s", "175", "-a", "200"], "the volume is capped at 200");
    }

    #[test]
    fn espeak_ng_speaks_french_and_english() {
        // The same program and arguments, the sound written to a pipe instead of the speakers.
        for (language, text) in [("fr", "Menu Burger, 11 euros 50, bouton, 2 sur 9"), ("en", "Total, 14 euros 20")] {
            let mut command = espeak_command("espeak-ng".as_ref(), &hello(language, text));
            command.arg("--stdout").stdout(Stdio::piped());
            let mut child = command.spawn().expect("espeak-ng is installed (scripts/setup.sh)");
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let mut wave = Vec::new();
            child.stdout.take().unwrap().read_to_end(&mut wave).unwrap();
            assert!(child.wait().unwrap().success());
            assert_eq!(&wave[..4], b"RIFF", "a WAV stream");
            assert!(wave.len() > 22_050, "{language}: at least half a second of sound, got {} bytes", wave.len());
        }
    }

    /// A stand-in for the program: notes each text it is given with its process id in `log`,
    /// then talks for `seconds`.
    fn talker(dir: &std::path::Path, seconds: &str) -> (Espeak, std::path::PathBuf) {
        let program = dir.join("talker");
        let log = dir.join("log");
        let script = format!("#!/bin/sh\necho \"$$ $(cat)\" >> {}\nexec sleep {seconds}\n", log.display());
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        (Espeak::with_program(&program), log)
    }

    /// The lines of `log` once it has `count` of them: process id and text.
    fn heard(log: &std::path::Path, count: usize) -> Vec<(u32, String)> {
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
        std::path::Path::new(&format!("/proc/{pid}")).exists()
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
