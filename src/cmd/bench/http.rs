//! `bench http` drives a bounded load loop against
//! a refmatch server on the loopback interface: N clients on keep-alive connections send the
//! same GET for a fixed time, and it reports requests per second and latency percentiles.
//! Without `--url` it seeds the demo database in-process and measures its run detail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::cli::{Cli, HttpBenchArgs};
use crate::error::{Error, Result};

pub fn run(cli: &Cli, args: &HttpBenchArgs) -> Result<()> {
    // Keeps the in-process demo (and its temporary database) alive while the loop runs.
    let mut demo = None;
    let (addr, key, paths) = match &args.url {
        Some(url) => {
            let addr = url
                .strip_prefix("http://")
                .map(|a| a.trim_end_matches('/').to_string())
                .filter(|a| a.starts_with("127.0.0.1:") || a.starts_with("localhost:"))
                .ok_or_else(|| {
                    Error::invalid(
                        "--url",
                        "",
                        "the load loop only targets http://127.0.0.1:PORT or http://localhost:PORT",
                    )
                })?;
            let key = args
                .key
                .clone()
                .ok_or_else(|| Error::invalid("--key", "", "is required with --url"))?;
            if args.path.is_empty() {
                return Err(Error::invalid("--path", "", "is required with --url"));
            }
            (addr, key, args.path.clone())
        }
        None => {
            let db =
                std::env::temp_dir().join(format!("refmatch-bench-{}.db", crate::store::new_id()));
            let server = crate::cmd::serve::benchmark_server(0, args.http_workers);
            let store = crate::cmd::serve::open_store(&db, &server)?;
            let started = crate::cmd::demo::start(store, &cli.workspace, &server)?;
            let addr = started.service.server.addr().to_string();
            let paths = match args.path.is_empty() {
                true => vec![format!("/v1/matching/runs/{}", started.run_id)],
                false => args.path.clone(),
            };
            let key = started.key.clone();
            demo = Some((started, db));
            (addr, key, paths)
        }
    };
    let duration = Duration::from_secs_f64(args.seconds);
    let clients = args.clients.max(1);
    eprintln!(
        "GET {} on {addr}: {clients} clients for {:.0} s",
        paths.join(" and "),
        duration.as_secs_f64()
    );
    let started = Instant::now();
    let per_client: Vec<(Vec<u32>, u64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|i| {
                let path = &paths[i % paths.len()];
                let (addr, key) = (&addr, &key);
                scope.spawn(move || client_loop(addr, key, path, duration))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let errors: u64 = per_client.iter().map(|(_, e)| e).sum();
    let mut micros: Vec<u32> = per_client.into_iter().flat_map(|(l, _)| l).collect();
    micros.sort_unstable();
    let pct = |p: f64| -> f64 {
        if micros.is_empty() {
            return 0.0;
        }
        let i = ((micros.len() as f64 * p).ceil() as usize).clamp(1, micros.len()) - 1;
        micros[i] as f64 / 1000.0
    };
    let report = serde_json::json!({
        "paths": paths,
        "clients": clients,
        "seconds": (wall * 100.0).round() / 100.0,
        "requests": micros.len(),
        "errors": errors,
        "requests_per_second": (micros.len() as f64 / wall).round(),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    crate::cmd::print_stdout(&format!("{report:#}\n"))?;
    if let Some((demo, db)) = demo {
        demo.service.server.stop();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    if errors > 0 {
        return Err(Error::Internal(format!("{errors} requests failed")));
    }
    Ok(())
}

/// One client: a keep-alive connection, requests back to back until `duration` is over.
/// Written by hand rather than through ureq (which the language-model endpoint and the
/// browser test use): client and server share the machine's cores, and measured on 2 cores
/// with 4 clients ureq's reading cost a quarter of the requests per second (3,250-3,500/s
/// against 2,550-2,650/s), which this loop would report as the server's.
/// Returns each successful request's latency in microseconds and the number of failures.
pub(crate) fn client_loop(
    addr: &str,
    key: &str,
    path: &str,
    duration: Duration,
) -> (Vec<u32>, u64) {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\r\n");
    let mut latencies = Vec::new();
    let mut errors = 0;
    let end = Instant::now() + duration;
    let mut connection: Option<BufReader<TcpStream>> = None;
    while Instant::now() < end {
        let sent = Instant::now();
        if connection.is_none() {
            connection = connect(addr).ok().map(BufReader::new);
        }
        let Some(reader) = connection.as_mut() else {
            errors += 1;
            continue;
        };
        match exchange(reader, request.as_bytes()) {
            Ok(200) => latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32),
            Ok(_) => errors += 1,
            Err(_) => {
                errors += 1;
                connection = None;
            }
        }
    }
    (latencies, errors)
}

/// A client connection with Nagle's algorithm off, like the server's: a load loop should
/// measure the server, not 40 ms delayed-ACK stalls.
fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request and reads one response (Content-Length bodies); returns the status.
fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}
