//! A stand-in for the Hugging Face hub's resolve endpoint, listening on 127.0.0.1 only. It serves
//! a folder laid out as `<root>/<owner>/<name>/<file>` at `/<owner>/<name>/resolve/<revision>/<file>`
//! with the hub's headers:
//!
//! - LFS files (everything but `.json`, `.md`, `.txt`): `X-Repo-Commit`, `X-Linked-Etag` (the
//!   sha256, quoted), `X-Linked-Size`, and, like the hub, a 302 to a "CDN" on another origin
//!   (`http://127.0.0.1:<second port>/cdn/<sha256>`) that serves the bytes and, like S3,
//!   refuses requests carrying a token;
//! - git files: `ETag` = git blob sha1, `X-Repo-Commit`, the bytes directly;
//! - GET with `Range: bytes=N-` (206/416); HEAD; 404 `EntryNotFound`/`RevisionNotFound`/
//!   `RepoNotFound`; 401 without the configured token.
//!
//! Revisions: `main` (commit = a hash of the repo name) or any 40-hex commit. Faults can be
//! injected to test resume and verification. Shared by the download tests (`mod support;`) and
//! `examples/fake_hub.rs` (through `#[path]`), so the lead's shell tests use the same server.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use percent_encoding::percent_decode_str;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Misbehaviour to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The first GET of file bytes closes the connection after this many body bytes.
    pub cut_first_get_after: Option<u64>,
    /// Every response flips the byte at this file offset.
    pub corrupt_byte_at: Option<u64>,
    /// Body bytes per second, per response.
    pub bytes_per_sec: Option<u64>,
    /// Claimed in `X-Linked-Size` instead of the real size (e.g. larger than any disk).
    pub claimed_size: Option<u64>,
    /// Answer every GET with the whole file (200), as servers without Range support do.
    pub ignore_range: bool,
}

#[derive(Debug, Clone)]
pub struct HubConfig {
    pub root: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    /// When set, `/resolve/` requests need `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Answer LFS resolves with a 302 to `/cdn/<sha256>`, as the hub does.
    pub redirect_lfs: bool,
    pub faults: Faults,
}

impl HubConfig {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), port: 0, token: None, redirect_lfs: true, faults: Faults::default() }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Stats {
    requests: Vec<RequestRecord>,
    body_bytes: u64,
    cut_done: bool,
}

#[derive(Clone)]
struct Facts {
    size: u64,
    etag: String,
}

struct Shared {
    config: HubConfig,
    addr: SocketAddr,
    /// The CDN's listener: another port is another origin, as a CDN host is for the hub.
    cdn_addr: SocketAddr,
    /// Connections being answered.
    active: AtomicUsize,
    stats: Mutex<Stats>,
    /// (path, size, modified) → etag, and sha256 → path for the CDN route.
    facts: Mutex<HashMap<PathBuf, (u64, std::time::SystemTime, Facts)>>,
    cdn: Mutex<HashMap<String, PathBuf>>,
}

/// A running fake hub; stops when dropped.
pub struct FakeHub {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    accept: Vec<JoinHandle<()>>,
}

