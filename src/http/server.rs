//! The socket side of the API: it binds the listener, runs the accept loop, reads each
//! request's head and body under size and time bounds, calls the router behind
//! `catch_unwind`, and writes the `Response` back with tiny_http's response writer. A panic
//! in a handler becomes a 500 envelope and the connection keeps serving.
//!
//! tiny_http 0.12 is wrapped, not replaced: its `Server` cannot be bounded (its accept thread
//! ends for good on the first accept error such as `EMFILE`, it starts a thread per
//! connection with no cap and panics when a thread cannot start, and it reads header lines
//! of any length with no deadline for the whole head), so this module owns the accept loop
//! and the request head, and hands tiny_http's `Response` the connection to write to. What
//! the bounds are:
//!
//! - at most `max_connections` open connections; the extra ones get a `503` at once;
//! - an accept error is logged and retried with back-off; only an error that says the
//!   listener itself is gone ends the loop, and `serve` then exits non-zero;
//! - a request head (request line and headers) of at most 64 KiB, read within
//!   `header_timeout` of its first byte;
//! - the key is checked from the head before a body is read; a body is read within
//!   `header_timeout` plus its size at `min_body_rate`, never past `max_body`;
//! - requests with small or no bodies are answered under `http_workers` permits; bodies over
//!   64 KiB are read and handled under upload permits instead (`max_uploads`, and a memory
//!   budget `upload_memory` that each upload takes six times its size from), so uploads
//!   never take the places that answer `GET`s, nor together more memory than the budget.

use std::io::{BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::message::{loggable, Method, Request, Response};
use super::routes::{admit, handle, Context, Handled};
use crate::error::{Error, Result};

/// Request line and headers together, in bytes.
pub const MAX_HEAD: usize = 64 * 1024;
/// A body up to this size is read and answered like any other request; above it, it is
/// an upload and waits for an upload permit.
pub const SMALL_BODY: u64 = 64 * 1024;
/// What an upload may cost in memory while it is read and parsed, per byte of its body:
/// the body itself, and what parsing builds from it (a 61 MB CSV reference table of short
/// cells peaked at 340 MB, five and a half times its size).
pub const UPLOAD_AMPLIFICATION: u64 = 6;

#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub addr: String,
    pub http_workers: usize,
    /// Largest request body accepted, in bytes.
    pub max_body: u64,
    /// Write one line per request to stderr.
    pub access_log: bool,
    /// How long a keep-alive connection may idle, and a write to a client may wait.
    pub io_timeout: Duration,
    /// Open connections at most; 0 sizes it to the file-descriptor limit.
    pub max_connections: usize,
    /// The whole request head must arrive within this of its first byte; a body gets the
    /// same again plus its size at `min_body_rate`.
    pub header_timeout: Duration,
    /// Bytes per second a body must arrive at, on average.
    pub min_body_rate: u64,
    /// Uploads (bodies over 64 KiB) read and handled at once.
    pub max_uploads: usize,
    /// Memory the uploads read and handled at once may take, estimated at
    /// `UPLOAD_AMPLIFICATION` times their declared size (one upload may take it all).
    pub upload_memory: u64,
}

/// The default cap on open connections: half of what the file-descriptor limit leaves after
/// 64 for the database, its journal and the logs, between 16 and 4,096. Each connection
/// costs one descriptor and one thread.
pub fn default_max_connections() -> usize {
    let limit = fd_limit().unwrap_or(1024);
    (limit.saturating_sub(64) / 2).clamp(16, 4096) as usize
}

fn fd_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and has no other effect.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0).then_some(limit.rlim_cur)
}

/// A counting semaphore over permits and bytes.
struct Gate {
    state: Mutex<(usize, u64)>,
    freed: Condvar,
    permits: usize,
    bytes: u64,
}

struct Permit<'a> {
    gate: &'a Gate,
    bytes: u64,
}

impl Gate {
    fn new(permits: usize, bytes: u64) -> Gate {
        Gate {
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
            permits: permits.max(1),
            bytes: bytes.max(1),
        }
    }

