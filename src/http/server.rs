//! The only code that touches tiny_http: it binds the socket, runs the worker threads that
//! take requests, turns each into a plain `Request` (with the body read up to the limit),
//! calls the router behind `catch_unwind`, and writes the `Response` back. A panic in a
//! handler becomes a 500 envelope and the worker keeps serving.

use std::io::Read;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::message::{Method, Request, Response};
use super::routes::{handle, Context, Handled};
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub addr: String,
    pub http_workers: usize,
    /// Largest request body accepted, in bytes.
    pub max_body: u64,
    /// Write one line per request to stderr.
    pub access_log: bool,
    /// How long a read or write on a client connection may wait: a client that stalls
    /// mid-request (or idles on a keep-alive connection) is closed after it.
    pub io_timeout: Duration,
}

pub struct Server {
    inner: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    pub fn start(ctx: Arc<Context>, options: &ServerOptions) -> Result<Server> {
        let listener = listen(&options.addr, options.io_timeout)?;
        let inner = tiny_http::Server::from_listener(listener, None).map_err(|e| {
            Error::invalid(
                "--addr",
                "",
                format!("cannot listen on {}: {e}", options.addr),
            )
        })?;
        let addr = inner
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::Internal("the server has no IP address".into()))?;
        let inner = Arc::new(inner);
        let mut workers = Vec::new();
        for i in 0..options.http_workers.max(1) {
            let server = Arc::clone(&inner);
            let ctx = Arc::clone(&ctx);
            let options = options.clone();
            let worker = thread::Builder::new()
                .name(format!("refmatch-http-{i}"))
                .spawn(move || {
                    while let Ok(request) = server.recv() {
                        serve_one(&ctx, &options, request);
                    }
                })
                .map_err(|e| Error::Internal(format!("cannot start an HTTP worker: {e}")))?;
            workers.push(worker);
        }
        start_nudger(&inner, addr)?;
        Ok(Server {
            inner,
            addr,
            workers,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the workers stop (after `stop`, or forever).
    pub fn join(self) {
        for worker in self.workers {
            let _ = worker.join();
        }
    }

    /// Stops accepting requests; workers finish the one they hold.
    pub fn stop(&self) {
        for _ in 0..self.workers.len() {
            self.inner.unblock();
        }
    }
}

/// Binds the listening socket ourselves: options set on it are inherited by every
/// accepted connection on Linux, and tiny_http offers no hook where connections are
/// accepted. TCP_NODELAY: tiny_http writes a response in several small writes, and Nagle's
/// algorithm meeting the client's delayed ACK would add 40 ms to many of them. Read and
/// write timeouts: tiny_http has none, so a client that sends half a request and waits
/// would hold a thread (ours, while reading its body) for ever.
fn listen(addr: &str, io_timeout: Duration) -> Result<std::net::TcpListener> {
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
    socket
        .set_read_timeout(Some(io_timeout))
        .map_err(|e| invalid(&e))?;
    socket
        .set_write_timeout(Some(io_timeout))
        .map_err(|e| invalid(&e))?;
    socket.bind(&target.into()).map_err(|e| invalid(&e))?;
    socket.listen(1024).map_err(|e| invalid(&e))?;
    Ok(socket.into())
}

/// tiny_http 0.12 hands each accepted connection to a thread pool that decides whether to
/// start a thread by counting idle threads, and that count lags when connections arrive in
/// a burst: a keep-alive connection can then sit in the pool's queue, unserved, until some
/// other connection closes (seconds, or never under steady load). An empty connection to
/// ourselves every 50 ms makes the pool start a thread whenever none is idle; the thread
/// finishes that empty connection at once and then takes the queued one. Measured: 16
/// clients connecting at once saw a p99 equal to the test's length without this, 50 ms with.
fn start_nudger(server: &Arc<tiny_http::Server>, addr: SocketAddr) -> Result<()> {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let server = Arc::downgrade(server);
    thread::Builder::new()
        .name("refmatch-http-nudger".into())
        .spawn(move || {
            while server.upgrade().is_some() {
                let _ = std::net::TcpStream::connect_timeout(&target, Duration::from_secs(1));
                thread::sleep(Duration::from_millis(50));
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Internal(format!("cannot start the HTTP nudger: {e}")))
}

fn header<'a>(request: &'a tiny_http::Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

/// Reads the body, at most `limit` bytes; over it is `413`.
fn read_body(request: &mut tiny_http::Request, limit: u64) -> Result<Vec<u8>> {
    if let Some(length) = request.body_length() {
        if length as u64 > limit {
            return Err(Error::PayloadTooLarge { limit });
        }
    }
    let mut body = Vec::new();
    request
        .as_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| Error::invalid("body", "", format!("could not be read: {e}")))?;
    if body.len() as u64 > limit {
        return Err(Error::PayloadTooLarge { limit });
    }
    Ok(body)
}

/// Runs a handler; a panic becomes a 500 envelope (logged with the request id) instead of
/// a dead worker thread.
fn guarded(request: &Request, handler: impl FnOnce() -> Handled) -> Handled {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(answer) => answer,
        Err(_) => {
            eprintln!(
                "refmatch: {} {} {}: a handler panicked",
                request.request_id,
                request.method.as_str(),
                request.path
            );
            let error = Error::Internal("handler panicked".into());
            Handled {
                response: Response::error(&error, request),
                key_id: None,
                route: "unknown",
            }
        }
    }
}

fn serve_one(ctx: &Context, options: &ServerOptions, mut raw: tiny_http::Request) {
    let started = Instant::now();
    let mut request = Request::new(Method::parse(raw.method().as_str()), raw.url());
    if let Some(value) = header(&raw, "Content-Type") {
        request = request.with_content_type(value);
    }
    request.authorization = header(&raw, "Authorization").map(String::from);
    let mut close = false;
    let handled = match read_body(&mut raw, options.max_body) {
        Err(error) => {
            // The rest of an oversized body is never read, so the connection cannot be reused.
            close = true;
            Handled {
                response: Response::error(&error, &request),
                key_id: None,
                route: "unknown",
            }
        }
        Ok(body) => {
            request.body = body;
            guarded(&request, || handle(ctx, &request))
        }
    };
    let Handled {
        response,
        key_id,
        route,
    } = handled;
    ctx.metrics
        .record(route, response.status, started.elapsed());
    if options.access_log {
        eprintln!(
            "{} {} {} {:.1}ms key={} {}",
            request.method.as_str(),
            request.path,
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
    if close {
        headers.push(("Connection".into(), "close".into()));
    }
    headers.extend(response.headers);
    let headers: Vec<tiny_http::Header> = headers
        .into_iter()
        .filter_map(|(name, value)| {
            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
        })
        .collect();
    // A client that went away is not the server's problem.
    match response.stream {
        Some(stream) => {
            // Sent chunked as it is produced.
            let out = tiny_http::Response::new(
                tiny_http::StatusCode(response.status),
                headers,
                stream,
                None,
                None,
            );
            let _ = raw.respond(out);
        }
        None => {
            // A known length is sent as Content-Length: chunked bodies cost clients more.
            let mut out = tiny_http::Response::from_data(response.body)
                .with_status_code(response.status)
                .with_chunked_threshold(usize::MAX);
            for header in headers {
                out.add_header(header);
            }
            let _ = raw.respond(out);
        }
    }
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
}
