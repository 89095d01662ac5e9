//! Health reporting: heartbeats to the fleet with the kiosk's figures, queued on disk while
//! the fleet cannot be reached (bounded) and sent when it is back, oldest first; the same
//! figures in Prometheus text format on loopback; and the agent's loop, which polls, takes
//! heartbeats, tells systemd it is ready and pings its watchdog, and stops when told; and the
//! agent keeping the app serving (out of service while a required device is missing,
//! restarted when it stops answering).

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{CountingServices, RecordingDatabase, SimulatedApp};
use kiosk_agent::daemon::{Agent, run};
use kiosk_agent::lockdown::Enforcement;
use kiosk_engine::service::ServiceNotifier;
use kiosk_protocol::{Heartbeat, Message};
use kiosk_tests::http_server::FleetServer;

struct Setup {
    dir: tempfile::TempDir,
    repo: common::Repo,
    agent: Agent,
    fleet: FleetServer,
    app: Arc<SimulatedApp>,
    services: Arc<CountingServices>,
    /// Where the agent's notify messages arrive, as systemd's socket would take them.
    service_manager: std::os::unix::net::UnixDatagram,
}

async fn setup(queue_max: usize, metrics_port: Option<u16>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (repo, device) = common::device_on_its_first_release(dir.path()).await;
    let fleet = FleetServer::start().await;
    let mut config = device.config(&repo.dir.display().to_string(), &repo.root_of_trust(), 2);
    config.site = Some("Lyon Part-Dieu".into());
    config.health.queue_max = queue_max;
    config.health.heartbeat_seconds = 1;
    config.health.metrics_listen = metrics_port.map(|port| std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    let app = Arc::new(SimulatedApp::new(device.releases()));
    let services = Arc::new(CountingServices::default());
    let updater = device.updater(
        config,
        &repo.root_of_trust(),
        services.clone(),
        app.clone(),
        Arc::new(RecordingDatabase::default()),
    );
    let notify = dir.path().join("notify");
    let service_manager = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    service_manager.set_nonblocking(true).unwrap();
    let notifier = ServiceNotifier::to(notify.to_str().unwrap(), Some(Duration::from_millis(200))).unwrap();
    let agent = Agent::new(updater, notifier, Some(common::http_fleet(&fleet.url)), Enforcement::default());
    Setup { dir, repo, agent, fleet, app, services, service_manager }
}

fn received(fleet: &FleetServer) -> Vec<Heartbeat> {
    fleet
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|body| serde_json::from_slice::<Message<Heartbeat>>(body).expect("a heartbeat message").body)
        .collect()
}

#[tokio::test]
async fn a_heartbeat_carries_the_kiosks_figures() {
    let setup = setup(10, None).await;
    setup.agent.handle(kiosk_agent::daemon::Event::Poll).await;
    setup.agent.heartbeat().await;
    let heartbeats = received(&setup.fleet);
    assert_eq!(heartbeats.len(), 1);
    let beat = &heartbeats[0];
    assert_eq!((beat.device_id.as_str(), beat.site.as_deref()), (common::DEVICE_ID, Some("Lyon Part-Dieu")));
    assert_eq!(beat.versions.app, "1.0.0");
    assert!(beat.versions.os.contains("kernel"), "{}", beat.versions.os);
    assert!(beat.system.memory_total_kib > 0 && beat.system.memory_available_kib > 0);
    assert!(beat.system.disk_total_bytes >= beat.system.disk_free_bytes && beat.system.disk_free_bytes > 0);
    assert!(beat.system.uptime_seconds > 0 && beat.system.cpus > 0);
    assert!(beat.app.reachable, "{:?}", beat.app.error);
    assert!(beat.app.self_check.as_ref().is_some_and(|check| check.passed()));
    let day = beat.day.as_ref().expect("the day's figures");
    assert_eq!((day.paid_orders, day.revenue.to_string().as_str()), (3, "42.30"));
    assert_eq!(day.journal_last.as_ref().map(|last| last.seq), Some(17));
    assert!(beat.update.last_poll_at.is_some() && beat.update.last_error.is_none());
    let routes: Vec<&str> = beat.escape_routes.iter().map(|route| route.name.as_str()).collect();
    assert_eq!(routes.len(), 5, "every escape route is reported, open or not: {routes:?}");
    assert_eq!(beat.update.offers.len(), 1);
    assert_eq!((beat.update.offers[0].kind.as_str(), beat.update.offers[0].outcome.as_str()), ("app", "up to date"));
}

#[tokio::test]
async fn heartbeats_wait_on_disk_while_the_fleet_is_down_and_go_oldest_first() {
    let setup = setup(3, None).await;
    setup.fleet.down.store(true, Ordering::SeqCst);
    for _ in 0..5 {
        setup.agent.heartbeat().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(setup.agent.queue.len(), 3, "bounded: the two oldest dropped");
    assert!(received(&setup.fleet).is_empty());
    setup.fleet.down.store(false, Ordering::SeqCst);
    setup.agent.heartbeat().await;
    let heartbeats = received(&setup.fleet);
    assert_eq!(heartbeats.len(), 3, "the newest three, this one among them");
    let times: Vec<&str> = heartbeats.iter().map(|beat| beat.taken_at.as_str()).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "oldest first");
    assert!(setup.agent.queue.is_empty());
}