    /// Waits for a permit and `bytes` of the budget (the whole budget if `bytes` is more);
    /// `None` after `wait`.
    fn acquire(&self, bytes: u64, wait: Option<Duration>) -> Option<Permit<'_>> {
        let bytes = bytes.min(self.bytes);
        let deadline = wait.map(|w| Instant::now() + w);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.0 < self.permits && state.1 + bytes <= self.bytes {
                state.0 += 1;
                state.1 += bytes;
                return Some(Permit { gate: self, bytes });
            }
            state = match deadline {
                None => self.freed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    self.freed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        state.1 -= self.bytes;
        self.gate.freed.notify_all();
    }
}

struct Shared {
    ctx: Arc<Context>,
    options: ServerOptions,
    max_connections: usize,
    stopping: AtomicBool,
    open: AtomicUsize,
    /// Requests read and not yet answered, for a graceful stop.
    in_flight: Mutex<usize>,
    idle: Condvar,
    workers: Gate,
    uploads: Gate,
    /// Why the accept loop ended, if it was not asked to.
    failure: Mutex<Option<String>>,
}

pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl Server {
    pub fn start(ctx: Arc<Context>, options: &ServerOptions) -> Result<Server> {
        let listener = listen(&options.addr)?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("the server has no address: {e}")))?;
        let max_connections = match options.max_connections {
            0 => default_max_connections(),
            n => n,
        };
        let shared = Arc::new(Shared {
            ctx,
            max_connections,
            stopping: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            in_flight: Mutex::new(0),
            idle: Condvar::new(),
            workers: Gate::new(options.http_workers, u64::MAX),
            uploads: Gate::new(options.max_uploads, options.upload_memory),
            failure: Mutex::new(None),
            options: options.clone(),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("refmatch-http-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
                .map_err(|e| Error::Internal(format!("cannot start the HTTP listener: {e}")))?
        };
        Ok(Server {
            shared,
            addr,
            acceptor,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Why the listener stopped accepting, when it stopped without being asked to.
    pub fn failure(&self) -> Option<String> {
        self.shared
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Blocks until the listener stops (after `stop`, or when it fails) and the requests in
    /// flight are answered, at most `io_timeout` after that.
    pub fn join(self) {
        let _ = self.acceptor.join();
        let deadline = Instant::now() + self.shared.options.io_timeout;
        let mut in_flight = self
            .shared
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while *in_flight > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            in_flight = self
                .shared
                .idle
                .wait_timeout(in_flight, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops accepting connections; requests being handled are answered.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let target = if self.addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
        } else {
            self.addr
        };
        let _ = TcpStream::connect_timeout(&target, Duration::from_secs(1));
    }
}

/// Binds the listening socket. TCP_NODELAY (set per connection too): a response is written
/// in several small writes, and Nagle's algorithm meeting the client's delayed ACK would add
/// 40 ms to many of them.
fn listen(addr: &str) -> Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let invalid = |e: &dyn std::fmt::Display| {
        Error::invalid("--addr", "", format!("cannot listen on {addr}: {e}"))
    };
    let target = addr
        .to_socket_addrs()
        .map_err(|e| invalid(&e))?
        .next()
        .ok_or_else(|| invalid(&"no address"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(target),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|e| invalid(&e))?;
    socket.set_reuse_address(true).map_err(|e| invalid(&e))?;
    socket.set_tcp_nodelay(true).map_err(|e| invalid(&e))?;
    socket.bind(&target.into()).map_err(|e| invalid(&e))?;
    socket.listen(1024).map_err(|e| invalid(&e))?;
    Ok(socket.into())
}

/// Whether an accept error means the listener itself is gone (retrying cannot help);
/// everything else (`EMFILE`, `ENFILE`, `ENOMEM`, `ENOBUFS`, an aborted connection) passes.
fn listener_is_gone(error: &std::io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT)
    )
}

/// Accepts until stopped. A full connection table answers `503` at once; an accept error or
/// a thread that cannot start is logged (once a second at most) and retried after a pause
/// that doubles from 10 ms to 1 s, so a server out of descriptors or threads recovers when
/// connections close, and never stops listening while its process lives.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut backoff = Duration::ZERO;
    let mut last_log: Option<Instant> = None;
    let mut log = |message: String| {
        if last_log.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            log::info!("{message}");
            last_log = Some(Instant::now());
        }
    };
    let pause = |backoff: &mut Duration| {
        *backoff = (*backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        thread::sleep(*backoff);
    };
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if listener_is_gone(&e) => {
                log::warn!("the listener failed: {e}");
                *shared.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                return;
            }
            Err(e) => {
                log(format!("accepting a connection failed, retrying: {e}"));
                pause(&mut backoff);
                continue;
            }
        };
        if shared.open.load(Ordering::SeqCst) >= shared.max_connections {
            log(format!(
                "{} connections are open (--max-connections): refusing more",
                shared.max_connections
            ));
            refuse(stream, "too many open connections; retry in a moment");
            continue;
        }
        let open = OpenConnection::new(shared);
        // The connection goes to its thread over a channel, so that it is still ours to
        // answer if the thread cannot start.
        let (hand, take) = mpsc::sync_channel::<(TcpStream, OpenConnection)>(1);
        let thread_shared = Arc::clone(shared);
        let started = thread::Builder::new()
            .name("refmatch-http-conn".into())
            .spawn(move || {
                if let Ok((stream, open)) = take.recv() {
                    serve_connection(&thread_shared, stream);
                    drop(open);
                }
            });
        match started {
            Ok(_) => {
                let _ = hand.send((stream, open));
                backoff = Duration::ZERO;
            }
            Err(e) => {
                drop(open);
                log(format!("cannot start a connection thread, retrying: {e}"));
                refuse(stream, "the server is out of threads; retry in a moment");
                pause(&mut backoff);
            }
        }
    }
}

