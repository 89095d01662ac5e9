//! The device agent's side of the app's Unix socket: requests a line, replies a line, each
//! carried out by the app on its UI thread; what is not a request of this protocol is refused
//! with the reason. And systemd's side: the watchdog pinged from the UI thread.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use common::{PATIENCE, Till, fixture};
use kiosk_app::headless::{Headless, wait_until};
use kiosk_engine::service::ServiceNotifier;
use kiosk_protocol::{Activity, Answer, Reply};

/// Sends each line and reads its reply, as the agent does.
fn agent(socket: &Path, requests: &[String]) -> Vec<Reply> {
    let stream = UnixStream::connect(socket).expect("the app's socket answers");
    let mut replies = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    requests
        .iter()
        .map(|request| {
            writer.write_all(request.as_bytes()).unwrap();
            writer.write_all(b"\n").unwrap();
            let mut line = String::new();
            replies.read_line(&mut line).unwrap();
            Reply::parse(&line).unwrap_or_else(|error| panic!("{line:?} is not a reply: {error}"))
        })
        .collect()
}

/// Runs `agent` on its own thread while the app's event loop goes on.
async fn ask(socket: PathBuf, requests: Vec<String>) -> Vec<Reply> {
    let (sender, replies) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || sender.send(agent(&socket, &requests)));
    replies.await.expect("the agent's thread answered")
}

fn state(reply: &Reply) -> (Activity, Option<String>) {
    match &reply.body {
        Answer::State(summary) => (summary.activity, summary.out_of_service.clone()),
        other => panic!("a state summary, not {other:?}"),
    }
}

/// The next message the service manager has, if any.
fn notified(manager: &UnixDatagram) -> Option<String> {
    let mut buffer = [0; 256];
    let length = manager.recv(&mut buffer).ok()?;
    Some(String::from_utf8_lossy(&buffer[..length]).into_owned())
}

fn refusal(reply: &Reply) -> &str {
    match &reply.body {
        Answer::Refused { reason } => reason,
        other => panic!("a refusal, not {other:?}"),
    }
}

#[test]
fn the_agent_reads_and_steers_the_app_and_systemd_watches_it() {
    let headless = Headless::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut fixture = fixture(dir.path(), "menus/brasserie/menu.toml", Till::StandIn);
    let manager = UnixDatagram::bind(dir.path().join("notify")).unwrap();
    manager.set_nonblocking(true).unwrap();
    let path = dir.path().join("notify");
    let watchdog = ServiceNotifier::to(path.to_str().unwrap(), Some(Duration::from_millis(100))).unwrap();
    fixture.kiosk.keep_watchdog(Rc::new(watchdog));
    let fixture = Rc::new(fixture);
    let socket = dir.path().join("run/app.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    std::fs::write(&socket, "left by an earlier run").unwrap();
    fixture.kiosk.serve_agent(&socket).unwrap();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "the app and the agent's group only");
    let request = |body: &str| format!(r#"{{"version":1,{body}}}"#);
    headless
        .run(async move {
            assert!(wait_until(PATIENCE, || fixture.kiosk.is_ready()).await, "the menu never loaded");
            let replies = ask(
                socket.clone(),
                vec![
                    request(r#""command":"state""#),
                    r#"{"version":2,"command":"state"}"#.into(),
                    "state, please".into(),
                    request(r#""command":"reboot""#),
                    request(r#""command":"out_of_service","reason":"printer out of paper""#),
                    request(r#""command":"screenshot""#),
                    request(r#""command":"reload_menu""#),
                    request(r#""command":"back_in_service""#),
                    request(r#""command":"self_check""#),
                ],
            )
            .await;
            let Answer::State(summary) = &replies[0].body else { panic!("a state summary: {:?}", replies[0]) };
            assert_eq!((summary.activity, summary.release.as_str()), (Activity::Attract, env!("CARGO_PKG_VERSION")));
            assert!(summary.last_frame.is_some());
            assert_eq!(refusal(&replies[1]), "protocol version 2 is not 1, the one this release speaks");
            assert!(refusal(&replies[2]).starts_with("not a kiosk protocol message"), "{:?}", replies[2]);
            assert!(refusal(&replies[3]).starts_with("not a kiosk protocol message"), "{:?}", replies[3]);
            assert_eq!(state(&replies[4]), (Activity::OutOfService, Some("printer out of paper".into())));
            match &replies[5].body {
                Answer::Screenshot { png } => assert!(png.starts_with(b"\x89PNG"), "a PNG"),
                other => panic!("a screenshot, not {other:?}"),
            }
            assert_eq!(state(&replies[6]).0, Activity::OutOfService);
            assert_eq!(state(&replies[7]), (Activity::Attract, None));
            // The update health gate's question: a test order priced, printer and terminal there.
            let Answer::SelfCheck(check) = &replies[8].body else { panic!("a self check: {:?}", replies[8]) };
            assert!(check.passed(), "{}", check.failures());
            assert_eq!(check.release, env!("CARGO_PKG_VERSION"));
            assert_eq!(check.test_order.detail, "10.50", "the first item on sale that prices alone");
            // A line too long to be a request is refused, and the connection closed.
            let mut stream = UnixStream::connect(&socket).unwrap();
            stream.write_all(&vec![b'x'; 10_000]).unwrap();
            let mut replies = BufReader::new(stream);
            let mut answer = String::new();
            replies.read_line(&mut answer).unwrap();
            let reply = Reply::parse(answer.trim_end()).unwrap();
            assert_eq!(refusal(&reply), "a request is one line of at most 4096 bytes");
            let closed = replies.read(&mut [0; 1]).map_or(true, |read| read == 0);
            assert!(closed, "nothing more is read from that connection");
            // The watchdog hears from the UI thread, and not while it is frozen.
            assert!(wait_until(PATIENCE, || notified(&manager).as_deref() == Some("WATCHDOG=1")).await);
            while notified(&manager).is_some() {}
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(notified(&manager), None, "no ping from a frozen UI thread");
            assert!(wait_until(PATIENCE, || notified(&manager).is_some()).await, "pings again once it runs");
        })
        .unwrap();
}