#[tokio::test]
async fn metrics_are_served_on_loopback() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let setup = setup(10, Some(port)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let fleet = setup.fleet.clone();
    let service_manager = setup.service_manager;
    let running = tokio::spawn(run(setup.agent, async move {
        let _ = stopped.await;
    }));
    // The loop polls, then takes a heartbeat every second.
    let started = std::time::Instant::now();
    while received(&fleet).len() < 2 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(received(&fleet).len() >= 2, "heartbeats every second");
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap();
    for line in [
        "kiosk_orders_paid_today 3",
        "kiosk_revenue_today_minor 4230",
        "kiosk_journal_last_sequence 17",
        "kiosk_app_reachable 1",
        "kiosk_printer_ok 1",
        "kiosk_update_repository_ok 1",
        "kiosk_escape_routes_open ",
        "kiosk_release_info{app=\"1.0.0\",",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    let missing = reqwest::get(format!("http://127.0.0.1:{port}/")).await.unwrap();
    assert_eq!(missing.status(), 404);
    // systemd heard that the agent is ready, what it found, and its watchdog pings.
    let heard = heard(&service_manager);
    assert!(heard.iter().any(|message| message.starts_with("READY=1")), "{heard:?}");
    assert!(heard.iter().any(|message| message == "STATUS=updates: app up to date"), "{heard:?}");
    assert!(heard.iter().any(|message| message == "WATCHDOG=1"), "{heard:?}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("the agent stops").unwrap().unwrap();
}

/// What the service manager heard, in order.
fn heard(service_manager: &std::os::unix::net::UnixDatagram) -> Vec<String> {
    let mut heard = Vec::new();
    let mut buffer = [0; 512];
    while let Ok(length) = service_manager.recv(&mut buffer) {
        heard.push(String::from_utf8_lossy(&buffer[..length]).into_owned());
    }
    heard
}

#[tokio::test]
async fn the_watchdog_is_pinged_while_a_release_waits_out_its_health_gate() {
    // A release that never passes its gate: the first poll installs it, waits the gate out
    // (2 s; the watchdog's limit is 200 ms here, its pings due every 100 ms) and rolls it back.
    let setup = setup(10, None).await;
    let next = common::app_release(setup.dir.path(), "1.1.0", &setup.dir.path().join("kiosk-app"));
    setup.repo.add(kiosk_agent::catalog::Kind::App, "1.1.0", &next).await;
    setup.app.broken.lock().unwrap().push("1.1.0".into());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service_manager = setup.service_manager;
    let running = tokio::spawn(run(setup.agent, async move {
        let _ = stopped.await;
    }));
    let mut messages = Vec::new();
    let started = std::time::Instant::now();
    while !messages.iter().any(|message: &String| message.starts_with("STATUS=updates:"))
        && started.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        messages.extend(heard(&service_manager));
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("the agent stops").unwrap().unwrap();
    let status = messages.iter().position(|message| message.starts_with("STATUS=updates:")).expect("the poll ended");
    assert!(messages[status].contains("rolled back"), "{messages:?}");
    // All through the poll's 2 s: on the image (120 s limit, 90 s gate) systemd killed the
    // agent in the middle of a gate when the loop waited for the poll before pinging.
    let pings = messages[..status].iter().filter(|message| *message == "WATCHDOG=1").count();
    assert!(pings >= 5, "{pings} pings while the poll ran: {messages:?}");
}

#[tokio::test]
async fn the_agent_keeps_the_app_serving() {
    let setup = setup(10, None).await;
    let out_of_service = || setup.app.out_of_service.lock().unwrap().clone();
    setup.agent.heartbeat().await;
    assert_eq!(out_of_service(), None, "all devices answer");

    // The receipt printer stops answering: out of service until it is back.
    setup.app.broken.lock().unwrap().push("1.0.0".into());
    setup.agent.heartbeat().await;
    assert_eq!(out_of_service().as_deref(), Some("a required device is missing: receipt printer: unreachable"));
    setup.agent.heartbeat().await;
    setup.app.broken.lock().unwrap().clear();
    setup.agent.heartbeat().await;
    assert_eq!(out_of_service(), None, "back in service");

    // Taken out of service for another reason (staff, the fleet): the agent leaves it so.
    *setup.app.out_of_service.lock().unwrap() = Some("closed for cleaning".into());
    setup.agent.heartbeat().await;
    assert_eq!(out_of_service().as_deref(), Some("closed for cleaning"));

    // An app that stops answering is restarted after three silent heartbeats.
    setup.app.down.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        setup.agent.heartbeat().await;
    }
    assert_eq!(*setup.services.restarts.lock().unwrap(), 0);
    setup.agent.heartbeat().await;
    assert_eq!(*setup.services.restarts.lock().unwrap(), 1);
}

#[tokio::test]
async fn multi_app_mode_shows_the_app_the_schedule_names() {
    let setup = setup(10, None).await;
    let policy = setup.agent.updater.config.paths.policy.clone();
    let write = |window: &str| {
        let text = format!(
            "[kiosk]\nmode = \"multi-app\"\napps = [\"kiosk-app\", \"order-board\"]\n\
             [[kiosk.schedule]]\napp = \"order-board\"\nwindow = \"{window}\"\n"
        );
        std::fs::write(&policy, text).unwrap();
    };
    // The agent's clock says 03:00; the policy is read at each poll.
    write("02:00-04:00");
    setup.agent.enforce_policy().await;
    setup.agent.heartbeat().await;
    setup.agent.heartbeat().await;
    assert_eq!(*setup.services.shown.lock().unwrap(), ["order-board"], "shown once, then left alone");
    write("22:00-23:00");
    setup.agent.enforce_policy().await;
    setup.agent.heartbeat().await;
    assert_eq!(
        *setup.services.shown.lock().unwrap(),
        ["order-board", "kiosk-app"],
        "the first app outside the schedule"
    );
}