/// Counts a connection as open while it lives.
struct OpenConnection(Arc<Shared>);

impl OpenConnection {
    fn new(shared: &Arc<Shared>) -> OpenConnection {
        shared.open.fetch_add(1, Ordering::SeqCst);
        OpenConnection(Arc::clone(shared))
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A `503` written without waiting (the socket is non-blocking), then closed.
fn refuse(stream: TcpStream, message: &str) {
    let body = serde_json::json!({
        "statusCode": 503,
        "code": "unavailable",
        "error": "Service Unavailable",
        "message": message,
        "retryable": true,
        "request_id": Request::new(Method::Other, "").request_id,
        "timestamp": crate::store::now_iso(),
        "path": "",
        "details": [],
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write(answer.as_bytes());
    let _ = stream.shutdown(Shutdown::Both);
}

/// A request head as read from the socket.
#[derive(Debug)]
struct Head {
    method: String,
    target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    minor: u8,
    headers: Vec<(String, String)>,
}

impl Head {
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn one(&self, name: &'static str) -> Result<Option<&str>> {
        let mut values = self.all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Error::invalid(
                "request headers",
                name,
                "was sent more than once",
            ));
        }
        Ok(first)
    }
}

/// How the body of a request is delimited.
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// The framing headers, refusing the ambiguous combinations a proxy in front could read
/// differently (request smuggling): two different `Content-Length`s, or `Content-Length`
/// with `Transfer-Encoding`, or a transfer coding other than `chunked`.
fn framing(head: &Head) -> Result<Framing> {
    let bad = |field: &str, message: &str| Error::invalid("request headers", field, message);
    let mut length: Option<u64> = None;
    for value in head.all("Content-Length") {
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("Content-Length", "must be a number of bytes"));
            }
            let n: u64 = part
                .parse()
                .map_err(|_| bad("Content-Length", "must be a number of bytes"))?;
            if length.is_some_and(|l| l != n) {
                return Err(bad("Content-Length", "was sent with two different values"));
            }
            length = Some(n);
        }
    }
    let mut codings = head.all("Transfer-Encoding").peekable();
    if codings.peek().is_none() {
        return Ok(match length {
            None | Some(0) => Framing::None,
            Some(n) => Framing::Length(n),
        });
    }
    if length.is_some() {
        return Err(bad(
            "Transfer-Encoding",
            "cannot be sent together with Content-Length",
        ));
    }
    let codings: Vec<&str> = codings.flat_map(|v| v.split(',')).map(str::trim).collect();
    if head.minor == 0 || codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
        return Err(bad(
            "Transfer-Encoding",
            "only \"chunked\" is accepted, on HTTP/1.1",
        ));
    }
    Ok(Framing::Chunked)
}

