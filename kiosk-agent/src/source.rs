//! Where the agent reads updates from, verified with TUF (`tough`) against the root of trust
//! on the device: an HTTP(S) repository or a folder (a USB stick mounted by the device).
//!
//! Over HTTP the timestamp, fetched at every poll, is asked for conditionally (`If-None-Match`,
//! `If-Modified-Since`): an unchanged repository costs a 304. Target files are downloaded to a
//! partial file first, and a download cut by the network resumes where it stopped at the next
//! poll (`Range`). Nothing is trusted for being downloaded: `tough` checks every file's length
//! and hash against the signed metadata before the agent uses a byte of it, and its datastore
//! keeps the newest metadata seen, so an older repository state is refused afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use kiosk_engine::devices::{WebClient, WebGate};
use sha2::{Digest, Sha256};
use tough::{
    Bytes, FilesystemTransport, IntoVec, RepositoryLoader, TargetName, Transport, TransportError, TransportErrorKind,
    TransportStream,
};
use url::Url;

use crate::catalog::{Channel, Kind, Published, Version};
use crate::publish::published_of;

/// The largest file the agent downloads, whatever a server sends: releases are tens of MB.
const MAX_DOWNLOAD: u64 = 512 << 20;

/// A repository: its base URL (`http://`, `https://`) or folder. Its metadata is under
/// `metadata/`, its files under `targets/` (the layout `kioskctl repo` writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Http(Url),
    Folder(PathBuf),
}