impl FakeHub {
    pub fn start(config: HubConfig) -> io::Result<FakeHub> {
        let hub = TcpListener::bind(("127.0.0.1", config.port))?;
        let cdn = TcpListener::bind(("127.0.0.1", 0))?;
        let shared = Arc::new(Shared {
            config,
            addr: hub.local_addr()?,
            cdn_addr: cdn.local_addr()?,
            active: AtomicUsize::new(0),
            stats: Mutex::default(),
            facts: Mutex::default(),
            cdn: Mutex::default(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut accept = Vec::new();
        for listener in [hub, cdn] {
            let (shared, stop) = (shared.clone(), stop.clone());
            accept.push(
                std::thread::Builder::new()
                    .name("fake-hub".into())
                    .spawn(move || accept_loop(listener, shared, stop))?,
            );
        }
        Ok(FakeHub { shared, stop, accept })
    }

    /// `http://127.0.0.1:<port>`, the value for `HF_ENDPOINT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The commit `main` resolves to for `repo`.
    pub fn main_commit(repo: &str) -> String {
        hex(&Sha1::digest(format!("commit of {repo}").as_bytes()))
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.settle();
        lock(&self.shared.stats).requests.clone()
    }

    /// File bytes written to clients (HTTP bodies), over all responses.
    pub fn body_bytes_served(&self) -> u64 {
        self.settle();
        lock(&self.shared.stats).body_bytes
    }

    pub fn reset_counters(&self) {
        self.settle();
        let mut stats = lock(&self.shared.stats);
        stats.requests.clear();
        stats.body_bytes = 0;
    }

    /// Waits (up to 5 s) for connections still being answered: a client can finish reading a
    /// body before the server's thread has counted it.
    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Blocks until the server stops (for the example binary).
    pub fn wait(mut self) {
        for accept in self.accept.drain(..) {
            let _ = accept.join();
        }
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loops.
        let _ = TcpStream::connect(self.shared.addr);
        let _ = TcpStream::connect(self.shared.cdn_addr);
        for accept in self.accept.drain(..) {
            let _ = accept.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        shared.active.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new().name("fake-hub-conn".into()).spawn({
            let shared = shared.clone();
            move || {
                if let Err(e) = handle(stream, &shared) {
                    // Clients hanging up mid-body are expected (cancel tests).
                    if e.kind() != io::ErrorKind::BrokenPipe && e.kind() != io::ErrorKind::ConnectionReset {
                        eprintln!("fake hub: {e}");
                    }
                }
                shared.active.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

fn read_request(stream: &TcpStream) -> io::Result<Request> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    Ok(Request { method, path, headers })
}

fn handle(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = read_request(&stream)?;
    lock(&shared.stats).requests.push(RequestRecord {
        method: request.method.clone(),
        path: request.path.clone(),
        range: request.headers.get("range").cloned(),
        authorization: request.headers.get("authorization").cloned(),
    });
    let head = request.method == "HEAD";
    if !head && request.method != "GET" {
        return respond(&mut stream, "405 Method Not Allowed", &[]);
    }
    let path = request.path.split('?').next().unwrap_or_default();
    if let Some(sha) = path.strip_prefix("/cdn/") {
        return serve_cdn(&mut stream, shared, &request, sha, head);
    }
    match path.split_once("/resolve/") {
        Some((repo, rest)) => serve_resolve(&mut stream, shared, &request, repo.trim_start_matches('/'), rest, head),
        None => respond(&mut stream, "404 Not Found", &[]),
    }
}

fn serve_resolve(
    stream: &mut TcpStream,
    shared: &Shared,
    request: &Request,
    repo: &str,
    rest: &str,
    head: bool,
) -> io::Result<()> {
    let config = &shared.config;
    if let Some(token) = &config.token {
        if request.headers.get("authorization") != Some(&format!("Bearer {token}")) {
            let headers = [("X-Error-Code", "GatedRepo".to_string())];
            return respond(stream, "401 Unauthorized", &headers);
        }
    }
    let (revision, file) = rest.split_once('/').unwrap_or((rest, ""));
    let revision = decode(revision);
    let file: Vec<String> = file.split('/').map(decode).collect();
    let repo_dir = config.root.join(repo);
    if repo.contains("..") || file.iter().any(|s| s == ".." || s.is_empty()) || !repo_dir.is_dir() {
        let headers = [("X-Error-Code", "RepoNotFound".to_string())];
        return respond(stream, "404 Not Found", &headers);
    }
    let commit = if revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        revision.clone()
    } else if revision == "main" {
        FakeHub::main_commit(repo)
    } else {
        let headers = [("X-Error-Code", "RevisionNotFound".to_string())];
        return respond(stream, "404 Not Found", &headers);
    };
    let path = file.iter().fold(repo_dir, |p, s| p.join(s));
    let Some(facts) = facts(shared, &path)? else {
        let headers = [("X-Error-Code", "EntryNotFound".to_string()), ("X-Repo-Commit", commit)];
        return respond(stream, "404 Not Found", &headers);
    };
    let mut headers = vec![("X-Repo-Commit", commit)];
    if facts.etag.len() == 64 {
        let size = config.faults.claimed_size.unwrap_or(facts.size);
        headers.push(("X-Linked-Etag", format!("\"{}\"", facts.etag)));
        headers.push(("X-Linked-Size", size.to_string()));
        if config.redirect_lfs {
            headers.push(("Location", format!("http://{}/cdn/{}", shared.cdn_addr, facts.etag)));
            headers.push(("ETag", format!("\"{}\"", facts.etag)));
            return respond(stream, "302 Found", &headers);
        }
    }
    serve_file(stream, shared, request, &path, &facts, headers, head)
}

fn serve_cdn(stream: &mut TcpStream, shared: &Shared, request: &Request, sha: &str, head: bool) -> io::Result<()> {
    if request.headers.contains_key("authorization") {
        // S3 refuses a second authentication mechanism; the hub's clients drop the token.
        return respond(stream, "400 Bad Request", &[]);
    }
    let Some(path) = lock(&shared.cdn).get(sha).cloned() else {
        return respond(stream, "404 Not Found", &[]);
    };
    match facts(shared, &path)? {
        Some(facts) => serve_file(stream, shared, request, &path, &facts, Vec::new(), head),
        None => respond(stream, "404 Not Found", &[]),
    }
}

/// The file's size and etag (sha256 for LFS files, git sha1 otherwise), computed once per
/// version of the file.
fn facts(shared: &Shared, path: &Path) -> io::Result<Option<Facts>> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    let modified = meta.modified()?;
    if let Some((size, time, facts)) = lock(&shared.facts).get(path) {
        if *size == meta.len() && *time == modified {
            return Ok(Some(facts.clone()));
        }
    }
    let lfs = !matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "md" | "txt"));
    let etag = if lfs {
        hash_file(path, Sha256::new())?
    } else {
        let mut sha1 = Sha1::new();
        sha1.update(format!("blob {}\0", meta.len()).as_bytes());
        hash_file(path, sha1)?
    };
    let facts = Facts { size: meta.len(), etag };
    lock(&shared.facts).insert(path.to_path_buf(), (meta.len(), modified, facts.clone()));
    lock(&shared.cdn).insert(facts.etag.clone(), path.to_path_buf());
    Ok(Some(facts))
}

fn hash_file<D: Digest>(path: &Path, mut digest: D) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&digest.finalize()));
        }
        digest.update(&buf[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn serve_file(
    stream: &mut TcpStream,
    shared: &Shared,
    request: &Request,
    path: &Path,
    facts: &Facts,
    mut headers: Vec<(&'static str, String)>,
    head: bool,
) -> io::Result<()> {
    let size = facts.size;
    headers.push(("ETag", format!("\"{}\"", facts.etag)));
    headers.push(("Accept-Ranges", "bytes".into()));
    let range = request.headers.get("range").filter(|_| !shared.config.faults.ignore_range);
    let start = match range {
        None => None,
        Some(range) => {
            match range.strip_prefix("bytes=").and_then(|r| r.split('-').next()).and_then(|s| s.parse::<u64>().ok()) {
                Some(start) if start < size => Some(start),
                _ => {
                    headers.push(("Content-Range", format!("bytes */{size}")));
                    return respond(stream, "416 Range Not Satisfiable", &headers);
                }
            }
        }
    };
    let from = start.unwrap_or(0);
    let status = match start {
        Some(start) => {
            headers.push(("Content-Range", format!("bytes {start}-{}/{size}", size - 1)));
            "206 Partial Content"
        }
        None => "200 OK",
    };
    headers.push(("Content-Length", (size - from).to_string()));
    respond(stream, status, &headers)?;
    if head {
        return Ok(());
    }
    send_body(stream, shared, path, from, size)
}

fn send_body(stream: &mut TcpStream, shared: &Shared, path: &Path, from: u64, size: u64) -> io::Result<()> {
    let faults = &shared.config.faults;
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let cut = {
        let mut stats = lock(&shared.stats);
        match faults.cut_first_get_after {
            Some(n) if !stats.cut_done => {
                stats.cut_done = true;
                Some(n)
            }
            _ => None,
        }
    };
    let limit = cut.map_or(size - from, |c| c.min(size - from));
    let started = Instant::now();
    // At a limited rate, at most a second's worth of bytes per write, so the rate holds from
    // the first byte on.
    let chunk = faults.bytes_per_sec.map_or(1 << 20, |rate| rate.clamp(1, 1 << 20) as usize);
    let mut buf = vec![0u8; chunk];
    let mut sent = 0u64;
    while sent < limit {
        let want = buf.len().min((limit - sent) as usize);
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        if let Some(at) = faults.corrupt_byte_at {
            let offset = from + sent;
            if (offset..offset + n as u64).contains(&at) {
                buf[(at - offset) as usize] ^= 0xff;
            }
        }
        stream.write_all(&buf[..n])?;
        sent += n as u64;
        lock(&shared.stats).body_bytes += n as u64;
        if let Some(rate) = faults.bytes_per_sec {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    stream.flush()?;
    // A cut ends here: the connection closes short of Content-Length.
    Ok(())
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers.iter().any(|(n, _)| *n == "Content-Length") {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.flush()
}