/// One client connection with the bytes read from it and not yet used.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Conn {
    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Reads what the socket has, waiting until `deadline` at most. `Ok(0)` is the end of
    /// the stream; a deadline passed is `TimedOut`.
    fn fill(&mut self, deadline: Instant) -> std::io::Result<usize> {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(std::io::ErrorKind::TimedOut)?;
        self.stream.set_read_timeout(Some(left))?;
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + 16 * 1024, 0);
        let read = self.stream.read(&mut self.buf[start..]);
        let n = *read.as_ref().unwrap_or(&0);
        self.buf.truncate(start + n);
        match read {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(std::io::ErrorKind::TimedOut.into())
            }
            other => other,
        }
    }
}

/// What went wrong reading a request, and what the client is told.
enum ReadError {
    /// The client went away or idled out between requests: close without a word.
    Closed,
    /// Answer this and close the connection.
    Answer(Error),
}

fn timed_out(what: &str) -> ReadError {
    ReadError::Answer(Error::RequestTimeout(format!(
        "the request {what} did not arrive in time"
    )))
}

fn io_error(e: std::io::Error, what: &str) -> ReadError {
    if e.kind() == std::io::ErrorKind::TimedOut {
        timed_out(what)
    } else {
        ReadError::Closed
    }
}

/// Reads one request head, 64 KiB at most. Its first byte may take `header_timeout` on a
/// new connection (one that sends nothing holds a place no longer than one that trickles)
/// and `io_timeout` on a keep-alive connection between requests; the rest must follow
/// within `header_timeout` of the first byte.
fn read_head(conn: &mut Conn, options: &ServerOptions, first: bool) -> Result<Head, ReadError> {
    let idle = if first {
        options.header_timeout
    } else {
        options.io_timeout
    };
    let idle_deadline = Instant::now() + idle;
    let mut deadline = None;
    let mut searched = 0;
    loop {
        // Blank lines before a request are allowed (RFC 9112 2.2).
        while conn
            .pending()
            .first()
            .is_some_and(|b| *b == b'\r' || *b == b'\n')
        {
            conn.consume(1);
        }
        let pending = conn.pending();
        if !pending.is_empty() && deadline.is_none() {
            deadline = Some(Instant::now() + options.header_timeout);
        }
        let end = head_end(pending, searched);
        if end.unwrap_or(pending.len()) > MAX_HEAD {
            return Err(ReadError::Answer(Error::HeadersTooLarge {
                limit: MAX_HEAD as u64,
            }));
        }
        if let Some(end) = end {
            let head = parse_head(&pending[..end]).map_err(ReadError::Answer)?;
            conn.consume(end);
            return Ok(head);
        }
        searched = pending.len().saturating_sub(3);
        match conn.fill(deadline.unwrap_or(idle_deadline)) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && deadline.is_none() => {
                return Err(ReadError::Closed)
            }
            Err(e) => return Err(io_error(e, "headers")),
        }
    }
}

/// Where the head ends (after its blank line), searching from `from`.
fn head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            if bytes.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

