//! A Slint platform without a display: the software renderer draws into memory, and a small
//! event loop runs timers and the work the engine hands back. The app's `--headless`,
//! `--screenshots` and `--report-startup` modes and the UI benchmarks run on it; the flow
//! tests use Slint's own testing backend.
//!
//! A crate of its own because the renderer's drawing loops are compiled where the pixel type
//! is named, here: built for speed, as a backend's are, while the app's crate is built for
//! size (the release profile in Cargo.toml).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter};
use slint::{EventLoopError, PhysicalSize, PlatformError, Rgb8Pixel};

type Event = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    events: Mutex<(VecDeque<Event>, bool)>,
    wake: Condvar,
}

struct Proxy(Arc<Queue>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        self.0.events.lock().expect("event queue lock").1 = true;
        self.0.wake.notify_one();
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Event) -> Result<(), EventLoopError> {
        self.0.events.lock().expect("event queue lock").0.push_back(event);
        self.0.wake.notify_one();
        Ok(())
    }
}

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    queue: Arc<Queue>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(Proxy(self.queue.clone())))
    }

    fn run_event_loop(&self) -> Result<(), PlatformError> {
        loop {
            slint::platform::update_timers_and_animations();
            let (events, quit) = {
                let mut queue = self.queue.events.lock().expect("event queue lock");
                (std::mem::take(&mut queue.0), std::mem::take(&mut queue.1))
            };
            for event in events {
                event();
            }
            if quit {
                return Ok(());
            }
            let wait = slint::platform::duration_until_next_timer_update()
                .unwrap_or(Duration::from_millis(50))
                .min(Duration::from_millis(50));
            let queue = self.queue.events.lock().expect("event queue lock");
            if queue.0.is_empty() && !queue.1 {
                drop(self.queue.wake.wait_timeout(queue, wait).expect("event queue lock"));
            }
        }
    }
}

/// The display-less window every component of this process draws into.
#[derive(Clone)]
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    /// The pixels drawn, kept from one frame to the next as a display's buffer is: a new
    /// 6 MiB buffer a frame would stay in the allocator's heap and show as memory growth.
    frame: Rc<RefCell<Frame>>,
}

impl std::fmt::Debug for Headless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headless").field("size", &self.window.size()).finish()
    }
}

impl Headless {
    /// Makes this process render without a display. Call once, before any window exists.
    pub fn install() -> anyhow::Result<Headless> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        let platform = HeadlessPlatform { window: window.clone(), queue: Arc::default() };
        slint::platform::set_platform(Box::new(platform)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let frame = Frame { width: 0, height: 0, pixels: Vec::new() };
        Ok(Headless { window, frame: Rc::new(RefCell::new(frame)) })
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.window.set_size(PhysicalSize::new(width, height));
    }

    /// Draws the whole window now and returns how long drawing took.
    pub fn render(&self) -> Duration {
        let size = self.window.size();
        let mut frame = self.frame.borrow_mut();
        if (frame.width, frame.height) != (size.width, size.height) {
            *frame = Frame {
                width: size.width,
                height: size.height,
                pixels: vec![Rgb8Pixel::default(); size.width as usize * size.height as usize],
            };
        }
        self.window.request_redraw();
        let started = Instant::now();
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut frame.pixels, size.width as usize);
        });
        started.elapsed()
    }

    /// Draws the whole window now and returns a copy of its pixels.
    pub fn snapshot(&self) -> Frame {
        self.render();
        self.frame.borrow().clone()
    }

    /// Runs the event loop until `script` finishes, and returns what it returned.
    pub fn run<T: 'static>(&self, script: impl Future<Output = T> + 'static) -> anyhow::Result<T> {
        let result = Rc::new(RefCell::new(None));
        let slot = result.clone();
        slint::spawn_local(async move {
            *slot.borrow_mut() = Some(script.await);
            let _ = slint::quit_event_loop();
        })?;
        slint::run_event_loop()?;
        let value = result.borrow_mut().take();
        value.context("the event loop stopped before the script finished")
    }
}

/// A rendered window.
#[derive(Clone, Debug)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<Rgb8Pixel>,
}

impl Frame {
    pub fn save_png(&self, path: &Path) -> anyhow::Result<()> {
        let bytes: Vec<u8> = self.pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        image::save_buffer(path, &bytes, self.width, self.height, image::ColorType::Rgb8)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Waits on the UI thread without blocking it.
pub async fn sleep(duration: Duration) {
    let (done, wait) = tokio::sync::oneshot::channel();
    slint::Timer::single_shot(duration, move || {
        let _ = done.send(());
    });
    let _ = wait.await;
}

/// Waits until `ready` holds, checking every few milliseconds; false after `limit`.
pub async fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() > limit {
            return false;
        }
        sleep(Duration::from_millis(2)).await;
    }
    true
}

/// This process's proportional memory (PSS) in KiB, from `/proc/self/smaps_rollup`.
pub fn proportional_memory_kib() -> anyhow::Result<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").context("cannot read /proc/self/smaps_rollup")?;
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no Pss line in /proc/self/smaps_rollup")
}
