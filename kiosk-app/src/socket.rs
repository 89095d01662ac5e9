//! The app's local socket for the device agent: one `kiosk-protocol` request a line, one
//! reply a line. Connections are served on the tokio runtime; each command is carried out on
//! the UI thread, which owns the model, and its answer sent back. A line that is not a request
//! of this protocol version gets a refusal saying why, and the connection stays open.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use kiosk_engine::{Engine, PrinterState};
use kiosk_protocol::{Answer, Check, Command, Reply, Request, SelfCheckReport};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::kiosk::Inner;

/// The longest request line read: requests are a few dozen bytes.
const MAX_REQUEST: usize = 4096;

type Job = (Command, oneshot::Sender<Answer>);

/// Listens on `path` (an old socket file there is replaced), readable and writable by its
/// owner and group only: on the device the agent's group, set by the service's unit.
pub fn serve(inner: &Rc<Inner>, path: &Path) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    }
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("cannot replace the old socket {}", path.display()));
        }
        _ => {}
    }
    let listener = {
        let _runtime = inner.runtime.enter();
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    let (jobs, mut queue) = mpsc::channel::<Job>(16);
    let engine = inner.engine.clone();
    inner.runtime.spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, jobs.clone(), engine.clone()));
                }
                Err(error) => log::warn!("the agent's socket could not accept: {error}"),
            }
        }
    });
    let weak = Rc::downgrade(inner);
    slint::spawn_local(async move {
        while let Some((command, reply)) = queue.recv().await {
            let Some(inner) = weak.upgrade() else { return };
            let _ = reply.send(inner.handle(command));
        }
    })
    .context("cannot serve the agent's socket on the UI thread")?;
    log::info!("serving the agent on {}", path.display());
    Ok(())
}

/// Answers one connection's requests, in order, until it closes. A line longer than
/// [`MAX_REQUEST`] is refused and the connection closed: nothing after it can be read as a line.
async fn connection(stream: UnixStream, jobs: mpsc::Sender<Job>, engine: Arc<Engine>) {
    let (reading, mut writing) = stream.into_split();
    let mut reading = BufReader::new(reading);
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_REQUEST).unwrap_or(u64::MAX) + 1;
        match (&mut reading).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) => {
                log::warn!("the agent's request could not be read: {error}");
                return;
            }
        }
        let whole = line.last() == Some(&b'\n');
        let answer = match std::str::from_utf8(&line) {
            _ if !whole && line.len() > MAX_REQUEST => {
                Answer::Refused { reason: format!("a request is one line of at most {MAX_REQUEST} bytes") }
            }
            Ok(text) => match Request::parse(text.trim_end()) {
                Ok(Request { body: Command::SelfCheck, .. }) => self_check(&engine).await,
                Ok(request) => carry_out(&jobs, request.body).await,
                Err(error) => Answer::Refused { reason: error.to_string() },
            },
            Err(_) => Answer::Refused { reason: "a request is UTF-8 text".into() },
        };
        let closing = matches!(&answer, Answer::Refused { .. }) && !whole;
        let reply = Reply::new(answer).to_json() + "\n";
        if let Err(error) = writing.write_all(reply.as_bytes()).await {
            log::warn!("the agent's reply could not be sent: {error}");
            return;
        }
        if closing {
            return;
        }
    }
}

async fn carry_out(jobs: &mpsc::Sender<Job>, command: Command) -> Answer {
    let (reply, answer) = oneshot::channel();
    if jobs.send((command, reply)).await.is_err() {
        return Answer::Refused { reason: "the app is closing".into() };
    }
    answer.await.unwrap_or_else(|_| Answer::Refused { reason: "the app is closing".into() })
}

/// The self check runs on the engine alone: the UI thread keeps drawing meanwhile.
async fn self_check(engine: &Engine) -> Answer {
    let check = engine.self_check().await;
    let result = |outcome: Result<String, String>| match outcome {
        Ok(detail) => Check { ok: true, detail },
        Err(detail) => Check { ok: false, detail },
    };
    let printer = &check.receipt_printer;
    Answer::SelfCheck(SelfCheckReport {
        release: crate::release().to_owned(),
        test_order: result(check.test_order.map(|total| total.to_string())),
        receipt_printer: Check {
            ok: printer.takes_jobs(),
            detail: match printer {
                PrinterState::Unreachable(why) => format!("unreachable: {why}"),
                state => state.code().to_owned(),
            },
        },
        terminal: result(check.terminal.map(|()| "answers".to_owned())),
    })
}