fn parse_head(bytes: &[u8]) -> Result<Head> {
    let bad = |field: &str, message: &str| Error::invalid("request", field, message);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| bad("headers", "the request head is not valid UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .take_while(|l| !l.is_empty());
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(
            "request line",
            "must be METHOD TARGET HTTP/1.1, separated by single spaces",
        ));
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(method) {
        return Err(bad("request line", "the method is not a token"));
    }
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad(
            "request line",
            "the target must not contain spaces or control characters",
        ));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err(bad("request line", "only HTTP/1.0 and HTTP/1.1 are served")),
    };
    let mut headers = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(bad("headers", "folded header lines are not accepted"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad("headers", "a header line has no colon"));
        };
        if !token(name) {
            return Err(bad("headers", "a header name is not a token"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad(name, "contains control characters"));
        }
        headers.push((name.to_string(), value.to_string()));
    }
    Ok(Head {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        headers,
    })
}

/// Reads a body under `limit` bytes at the minimum rate: by any moment, `header_timeout` plus
/// the bytes so far at `min_body_rate` is all the time it may have taken.
struct BodyReader<'a> {
    conn: &'a mut Conn,
    limit: u64,
    started: Instant,
    grace: Duration,
    rate: u64,
    body: Vec<u8>,
}

impl BodyReader<'_> {
    /// When the body is behind its schedule: a client sending slower than the minimum rate
    /// is cut off, whatever the size of each read.
    fn deadline(&self) -> Instant {
        let allowed = self.body.len() as f64 / self.rate.max(1) as f64;
        self.started + self.grace + Duration::from_secs_f64(allowed.min(86_400.0))
    }

    /// Moves `n` bytes to the body.
    fn take(&mut self, n: u64) -> Result<(), ReadError> {
        if (self.body.len() as u64).saturating_add(n) > self.limit {
            return Err(ReadError::Answer(Error::PayloadTooLarge {
                limit: self.limit,
            }));
        }
        let mut left = n as usize;
        while left > 0 {
            if self.conn.pending().is_empty() {
                match self.conn.fill(self.deadline()) {
                    Ok(0) => return Err(ReadError::Closed),
                    Ok(_) => {}
                    Err(e) => return Err(io_error(e, "body")),
                }
            }
            let chunk = self.conn.pending().len().min(left);
            self.body.extend_from_slice(&self.conn.pending()[..chunk]);
            self.conn.consume(chunk);
            left -= chunk;
        }
        Ok(())
    }

    /// One line of chunked framing, at most 4 KiB.
    fn line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(end) = self.conn.pending().iter().position(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(&self.conn.pending()[..end])
                    .trim_end_matches('\r')
                    .to_string();
                self.conn.consume(end + 1);
                return Ok(line);
            }
            if self.conn.pending().len() > 4096 {
                return Err(ReadError::Answer(Error::invalid(
                    "body",
                    "",
                    "a chunk header line is longer than 4 KiB",
                )));
            }
            match self.conn.fill(self.deadline()) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(_) => {}
                Err(e) => return Err(io_error(e, "body")),
            }
        }
    }

    fn chunked(mut self) -> Result<Vec<u8>, ReadError> {
        let bad = |m: &str| ReadError::Answer(Error::invalid("body", "", m));
        loop {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| bad("a chunk size is not a hexadecimal number"))?;
            if size == 0 {
                // Trailers, up to the blank line.
                for _ in 0..64 {
                    if self.line()?.is_empty() {
                        return Ok(self.body);
                    }
                }
                return Err(bad("too many trailer lines"));
            }
            self.take(size)?;
            if !self.line()?.is_empty() {
                return Err(bad("a chunk is longer than its size says"));
            }
        }
    }

    fn sized(mut self, length: u64) -> Result<Vec<u8>, ReadError> {
        self.body.reserve(length.min(SMALL_BODY) as usize);
        self.take(length)?;
        Ok(self.body)
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let options = &shared.options;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(options.io_timeout));
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        pos: 0,
    };
    for served in 0usize.. {
        let head = match read_head(&mut conn, options, served == 0) {
            Ok(head) => head,
            Err(ReadError::Closed) => return,
            Err(ReadError::Answer(error)) => {
                let request = Request::new(Method::Other, "");
                answer_error(shared, &mut conn, &request, &error, 1, Instant::now());
                return;
            }
        };
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let started = Instant::now();
        let flight = InFlight::new(shared);
        let keep_alive = serve_request(shared, &mut conn, head, started);
        drop(flight);
        if !keep_alive || shared.stopping.load(Ordering::SeqCst) {
            let _ = conn.stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Counts a request as in flight while it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> InFlight<'a> {
        *shared.in_flight.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut n = self.0.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        self.0.idle.notify_all();
    }
}

