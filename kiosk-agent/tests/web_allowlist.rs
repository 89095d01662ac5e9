//! The agent's own HTTP calls held to the web allowlist: the policy's `web.allow` and the
//! agent's own update repository and fleet. A URL outside it is refused before any request,
//! with a clear error; no policy in force restricts nothing.

mod common;

use std::sync::Arc;

use common::{CountingServices, RecordingDatabase, SimulatedApp};
use kiosk_agent::catalog::Kind;
use kiosk_agent::daemon::Agent;
use kiosk_agent::health::{Fleet, HttpFleet};
use kiosk_agent::lockdown::Enforcement;
use kiosk_agent::source::{Fetcher, Location};
use kiosk_engine::devices::{WebClient, WebGate};
use kiosk_tests::http_server::{FleetServer, StaticServer};

#[tokio::test]
async fn the_agent_calls_only_what_the_allowlist_lets_it() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, device) = common::device_on_its_first_release(dir.path()).await;
    let server = StaticServer::start(repo.dir.clone()).await;
    let fleet = FleetServer::start().await;
    let gate = WebGate::default();
    let config = device.config(&server.url, &repo.root_of_trust(), 2);
    let policy = config.paths.policy.clone();
    let mut updater = device.updater(
        config,
        &repo.root_of_trust(),
        Arc::new(CountingServices::default()),
        Arc::new(SimulatedApp::new(device.releases())),
        Arc::new(RecordingDatabase::default()),
    );
    updater.source.location = Location::parse(&server.url).unwrap();
    updater.source.fetcher = Fetcher::new(&dir.path().join("downloads")).unwrap().gated(gate.clone());
    let http =
        HttpFleet { client: WebClient::new(reqwest::Client::new(), gate.clone()), url: fleet.url.parse().unwrap() };
    let enforcement =
        |own: Vec<String>| Enforcement { web: gate.clone(), own_endpoints: own, ..Enforcement::default() };

    // No policy: nothing restricted.
    let agent =
        Agent::new(updater, Default::default(), Some(Arc::new(http.clone()) as Arc<dyn Fleet>), enforcement(vec![]));
    agent.enforce_policy().await;
    assert!(agent.updater.poll().await.repository_error.is_none());

    // A policy listing neither the repository nor the fleet: both refused before any request.
    std::fs::write(&policy, "[web]\nallow = [\"https://terminal.venue.example/\"]\n").unwrap();
    let status = agent.enforce_policy().await;
    assert_eq!(status.policy_error, None);
    server.clear_log();
    let report = agent.updater.poll().await;
    let error = report.repository_error.expect("the repository is refused");
    assert!(error.contains("is outside the kiosk's web allowlist (the policy's web.allow)"), "{error}");
    assert!(server.served().is_empty(), "no request left the agent: {:?}", server.served());
    let refused = http.send(b"{}").await.unwrap_err();
    assert!(
        refused.to_string().ends_with("is outside the kiosk's web allowlist (the policy's web.allow)"),
        "{refused}"
    );
    assert!(fleet.received.lock().unwrap().is_empty());

    // The agent's own endpoints are always on the list: a policy cannot cut it off.
    let agent =
        Agent::new(agent.updater, Default::default(), None, enforcement(vec![server.url.clone(), fleet.url.clone()]));
    agent.enforce_policy().await;
    let report = agent.updater.poll().await;
    assert!(report.repository_error.is_none(), "{report:?}");
    assert!(report.outcomes.contains_key(&Kind::App));
    http.send(b"{}").await.unwrap();
    assert_eq!(fleet.received.lock().unwrap().len(), 1);
}