impl Location {
    /// Reads a URL, or a path for a folder.
    pub fn parse(text: &str) -> Result<Location> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let mut url = Url::parse(text).with_context(|| format!("{text} is not a URL"))?;
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            Ok(Location::Http(url))
        } else if let Some(scheme) = text.split_once("://").map(|(scheme, _)| scheme) {
            bail!("{text}: updates come over http, https or from a folder, not {scheme}")
        } else {
            Ok(Location::Folder(PathBuf::from(text)))
        }
    }

    /// Whether this is a stick's mount point with no stick in: its automount answers "no such
    /// device". That offers nothing and is no error; a folder that is missing, or there but
    /// without a repository the agent can read, is one.
    pub fn is_unplugged(&self) -> bool {
        match self {
            Location::Http(_) => false,
            Location::Folder(path) => std::fs::read_dir(path).is_err_and(|error| no_device(&error)),
        }
    }

    fn urls(&self) -> Result<(Url, Url)> {
        let base = match self {
            Location::Http(url) => url.clone(),
            Location::Folder(path) => {
                let path = path
                    .canonicalize()
                    .with_context(|| format!("the repository {} cannot be opened", path.display()))?;
                Url::from_directory_path(&path).map_err(|()| anyhow!("{} is not a folder", path.display()))?
            }
        };
        Ok((base.join("metadata/")?, base.join("targets/")?))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Http(url) => write!(f, "{url}"),
            Location::Folder(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The agent's way to fetch files: local files as they are, HTTP with conditional requests
/// and resumable downloads kept in `cache`.
#[derive(Clone, Debug)]
pub struct Fetcher {
    /// Held to the web allowlist.
    client: WebClient,
    cache: PathBuf,
}

impl Fetcher {
    pub fn new(cache: &Path) -> Result<Fetcher> {
        std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Fetcher { client: WebClient::new(client, WebGate::default()), cache: cache.to_owned() })
    }

    /// The same, its HTTP calls held to `gate`.
    pub fn gated(self, gate: WebGate) -> Fetcher {
        Fetcher { client: self.client.with_gate(gate), ..self }
    }

    /// A GET of `url`, once the web allowlist allows it.
    fn get(&self, url: &Url) -> Result<reqwest::RequestBuilder, TransportError> {
        self.client.request(reqwest::Method::GET, url.as_str()).map_err(|refused| other(url, refused))
    }

    /// A cache file for `url`, named by its hash (URLs may hold anything).
    fn cached(&self, url: &Url, suffix: &str) -> PathBuf {
        self.cache.join(format!("{}.{suffix}", hex::encode(&Sha256::digest(url.as_str().as_bytes())[..12])))
    }

    /// A file whose name never changes (the timestamp): asked for only if it changed since
    /// the copy kept.
    async fn conditional(&self, url: &Url) -> Result<Vec<u8>, TransportError> {
        let (body_path, tags_path) = (self.cached(url, "body"), self.cached(url, "tags"));
        let mut request = self.get(url)?;
        let tags: Option<(String, String)> =
            std::fs::read_to_string(&tags_path).ok().and_then(|text| serde_json::from_str(&text).ok());
        if let Some((etag, modified)) = &tags
            && body_path.exists()
        {
            if !etag.is_empty() {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if !modified.is_empty() {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = request.send().await.map_err(|e| other(url, e))?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return std::fs::read(&body_path).map_err(|e| other(url, e));
        }
        let response = successful(url, response)?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let tags = (header(reqwest::header::ETAG), header(reqwest::header::LAST_MODIFIED));
        let body = receive(url, response, Vec::new(), None).await?;
        // The copy is only a cache: failing to keep it costs a full download next time.
        let _ = std::fs::write(&body_path, &body)
            .and_then(|()| std::fs::write(&tags_path, serde_json::to_string(&tags).unwrap_or_default()));
        Ok(body)
    }

    /// A file named by its content (metadata of a version, a target under its hash): what a
    /// cut download already got is kept and the rest asked for with `Range`.
    async fn resumable(&self, url: &Url) -> Result<Vec<u8>, TransportError> {
        let partial = self.cached(url, "partial");
        let have = std::fs::read(&partial).unwrap_or_default();
        let mut request = self.get(url)?;
        if !have.is_empty() {
            request = request.header(reqwest::header::RANGE, format!("bytes={}-", have.len()));
        }
        let response = request.send().await.map_err(|e| other(url, e))?;
        let resumed = response.status() == reqwest::StatusCode::PARTIAL_CONTENT
            && content_range_start(&response) == Some(have.len() as u64);
        if response.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
            // The partial file is as long as the file, or longer: start again.
            let _ = std::fs::remove_file(&partial);
            return Box::pin(self.resumable(url)).await;
        }
        let response = successful(url, response)?;
        // Resumed: the rest is appended to what came; otherwise the file starts again.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&partial)
            .map_err(|e| other(url, e))?;
        let start = if resumed { have } else { Vec::new() };
        let result = receive(url, response, start, Some((&partial, file))).await;
        if result.is_ok() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }
}

#[async_trait]
impl Transport for Fetcher {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        let bytes = match url.scheme() {
            "file" => return FilesystemTransport.fetch(url).await,
            "http" | "https" if url.path().ends_with("/timestamp.json") => self.conditional(&url).await?,
            "http" | "https" => self.resumable(&url).await?,
            _ => return Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url)),
        };
        Ok(Box::pin(Once(Some(Bytes::from(bytes)))))
    }
}

/// A stream of one chunk.
struct Once(Option<Bytes>);

impl futures_core::Stream for Once {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Ok))
    }
}

fn other(url: &Url, error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> TransportError {
    TransportError::new_with_cause(TransportErrorKind::Other, url, error)
}

fn successful(url: &Url, response: reqwest::Response) -> Result<reqwest::Response, TransportError> {
    match response.status() {
        status if status.is_success() => Ok(response),
        reqwest::StatusCode::NOT_FOUND | reqwest::StatusCode::FORBIDDEN => {
            Err(TransportError::new(TransportErrorKind::FileNotFound, url))
        }
        status => Err(other(url, format!("the server answered {status}"))),
    }
}

fn content_range_start(response: &reqwest::Response) -> Option<u64> {
    let range = response.headers().get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    range.strip_prefix("bytes ")?.split('-').next()?.parse().ok()
}

/// Reads the rest of a response after `body`, refused beyond [`MAX_DOWNLOAD`]. With a
/// `partial` file, each chunk is also appended to it as it arrives, so that a cut keeps what
/// came (a full disk fails here: the update is refused and the running release untouched);
/// a file over the limit is not worth keeping and goes.
async fn receive(
    url: &Url,
    mut response: reqwest::Response,
    mut body: Vec<u8>,
    mut partial: Option<(&Path, std::fs::File)>,
) -> Result<Vec<u8>, TransportError> {
    use std::io::Write;
    while let Some(chunk) = response.chunk().await.map_err(|e| other(url, e))? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_DOWNLOAD {
            if let Some((path, _)) = partial {
                let _ = std::fs::remove_file(path);
            }
            return Err(other(url, format!("larger than the {} MiB any update may be", MAX_DOWNLOAD >> 20)));
        }
        if let Some((_, file)) = &mut partial {
            file.write_all(&chunk).map_err(|e| other(url, e))?;
        }
    }
    Ok(body)
}