/// Answers one request; whether the connection may carry another.
fn serve_request(shared: &Shared, conn: &mut Conn, head: Head, started: Instant) -> bool {
    let options = &shared.options;
    let ctx = &shared.ctx;
    let mut request = Request::new(Method::parse(&head.method), &head.target);
    let checked = (|| {
        if let Some(value) = head.one("Content-Type")? {
            request.set_content_type(value);
        }
        request.authorization = head.one("Authorization")?.map(String::from);
        head.one("Host")?;
        let negotiation = &mut request.negotiation;
        negotiation.origin = head.one("Origin")?.map(String::from);
        negotiation.cors_method = head.one("Access-Control-Request-Method")?.map(String::from);
        negotiation.content_encoding = head.one("Content-Encoding")?.map(String::from);
        let accept: Vec<&str> = head.all("Accept-Encoding").collect();
        negotiation.accept_encoding = (!accept.is_empty()).then(|| accept.join(","));
        framing(&head)
    })();
    let framing = match checked {
        Ok(framing) => framing,
        Err(error) => {
            answer_error(shared, conn, &request, &error, head.minor, started);
            return false;
        }
    };
    let connection = head
        .all("Connection")
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(",");
    let keep_alive = if head.minor == 1 {
        !connection.contains("close")
    } else {
        false
    };
    let mut upload = None;
    if framing != Framing::None {
        // Everything about the body is decided from the head, before a byte of it is read:
        // its size, the key, the framing, and a place to read it in.
        let declared = match framing {
            Framing::Length(n) => n,
            _ => options.max_body,
        };
        let expect = head.one("Expect").ok().flatten();
        let admitted = if declared > options.max_body {
            Err(Error::PayloadTooLarge {
                limit: options.max_body,
            })
        } else if expect.is_some_and(|e| !e.eq_ignore_ascii_case("100-continue")) {
            Err(Error::invalid(
                "request headers",
                "Expect",
                "only 100-continue is understood",
            ))
        } else {
            admit(ctx, &request)
        };
        if let Err(error) = admitted {
            answer_error(shared, conn, &request, &error, head.minor, started);
            return false;
        }
        if framing == Framing::Chunked || declared > SMALL_BODY {
            match shared.uploads.acquire(
                declared.saturating_mul(UPLOAD_AMPLIFICATION),
                Some(Duration::from_secs(5)),
            ) {
                Some(permit) => upload = Some(permit),
                None => {
                    let error = Error::Unavailable(
                        "the server is reading as many uploads as it takes at once \
                         (--max-uploads, --upload-memory-mb); retry in a moment"
                            .into(),
                    );
                    answer_error(shared, conn, &request, &error, head.minor, started);
                    return false;
                }
            }
        }
        if expect.is_some() {
            let _ = conn.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let reader = BodyReader {
            conn: &mut *conn,
            limit: options.max_body,
            started: Instant::now(),
            grace: options.header_timeout,
            rate: options.min_body_rate,
            body: Vec::new(),
        };
        let body = match framing {
            Framing::Length(n) => reader.sized(n),
            _ => reader.chunked(),
        };
        // A gzip-encoded body is inflated here, within the same limit as any body.
        let body = body.and_then(|body| {
            super::compress::decode_body(
                request.negotiation.content_encoding.as_deref(),
                body,
                options.max_body,
            )
            .map_err(ReadError::Answer)
        });
        match body {
            Ok(body) => request.body = body,
            Err(ReadError::Closed) => return false,
            Err(ReadError::Answer(error)) => {
                answer_error(shared, conn, &request, &error, head.minor, started);
                return false;
            }
        }
    }
    // Uploads hold their upload permit; everything else takes a worker permit.
    let worker = match upload {
        Some(_) => None,
        None => shared.workers.acquire(0, None),
    };
    let handled = guarded(&request, || handle(ctx, &request));
    let keep_alive = keep_alive && !shared.stopping.load(Ordering::SeqCst);
    respond(
        shared, conn, &request, handled, head.minor, keep_alive, started,
    );
    drop(worker);
    if upload.take().is_some() {
        release_freed_memory();
    }
    keep_alive
}

/// Hands memory an upload freed back to the system. Each connection thread allocates from
/// its own glibc arena, and an arena keeps what was freed in it, so without this every
/// thread that once parsed a large upload would hold that upload's peak for good.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Answers an error found before the handler, closes the writing side, and reads what the
/// client still sends for a moment so that the answer is not lost to a reset.
fn answer_error(
    shared: &Shared,
    conn: &mut Conn,
    request: &Request,
    error: &Error,
    minor: u8,
    started: Instant,
) {
    let handled = Handled {
        response: Response::error(error, request),
        key_id: None,
        workspace: None,
        route: "unknown",
    };
    respond(shared, conn, request, handled, minor, false, started);
    let _ = conn.stream.shutdown(Shutdown::Write);
    let until = Instant::now() + Duration::from_secs(2);
    let mut drained = 0usize;
    while drained < 8 << 20 {
        let seen = conn.pending().len();
        conn.consume(seen);
        match conn.fill(until) {
            Ok(n) if n > 0 => drained += n,
            _ => break,
        }
    }
}

/// Runs a handler; a panic becomes a 500 envelope (logged with the request id) instead of
/// a dead thread.
fn guarded(request: &Request, handler: impl FnOnce() -> Handled) -> Handled {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(answer) => answer,
        Err(_) => {
            log::error!(
                "{} {} {}: a handler panicked",
                request.request_id,
                request.method.as_str(),
                loggable(&request.path)
            );
            let error = Error::Internal("handler panicked".into());
            Handled {
                response: Response::error(&error, request),
                key_id: None,
                workspace: None,
                route: "unknown",
            }
        }
    }
}

