//! What the binaries (the app, the agent) share as services: systemd's notify protocol (ready
//! with a status line, the watchdog's pings; outside systemd, with no `NOTIFY_SOCKET`, every
//! call does nothing), and the name of the release they run.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// The release the running binary belongs to: the `RELEASE` file of the release folder it runs
/// from (`releases/<version>/bin/<binary>` on a device, written by `kioskctl repo add-app` and
/// `add-agent`), or `built` (the crate's version) for a binary run from where it was built.
pub fn release_name(built: &str) -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::read_to_string(exe.parent()?.parent()?.join("RELEASE")).ok())
        .map(|text| text.trim().to_owned())
        .filter(|release| !release.is_empty())
        .unwrap_or_else(|| built.to_owned())
}

/// Talks to the service manager, when there is one.
#[derive(Debug, Default)]
pub struct ServiceNotifier {
    socket: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
}

impl ServiceNotifier {
    /// The service manager this process was started by, from `NOTIFY_SOCKET` and
    /// `WATCHDOG_USEC` (ignored when `WATCHDOG_PID` names another process).
    pub fn from_env() -> ServiceNotifier {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return ServiceNotifier::default() };
        let ours = std::env::var("WATCHDOG_PID").map_or(true, |pid| pid == std::process::id().to_string());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|usec| usec.parse().ok())
            .filter(|_| ours)
            .map(Duration::from_micros);
        match ServiceNotifier::to(&path.to_string_lossy(), watchdog) {
            Ok(notifier) => notifier,
            Err(error) => {
                log::warn!("cannot reach the service manager at {}: {error}", path.to_string_lossy());
                ServiceNotifier::default()
            }
        }
    }

    /// A notifier sending to the datagram socket `path` (`@name` for an abstract one), with a
    /// watchdog that expects a ping within `watchdog`.
    pub fn to(path: &str, watchdog: Option<Duration>) -> io::Result<ServiceNotifier> {
        let address = match path.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
            None => SocketAddr::from_pathname(path)?,
        };
        // A message the service manager cannot take at once is dropped (and logged): the UI
        // thread and the agent's loop never wait on it.
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(ServiceNotifier { socket: Some((socket, address)), watchdog })
    }

    /// The service is up and doing its work, as `status` says.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={status}"));
    }

    /// How often to ping the watchdog (half its timeout), when it watches this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.filter(|_| self.socket.is_some()).map(|timeout| timeout / 2)
    }

    /// Tells the watchdog this process still works; call it from the loop whose freezing
    /// should get the service restarted.
    pub fn ping(&self) {
        self.send("WATCHDOG=1");
    }

    fn send(&self, message: &str) {
        if let Some((socket, address)) = &self.socket
            && let Err(error) = socket.send_to_addr(message.as_bytes(), address)
        {
            log::warn!("the service manager did not take {message:?}: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(socket: &UnixDatagram) -> String {
        let mut buffer = [0; 256];
        let length = socket.recv(&mut buffer).unwrap();
        String::from_utf8(buffer[..length].to_vec()).unwrap()
    }

    #[test]
    fn the_service_manager_hears_ready_status_and_pings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let manager = UnixDatagram::bind(&path).unwrap();
        let notifier = ServiceNotifier::to(path.to_str().unwrap(), Some(Duration::from_secs(10))).unwrap();
        notifier.ready("selling");
        assert_eq!(received(&manager), "READY=1\nSTATUS=selling");
        notifier.status("out of service");
        assert_eq!(received(&manager), "STATUS=out of service");
        notifier.ping();
        assert_eq!(received(&manager), "WATCHDOG=1");
        assert_eq!(notifier.watchdog_interval(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn an_abstract_socket_is_reached_and_no_manager_means_silence() {
        let name = format!("kiosk-notify-test-{}", std::process::id());
        let manager = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
        ServiceNotifier::to(&format!("@{name}"), None).unwrap().ready("up");
        assert_eq!(received(&manager), "READY=1\nSTATUS=up");
        let nobody = ServiceNotifier::default();
        nobody.ready("up");
        nobody.ping();
        assert_eq!(nobody.watchdog_interval(), None, "no watchdog without a manager");
    }
}
