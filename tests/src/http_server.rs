//! HTTP servers on loopback for the agent's tests and benchmarks: a static file server, as a
//! CDN serves an update repository (`ETag` and `304 Not Modified`, `Range` and `206 Partial
//! Content`, and on demand a download cut short once), and a fleet endpoint for heartbeats
//! and uploads.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub path: String,
    pub status: u16,
    pub range: Option<String>,
    /// Body bytes sent.
    pub bytes: usize,
}

#[derive(Clone, Debug)]
pub struct StaticServer {
    pub url: String,
    pub log: Arc<Mutex<Vec<Served>>>,
    /// The next request for a path ending so gets this many body bytes, then the connection
    /// is closed.
    cut: Arc<Mutex<Option<(String, usize)>>>,
}

impl StaticServer {
    /// Serves `root` on a free loopback port until the runtime ends.
    pub async fn start(root: PathBuf) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = StaticServer {
            url: format!("http://{}/", listener.local_addr().unwrap()),
            log: Arc::default(),
            cut: Arc::default(),
        };
        let serving = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().answer(stream, root.clone()));
            }
        });
        server
    }

    pub fn cut_next(&self, path_ends: &str, after_bytes: usize) {
        *self.cut.lock().unwrap() = Some((path_ends.to_owned(), after_bytes));
    }

    pub fn served(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    async fn answer(self, mut stream: TcpStream, root: PathBuf) {
        let Some(head) = read_head(&mut stream).await else { return };
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let header = |name: &str| header(&head, name);
        let file = root.join(path.trim_start_matches('/'));
        let (status, mut extra, body) = match std::fs::read(&file) {
            Err(_) => (404, String::new(), Vec::new()),
            Ok(content) => {
                let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&content)[..8]));
                let range_start = header("range")
                    .and_then(|range| range.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<usize>().ok());
                if header("if-none-match").as_deref() == Some(etag.as_str()) {
                    (304, format!("ETag: {etag}\r\n"), Vec::new())
                } else if let Some(start) = range_start {
                    if start >= content.len() {
                        (416, format!("Content-Range: bytes */{}\r\n", content.len()), Vec::new())
                    } else {
                        let range = format!("Content-Range: bytes {start}-{}/{}\r\n", content.len() - 1, content.len());
                        (206, format!("ETag: {etag}\r\n{range}"), content[start..].to_vec())
                    }
                } else {
                    (200, format!("ETag: {etag}\r\n"), content)
                }
            }
        };
        let mut sent = body.len();
        let cut = {
            let mut cut = self.cut.lock().unwrap();
            match cut.as_ref() {
                Some((ends, after)) if path.ends_with(ends.as_str()) && status == 200 => {
                    sent = (*after).min(body.len());
                    cut.take()
                }
                _ => None,
            }
        };
        extra.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n", body.len()));
        let reason = match status {
            200 => "OK",
            206 => "Partial Content",
            304 => "Not Modified",
            404 => "Not Found",
            _ => "Range Not Satisfiable",
        };
        let response = format!("HTTP/1.1 {status} {reason}\r\n{extra}\r\n");
        self.log.lock().unwrap().push(Served { path, status, range: header("range"), bytes: sent });
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.write_all(&body[..sent]).await;
        if cut.is_some() {
            let _ = stream.flush().await;
        }
        let _ = stream.shutdown().await;
    }
}

/// An upload as the fleet received it: its path and its bytes.
pub type Upload = (String, Vec<u8>);

/// A fleet endpoint on loopback: it keeps the body of every heartbeat POSTed and answers with
/// the next of `replies` (empty once they are used up), or 503 while it is down. Uploads (a
/// POST under `uploads/`) are kept with their path and answered with their SHA-256, or 503
/// while `uploads_down`.
#[derive(Clone, Debug)]
pub struct FleetServer {
    pub url: String,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
    pub down: Arc<AtomicBool>,
    pub replies: Arc<Mutex<VecDeque<String>>>,
    pub uploads: Arc<Mutex<Vec<Upload>>>,
    pub uploads_down: Arc<AtomicBool>,
}

impl FleetServer {
    pub async fn start() -> FleetServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = FleetServer {
            url: format!("http://{}/api/heartbeat", listener.local_addr().unwrap()),
            received: Arc::default(),
            down: Arc::default(),
            replies: Arc::default(),
            uploads: Arc::default(),
            uploads_down: Arc::default(),
        };
        let serving = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().answer(stream));
            }
        });
        server
    }

    /// The bodies of the uploads whose path ends with `name`.
    pub fn uploaded(&self, name: &str) -> Vec<Vec<u8>> {
        let uploads = self.uploads.lock().unwrap();
        uploads.iter().filter(|(path, _)| path.ends_with(name)).map(|(_, body)| body.clone()).collect()
    }

    async fn answer(self, mut stream: TcpStream) {
        let Some(head) = read_head(&mut stream).await else { return };
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let length: usize = header(&head, "content-length").and_then(|value| value.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let unavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let ok = |reply: String| {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len())
        };
        let response = if path.contains("/uploads/") {
            if self.uploads_down.load(Ordering::SeqCst) {
                unavailable.to_owned()
            } else {
                let receipt = format!("{{\"sha256\": \"{}\"}}", hex::encode(Sha256::digest(&body)));
                self.uploads.lock().unwrap().push((path, body));
                ok(receipt)
            }
        } else if self.down.load(Ordering::SeqCst) {
            unavailable.to_owned()
        } else {
            self.received.lock().unwrap().push(body);
            ok(self.replies.lock().unwrap().pop_front().unwrap_or_default())
        };
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}

/// A request's line and headers, up to the blank line; none if the connection closes first.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A header's value, by its name in any case.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines()
        .find_map(|line| line.split_once(':').filter(|(key, _)| key.eq_ignore_ascii_case(name)))
        .map(|(_, value)| value.trim().to_owned())
}