fn respond(
    shared: &Shared,
    conn: &mut Conn,
    request: &Request,
    handled: Handled,
    minor: u8,
    keep_alive: bool,
    started: Instant,
) {
    let Handled {
        mut response,
        key_id,
        workspace,
        route,
    } = handled;
    let gzip = super::compress::accepts_gzip(request.negotiation.accept_encoding.as_deref())
        && super::compress::compressible(response.content_type)
        && !response
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Content-Encoding"));
    if gzip {
        // Large answers only; a streamed one (an export) is compressed as it is produced.
        if let Some(stream) = response.stream.take() {
            response.stream = Some(super::compress::gzip_stream(stream));
            response = response.with_header("Content-Encoding", "gzip");
        } else if response.body.len() >= super::compress::MIN_COMPRESSED_BODY {
            response.body = super::compress::gzip(&response.body);
            response = response.with_header("Content-Encoding", "gzip");
        }
    }
    if super::compress::compressible(response.content_type) {
        // Caches must not hand a compressed answer to a client that did not ask for one.
        response = response.with_header("Vary", "Accept-Encoding");
    }
    shared
        .ctx
        .metrics
        .record(workspace, route, response.status, started.elapsed());
    if shared.options.access_log {
        log::info!(
            target: "access",
            "{} {} {} {:.1}ms key={} {}",
            request.method.as_str(),
            loggable(&request.path),
            response.status,
            started.elapsed().as_secs_f64() * 1000.0,
            key_id.as_deref().unwrap_or("-"),
            request.request_id,
        );
    }
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            response.content_type.to_string(),
        ),
        ("X-Request-Id".to_string(), request.request_id.clone()),
    ];
    if !keep_alive {
        headers.push(("Connection".into(), "close".into()));
    }
    headers.extend(response.headers);
    let headers: Vec<tiny_http::Header> = headers
        .into_iter()
        .filter_map(|(name, value)| {
            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
        })
        .collect();
    let head_only = request.method == Method::Head;
    let version = tiny_http::HTTPVersion(1, minor);
    let mut out = BufWriter::with_capacity(16 * 1024, &conn.stream);
    // A client that went away is not the server's problem.
    let _ = match response.stream {
        Some(stream) => {
            // Sent chunked as it is produced.
            tiny_http::Response::new(
                tiny_http::StatusCode(response.status),
                headers,
                stream,
                None,
                None,
            )
            .raw_print(&mut out, version, &[], head_only, None)
        }
        None => {
            // A known length is sent as Content-Length: chunked bodies cost clients more.
            let mut answer = tiny_http::Response::from_data(response.body)
                .with_status_code(response.status)
                .with_chunked_threshold(usize::MAX);
            for header in headers {
                answer.add_header(header);
            }
            answer.raw_print(&mut out, version, &[], head_only, None)
        }
    };
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_answers_a_500_envelope_without_internals() {
        let request = Request::new(Method::Get, "/v1/matching/runs/x");
        let handled = guarded(&request, || panic!("secret detail: SELECT * FROM runs"));
        let response = handled.response;
        assert_eq!(response.status, 500);
        assert!(handled.key_id.is_none());
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["request_id"], request.request_id.as_str());
        let text = String::from_utf8(response.body).unwrap();
        assert!(!text.contains("SELECT") && !text.contains("secret"));
    }

    fn head(text: &str) -> Result<Head> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn framing_refuses_what_two_parsers_could_read_differently() {
        let framed = |text: &str| head(text).and_then(|h| framing(&h));
        assert_eq!(
            framed("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            framed("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n").unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            framed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap(),
            Framing::Chunked
        );
        for text in [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(framed(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_head_is_parsed_strictly() {
        let h = head("GET /x?a=1 HTTP/1.1\r\nHost: a\r\nX-A:  b \r\n\r\n").unwrap();
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.minor),
            ("GET", "/x?a=1", 1)
        );
        assert_eq!(h.one("x-a").unwrap(), Some("b"));
        for text in [
            "GET /x HTTP/2.0\r\n\r\n",
            "GET  /x HTTP/1.1\r\n\r\n",
            "GET /\x1b[31m HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
            "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        ] {
            assert!(head(text).is_err(), "{text:?}");
        }
        let twice = head("GET / HTTP/1.1\r\nAuthorization: a\r\nauthorization: b\r\n\r\n").unwrap();
        assert!(twice.one("Authorization").is_err());
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n", 0), None);
    }

    #[test]
    fn only_a_lost_listener_ends_the_accept_loop() {
        let os = std::io::Error::from_raw_os_error;
        for retried in [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOMEM,
            libc::ENOBUFS,
            libc::ECONNABORTED,
        ] {
            assert!(!listener_is_gone(&os(retried)), "{retried}");
        }
        for fatal in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK] {
            assert!(listener_is_gone(&os(fatal)), "{fatal}");
        }
    }

    #[test]
    fn a_gate_bounds_permits_and_bytes() {
        let gate = Gate::new(2, 100);
        let a = gate.acquire(60, Some(Duration::ZERO)).unwrap();
        assert!(gate.acquire(60, Some(Duration::from_millis(10))).is_none());
        let b = gate.acquire(40, Some(Duration::ZERO)).unwrap();
        drop(a);
        assert!(gate.acquire(10, Some(Duration::ZERO)).is_some());
        drop(b);
        // More than the whole budget takes the whole budget rather than never passing.
        assert!(gate.acquire(1000, Some(Duration::ZERO)).is_some());
    }
}