/// The repository as the device trusts it.
#[derive(Clone, Debug)]
pub struct Source {
    pub location: Location,
    /// The root of trust baked into the image (`/etc/kiosk/trust/root.json`).
    pub trusted_root: PathBuf,
    /// Where tough keeps the newest metadata it trusted.
    pub datastore: PathBuf,
    pub fetcher: Fetcher,
}

impl Source {
    /// Reads and verifies the repository's metadata now.
    pub async fn load(&self) -> Result<tough::Repository> {
        let root = std::fs::read(&self.trusted_root)
            .with_context(|| format!("cannot read the root of trust {}", self.trusted_root.display()))?;
        std::fs::create_dir_all(&self.datastore)?;
        let (metadata, targets) = self.location.urls()?;
        RepositoryLoader::new(&root, metadata, targets)
            .transport(self.fetcher.clone())
            .datastore(&self.datastore)
            .load()
            .await
            .map_err(|error| anyhow!("the update repository {} is refused: {}", self.location, chain(&error)))
    }
}

/// What an automount point without its device answers.
fn no_device(error: &std::io::Error) -> bool {
    rustix::io::Errno::from_io_error(error) == Some(rustix::io::Errno::NODEV)
}

/// An error and its causes in one line: tough's say what failed only in their sources.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A release, menu or policy offered to this kiosk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub name: TargetName,
    pub published: Published,
    pub length: u64,
    /// Deltas that rebuild it, by the release they patch.
    pub deltas: BTreeMap<Version, (TargetName, u64)>,
}

/// The newest of each kind the repository offers a kiosk with this id on this channel.
pub fn offers(repo: &tough::Repository, device_id: &str, channel: Channel) -> BTreeMap<Kind, Offer> {
    let listed: Vec<(TargetName, Published, u64)> = repo
        .all_targets()
        .filter_map(|(name, target)| Some((name.clone(), published_of(target)?, target.length)))
        .collect();
    let mut newest: BTreeMap<Kind, Offer> = BTreeMap::new();
    for (name, published, length) in &listed {
        if published.patch_from.is_some() || !published.offered_to(device_id, channel) {
            continue;
        }
        let key = published.kind;
        if newest.get(&key).is_none_or(|offer| published.version > offer.published.version) {
            newest.insert(
                key,
                Offer { name: name.clone(), published: published.clone(), length: *length, deltas: BTreeMap::new() },
            );
        }
    }
    for (name, published, length) in listed {
        if let Some(from) = &published.patch_from
            && let Some(offer) = newest.get_mut(&published.kind)
            && offer.published.version == published.version
        {
            offer.deltas.insert(from.clone(), (name, length));
        }
    }
    newest
}

/// Reads a target whole, verified by tough against its length and hash.
pub async fn read_verified(repo: &tough::Repository, name: &TargetName) -> Result<Vec<u8>> {
    let stream = repo
        .read_target(name)
        .await
        .map_err(|error| anyhow!("{}: {}", name.raw(), chain(&error)))?
        .with_context(|| format!("{} is not in the repository", name.raw()))?;
    stream.into_vec().await.map_err(|error| anyhow!("{} is refused: {}", name.raw(), chain(&error)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::io::Errno;

    #[test]
    fn only_an_automount_point_without_its_device_is_a_stick_not_plugged_in() {
        assert!(no_device(&std::io::Error::from_raw_os_error(Errno::NODEV.raw_os_error())));
        // A mistyped or removed folder, or a stick that cannot be read, is an error to report.
        assert!(!no_device(&std::io::Error::from(std::io::ErrorKind::NotFound)));
        assert!(!no_device(&std::io::Error::from_raw_os_error(Errno::IO.raw_os_error())));
    }
}
